"""The development outbox, readable in the browser: what the platform would have mailed.

Mounted only when the settings choose the outbox mailer, which production refuses.
"""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.response import Template

from kluis.mail import DevelopmentOutbox, SentEmail


class DevOutboxController(Controller):
    path = "/dev"
    include_in_schema = False

    @get("/outbox.json", sync_to_thread=True)
    def outbox_json(self, outbox: NamedDependency[DevelopmentOutbox]) -> list[SentEmail]:
        """`[{to, subject, body, sent_at}]`, newest first (API.md)."""
        return outbox.sent()

    @get("/outbox", sync_to_thread=True)
    def outbox_page(self, outbox: NamedDependency[DevelopmentOutbox]) -> Template:
        return Template("outbox.html", context={"emails": outbox.sent()})
