"""Delivery channels: email over SMTP, SMS through AWS SNS.

A send either returns the provider's message id, or raises ``TransientFailure``
(worth retrying later) or ``PermanentFailure`` (this channel will never work
for this recipient: move on).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from services.kit import config

log = logging.getLogger(__name__)


class TransientFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


class OptedOut(PermanentFailure):
    """The number replied STOP: the provider will not deliver, and we must not try."""


@dataclass(frozen=True)
class NotificationSettings:
    SECTION = "NOTIFICATIONS"
    mail_from: str
    smtp_host: str
    smtp_port: int
    smtp_starttls: bool
    smtp_username: str | None
    smtp_password_file: str | None
    # Certificates (PEM) that STARTTLS trusts; None: the system's store.
    smtp_ca_file: str | None
    aws_region: str
    # None: AWS itself; a URL points SNS elsewhere (the local moto server).
    sns_endpoint_url: str | None
    sms_sender_id: str | None
    app_base_url: str
    max_attempts: int
    retry_base_seconds: float
    # The escalation ladder's defaults (a user's own choice overrides them).
    default_prompt_minutes: int
    default_contact_minutes: int
    ack_link_hours: int
    scheduler_every_seconds: float
    quiet_check_every_seconds: float
    opt_out_cache_seconds: float


def settings() -> NotificationSettings:
    return config.settings(NotificationSettings)


class EmailChannel:
    def __init__(self, options: NotificationSettings):
        self.host = options.smtp_host
        self.port = options.smtp_port
        self.starttls = options.smtp_starttls
        self.username = options.smtp_username
        password_file = options.smtp_password_file
        self.password = config.read_secret(password_file).decode() if password_file else None
        # smtplib's own default context checks no certificate at all: verify the
        # server's against the system's store, or the CA file configured.
        ca_file = str(config.resolve_path(options.smtp_ca_file)) if options.smtp_ca_file else None
        self.tls = ssl.create_default_context(cafile=ca_file) if self.starttls else None
        self.sender = options.mail_from
        self.domain = self.sender.rsplit("@", 1)[-1].rstrip(">") or "sanctumtools.com"
        self._smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        """One SMTP session, kept open between messages (a burst of reminders would
        otherwise open a connection each)."""
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=10)
            try:
                if self.tls is not None:
                    smtp.starttls(context=self.tls)
                if self.username:
                    smtp.login(self.username, self.password or "")
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def _submit(self, message: EmailMessage) -> None:
        try:
            self._connection().send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._drop()  # the server closed an idle session: once more on a new one
            self._connection().send_message(message)

    def send(self, recipient: str, subject: str | None, body: str) -> str:
        try:
            message = EmailMessage()
            message["From"] = self.sender
            message["To"] = recipient
            message["Subject"] = subject or "SanctumTools"
            message["Message-ID"] = make_msgid(domain=self.domain)
            message.set_content(body)
        except ValueError:  # a header that cannot be encoded will never be sendable
            raise PermanentFailure("message cannot be built") from None
        try:
            self._submit(message)
        except smtplib.SMTPRecipientsRefused as exc:
            # Only a refusal of this recipient says this channel will never work for them.
            codes = [code for code, _ in exc.recipients.values()]
            raise (PermanentFailure if all(c >= 500 for c in codes) else TransientFailure)(
                f"recipient refused ({codes})") from None
        except smtplib.SMTPResponseException as exc:
            # Authentication, sender or server errors are ours to fix: keep retrying, loudly.
            self._drop()
            log.error("SMTP server refused the message (%s): check the mail settings", exc.smtp_code)
            raise TransientFailure(f"SMTP {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise TransientFailure(type(exc).__name__) from None
        return message["Message-ID"]


class SmsChannel:
    # Problems with this recipient; anything else (credentials, throttling) is retried.
    PERMANENT_CODES = {"InvalidParameter", "InvalidParameterValue", "OptedOut"}

    def __init__(self, options: NotificationSettings):
        self.client = boto3.client(
            "sns",
            region_name=options.aws_region,
            endpoint_url=options.sns_endpoint_url,
            config=BotoConfig(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}),
        )
        self.sender_id = options.sms_sender_id
        self.opt_out_cache_seconds = options.opt_out_cache_seconds
        self._opted_out: dict[str, tuple[bool, float]] = {}

    def opted_out(self, number: str) -> bool:
        """The provider's opt-out list ("STOP" replies), asked at most once a while per number."""
        known = self._opted_out.get(number)
        if known is not None and time.monotonic() - known[1] < self.opt_out_cache_seconds:
            return known[0]
        answer = self.client.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"]
        self._opted_out[number] = (answer, time.monotonic())
        return answer

    def send(self, recipient: str, subject: str | None, body: str) -> str:
        try:
            if self.opted_out(recipient):
                raise OptedOut("opted out")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise (PermanentFailure if code in self.PERMANENT_CODES else TransientFailure)(code) from None
        except BotoCoreError as exc:
            raise TransientFailure(type(exc).__name__) from None
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self.sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self.sender_id}
        try:
            response = self.client.publish(PhoneNumber=recipient, Message=body,
                                           MessageAttributes=attributes)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "OptedOut":  # opted out since the cached answer: the contact is marked
                self._opted_out[recipient] = (True, time.monotonic())
                raise OptedOut(code) from None
            if code not in self.PERMANENT_CODES:
                log.error("SNS refused the SMS (%s): check the AWS settings", code)
            raise (PermanentFailure if code in self.PERMANENT_CODES else TransientFailure)(code) from None
        except BotoCoreError as exc:
            raise TransientFailure(type(exc).__name__) from None
        return response["MessageId"]


def all_channels() -> dict:
    options = settings()
    return {"email": EmailChannel(options), "sms": SmsChannel(options)}
