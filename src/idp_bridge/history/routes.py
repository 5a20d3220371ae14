"""HTTP for the history: the API (instants in UTC), the page and its CSV and PDF exports
(calendar days in the platform's time zone)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import anyio.to_thread
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.history.entries import entry_of
from idp_bridge.history.exports import (
    INTACT,
    PDF_MAX_ENTRIES,
    TAMPERED,
    history_csv,
    history_pdf,
    history_report,
    period_text,
)
from idp_bridge.history.filters import HistoryFilter, api_filter, page_filter
from idp_bridge.history.service import Histories
from idp_bridge.routes import current, requires_login
from idp_bridge.schemas import History, HistoryEntry
from kluis.audit import HISTORY_KINDS, kind_of
from kluis.errors import Invalid
from kluis.settings import Settings
from kluis.web.i18n import gettext

PAGE_SIZE = 100

Since = Annotated[
    str | None,
    QueryParameter(
        description="Events at or after this time: ISO 8601, UTC when it has no zone; "
        "a bare date (`2025-03-01`) is that day's start in UTC."
    ),
]
Until = Annotated[
    str | None,
    QueryParameter(
        description="Events before this time: ISO 8601, UTC when it has no zone; "
        "a bare date (`2025-03-31`) includes that whole day (UTC)."
    ),
]
Kind = Annotated[
    str | None,
    QueryParameter(description="One kind of event: " + ", ".join(f"`{k}`" for k in HISTORY_KINDS)),
]
Action = Annotated[
    str | None, QueryParameter(description="Events whose action tag starts with this (`vault:`).")
]
Before = Annotated[
    int | None,
    QueryParameter(
        ge=1, description="Events older than this one (`next_before` of a previous page)."
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="At most this many events.")]
FirstDay = Annotated[str | None, QueryParameter(name="from", description="YYYY-MM-DD, included")]
LastDay = Annotated[str | None, QueryParameter(name="to", description="YYYY-MM-DD, included")]


class HistoryApi(Controller):
    path = "/api/v1"
    tags = ["history"]
    guards = [requires_login]

    @get("/history")
    async def history(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        histories: NamedDependency[Histories],
        since: Since = None,
        until: Until = None,
        kind: Kind = None,
        action: Action = None,
        before: Before = None,
        limit: Limit = 200,
    ) -> History:
        """My history, newest first, with whether its hash chain verifies."""
        wanted = api_filter(since=since, until=until, kind=kind, action=action)
        page = await histories.page(db, current(request).person, wanted, before=before, limit=limit)
        return History(
            chain_verified=page.chain_intact,
            total=page.total,
            next_before=page.next_before,
            events=[
                HistoryEntry(
                    id=e.id,
                    seq=e.seq,
                    at=e.at,
                    action=e.action,
                    kind=kind_of(e.action),
                    actor=e.actor_label,
                    target=e.target,
                    ip=e.ip,
                    detail=e.detail,
                )
                for e in page.events
            ],
        )


def _form(kind: str | None, first_day: str | None, last_day: str | None) -> dict[str, str]:
    """The filter as the citizen gave it, to fill the form and the links in again."""
    return {"kind": kind or "", "from": first_day or "", "to": last_day or ""}


def _query(form: dict[str, str], **extra: object) -> str:
    return urlencode({k: v for k, v in {**form, **extra}.items() if v not in ("", None)})


def _filename(settings: Settings, extension: str) -> str:
    today = datetime.now(UTC).astimezone(settings.zone).date().isoformat()
    return f"kluis-history-{today}.{extension}"


def _attachment(filename: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{filename}"'}


class HistoryPages(Controller):
    path = "/history"
    include_in_schema = False
    guards = [requires_login]

    def _page_filter(self, settings: Settings, form: dict[str, str]) -> HistoryFilter:
        return page_filter(
            first_day=form["from"], last_day=form["to"], kind=form["kind"], zone=settings.zone
        )

    @get("/")
    async def history_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        histories: NamedDependency[Histories],
        settings: NamedDependency[Settings],
        kind: FromQuery[str | None] = None,
        first_day: FirstDay = None,
        last_day: LastDay = None,
        before: Before = None,
    ) -> Template:
        form = _form(kind, first_day, last_day)
        context: dict[str, Any] = {
            "form": form,
            "filtered": any(form.values()),
            "kinds": HISTORY_KINDS,
            "zone": settings.time_zone,
            "query": _query(form),
            "intact_text": INTACT,
            "tampered_text": TAMPERED,
        }
        try:
            wanted = self._page_filter(settings, form)
        except Invalid as refusal:  # shown above the form, which keeps what was typed
            problem = {"type": refusal.type, "message": gettext(refusal.message)}
            return Template(
                "idp_bridge/history.html",
                context={**context, "problem": problem, "entries": [], "total": 0},
                status_code=refusal.status,
            )
        page = await histories.page(
            db, current(request).person, wanted, before=before, limit=PAGE_SIZE
        )
        older = _query(form, before=page.next_before) if page.next_before else None
        return Template(
            "idp_bridge/history.html",
            context={
                **context,
                "entries": [entry_of(event, settings.zone) for event in page.events],
                "chain_ok": page.chain_intact,
                "total": page.total,
                "older_query": older,
                "newer": before is not None,
            },
        )

    @get("/export.csv")
    async def export_csv(
        self,
        request: Request[Any, Any, Any],
        histories: NamedDependency[Histories],
        settings: NamedDependency[Settings],
        kind: FromQuery[str | None] = None,
        first_day: FirstDay = None,
        last_day: LastDay = None,
    ) -> Stream:
        wanted = self._page_filter(settings, _form(kind, first_day, last_day))
        events = histories.stream(current(request).person, wanted)
        entries = (entry_of(event, settings.zone) async for event in events)
        return Stream(
            history_csv(entries),
            media_type="text/csv",
            headers=_attachment(_filename(settings, "csv")),
        )

    @get("/export.pdf")
    async def export_pdf(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        histories: NamedDependency[Histories],
        settings: NamedDependency[Settings],
        kind: FromQuery[str | None] = None,
        first_day: FirstDay = None,
        last_day: LastDay = None,
    ) -> Response[bytes]:
        form = _form(kind, first_day, last_day)
        wanted = self._page_filter(settings, form)
        person = current(request).person
        page = await histories.page(db, person, wanted, limit=PDF_MAX_ENTRIES)
        entries = [entry_of(event, settings.zone) for event in page.events]
        report = history_report(
            person_name=person.full_name,
            period=period_text(form["from"], form["to"]),
            kind=wanted.kind,
            total=page.total,
            entries=entries,
            chain_intact=page.chain_intact,
            zone=settings.zone,
        )
        # Laying out a thousand rows takes a CPU-second: not on the event loop.
        pdf = await anyio.to_thread.run_sync(history_pdf, report)
        return Response(
            pdf,
            media_type="application/pdf",
            headers=_attachment(_filename(settings, "pdf")),
        )
