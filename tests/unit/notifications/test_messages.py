"""What alerts and invitations say: who, how to reach them, where to turn; never
a diagnosis or a mood value; SMS within two segments."""

from services.notifications import messages

USER = {"display_name": "Ann", "phone": "+447911123456", "country": "GB"}
CONTACT = {"name": "Bob"}
LINE = {"name": "Samaritans", "contact": "call 116 123", "emergency_number": "999"}


def test_the_crisis_email_says_who_how_to_reach_them_and_where_to_turn():
    subject, body = messages.crisis_email(USER, CONTACT, LINE)
    assert subject == "Ann may need your support"
    for expected in ("Hello Bob", "+447911123456", "999", "Samaritans: call 116 123", "withdraw"):
        assert expected in body


def test_alerts_carry_no_diagnosis_or_mood_words():
    _, body = messages.crisis_email(USER, CONTACT, LINE)
    sms = messages.crisis_sms(USER, CONTACT, LINE)
    for text in (body, sms):
        for word in ("bipolar", "borderline", "crisis", "mood", "suicid", "depress", "manic"):
            assert word not in text.lower(), word


def test_a_user_without_a_name_or_phone_is_still_described():
    subject, body = messages.crisis_email({}, CONTACT, LINE)
    assert subject == "Someone who trusts you may need your support"
    assert "reach out to them." in body  # no " at ..." without a phone


def test_sms_texts_fit_two_segments():
    long_name = {"display_name": "A" * 400, "phone": "+447911123456"}
    assert len(messages.crisis_sms(long_name, CONTACT, LINE)) == messages.SMS_LIMIT
    invite = {"inviter_name": "B" * 400, "contact_name": "Bob"}
    assert len(messages.invitation_sms(invite, "https://app.test/consent?token=t")) == messages.SMS_LIMIT


def test_the_invitation_asks_before_anything_is_sent():
    invite = {"inviter_name": "Ann", "contact_name": "Bob"}
    subject, body = messages.invitation_email(invite, "https://app.test/consent?token=abc")
    assert subject == "Ann would like you as an emergency contact"
    assert "Nothing is sent to you until you agree" in body
    assert "https://app.test/consent?token=abc" in body
