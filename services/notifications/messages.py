"""What alerts and invitations say. Minimal by design: who, that they asked for
help, how to reach them, where to turn. Never a diagnosis, never mood values.
"""

from __future__ import annotations

SMS_LIMIT = 320  # two SMS segments


def _reach(user: dict) -> str:
    return f" at {user['phone']}" if user.get("phone") else ""


def _fit(text: str, tail: str) -> str:
    """An SMS of at most two segments that always keeps ``tail`` (a link) whole."""
    room = SMS_LIMIT - len(tail) - 1
    return f"{text[:room].rstrip()} {tail}"


def _withdraw(name: str, link: str) -> str:
    return (f"You receive this because you agreed to be there for {name}. To stop all "
            f"messages from SanctumTools: {link}\n")


def crisis_email(user: dict, contact: dict, line: dict, ack_link: str,
                 withdraw_link: str) -> tuple[str, str]:
    name = user.get("display_name") or "Someone who trusts you"
    subject = f"{name} may need your support"
    body = (
        f"Hello {contact['name']},\n\n"
        f"{name} chose you as someone to contact when they may need support, and "
        f"SanctumTools is letting you know that now is such a time.\n\n"
        f"Please reach out to them{_reach(user)}.\n\n"
        f"When you are on it, say so here, so nobody else is alerted:\n{ack_link}&answer=on_it\n\n"
        f"If you believe they are in immediate danger, call {line['emergency_number']}.\n"
        f"You can also contact {line['name']}: {line['contact']}.\n\n"
        + _withdraw(name, withdraw_link)
    )
    return subject, body


def crisis_sms(user: dict, contact: dict, line: dict, ack_link: str) -> str:
    name = user.get("display_name") or "Someone who trusts you"
    text = (f"SanctumTools: {name} may need your support now. Please reach out{_reach(user)}. "
            f"If they are in immediate danger call {line['emergency_number']}. "
            f"{line['name']}: {line['contact']}. On it?")
    return _fit(text, f"{ack_link}&answer=on_it")


def crisis_prompt_email(user: dict, line: dict, ack_link: str, plan_link: str, minutes: int,
                        first_contact: str | None) -> tuple[str, str]:
    """To the user themselves, first: their plan, where to turn, and two answers."""
    name = user.get("display_name") or "there"
    then = (f"If we don't hear from you in {minutes} minutes, we will let {first_contact} know, "
            f"as you asked." if first_contact else "")
    body = (
        f"Hello {name},\n\n"
        f"It looks like things may be very hard right now. You are not alone.\n\n"
        f"Your safety plan: {plan_link}\n"
        f"{line['name']}: {line['contact']}. In an emergency call {line['emergency_number']}.\n\n"
        f"Let us know how you are:\n"
        f"  I'm safe: {ack_link}&answer=safe\n"
        f"  I'm using my plan: {ack_link}&answer=using_plan\n\n"
        f"{then}\n"
    )
    return "Checking in on you", body


def crisis_prompt_sms(user: dict, line: dict, ack_link: str, minutes: int) -> str:
    text = (f"SanctumTools: checking in on you. {line['name']}: {line['contact']}. "
            f"Emergency: {line['emergency_number']}. Tap if you're safe (or using your plan) "
            f"within {minutes} min:")
    return _fit(text, f"{ack_link}&answer=safe")


def reminder_text(kind: str, when: str, snooze_link: str) -> tuple[str, str, str]:
    """Subject, email body and SMS for a reminder: what to do, nothing about why."""
    what = {"medication": "a scheduled medication dose", "diary": "your diary card",
            "routine": "today's routine times", "questionnaire": "your questionnaire"}[kind]
    subject = f"Reminder: {what}"
    body = (f"This is your reminder for {what} ({when}).\n\n"
            f"Not now? Snooze it: {snooze_link}\n")
    return subject, body, _fit(f"SanctumTools reminder: {what} ({when}). Snooze:", snooze_link)


def dose_missed_text(when: str, link: str) -> tuple[str, str, str]:
    """To the user: a dose is not logged. Which medication is not said (a lock screen
    shows it to anyone nearby); the app says."""
    subject = "A dose has not been logged"
    body = (f"A medication dose scheduled for {when} has not been logged yet.\n\n"
            f"If you have taken it, log it here: {link}\n")
    return subject, body, _fit(f"SanctumTools: a dose scheduled for {when} isn't logged yet.", link)


def contact_dose_text(user: dict, contact: dict, when: str, withdraw_link: str) -> tuple[str, str, str]:
    name = user.get("display_name") or "Someone who trusts you"
    body = (f"Hello {contact['name']},\n\n{name} asked us to tell you if a medication dose went "
            f"unlogged for a while. One scheduled for {when} has. Perhaps check in with them"
            f"{_reach(user)}.\n\n" + _withdraw(name, withdraw_link))
    return f"A note about {name}", body, (
        f"SanctumTools: {name} asked us to tell you when a dose goes unlogged. One at {when} has. "
        f"Perhaps check in{_reach(user)}.")[:SMS_LIMIT]


def check_in_text(user: dict) -> tuple[str, str, str]:
    name = user.get("display_name") or "there"
    body = (f"Hello {name},\n\nWe haven't seen an entry from you for a few days. No pressure: "
            f"a one-tap mood entry is enough, whenever you feel like it. We're here.\n")
    return "Thinking of you", body, ("SanctumTools: we haven't seen an entry from you for a few "
                                     "days. A one-tap entry is enough, whenever you like.")


def contact_check_in_text(user: dict, contact: dict, withdraw_link: str) -> tuple[str, str, str]:
    name = user.get("display_name") or "Someone who trusts you"
    body = (f"Hello {contact['name']},\n\n{name} asked us to let you know if they went quiet in "
            f"the app for a while, and they have. There is no alarm in this: perhaps just say "
            f"hello{_reach(user)}.\n\n" + _withdraw(name, withdraw_link))
    return f"{name} has been quiet for a while", body, (
        f"SanctumTools: {name} asked us to tell you if they went quiet for a while. Perhaps say "
        f"hello{_reach(user)}.")[:SMS_LIMIT]


ASKS = {"check_ins": "a gentle word if they go quiet in the app for some days",
        "missed_doses": "a note if a medication dose goes unlogged for a while"}


def export_ready_text(link: str) -> tuple[str, str, str]:
    """An export is ready: where to get it, nothing of what it holds."""
    subject = "Your SanctumTools export is ready"
    body = (f"The export you asked for is ready to download for the next 7 days:\n{link}\n\n"
            f"If you did not ask for it, change your password and contact us.\n")
    return subject, body, _fit("SanctumTools: your export is ready:", link)


def report_shared_text(sharer: str | None, link: str, expires_at: str) -> tuple[str, str, str]:
    """A report shared with a healthcare provider: who shared it and the one-time link;
    nothing of what it holds."""
    who = sharer or "A patient of yours"
    until = expires_at[:10]
    subject = f"{who} shared a SanctumTools report with you"
    body = (f"{who} chose to share a report from SanctumTools with you.\n\n"
            f"Open it here (the link works once, until {until}):\n{link}\n\n"
            f"If you were not expecting this, you can ignore it.\n")
    return subject, body, _fit(f"SanctumTools: {who} shared a report with you:", link)


def invitation_email(invite: dict, link: str) -> tuple[str, str]:
    subject = f"{invite['inviter_name']} would like you as an emergency contact"
    also = "".join(f"  - {ASKS[scope]}\n" for scope in invite.get("scopes") or [])
    body = (
        f"Hello {invite['contact_name']},\n\n"
        f"{invite['inviter_name']} would like to add you as an emergency contact on SanctumTools. "
        f"If they ever may need support, you would get a short message by email or SMS "
        f"asking you to reach out to them.\n\n"
        + (f"They also ask (you choose which, if any):\n{also}\n" if also else "")
        + f"Nothing is sent to you until you agree. To confirm or decline:\n{link}\n"
    )
    return subject, body


def invitation_sms(invite: dict, link: str) -> str:
    return (f"SanctumTools: {invite['inviter_name']} would like you as an emergency contact. "
            f"Nothing is sent until you agree. Confirm or decline: {link}")[:SMS_LIMIT]
