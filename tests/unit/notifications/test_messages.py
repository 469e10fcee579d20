"""What alerts and invitations say: who, how to reach them, where to turn; never
a diagnosis or a mood value; SMS within two segments."""

from services.notifications import messages

USER = {"display_name": "Ann", "phone": "+447911123456", "country": "GB"}
CONTACT = {"name": "Bob"}
LINE = {"name": "Samaritans", "contact": "call 116 123", "emergency_number": "999"}
ACK = "https://app.test/respond?token=abc"
WITHDRAW = "https://app.test/consent/withdraw?token=xyz"


def test_the_crisis_email_says_who_how_to_reach_them_and_where_to_turn():
    subject, body = messages.crisis_email(USER, CONTACT, LINE, ACK, WITHDRAW)
    assert subject == "Ann may need your support"
    for expected in ("Hello Bob", "+447911123456", "999", "Samaritans: call 116 123",
                     f"{ACK}&answer=on_it", WITHDRAW):
        assert expected in body


def test_alerts_carry_no_diagnosis_or_mood_words():
    _, body = messages.crisis_email(USER, CONTACT, LINE, ACK, WITHDRAW)
    sms = messages.crisis_sms(USER, CONTACT, LINE, ACK)
    _, prompt = messages.crisis_prompt_email(USER, LINE, ACK, "https://app.test/safety-plan", 10, "Bob")
    _, dose, dose_sms = messages.contact_dose_text(USER, CONTACT, "08:00", WITHDRAW)
    _, quiet, quiet_sms = messages.contact_check_in_text(USER, CONTACT, WITHDRAW)
    for text in (body, sms, prompt, dose, dose_sms, quiet, quiet_sms):
        for word in ("bipolar", "borderline", "crisis", "mood", "suicid", "depress", "manic"):
            assert word not in text.lower(), word


def test_a_user_without_a_name_or_phone_is_still_described():
    subject, body = messages.crisis_email({}, CONTACT, LINE, ACK, WITHDRAW)
    assert subject == "Someone who trusts you may need your support"
    assert "reach out to them." in body  # no " at ..." without a phone


def test_sms_texts_fit_two_segments():
    long_name = {"display_name": "A" * 400, "phone": "+447911123456"}
    sms = messages.crisis_sms(long_name, CONTACT, LINE, ACK)
    assert len(sms) == messages.SMS_LIMIT and sms.endswith(f"{ACK}&answer=on_it")  # the link whole
    prompt = messages.crisis_prompt_sms(long_name, LINE, ACK, 10)
    assert len(prompt) <= messages.SMS_LIMIT and prompt.endswith(f"{ACK}&answer=safe")
    invite = {"inviter_name": "B" * 400, "contact_name": "Bob"}
    assert len(messages.invitation_sms(invite, "https://app.test/consent?token=t")) == messages.SMS_LIMIT


def test_the_invitation_asks_before_anything_is_sent():
    invite = {"inviter_name": "Ann", "contact_name": "Bob"}
    subject, body = messages.invitation_email(invite, "https://app.test/consent?token=abc")
    assert subject == "Ann would like you as an emergency contact"
    assert "Nothing is sent to you until you agree" in body
    assert "https://app.test/consent?token=abc" in body


def test_the_prompt_offers_both_answers_the_plan_and_the_line_and_says_what_happens_next():
    subject, body = messages.crisis_prompt_email(USER, LINE, ACK, "https://app.test/safety-plan", 10, "Bob")
    for expected in (f"{ACK}&answer=safe", f"{ACK}&answer=using_plan", "https://app.test/safety-plan",
                     "Samaritans: call 116 123", "999", "10 minutes", "Bob"):
        assert expected in body


def test_reminders_and_missed_doses_say_what_not_why():
    subject, body, sms = messages.reminder_text("medication", "08:00", "https://app.test/snooze?t=1")
    assert "08:00" in body and "https://app.test/snooze?t=1" in body and sms.endswith("snooze?t=1")
    _, body, _ = messages.dose_missed_text("08:00", "https://app.test/medications")
    assert "08:00" in body
    for word in ("lithium", "bipolar", "mood"):
        assert word not in (subject + body + sms).lower()
