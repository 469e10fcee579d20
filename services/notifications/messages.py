"""What alerts and invitations say. Minimal by design: who, that they asked for
help, how to reach them, where to turn. Never a diagnosis, never mood values.
"""

from __future__ import annotations

SMS_LIMIT = 320  # two SMS segments


def _reach(user: dict) -> str:
    return f" at {user['phone']}" if user.get("phone") else ""


def crisis_email(user: dict, contact: dict, line: dict) -> tuple[str, str]:
    name = user.get("display_name") or "Someone who trusts you"
    subject = f"{name} may need your support"
    body = (
        f"Hello {contact['name']},\n\n"
        f"{name} chose you as someone to contact when they may need support, and "
        f"SanctumTools is letting you know that now is such a time.\n\n"
        f"Please reach out to them{_reach(user)}.\n\n"
        f"If you believe they are in immediate danger, call {line['emergency_number']}.\n"
        f"You can also contact {line['name']}: {line['contact']}.\n\n"
        f"You receive this because you agreed to be {name}'s emergency contact; "
        f"the link in your invitation lets you withdraw at any time.\n"
    )
    return subject, body


def crisis_sms(user: dict, contact: dict, line: dict) -> str:
    name = user.get("display_name") or "Someone who trusts you"
    text = (f"SanctumTools: {name} may need your support now. Please reach out{_reach(user)}. "
            f"If they are in immediate danger call {line['emergency_number']}. "
            f"{line['name']}: {line['contact']}")
    return text[:SMS_LIMIT]


def invitation_email(invite: dict, link: str) -> tuple[str, str]:
    subject = f"{invite['inviter_name']} would like you as an emergency contact"
    body = (
        f"Hello {invite['contact_name']},\n\n"
        f"{invite['inviter_name']} would like to add you as an emergency contact on SanctumTools. "
        f"If they ever may need support, you would get a short message by email or SMS "
        f"asking you to reach out to them.\n\n"
        f"Nothing is sent to you until you agree. To confirm or decline:\n{link}\n"
    )
    return subject, body


def invitation_sms(invite: dict, link: str) -> str:
    return (f"SanctumTools: {invite['inviter_name']} would like you as an emergency contact. "
            f"Nothing is sent until you agree. Confirm or decline: {link}")[:SMS_LIMIT]
