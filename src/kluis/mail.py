"""Outgoing e-mail: the message, the Mailer Protocol and its two implementations.

`SmtpMailer` hands mail to an SMTP server (production). `DevelopmentOutbox` keeps every
mail in a JSON-lines file under the data directory, for the developer to read at
`/dev/outbox` (development and tests; production refuses it). Domains never call a mailer
themselves: they queue mail with `kluis.tasks.Tasks.send_mail`, which sends it after their
transaction commits, from a worker, retrying while the server cannot take it.
"""

from __future__ import annotations

import fcntl
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

import msgspec

from kluis.errors import ConfigurationError
from kluis.settings import MailSettings, Settings


class Email(msgspec.Struct, frozen=True, kw_only=True):
    to: str
    subject: str
    body: str


class SentEmail(msgspec.Struct, frozen=True, kw_only=True):
    """An e-mail as the development outbox keeps it (the `/dev/outbox.json` contract)."""

    to: str
    subject: str
    body: str
    sent_at: datetime


class MailDeferred(Exception):
    """The mail could not be handed over now (server down, busy, 4xx): try again later."""


class MailRefused(Exception):
    """The server refused this mail for good (5xx for the recipient or the content)."""


class Mailer(Protocol):
    def send(self, email: Email) -> None:
        """Hand `email` over, or raise MailDeferred / MailRefused. Blocking."""
        ...


class SmtpMailer:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    def message(self, email: Email) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.from_address
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = formatdate(usegmt=True)
        domain = parseaddr(self.settings.from_address)[1].rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        message.set_content(email.body)
        return message

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.settings.smtp_ca_file or None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_security == "ssl":
            return smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, context=self._tls()
            )
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        if s.smtp_security == "starttls":
            try:
                smtp.starttls(context=self._tls())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def send(self, email: Email) -> None:
        # Messages name neither the recipient nor the content: they end up in logs.
        try:
            with self._connect() as smtp:
                if self.settings.smtp_username:
                    smtp.login(self.settings.smtp_username, self.settings.smtp_password)
                smtp.send_message(self.message(email))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise MailRefused(f"recipient refused ({codes})") from None
            raise MailDeferred(f"recipient deferred ({codes})") from None
        except smtplib.SMTPDataError as exc:
            if exc.smtp_code >= 500:
                raise MailRefused(f"message refused ({exc.smtp_code})") from None
            raise MailDeferred(f"message deferred ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            # The sender or the login refused: the platform's own settings, which an
            # operator can fix while the mail waits.
            raise MailDeferred(f"{type(exc).__name__} ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:  # down, unreachable, TLS, timeout
            raise MailDeferred(f"{type(exc).__name__}: {exc}") from None


class DevelopmentOutbox:
    """Keeps mail in a JSON-lines file instead of sending it. Development and tests only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, email: Email) -> None:
        sent = SentEmail(
            to=email.to, subject=email.subject, body=email.body, sent_at=datetime.now(UTC)
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as f:
            # The web process reads while a worker appends: whole lines only.
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(msgspec.json.encode(sent) + b"\n")

    def sent(self) -> list[SentEmail]:
        """Every mail kept, newest first."""
        if not self.path.exists():
            return []
        with self.path.open("rb") as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            lines = f.read().splitlines()
        return [msgspec.json.decode(line, type=SentEmail) for line in reversed(lines) if line]


def outbox_path(settings: Settings) -> Path:
    return settings.path(settings.data_dir) / "outbox.jsonl"


def mailer_from(settings: Settings) -> Mailer:
    if settings.mail.mailer == "outbox":
        return DevelopmentOutbox(outbox_path(settings))
    if settings.mail.mailer == "smtp":
        return SmtpMailer(settings.mail)
    raise ConfigurationError(f"unknown mailer {settings.mail.mailer!r}")
