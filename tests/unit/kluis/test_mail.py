"""Both mailers pass one contract; SMTP against a real server on loopback, TLS and all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from kluis.mail import (
    DevelopmentOutbox,
    Email,
    MailDeferred,
    MailRefused,
    SmtpMailer,
    mailer_from,
)
from kluis.settings import MailSettings, load_settings
from tests.support.net import self_signed_certificate
from tests.support.smtp import SmtpServer

EMAIL = Email(
    to="jan.peeters@example.test",
    subject="Bevestig uw e-mailadres — één klik",
    body="Hallo Jan,\n\nOpen deze link: https://kluis.example/x?token=a.b.c\n\nGroeten, Kluis\n",
)


def smtp_settings(server: SmtpServer, **changes: object) -> MailSettings:
    values: dict[str, object] = {
        "mailer": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_security": "none",
        "from_address": "Kluis <no-reply@kluis.example>",
        "smtp_timeout_seconds": 5.0,
    }
    values.update(changes)
    return msgspec.convert(values, MailSettings)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


# -- the contract both mailers keep -------------------------------------------------------


def send_and_read_back(kind: str, smtp: SmtpServer, tmp_path: Path) -> Email:
    if kind == "outbox":
        outbox = DevelopmentOutbox(tmp_path / "outbox.jsonl")
        outbox.send(EMAIL)
        kept = outbox.sent()[0]
        return Email(to=kept.to, subject=kept.subject, body=kept.body)
    SmtpMailer(smtp_settings(smtp)).send(EMAIL)
    received = smtp.wait_for(1)[0]
    return Email(
        to=str(received["To"]),
        subject=str(received["Subject"]),
        body=received.get_content(),  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("kind", ["outbox", "smtp"])
def test_a_sent_email_arrives_as_it_was_written(kind, smtp, tmp_path):
    assert send_and_read_back(kind, smtp, tmp_path) == EMAIL


# -- SMTP ---------------------------------------------------------------------------------


def test_smtp_mail_carries_sender_date_and_message_id(smtp):
    SmtpMailer(smtp_settings(smtp)).send(EMAIL)
    received = smtp.wait_for(1)[0]
    assert received["From"] == "Kluis <no-reply@kluis.example>"
    assert received["Date"]
    assert received["Message-ID"].endswith("@kluis.example>")


def test_smtp_with_starttls_and_login(certificate):
    server = SmtpServer(certificate=certificate, login=("kluis", "s3cret"))
    server.start()
    try:
        settings = smtp_settings(
            server,
            smtp_security="starttls",
            smtp_username="kluis",
            smtp_password="s3cret",
            smtp_ca_file=str(certificate[0]),
        )
        SmtpMailer(settings).send(EMAIL)
        assert server.wait_for(1)[0]["Subject"] == EMAIL.subject
    finally:
        server.stop()


def test_smtp_over_implicit_tls(certificate):
    server = SmtpServer(certificate=certificate, implicit_tls=True)
    server.start()
    try:
        settings = smtp_settings(server, smtp_security="ssl", smtp_ca_file=str(certificate[0]))
        SmtpMailer(settings).send(EMAIL)
        assert server.wait_for(1)[0]["To"] == EMAIL.to
    finally:
        server.stop()


def test_smtp_refuses_a_server_certificate_it_cannot_verify(certificate):
    server = SmtpServer(certificate=certificate)
    server.start()
    try:
        with pytest.raises(MailDeferred, match="SSL"):
            SmtpMailer(smtp_settings(server, smtp_security="starttls")).send(EMAIL)
        assert server.received == []
    finally:
        server.stop()


def test_wrong_smtp_password_is_deferred_for_the_operator_to_fix(certificate):
    server = SmtpServer(certificate=certificate, login=("kluis", "s3cret"))
    server.start()
    try:
        settings = smtp_settings(
            server,
            smtp_security="starttls",
            smtp_username="kluis",
            smtp_password="wrong",
            smtp_ca_file=str(certificate[0]),
        )
        with pytest.raises(MailDeferred, match="Authentication"):
            SmtpMailer(settings).send(EMAIL)
    finally:
        server.stop()


def test_smtp_server_down_defers_the_mail():
    down = SmtpServer()  # never started: nothing listens on its port
    with pytest.raises(MailDeferred):
        SmtpMailer(smtp_settings(down)).send(EMAIL)


def test_permanent_refusal_of_the_recipient_is_not_deferred(smtp):
    smtp.replies[EMAIL.to] = "550 5.1.1 No such mailbox"
    with pytest.raises(MailRefused):
        SmtpMailer(smtp_settings(smtp)).send(EMAIL)


def test_temporary_refusal_of_the_recipient_is_deferred(smtp):
    smtp.replies[EMAIL.to] = "450 4.2.1 Mailbox busy, try later"
    with pytest.raises(MailDeferred):
        SmtpMailer(smtp_settings(smtp)).send(EMAIL)


def test_errors_do_not_name_the_recipient(smtp):
    smtp.replies[EMAIL.to] = "550 5.1.1 No such mailbox"
    with pytest.raises(MailRefused) as refused:
        SmtpMailer(smtp_settings(smtp)).send(EMAIL)
    assert EMAIL.to not in str(refused.value)


# -- the development outbox ---------------------------------------------------------------


def test_outbox_lists_newest_first_with_the_time_sent(tmp_path):
    outbox = DevelopmentOutbox(tmp_path / "mail" / "outbox.jsonl")
    assert outbox.sent() == []
    outbox.send(EMAIL)
    outbox.send(Email(to="b@example.test", subject="second", body="2"))
    first, second = reversed(outbox.sent())
    assert [e.subject for e in outbox.sent()] == ["second", EMAIL.subject]
    assert first.sent_at <= second.sent_at and second.sent_at.tzinfo is not None


def test_settings_choose_the_mailer(tmp_path):
    test = load_settings({"KLUIS_ENV": "test"}, data_dir=str(tmp_path))
    outbox = mailer_from(test)
    assert isinstance(outbox, DevelopmentOutbox)
    assert outbox.path == tmp_path / "outbox.jsonl"
    smtp = load_settings(
        {"KLUIS_ENV": "test"}, mail={"mailer": "smtp", "smtp_host": "mail.example"}
    )
    assert isinstance(mailer_from(smtp), SmtpMailer)
