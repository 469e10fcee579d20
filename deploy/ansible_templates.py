"""Render an Ansible role's template with Ansible's own templating (filters, lazy
variables), outside a playbook: for hosts without Ansible's control node (a bare Debian
host, a development machine) and for the tests that compare with what a play writes."""

from __future__ import annotations

from pathlib import Path

ROLES = Path(__file__).resolve().parents[1] / "ansible" / "roles"


def render_role_template(role: str, template: str, variables: dict) -> str:
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    def trusted(value):
        # ansible-core 2.19 renders only values marked as trusted templates.
        if isinstance(value, str):
            return trust_as_template(value)
        if isinstance(value, list):
            return [trusted(v) for v in value]
        if isinstance(value, dict):
            return {k: trusted(v) for k, v in value.items()}
        return value

    templar = Templar(loader=DataLoader(), variables=trusted(variables))
    return templar.template(trust_as_template((ROLES / role / "templates" / template).read_text()))
