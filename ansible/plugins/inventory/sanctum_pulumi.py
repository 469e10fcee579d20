"""Ansible inventory from a Pulumi stack's outputs (`pulumi stack output --json`)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: sanctum_pulumi
short_description: SanctumTools hosts from Pulumi stack outputs
description:
  - Reads the JSON of C(pulumi stack output --json) for one phase's stack.
  - Phase 1 has one host (output C(public_ip)); later phases list the instances of the
    auto-scaling groups named in output C(asg_names), looked up with boto3.
  - Every output becomes a variable C(pulumi_<name>) of group C(sanctum).
options:
  plugin:
    description: Must be C(sanctum_pulumi).
    required: true
    choices: [sanctum_pulumi]
  outputs_file:
    description: The outputs JSON, absolute or relative to this configuration file.
    required: true
    type: str
  aws_endpoint_url:
    description: EC2 and Auto Scaling endpoint (tests point this at a local moto server).
    type: str
    env:
      - name: SANCTUM_AWS_ENDPOINT_URL
"""

# Ansible reads DOCUMENTATION above before the imports, as its plugins must put it.
import json  # noqa: E402
import os  # noqa: E402

from ansible.errors import AnsibleParserError  # noqa: E402

from ansible.plugins.inventory import BaseInventoryPlugin  # noqa: E402


class InventoryModule(BaseInventoryPlugin):
    NAME = "sanctum_pulumi"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".pulumi.yml", ".pulumi.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        outputs = self._load_outputs(path)
        phase = int(outputs.get("phase", 1))
        self.inventory.add_group("sanctum")
        self.inventory.add_group(f"phase{phase}")
        self.inventory.add_child("sanctum", f"phase{phase}")
        for name, value in outputs.items():
            self.inventory.set_variable("sanctum", f"pulumi_{name}", value)
        self.inventory.set_variable("sanctum", "sanctum_phase", phase)
        if "public_ip" in outputs:
            self._add_single_host(outputs, phase)
        else:
            self._add_cluster_hosts(outputs, phase)

    def _load_outputs(self, config_path):
        configured = self.get_option("outputs_file")
        path = (
            configured
            if os.path.isabs(configured)
            else os.path.join(os.path.dirname(config_path), configured)
        )
        try:
            with open(path) as handle:
                return json.load(handle)
        except (OSError, ValueError) as error:
            raise AnsibleParserError(
                f"cannot read Pulumi outputs {path}: {error}. Write it with"
                " `pulumi stack output --json > FILE`"
            ) from error

    def _add_host(self, name, phase, cluster, address, instance_id, user):
        self.inventory.add_group(cluster)
        self.inventory.add_host(name, group=f"phase{phase}")
        self.inventory.add_host(name, group=cluster)
        self.inventory.set_variable(name, "ansible_host", address)
        self.inventory.set_variable(name, "instance_id", instance_id)
        self.inventory.set_variable(name, "sanctum_cluster", cluster)
        if user:
            self.inventory.set_variable(name, "ansible_user", user)

    def _add_single_host(self, outputs, phase):
        name = outputs.get("host_dns") or outputs["public_ip"]
        self._add_host(
            name,
            phase,
            "host",
            outputs["public_ip"],
            outputs.get("instance_id"),
            outputs.get("ssh_user"),
        )

    def _add_cluster_hosts(self, outputs, phase):
        for cluster, group_name in sorted(outputs.get("asg_names", {}).items()):
            for instance in self._instances(group_name, outputs.get("region")):
                name = f"{cluster}-{instance['InstanceId']}"
                self._add_host(
                    name,
                    phase,
                    cluster,
                    instance["PrivateIpAddress"],
                    instance["InstanceId"],
                    outputs.get("ssh_user", "admin"),
                )

    def _instances(self, group_name, region):
        import boto3  # only phase 2+ needs AWS access from the control host

        endpoint = self.get_option("aws_endpoint_url")
        autoscaling = boto3.client("autoscaling", region_name=region, endpoint_url=endpoint)
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=endpoint)
        groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])
        ids = [
            i["InstanceId"]
            for g in groups["AutoScalingGroups"]
            for i in g["Instances"]
            if i["LifecycleState"] == "InService"
        ]
        if not ids:
            return []
        reservations = ec2.describe_instances(InstanceIds=ids)["Reservations"]
        return sorted(
            (i for r in reservations for i in r["Instances"]), key=lambda i: i["InstanceId"]
        )
