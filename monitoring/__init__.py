"""Monitoring: one home for what the system measures and how it is collected.

- ``catalogue``: the names of every metric, as the alarms, agents and tools use them;
- ``agent``: the CloudWatch agent configuration of a host;
- ``hostfiles``: the host files the first-boot script and Ansible both write
  (Docker's log driver, the agent's configuration files);
- ``scrape``: the Prometheus scrape jobs, from the process registry;
- ``grafana``: the dashboard; ``local``: `make monitoring` (Prometheus, Alertmanager).

``catalogue``, ``agent``, ``hostfiles`` and ``scrape`` use the standard library only
(``scrape`` imports PyYAML only to print compose's file): infra (Pulumi), Ansible's
filter plugins and the backup tool import them without each other's dependencies.
README.md in this directory is the operator's guide.
"""
