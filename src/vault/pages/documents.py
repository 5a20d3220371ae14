"""The vault's pages: the document list with filters, uploads, editing and deletion.

Uploads go from the page straight to the API (`static/vault.js`), one request per file, so
each file shows its own progress and its own refusal.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge import current, request_actor, requires_login
from kluis.audit import ACTION_KINDS, ACTION_LABELS, REASON_LABELS
from kluis.text import N_
from vault.domain import CATEGORIES, extension_of
from vault.services import Contacts, Documents, Shares

CATEGORY_LABELS = {
    "personal-info": N_("Personal information"),
    "family": N_("Family"),
    "my-home": N_("My home"),
    "real-estate": N_("Real estate"),
    "finances": N_("Finances"),
    "professional-life": N_("Professional life"),
    "possessions": N_("Possessions"),
    "health": N_("Health"),
}
ACTION_LABELS.update(
    {
        "vault:document:uploaded": N_("Document stored"),
        "vault:document:refused": N_("Document refused"),
        "vault:document:downloaded": N_("Document downloaded"),
        "vault:document:renamed": N_("Document renamed"),
        "vault:document:changed": N_("Document categories or labels changed"),
        "vault:document:deleted": N_("Document deleted"),
        "vault:document:destroyed": N_("Document destroyed after death"),
        "vault:document:destroyed-again": N_("Document destroyed again after a restore"),
        "vault:quota:changed": N_("Storage space changed"),
    }
)
WHEN_LABELS = {"now": N_("Now"), "at_death": N_("At my death")}
ACTION_KINDS.update(
    {
        "vault:document": "documents",
        "vault:quota": "account",
        "vault:share": "sharing",
        "vault:contact": "sharing",
    }
)
# Why an upload was refused (`vault:document:refused`), in the history's words.
REASON_LABELS.update(
    {
        "file-type-not-allowed": N_("This type of file is not allowed"),
        "unscannable-content": N_("The file cannot be checked for malware"),
        "malware-found": N_("Malware found"),
        "quota-exceeded": N_("Not enough room left"),
        "file-too-large": N_("The file is too large"),
        "empty-file": N_("The file is empty"),
        "scanner-unavailable": N_("The malware scanner was unavailable"),
        "upload-interrupted": N_("The upload was interrupted"),
        "vault-frozen": N_("The vault is frozen: a death was recorded"),
    }
)
UNITS = ("B", "KB", "MB", "GB", "TB")


def human_size(size: int) -> str:
    """312 MB, 1 GB: decimal units, as a person reads a disk or a phone plan."""
    value, unit = float(size), 0
    while value >= 1000 and unit < len(UNITS) - 1:
        value, unit = value / 1000, unit + 1
    return (
        f"{value:.0f} {UNITS[unit]}" if unit == 0 or value >= 10 else f"{value:.1f} {UNITS[unit]}"
    )


class VaultPages(Controller):
    path = "/vault"
    include_in_schema = False
    guards = [requires_login]

    @get("/")
    async def vault(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        documents: NamedDependency[Documents],
        contacts: NamedDependency[Contacts],
        shares: NamedDependency[Shares],
        category: FromQuery[str | None] = None,
        label: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
    ) -> Template:
        person = current(request).person
        found = await documents.list(db, person, category=category, label=label, q=q)
        used, quota = await documents.space(db, person.id)
        return Template(
            "vault/vault.html",
            context={
                "documents": found,
                "used": used,
                "quota": quota,
                "used_label": human_size(used),
                "quota_label": human_size(quota),
                "human_size": human_size,
                "categories": CATEGORIES,
                "category_labels": CATEGORY_LABELS,
                "filters": {"category": category or "", "label": label or "", "q": q or ""},
                "max_upload": documents.settings.vault.max_upload_bytes,
                "extension_of": extension_of,
                "contacts": await contacts.list(db, person),
                "shares": await shares.by_document(db, person),
                "when_labels": WHEN_LABELS,
                "seals": {d.id: await documents.seal_status(db, d) for d in found if d.seal},
            },
        )

    @post("/{document_id:uuid}/edit", status_code=303)
    async def edit(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        documents: NamedDependency[Documents],
        document_id: FromPath[uuid.UUID],
    ) -> Redirect:
        form = await request.form()
        labels = [part.strip() for part in str(form.get("labels", "")).split(",")]
        await documents.update(
            db,
            current(request).person,
            document_id,
            name=str(form.get("name") or "") or None,
            categories=[str(c) for c in form.getall("categories")] if "categories" in form else [],
            labels=[label for label in labels if label],
            actor=request_actor(request),
        )
        return Redirect("/vault", status_code=303)

    @post("/{document_id:uuid}/delete", status_code=303)
    async def delete(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        documents: NamedDependency[Documents],
        document_id: FromPath[uuid.UUID],
    ) -> Redirect:
        await documents.delete(db, current(request).person, document_id, request_actor(request))
        return Redirect("/vault", status_code=303)
