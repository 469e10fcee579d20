"""Delivery channels: email over SMTP, SMS through AWS SNS.

A send either returns the provider's message id, or raises ``TransientFailure``
(worth retrying later) or ``PermanentFailure`` (this channel will never work
for this recipient: move on).
"""

from __future__ import annotations

import logging
import smtplib
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


def settings() -> dict:
    return config.section("NOTIFICATIONS")


class EmailChannel:
    def __init__(self, options: dict):
        self.host = options.get("SMTP_HOST", "127.0.0.1")
        self.port = int(options.get("SMTP_PORT", 25))
        self.starttls = bool(options.get("SMTP_STARTTLS", False))
        self.username = options.get("SMTP_USERNAME") or None
        password_file = options.get("SMTP_PASSWORD_FILE") or None
        self.password = config.read_secret(password_file).decode() if password_file else None
        self.sender = options.get("MAIL_FROM", "SanctumTools <alerts@sanctumtools.com>")
        self.domain = self.sender.rsplit("@", 1)[-1].rstrip(">") or "sanctumtools.com"

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
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            # Only a refusal of this recipient says this channel will never work for them.
            codes = [code for code, _ in exc.recipients.values()]
            raise (PermanentFailure if all(c >= 500 for c in codes) else TransientFailure)(
                f"recipient refused ({codes})") from None
        except smtplib.SMTPResponseException as exc:
            # Authentication, sender or server errors are ours to fix: keep retrying, loudly.
            log.error("SMTP server refused the message (%s): check the mail settings", exc.smtp_code)
            raise TransientFailure(f"SMTP {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientFailure(type(exc).__name__) from None
        return message["Message-ID"]


class SmsChannel:
    # Problems with this recipient; anything else (credentials, throttling) is retried.
    PERMANENT_CODES = {"InvalidParameter", "InvalidParameterValue", "OptedOut"}

    def __init__(self, options: dict):
        self.client = boto3.client(
            "sns",
            region_name=options.get("AWS_REGION", "eu-west-2"),
            endpoint_url=options.get("SNS_ENDPOINT_URL") or None,
            config=BotoConfig(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}),
        )
        self.sender_id = options.get("SMS_SENDER_ID") or None

    def send(self, recipient: str, subject: str | None, body: str) -> str:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self.sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self.sender_id}
        try:
            response = self.client.publish(PhoneNumber=recipient, Message=body,
                                           MessageAttributes=attributes)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in self.PERMANENT_CODES:
                log.error("SNS refused the SMS (%s): check the AWS settings", code)
            raise (PermanentFailure if code in self.PERMANENT_CODES else TransientFailure)(code) from None
        except BotoCoreError as exc:
            raise TransientFailure(type(exc).__name__) from None
        return response["MessageId"]


def all_channels() -> dict:
    options = settings()
    return {"email": EmailChannel(options), "sms": SmsChannel(options)}
