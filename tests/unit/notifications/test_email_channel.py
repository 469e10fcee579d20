"""The email channel against a mail server that requires STARTTLS and a login (a
local aiosmtpd with a certificate from a CA of its own): it must verify that
certificate, log in, and fail in a way worth retrying when either goes wrong."""

import dataclasses
import smtplib

import pytest

from services.notifications.channels import EmailChannel, TransientFailure, settings
from tests.support.processes import TlsMailSink, free_port


@pytest.fixture(scope="module")
def tls_sink(tmp_path_factory):
    sink = TlsMailSink(free_port())
    sink.start(tmp_path_factory.mktemp("tls-mail"))
    yield sink
    sink.stop()


def channel_for(sink: TlsMailSink, **changes) -> EmailChannel:
    options = dataclasses.replace(
        settings(), smtp_host="127.0.0.1", smtp_port=sink.port, smtp_starttls=True,
        smtp_username=sink.LOGIN, smtp_password_file=str(sink.password_file),
        smtp_ca_file=str(sink.ca_file))
    return EmailChannel(dataclasses.replace(options, **changes))


def test_mail_goes_over_starttls_after_logging_in(tls_sink):
    channel = channel_for(tls_sink)
    message_id = channel.send("tls-ok@example.com", "Over TLS", "hello")
    [kept] = tls_sink.emails(to="tls-ok@example.com")
    assert kept["headers"]["Message-ID"] == message_id and kept["body"].strip() == "hello"
    # The session is kept and reused: a second message on the same connection.
    channel.send("tls-ok@example.com", "Again", "hello again")
    assert len(tls_sink.emails(to="tls-ok@example.com")) == 2


def test_a_certificate_the_system_store_does_not_trust_is_refused(tls_sink):
    channel = channel_for(tls_sink, smtp_ca_file=None)  # the system's store only
    with pytest.raises(TransientFailure, match="SSLCertVerificationError"):
        channel.send("tls-untrusted@example.com", "Never", "not sent")
    assert tls_sink.emails(to="tls-untrusted@example.com") == []


def test_a_wrong_password_is_a_failure_worth_retrying_and_nothing_is_sent(tls_sink, tmp_path):
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password")
    channel = channel_for(tls_sink, smtp_password_file=str(wrong))
    with pytest.raises(TransientFailure, match="SMTP 535"):
        channel.send("tls-badlogin@example.com", "Never", "not sent")
    assert tls_sink.emails(to="tls-badlogin@example.com") == []


def test_the_sink_refuses_mail_without_starttls_or_without_a_login(tls_sink):
    with smtplib.SMTP("127.0.0.1", tls_sink.port, timeout=5) as plain, \
            pytest.raises(smtplib.SMTPSenderRefused) as refused:
        plain.sendmail("a@example.com", ["tls-plain@example.com"], "Subject: x\r\n\r\nx")
    assert refused.value.smtp_code == 530  # STARTTLS first
    with pytest.raises(TransientFailure, match="SMTP 530"):  # authentication required
        channel_for(tls_sink, smtp_username=None).send("tls-anon@example.com", "Never", "x")
    assert tls_sink.emails(to="tls-plain@example.com") == tls_sink.emails(to="tls-anon@example.com") == []
