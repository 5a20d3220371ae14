"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

It can be stopped and started again on the same port, to play a mail server that is down
for a moment; optionally it speaks TLS (STARTTLS or implicit) with a certificate of its own
and asks for a login.
"""

from __future__ import annotations

import ssl
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.net import free_port


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        self.server.recipients_tried.append(address)
        reply = self.server.replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        # Lines travel as CRLF; read them as a mail program shows them.
        content = envelope.content.replace(b"\r\n", b"\n")
        message = message_from_bytes(content, policy=policy.default)
        with self.server.arrived:
            self.server.received.append(message)  # type: ignore[arg-type]
            self.server.arrived.notify_all()
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(
        self,
        *,
        certificate: tuple[Path, Path] | None = None,
        implicit_tls: bool = False,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.certificate = certificate
        self.implicit_tls = implicit_tls
        self.login = login
        self.received: list[EmailMessage] = []
        self.recipients_tried: list[str] = []
        # address -> SMTP reply to RCPT TO, e.g. "550 5.1.1 no such mailbox"
        self.replies: dict[str, str] = {}
        self.arrived = threading.Condition()
        self._controller: Controller | None = None

    def _tls(self) -> ssl.SSLContext | None:
        if self.certificate is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, self.certificate))
        return context

    def _authenticate(
        self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and (
                data.login.decode(),
                data.password.decode(),
            )
            == self.login
        )
        return AuthResult(success=ok, handled=False)  # a failure answers 535

    def start(self) -> None:
        tls = self._tls()
        options: dict[str, Any] = {}
        if tls is not None and not self.implicit_tls:
            options.update(tls_context=tls, require_starttls=True)
        if self.login is not None:
            options.update(authenticator=self._authenticate, auth_required=True)
        self._controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=tls if self.implicit_tls else None,
            server_hostname="localhost",
            **options,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self.arrived:
            self.received.clear()
            self.recipients_tried.clear()
            self.replies.clear()

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        """The first `count` messages received, waiting for them as long as `timeout`."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.received)} of {count} mails arrived")
                self.arrived.wait(left)
            return list(self.received[:count])
