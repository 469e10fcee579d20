"""Monitoring: one home for what the system measures and how it is collected.

- ``catalogue``: the names of every metric, as the alarms, agents and tools use them;
- ``agent``: the CloudWatch agent configuration of a host;
- ``hostfiles``: the host files the first-boot script and Ansible both write
  (Docker's log driver, the agent's configuration file).

Standard library only: infra (Pulumi), Ansible's filter plugins and the backup
tool import it without each other's dependencies.
"""
