"""The world of the authorization matrix: a person or an office for every role, logged in
once, and the documents, contacts, shares, invitations and office exchanges between them,
rebuilt whenever a check changed them.

Roles: an anonymous visitor; Jan, the owner of document D; Lucas, another citizen (only a
pending invitation from Jan); Marie, Jan's contact with a `now` share of D; Emma, Jan's
contact without a share; the notary and the staff member of office B, to which nothing was
sent; Sophie and Thomas, notary and staff of office A, to which Jan sent D (twice: once
plainly, once confidentially), which offered Jan a sealed document of its own and
published a deed with Jan as its party. In a dossier of office A, Jan is the client, and
office A sent him two questionnaires (one of them finished).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import Any

import httpx
from sqlalchemy import select

from idp_bridge import make_nrn
from kluis import db as database
from tests.conftest import emptied
from tests.support import files
from tests.support.contacts import confirm_email, invite
from tests.support.login import JAN, MARIE, NOTARY, STAFF, csrf, login
from tests.support.offices import OPERATOR, register_office
from tests.support.questionnaires import questionnaire_world
from tests.support.succession_world import (
    SUCCESSION_TABLES,
    register_people,
    reset_people,
    succession_world,
)
from tests.support.vault import upload

EMMA = "72110208784"  # Emma Janssens in config/demo.toml
LUCAS = "01052101621"  # Lucas Maes
# Synthetic people the development provider logs in by number: office B's members.
OFFICE_B_NOTARY = make_nrn(date(1975, 5, 5), 101)
OFFICE_B_STAFF = make_nrn(date(1980, 6, 6), 102)
# Staff accounts of Jan's company: nobody the matrix logs in.
COMPANY_STAFF = make_nrn(date(1988, 8, 8), 103)
NEW_COMPANY_STAFF = make_nrn(date(1989, 9, 9), 104)
# A staff member of office A who never logs in: the office administration checks remove him.
OFFICE_A_EXTRA_STAFF = make_nrn(date(1990, 7, 7), 103)

ANONYMOUS = "anonymous"
ROLE_NRNS = {
    "owner": JAN,
    "other_citizen": LUCAS,
    "contact_with_share": MARIE,
    "contact_without_share": EMMA,
    "notary_other_office": OFFICE_B_NOTARY,
    "staff_other_office": OFFICE_B_STAFF,
    "notary_sent_to": NOTARY,
    "staff_sent_to": STAFF,
}
ROLES = (ANONYMOUS, *ROLE_NRNS)

# What a check may change and the next one must not see: emptied for every new world.
# People, sessions, offices, members and seal keys stay (logins are the slow part).
WORLD_TABLES = frozenset(
    {
        "documents",
        "shares",
        "contacts",
        "contact_invitations",
        "office_exchanges",
        "deeds",
        "deed_parties",
        "vault_quotas",
        "history_events",
        "history_heads",
        # dossiers, their questionnaires, companies
        "questionnaires",
        "dossiers",
        "dossier_clients",
        "dossier_documents",
        "dossier_messages",
        "message_attachments",
        "dossier_reads",
        "companies",
        "company_members",
        *SUCCESSION_TABLES,
    }
)
# What a refused request must leave exactly as it was.
WATCHED_TABLES = (
    "documents",
    "shares",
    "contacts",
    "contact_invitations",
    "office_exchanges",
    "deeds",
    "deed_parties",
    "history_events",
    "questionnaires",
    "dossiers",
    "dossier_clients",
    "dossier_documents",
    "dossier_messages",
    "message_attachments",
    "dossier_reads",
    "companies",
    "company_members",
    *sorted(SUCCESSION_TABLES),
)
NEW_ADDRESS = "nieuw.contact@example.test"  # nobody's: what the invitation checks invite


def enterprise_number(body: int) -> str:
    """A valid Belgian enterprise number: 0, seven digits, and 97 minus the first eight
    digits modulo 97 (what python-stdnum's `be.vat` checks)."""
    head = f"0{body:07d}"
    return f"{head}{97 - int(head) % 97:02d}"


@dataclass(frozen=True)
class World:
    """The ids a route's path is filled with (all strings, as they travel in a URL)."""

    office_a: str  # the demo office, to which Jan sent D
    office_b: str  # an office nothing was sent to
    document: str  # D, Jan's
    contact: str  # Jan's contact row for Marie
    contact_emma: str  # Jan's contact row for Emma (whom D is not shared with)
    share: str  # D, shared `now` with Marie
    invitation: str  # Jan's pending invitation to Lucas's confirmed address
    office_copy: str  # office A's copy of D
    confidential_copy: str  # office A's confidential copy of D (notaries only)
    offer: str  # the exchange by which office A offers Jan a sealed document
    deed: str  # a deed office A published, Jan its one party
    # -- questionnaires: a dossier of office A with Jan as its client
    qn_dossier: str
    qn_client: str  # Jan's client row in it (what the builder's form chooses)
    questionnaire: str  # sent to Jan, its required questions answered
    questionnaire_done: str  # sent to Jan and finished (a file answered, its PDF delivered)
    dossier: str  # office A's dossier for Jan (and his company)
    dossier_document: str  # on the dossier's "documents" tab, published by office A
    dossier_message: str  # Jan's message in the dossier, with an attachment
    dossier_attachment: str  # that message's attachment
    company: str  # Jan's company (he holds its main account)
    company_member: str  # a staff account of the company
    office_a_extra_member: str  # OFFICE_A_EXTRA_STAFF's member row in office A
    # -- successions (tests/support/succession_world.py)
    notice: str  # a death office A recorded, no estate yet
    estate: str  # office A's estate, transferred to Marie
    open_estate: str  # office A's estate, Emma its heir, not transferred
    inheritance: str  # Marie's, from that transferred estate
    inherited_document: str  # in it


# The world's ids a path parameter of that name takes, for checks that fill paths by name
# (the first is the one the authorization matrix fills in unless an entry says otherwise).
PATH_IDS: dict[str, tuple[Callable[[World], str], ...]] = {
    "document_id": (
        attrgetter("document"),
        attrgetter("office_copy"),
        attrgetter("dossier_document"),
        attrgetter("dossier_attachment"),
        attrgetter("inherited_document"),
    ),
    "share_id": (attrgetter("share"),),
    "contact_id": (attrgetter("contact"), attrgetter("contact_emma")),
    "invitation_id": (attrgetter("invitation"),),
    "exchange_id": (attrgetter("offer"),),
    "deed_id": (attrgetter("deed"),),
    "office_id": (attrgetter("office_a"), attrgetter("office_b")),
    "dossier_id": (attrgetter("dossier"), attrgetter("qn_dossier")),
    "questionnaire_id": (attrgetter("questionnaire"), attrgetter("questionnaire_done")),
    "message_id": (attrgetter("dossier_message"),),
    "company_id": (attrgetter("company"),),
    "member_id": (attrgetter("office_a_extra_member"), attrgetter("company_member")),
    "notice_id": (attrgetter("notice"),),
    "estate_id": (attrgetter("estate"), attrgetter("open_estate")),
    "inheritance_id": (attrgetter("inheritance"),),
    "question_id": (lambda _: "deed",),  # a questionnaire's file question
    "provider": (lambda _: "dev",),
}


def expect(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, (response.request.url, response.text)
    return response.json() if response.content else None


@dataclass
class Cast:
    """Everyone's browser, logged in once for the whole matrix."""

    server: Any
    platform: Any
    clients: dict[str, httpx.AsyncClient]
    languages: dict[str, str]
    addresses: dict[str, str]  # the demo addresses, confirmed again in every world
    office_a: str
    office_b: str

    @asynccontextmanager
    async def fresh_login(self, role: str) -> AsyncIterator[httpx.AsyncClient]:
        """A browser of its own with a new session, for checks that end their session."""
        async with httpx.AsyncClient(base_url=self.server.url, timeout=20) as client:
            await login(client, login_hint=ROLE_NRNS[role])
            yield client

    async def empty_world(self) -> None:
        async with self.platform.engine.begin() as conn:
            for table in reversed(database.metadata.sorted_tables):
                if table.name in WORLD_TABLES:
                    await conn.execute(table.delete())
        for location in self.platform.settings.vault.locations:
            shutil.rmtree(location.path, ignore_errors=True)
        await reset_people(self.platform)

    async def build_world(self) -> World:
        """A new world over HTTP, as the people in it would make it."""
        await self.empty_world()
        c = self.clients
        jan, marie, emma, sophie = (
            c["owner"],
            c["contact_with_share"],
            c["contact_without_share"],
            c["notary_sent_to"],
        )
        document = expect(await upload(jan, "Testament.txt", b"mijn laatste wil\n"), 201)["id"]
        contacts = {}
        # A check may have changed someone's address: each world starts from the demo ones.
        for role in ("other_citizen", "contact_with_share", "contact_without_share"):
            await confirm_email(self.server, c[role], self.addresses[role])
        for client, role in ((marie, "contact_with_share"), (emma, "contact_without_share")):
            address = self.addresses[role]
            invitation = expect(await invite(jan, address), 201)
            accept = f"/api/v1/contacts/invitations/{invitation['id']}/accept"
            expect(await client.post(accept, headers=csrf(client)), 201)
        for contact in expect(await jan.get("/api/v1/contacts"), 200):
            contacts[contact["full_name"]] = contact["id"]
        invitation = expect(await invite(jan, self.addresses["other_citizen"]), 201)["id"]
        share = expect(
            await jan.post(
                f"/api/v1/documents/{document}/shares",
                json={"contact_id": contacts["Marie Dubois"], "when": "now"},
                headers=csrf(jan),
            ),
            201,
        )["id"]
        copies = {}
        for confidential in (False, True):
            sent = await jan.post(
                f"/api/v1/documents/{document}/send-to-office",
                json={"office_id": self.office_a, "confidential": confidential},
                headers=csrf(jan),
            )
            copies[confidential] = expect(sent, 201)["document_id"]
        office_documents = f"/api/v1/offices/{self.office_a}/documents"
        stored = await sophie.post(
            office_documents,
            params={"name": "Akte.txt"},
            content=b"akte van het kantoor\n",
            headers=csrf(sophie),
        )
        offered = await sophie.post(
            f"{office_documents}/{expect(stored, 201)['id']}/send",
            json={"nrn": JAN},
            headers=csrf(sophie),
        )
        deed = await sophie.post(
            f"/api/v1/offices/{self.office_a}/deeds",
            data={"registry_number": "W-1", "kind": "sale", "date": "2024-03-15", "party": JAN},
            files={"file": ("akte.pdf", files.pdf(), "application/pdf")},
            headers=csrf(sophie),
        )
        questionnaires = await questionnaire_world(self.platform, self.office_a, sophie, jan)
        dossier = await self.build_dossier()
        async with self.platform.session_maker() as db:
            office_a = await self.platform.register.office(db, uuid.UUID(self.office_a))
            extra = await self.platform.register.add_member(
                db, office_a, nrn=OFFICE_A_EXTRA_STAFF, role="staff", actor=OPERATOR
            )
        return World(
            **dossier,
            office_a=self.office_a,
            office_b=self.office_b,
            document=document,
            contact=contacts["Marie Dubois"],
            contact_emma=contacts["Emma Janssens"],
            share=share,
            invitation=invitation,
            office_copy=copies[False],
            confidential_copy=copies[True],
            offer=expect(offered, 201)["id"],
            deed=expect(deed, 201)["id"],
            **questionnaires,
            office_a_extra_member=str(extra.id),
            **await succession_world(self.platform, self.office_a),
        )

    async def build_dossier(self) -> dict[str, str]:
        """Office A's dossier for Jan and his company, with a document and Jan's message."""
        jan, sophie = self.clients["owner"], self.clients["notary_sent_to"]
        company = {"enterprise_number": enterprise_number(7654321), "name": "Peeters BV"}
        opened = await sophie.post(
            "/api/v1/dossiers",
            json={
                "office_id": self.office_a,
                "reference": "W-1",
                "description": "Wereld",
                "clients": [JAN],
                "company": company | {"main_nrn": JAN},
            },
            headers=csrf(sophie),
        )
        dossier = expect(opened, 201)["id"]
        published = await sophie.post(
            f"/api/v1/dossiers/{dossier}/documents",
            params={"name": "Ontwerp.txt", "tab": "documents"},
            content=b"ontwerpakte\n",
            headers=csrf(sophie),
        )
        sent = await jan.post(
            f"/api/v1/dossiers/{dossier}/messages",
            data={"subject": "Vraag", "body": "Zie bijlage."},
            files={"attachment": ("Bijlage.txt", b"bijlage\n", "text/plain")},
            headers=csrf(jan),
        )
        message = expect(sent, 201)
        company_id = expect(await jan.get("/api/v1/companies"), 200)[0]["id"]
        added = await jan.post(
            f"/api/v1/companies/{company_id}/members",
            json={"nrn": COMPANY_STAFF},
            headers=csrf(jan),
        )
        staff = [m for m in expect(added, 201)["members"] if m["role"] == "staff"]
        return {
            "dossier": dossier,
            "dossier_document": expect(published, 201)["id"],
            "dossier_message": message["id"],
            "dossier_attachment": message["attachments"][0]["id"],
            "company": company_id,
            "company_member": staff[0]["id"],
        }

    async def snapshot(self, tables: tuple[str, ...] = WATCHED_TABLES) -> dict[str, dict]:
        """Every row of `tables`, by id, with every column."""
        found: dict[str, dict] = {}
        async with self.platform.session_maker() as db:
            for name in tables:
                table = database.metadata.tables[name]
                rows = (await db.execute(select(table))).all()
                found[name] = {row.id: tuple(row) for row in rows}
        return found


def changes(before: dict[str, dict], after: dict[str, dict]) -> dict[str, str]:
    """What differs between two snapshots, table by table, in a line each."""
    found = {}
    for name, rows in before.items():
        now = after[name]
        added = len(now.keys() - rows.keys())
        removed = len(rows.keys() - now.keys())
        changed = sum(1 for key in rows.keys() & now.keys() if rows[key] != now[key])
        if added or removed or changed:
            found[name] = f"{added} added, {removed} removed, {changed} changed"
    return found


async def register_other_office(platform) -> str:
    """Office B, with a notary and a staff member of its own."""
    async with platform.session_maker() as db:
        office = await platform.register.add_office(
            db,
            name="Notaris Verbeke",
            enterprise_number=enterprise_number(1234567),
            municipality="Gent",
            actor=OPERATOR,
        )
        for nrn, role in ((OFFICE_B_NOTARY, "notary"), (OFFICE_B_STAFF, "staff")):
            await platform.register.add_member(db, office, nrn=nrn, role=role, actor=OPERATOR)
        return str(office.id)


@asynccontextmanager
async def cast_of(server, platform) -> AsyncIterator[Cast]:
    """On an emptied database: both offices registered, everyone logged in (after the
    register, so members get their office roles), the citizens' addresses confirmed
    (invitations reach them by address)."""
    await emptied(server, platform)
    office_a = await register_office(platform)
    office_b = await register_other_office(platform)
    await register_people(platform)
    async with AsyncExitStack() as stack:
        clients = {}
        for role in ROLES:
            client = httpx.AsyncClient(base_url=server.url, timeout=20)
            clients[role] = await stack.enter_async_context(client)
            if role == ANONYMOUS:
                await client.get("/")  # for the CSRF cookie, as a browser gets it
            else:
                await login(client, login_hint=ROLE_NRNS[role])
        languages = {ANONYMOUS: platform.settings.default_language}
        addresses = {}
        for role in ROLE_NRNS:
            me = expect(await clients[role].get("/api/v1/me"), 200)
            languages[role], addresses[role] = me["language"], me["email"]
        yield Cast(server, platform, clients, languages, addresses, office_a, office_b)
