"""The authorization matrix: every route of the application, asked by every role.

Each (method, path template) of the route table has an entry saying what each role gets
(tests/support/world.py describes the roles and the world they act in). Whoever may not
reach a route gets 401 (not logged in) or 404 (the id is foreign: API.md says never 403, so
ids cannot be probed; made-up ids get 404 too), and such a refusal changes no row of the
vault, the contacts, the office exchanges or the history. A route without an entry, or an
entry without a route, fails `test_every_route_has_a_matrix_entry`.

Pages answer an anonymous visitor 401 with the error page (`login-required`), not a
redirect; the API answers problem+json. Requests that may change things run, for the roles
allowed to, in a world rebuilt for them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute

from tests.support import files
from tests.support.login import JAN, MARIE
from tests.support.succession_world import ALIVE_A, ALIVE_B, AWAITING_A, AWAITING_B, DECEASED
from tests.support.world import (
    ANONYMOUS,
    NEW_ADDRESS,
    NEW_COMPANY_STAFF,
    OFFICE_A_EXTRA_STAFF,
    PATH_IDS,
    ROLE_NRNS,
    ROLES,
    Cast,
    World,
    cast_of,
    changes,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})  # Litestar answers them for every route


# -- policies: who may ----------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """The roles that may use a route; any other logged-in person gets 404 (for them the id
    does not exist), an anonymous visitor 401 (unless the route is public)."""

    name: str
    allowed: frozenset[str]
    anonymous_refused: int = 401
    # Roles who see the thing but may not do this to it (a client and an office-only
    # action on their dossier): 403, as nothing is probed.
    forbidden: frozenset[str] = frozenset()

    def statuses(self, ok: int) -> dict[str, int]:
        return {
            role: ok
            if role in self.allowed
            else self.anonymous_refused
            if role == ANONYMOUS
            else 403
            if role in self.forbidden
            else 404
            for role in ROLES
        }


@dataclass(frozen=True)
class Fixed:
    """A route whose answer does not depend on whose data it is: the same for everyone,
    except where `overrides` says otherwise. `reason` says why it is not about access."""

    name: str
    reason: str
    status: int
    overrides: tuple[tuple[str, int], ...] = ()

    def statuses(self, ok: int) -> dict[str, int]:
        return {role: self.status for role in ROLES} | dict(self.overrides)


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


LOGGED_IN = frozenset(ROLE_NRNS)
PUBLIC = Policy("PUBLIC", frozenset(ROLES))
LOGIN = Policy("LOGIN", LOGGED_IN)  # anyone logged in, about their own things
OWNER = Policy("OWNER", roles("owner"))  # Jan: his document, contact, share, invitation
RECIPIENT = Policy("RECIPIENT", roles("contact_with_share"))  # Marie: the share given her
INVITEE = Policy("INVITEE", roles("other_citizen"))  # Lucas: the invitation to his address
OFFER_RECIPIENT = Policy("OFFER_RECIPIENT", roles("owner"))  # Jan: what office A offered him
OFFICE_A_MEMBER = Policy("OFFICE_A_MEMBER", roles("notary_sent_to", "staff_sent_to"))
OFFICE_A_NOTARY = Policy("OFFICE_A_NOTARY", roles("notary_sent_to"))  # confidential copies
OFFICE_B_MEMBER = Policy("OFFICE_B_MEMBER", roles("notary_other_office", "staff_other_office"))
OFFICE_B_NOTARY = Policy("OFFICE_B_NOTARY", roles("notary_other_office"))
NOBODY = Policy("NOBODY", frozenset())


def not_authorization(reason: str, status: int, **overrides: int) -> Fixed:
    return Fixed("NOT_AUTHORIZATION", reason, status, tuple(overrides.items()))


# -- the matrix -------------------------------------------------------------------------------

Fill = dict[str, Callable[[World], str]]
Body = Callable[[World, Cast, str], dict[str, Any]]

# Path parameters, filled from the world unless an entry or variant says otherwise.
PATH_VALUES: Fill = {name: ids[0] for name, ids in PATH_IDS.items()} | {
    "answer": lambda _: "accept",
    "file_path": lambda _: "kluis.css",
    "path": lambda _: "no-such-page",
}
OFFICE_COPY: Fill = {"document_id": attrgetter("office_copy")}
UUID_PARAMETER = re.compile(r"\{(\w+):uuid\}")


@dataclass(frozen=True)
class Variant:
    """The same route asked with other ids, under a policy of its own."""

    name: str
    policy: Policy
    fill: Fill


@dataclass(frozen=True)
class Entry:
    policy: Policy | Fixed
    ok: int = 200  # what the allowed roles get
    body: Body | None = None  # httpx arguments, so a refusal is about access, not the body
    fill: Fill = field(default_factory=dict)
    variants: tuple[Variant, ...] = ()
    own_session: bool = False  # the request ends the session: each role logs in afresh


def file(name: str) -> Body:
    return lambda world, cast, role: {"params": {"name": name}, "content": b"matrix\n"}


def json(make: Callable[[World], dict[str, Any]]) -> Body:
    return lambda world, cast, role: {"json": make(world)}


def form(make: Callable[[World], dict[str, str]]) -> Body:
    return lambda world, cast, role: {"data": make(world)}


def language(world: World, cast: Cast, role: str) -> dict[str, Any]:
    return {"data": {"language": cast.languages[role], "next": "/"}}  # one's own: no change


def offices_copy(policy: Policy) -> tuple[Variant, ...]:
    """Office A's copy asked for otherwise: the confidential one (staff do not see it),
    through office B (whose members are in an office that does not hold it), and Jan's own D
    through office A (a citizen's vault is not the office's)."""
    return (
        Variant("confidential copy", policy, {"document_id": attrgetter("confidential_copy")}),
        Variant("through office B", NOBODY, {"office_id": attrgetter("office_b")}),
        Variant("Jan's own D", NOBODY, {"document_id": attrgetter("document")}),
    )


THE_OFFICES_COPY = (Variant("the office's copy of D", NOBODY, OFFICE_COPY),)
# An address a role changes its own to: never one the world invites.
CHANGED_ADDRESS = "changed.address@example.test"
SEND_TO_CITIZEN = json(lambda w: {"nrn": JAN})
SHARE_WITH_EMMA = json(lambda w: {"contact_id": w.contact_emma, "when": "now"})

# -- succession: notaries in person; staff and citizens are told it is for notaries (403).
NOT_NOTARIES = LOGGED_IN - roles("notary_sent_to", "notary_other_office")
NOTARIES = Policy(
    "NOTARIES", roles("notary_sent_to", "notary_other_office"), forbidden=NOT_NOTARIES
)
# Office A's estate and notice: nobody else finds them (404).
NOTICE = {"date_of_death": "2026-01-02", "reference": "M-2"}
OPEN: Fill = {"estate_id": attrgetter("open_estate")}
INHERITED_DOCUMENT = "/api/v1/inheritances/{inheritance_id:uuid}/documents/{document_id:uuid}"
INHERITED: Fill = {
    "inheritance_id": attrgetter("inheritance"),
    "document_id": attrgetter("inherited_document"),
}


def per_notary(make: Callable[[str], dict[str, Any]], awaiting: bool = False) -> Body:
    """Each office's notary about a person of their own, so both can succeed in one world."""

    def body(world: World, cast: Cast, role: str) -> dict[str, Any]:
        if awaiting:
            number = AWAITING_B if role == "notary_other_office" else AWAITING_A
        else:
            number = ALIVE_B if role == "notary_other_office" else ALIVE_A
        return {"json": make(number)}

    return body


def per_notary_form(make: Callable[[str], dict[str, str]], awaiting: bool = False) -> Body:
    """As `per_notary`, for a page's form."""
    as_json = per_notary(make, awaiting)
    return lambda world, cast, role: {"data": as_json(world, cast, role)["json"]}


# The succession desk is office A's notary's; its staff are told it is for notaries (403).
DESK = "/offices/{office_id:uuid}/succession"
ESTATE_PAGE = "/offices/{office_id:uuid}/estates/{estate_id:uuid}"
DESK_A = Policy("DESK_A", roles("notary_sent_to"), forbidden=roles("staff_sent_to"))
DESK_B = Policy("DESK_B", roles("notary_other_office"), forbidden=roles("staff_other_office"))
AT_OFFICE_B = (Variant("office B", DESK_B, {"office_id": attrgetter("office_b")}),)
# Office A's notice or estate through office B: its notary finds nothing, its staff are told.
B_STAFF_TOLD = Policy("B_STAFF_TOLD", frozenset(), forbidden=roles("staff_other_office"))
THROUGH_B = (Variant("through office B", B_STAFF_TOLD, {"office_id": attrgetter("office_b")}),)
PAGE_NOTICE = {"date_of_death": "2026-01-02", "reference": "M-3"}


DEED_PARTY = Policy("DEED_PARTY", roles("owner"))  # Jan: the one party to office A's deed
IN_OFFICE_B = (Variant("office B", OFFICE_B_MEMBER, {"office_id": attrgetter("office_b")}),)


def deed_form(world: World, cast: Cast, role: str) -> dict[str, Any]:
    """A deed to publish (multipart: the fields, then the PDF), a registry number each."""
    return {
        "data": {
            "registry_number": f"M-{role}",
            "kind": "gift",
            "date": "2024-01-02",
            "party": JAN,
        },
        "files": {"file": ("akte.pdf", files.pdf(), "application/pdf")},
    }


# Questionnaires: a dossier of office A whose client is Jan; its office sends, Jan answers.
QN_OFFICE = Policy("QN_OFFICE", roles("notary_sent_to", "staff_sent_to"), forbidden=roles("owner"))
QN_RECIPIENT = Policy(
    "QN_RECIPIENT",
    roles("owner"),
    forbidden=roles("notary_sent_to", "staff_sent_to"),
)
QN_BOTH = Policy("QN_BOTH", roles("owner", "notary_sent_to", "staff_sent_to"))
QN: Fill = {
    "dossier_id": attrgetter("qn_dossier"),
    "questionnaire_id": attrgetter("questionnaire"),
}
QN_DONE: Fill = QN | {"questionnaire_id": attrgetter("questionnaire_done")}
QN_API = "/api/v1/dossiers/{dossier_id:uuid}/questionnaires"
QN_ONE = QN_API + "/{questionnaire_id:uuid}"
QN_PAGE = "/dossiers/{dossier_id:uuid}/questionnaires"
QN_BUILDER = "/offices/{office_id:uuid}/dossiers/{dossier_id:uuid}/questionnaires"
THROUGH_OFFICE_B = (Variant("office B", NOBODY, {"office_id": attrgetter("office_b")}),)


def qn_step(world: World, cast: Cast, role: str) -> dict[str, Any]:
    """A step of the answer page: multipart, its fields first, then the file."""
    return {"data": {"question": "deed"}, "files": {"file": ("akte.txt", b"matrix\n")}}


QUESTIONNAIRE_ENTRIES: dict[tuple[str, str], Entry] = {
    ("GET", QN_API): Entry(QN_BOTH, fill=QN),
    ("POST", QN_API): Entry(
        QN_OFFICE,
        201,
        fill=QN,
        body=json(
            lambda w: {
                "title": "Matrix",
                "recipient_nrn": JAN,
                "questions": [{"kind": "text", "label": "Matrix?"}],
            }
        ),
    ),
    ("GET", QN_ONE): Entry(QN_BOTH, fill=QN),
    ("PUT", QN_ONE): Entry(QN_RECIPIENT, fill=QN, body=json(lambda w: {"answers": {"buyer": "M"}})),
    ("POST", QN_ONE): Entry(QN_RECIPIENT, fill=QN),
    ("PUT", QN_ONE + "/files/{question_id:str}"): Entry(
        QN_RECIPIENT, fill=QN, body=file("akte.txt")
    ),
    ("GET", QN_ONE + "/files/{question_id:str}"): Entry(QN_BOTH, fill=QN_DONE),
    ("GET", QN_ONE + "/result"): Entry(QN_BOTH, fill=QN_DONE),
    ("GET", QN_BUILDER + "/new"): Entry(QN_OFFICE, fill=QN, variants=THROUGH_OFFICE_B),
    ("POST", QN_BUILDER): Entry(
        QN_OFFICE,
        303,
        fill=QN,
        body=form(
            lambda w: (
                {"title": "Matrix", "recipient": w.qn_client, "label_0": "Matrix?"}
                | {"kind_0": "text", "rows": "1"}
            )
        ),
        variants=THROUGH_OFFICE_B,
    ),
    ("GET", QN_PAGE): Entry(QN_BOTH, fill=QN),
    ("GET", QN_PAGE + "/{questionnaire_id:uuid}"): Entry(QN_BOTH, fill=QN),
    ("POST", QN_PAGE + "/{questionnaire_id:uuid}/step"): Entry(
        QN_RECIPIENT, 303, fill=QN, body=qn_step
    ),
    ("POST", QN_PAGE + "/{questionnaire_id:uuid}/finish"): Entry(QN_RECIPIENT, 303, fill=QN),
}

# -- dossiers and companies ----------------------------------------------------------------
# Office A's dossier for Jan: the office side (Sophie, Thomas) and the client side (Jan).
DOSSIER_SIDES = Policy("DOSSIER_SIDES", roles("owner", "notary_sent_to", "staff_sent_to"))
OFFICE_SIDE_ONLY = Policy(
    "OFFICE_SIDE_ONLY", roles("notary_sent_to", "staff_sent_to"), forbidden=roles("owner")
)
DOSSIER: Fill = {"dossier_id": attrgetter("dossier")}
DOSSIER_DOCUMENT: Fill = DOSSIER | {"document_id": attrgetter("dossier_document")}
ATTACHMENT: Fill = DOSSIER | {
    "message_id": attrgetter("dossier_message"),
    "document_id": attrgetter("dossier_attachment"),
}
COMPANY: Fill = {"company_id": attrgetter("company"), "member_id": attrgetter("company_member")}
NOT_IN_THE_DOSSIER = (Variant("Jan's own D", NOBODY, {"document_id": attrgetter("document")}),)


def new_dossier(world: World, cast: Cast, role: str) -> dict[str, Any]:
    return {
        "json": {
            "office_id": world.office_a,
            "reference": f"M-{role}",
            "description": "Matrix",
            "clients": [JAN],
        }
    }


def with_file(**fields: str) -> Body:
    """A page form with a file (multipart): its fields, then the file."""
    return lambda world, cast, role: {
        "data": dict(fields),
        "files": {"attachment": ("matrix.txt", b"matrix\n", "text/plain")},
    }


DOSSIER_ENTRIES: dict[tuple[str, str], Entry] = {
    ("GET", "/api/v1/dossiers"): Entry(LOGIN),
    ("POST", "/api/v1/dossiers"): Entry(OFFICE_A_MEMBER, 201, body=new_dossier),
    ("GET", "/api/v1/dossiers/{dossier_id:uuid}"): Entry(DOSSIER_SIDES, fill=DOSSIER),
    ("PATCH", "/api/v1/dossiers/{dossier_id:uuid}"): Entry(
        OFFICE_SIDE_ONLY, fill=DOSSIER, body=json(lambda w: {"status": "in_progress"})
    ),
    ("GET", "/api/v1/dossiers/{dossier_id:uuid}/documents"): Entry(DOSSIER_SIDES, fill=DOSSIER),
    ("POST", "/api/v1/dossiers/{dossier_id:uuid}/documents"): Entry(
        DOSSIER_SIDES,
        201,
        fill=DOSSIER,
        body=lambda w, c, r: {"params": {"name": "m.txt", "tab": "documents"}, "content": b"m"},
    ),
    ("GET", "/api/v1/dossiers/{dossier_id:uuid}/documents/{document_id:uuid}/content"): Entry(
        DOSSIER_SIDES, fill=DOSSIER_DOCUMENT, variants=NOT_IN_THE_DOSSIER
    ),
    ("GET", "/api/v1/dossiers/{dossier_id:uuid}/messages"): Entry(DOSSIER_SIDES, fill=DOSSIER),
    ("POST", "/api/v1/dossiers/{dossier_id:uuid}/messages"): Entry(
        DOSSIER_SIDES, 201, fill=DOSSIER, body=json(lambda w: {"subject": "M", "body": "m"})
    ),
    (
        "GET",
        "/api/v1/dossiers/{dossier_id:uuid}/messages/{message_id:uuid}"
        "/attachments/{document_id:uuid}/content",
    ): Entry(DOSSIER_SIDES, fill=ATTACHMENT, variants=NOT_IN_THE_DOSSIER),
    ("GET", "/dossiers"): Entry(LOGIN),
    ("GET", "/dossiers/{dossier_id:uuid}"): Entry(DOSSIER_SIDES, fill=DOSSIER),
    ("POST", "/dossiers/{dossier_id:uuid}"): Entry(
        OFFICE_SIDE_ONLY, 303, fill=DOSSIER, body=form(lambda w: {"status": "in_progress"})
    ),
    ("POST", "/dossiers/{dossier_id:uuid}/messages"): Entry(
        DOSSIER_SIDES, 303, fill=DOSSIER, body=with_file(subject="M", body="m")
    ),
    ("POST", "/dossiers/{dossier_id:uuid}/documents"): Entry(
        DOSSIER_SIDES, 303, fill=DOSSIER, body=with_file(tab="documents")
    ),
    ("GET", "/offices/{office_id:uuid}/dossiers"): Entry(OFFICE_A_MEMBER, variants=IN_OFFICE_B),
    ("POST", "/offices/{office_id:uuid}/dossiers"): Entry(
        OFFICE_A_MEMBER,
        303,
        body=lambda w, c, r: {"data": {"reference": f"P-{r}", "description": "M", "clients": JAN}},
    ),
    ("GET", "/api/v1/companies"): Entry(LOGIN),
    ("POST", "/api/v1/companies/{company_id:uuid}/members"): Entry(
        OWNER, 201, fill=COMPANY, body=json(lambda w: {"nrn": NEW_COMPANY_STAFF})
    ),
    ("DELETE", "/api/v1/companies/{company_id:uuid}/members/{member_id:uuid}"): Entry(
        OWNER, 204, fill=COMPANY
    ),
    ("GET", "/companies/{company_id:uuid}"): Entry(OWNER, fill=COMPANY),
    ("POST", "/companies/{company_id:uuid}/members"): Entry(
        OWNER, 303, fill=COMPANY, body=form(lambda w: {"nrn": NEW_COMPANY_STAFF})
    ),
    ("POST", "/companies/{company_id:uuid}/members/{member_id:uuid}/remove"): Entry(
        OWNER, 303, fill=COMPANY
    ),
}

MATRIX: dict[tuple[str, str], Entry] = {
    # -- identity -------------------------------------------------------------------------
    ("GET", "/"): Entry(
        Fixed(
            "LANDING",
            "the start page: logged in, one goes on to /home",
            200,
            tuple((role, 302) for role in LOGGED_IN),
        )
    ),
    ("GET", "/auth/login/{provider:str}"): Entry(
        not_authorization("starts a login: redirects to the provider", 302)
    ),
    ("GET", "/auth/callback/{provider:str}"): Entry(
        not_authorization("finishes a login: without state and code it is refused", 400)
    ),
    ("POST", "/auth/callback/{provider:str}"): Entry(
        not_authorization("finishes a login (form post): without state it is refused", 400)
    ),
    ("POST", "/auth/backchannel-logout/{provider:str}"): Entry(
        not_authorization("the provider's logout tokens: none sent, refused", 400)
    ),
    ("POST", "/auth/logout"): Entry(
        Fixed("OWN_SESSION", "ends the caller's own session, whoever they are", 303),
        own_session=True,
    ),
    ("GET", "/.well-known/jwks.json"): Entry(
        not_authorization("the platform's public keys as a relying party", 200)
    ),
    # The matrix's server has no SAML provider ("dev" is OpenID): both routes are 404 for
    # everyone. tests/integration/idp_bridge/test_saml.py covers them with SAML providers.
    ("GET", "/auth/saml/{provider:str}/metadata"): Entry(
        not_authorization("a SAML provider's metadata, public; not a SAML provider: 404", 404)
    ),
    ("GET", "/auth/saml/{provider:str}/logout"): Entry(
        not_authorization("a SAML provider's signed logout; not a SAML provider: 404", 404)
    ),
    ("GET", "/api/v1/me"): Entry(LOGIN),
    ("PATCH", "/api/v1/me"): Entry(LOGIN, body=json(lambda w: {"preferred_office_id": w.office_a})),
    ("GET", "/api/v1/history"): Entry(LOGIN),
    ("GET", "/home"): Entry(LOGIN),
    ("POST", "/api/v1/me/email"): Entry(LOGIN, body=json(lambda w: {"email": CHANGED_ADDRESS})),
    ("POST", "/home/email"): Entry(LOGIN, 303, body=form(lambda w: {"email": CHANGED_ADDRESS})),
    ("GET", "/auth/email/confirm"): Entry(
        not_authorization("a confirmation link proves itself: without its token, refused", 400)
    ),
    ("GET", "/history/export.csv"): Entry(LOGIN),
    ("GET", "/history/export.pdf"): Entry(LOGIN),
    ("GET", "/api/v1/notifications"): Entry(LOGIN),
    ("POST", "/api/v1/notifications/read"): Entry(LOGIN, 204),
    ("GET", "/notifications"): Entry(LOGIN),
    ("POST", "/notifications/read"): Entry(LOGIN, 303),
    ("POST", "/notifications/preferences"): Entry(
        LOGIN, 303, body=form(lambda w: {"share.app": "on"})
    ),
    ("GET", "/history"): Entry(LOGIN),
    ("POST", "/language"): Entry(PUBLIC, 303, body=language),
    # -- documents --------------------------------------------------------------------------
    ("POST", "/api/v1/documents"): Entry(LOGIN, 201, body=file("matrix.txt")),
    ("GET", "/api/v1/documents"): Entry(LOGIN),
    ("GET", "/api/v1/documents/{document_id:uuid}"): Entry(OWNER, variants=THE_OFFICES_COPY),
    ("PATCH", "/api/v1/documents/{document_id:uuid}"): Entry(
        OWNER, body=json(lambda w: {"name": "Hernoemd.txt"}), variants=THE_OFFICES_COPY
    ),
    ("DELETE", "/api/v1/documents/{document_id:uuid}"): Entry(
        OWNER, 204, variants=THE_OFFICES_COPY
    ),
    ("GET", "/api/v1/documents/{document_id:uuid}/content"): Entry(
        OWNER, variants=THE_OFFICES_COPY
    ),
    ("GET", "/api/v1/usage"): Entry(LOGIN),
    ("GET", "/vault"): Entry(LOGIN),
    ("POST", "/vault/{document_id:uuid}/edit"): Entry(
        OWNER, 303, body=form(lambda w: {"name": "Hernoemd.txt", "labels": "matrix"})
    ),
    ("POST", "/vault/{document_id:uuid}/delete"): Entry(OWNER, 303),
    # -- contacts -------------------------------------------------------------------------
    ("POST", "/api/v1/contacts/invitations"): Entry(
        LOGIN, 201, body=json(lambda w: {"email": NEW_ADDRESS})
    ),
    ("GET", "/api/v1/contacts/invitations"): Entry(LOGIN),
    ("POST", "/api/v1/contacts/invitations/{invitation_id:uuid}/accept"): Entry(INVITEE, 201),
    ("POST", "/api/v1/contacts/invitations/{invitation_id:uuid}/decline"): Entry(INVITEE, 204),
    ("DELETE", "/api/v1/contacts/invitations/{invitation_id:uuid}"): Entry(OWNER, 204),
    ("GET", "/api/v1/contacts"): Entry(LOGIN),
    ("GET", "/api/v1/contacts/{contact_id:uuid}"): Entry(OWNER),
    ("DELETE", "/api/v1/contacts/{contact_id:uuid}"): Entry(OWNER, 204),
    ("GET", "/contacts"): Entry(LOGIN),
    ("POST", "/contacts/invite"): Entry(LOGIN, 303, body=form(lambda w: {"email": NEW_ADDRESS})),
    ("POST", "/contacts/invitations/{invitation_id:uuid}/{answer:str}"): Entry(
        INVITEE,
        303,
        variants=(Variant("withdraw", OWNER, {"answer": lambda _: "withdraw"}),),
    ),
    ("POST", "/contacts/{contact_id:uuid}/remove"): Entry(OWNER, 303),
    # -- shares ---------------------------------------------------------------------------
    ("POST", "/api/v1/documents/{document_id:uuid}/shares"): Entry(
        OWNER, 201, body=SHARE_WITH_EMMA, variants=THE_OFFICES_COPY
    ),
    ("GET", "/api/v1/documents/{document_id:uuid}/shares"): Entry(OWNER, variants=THE_OFFICES_COPY),
    ("DELETE", "/api/v1/shares/{share_id:uuid}"): Entry(OWNER, 204),
    ("GET", "/api/v1/shared-with-me"): Entry(LOGIN),
    ("GET", "/api/v1/shared-with-me/{share_id:uuid}"): Entry(RECIPIENT),
    ("GET", "/api/v1/shared-with-me/{share_id:uuid}/content"): Entry(RECIPIENT),
    ("POST", "/api/v1/shared-with-me/{share_id:uuid}/copy"): Entry(RECIPIENT, 201),
    ("GET", "/shared"): Entry(LOGIN),
    ("POST", "/shared/{share_id:uuid}/copy"): Entry(RECIPIENT, 303),
    ("POST", "/vault/{document_id:uuid}/share"): Entry(
        OWNER,
        303,
        body=form(lambda w: {"contact_id": w.contact_emma, "when": "now"}),
        variants=THE_OFFICES_COPY,
    ),
    ("POST", "/shares/{share_id:uuid}/revoke"): Entry(OWNER, 303),
    # -- notary offices, as citizens meet them ----------------------------------------------
    ("GET", "/api/v1/offices"): Entry(LOGIN),
    ("GET", "/api/v1/offices/{office_id:uuid}/seal-keys"): Entry(PUBLIC),
    ("POST", "/api/v1/documents/{document_id:uuid}/send-to-office"): Entry(
        OWNER,
        201,
        body=json(lambda w: {"office_id": w.office_a, "confidential": False}),
        variants=THE_OFFICES_COPY,
    ),
    ("GET", "/api/v1/from-offices"): Entry(LOGIN),
    ("GET", "/api/v1/from-offices/{exchange_id:uuid}/content"): Entry(OFFER_RECIPIENT),
    ("POST", "/api/v1/from-offices/{exchange_id:uuid}/accept"): Entry(OFFER_RECIPIENT, 201),
    ("POST", "/api/v1/from-offices/{exchange_id:uuid}/refuse"): Entry(OFFER_RECIPIENT, 204),
    ("GET", "/from-offices"): Entry(LOGIN),
    ("POST", "/from-offices/{exchange_id:uuid}/{answer:str}"): Entry(
        OFFER_RECIPIENT,
        303,
        variants=(Variant("refuse", OFFER_RECIPIENT, {"answer": lambda _: "refuse"}),),
    ),
    ("GET", "/vault/{document_id:uuid}/send-to-office"): Entry(OWNER, variants=THE_OFFICES_COPY),
    ("POST", "/vault/{document_id:uuid}/send-to-office"): Entry(
        OWNER, 303, body=form(lambda w: {"office_id": w.office_a}), variants=THE_OFFICES_COPY
    ),
    ("GET", "/reference-notary"): Entry(LOGIN),
    ("POST", "/reference-notary"): Entry(
        LOGIN, 303, body=form(lambda w: {"office_id": w.office_a})
    ),
    # -- inside an office -----------------------------------------------------------------
    ("GET", "/api/v1/offices/{office_id:uuid}/documents"): Entry(
        OFFICE_A_MEMBER,
        variants=(Variant("office B", OFFICE_B_MEMBER, {"office_id": attrgetter("office_b")}),),
    ),
    ("POST", "/api/v1/offices/{office_id:uuid}/documents"): Entry(
        OFFICE_A_MEMBER,
        201,
        body=file("kantoor.txt"),
        variants=(Variant("office B", OFFICE_B_MEMBER, {"office_id": attrgetter("office_b")}),),
    ),
    ("GET", "/api/v1/offices/{office_id:uuid}/documents/{document_id:uuid}/content"): Entry(
        OFFICE_A_MEMBER, fill=OFFICE_COPY, variants=offices_copy(OFFICE_A_NOTARY)
    ),
    ("POST", "/api/v1/offices/{office_id:uuid}/documents/{document_id:uuid}/send"): Entry(
        OFFICE_A_MEMBER,
        201,
        body=SEND_TO_CITIZEN,
        fill=OFFICE_COPY,
        variants=offices_copy(OFFICE_A_NOTARY),
    ),
    ("GET", "/offices/{office_id:uuid}/vault"): Entry(
        OFFICE_A_MEMBER,
        variants=(Variant("office B", OFFICE_B_MEMBER, {"office_id": attrgetter("office_b")}),),
    ),
    ("POST", "/offices/{office_id:uuid}/vault/{document_id:uuid}/send"): Entry(
        OFFICE_A_MEMBER,
        303,
        body=form(lambda w: {"nrn": JAN}),
        fill=OFFICE_COPY,
        variants=offices_copy(OFFICE_A_NOTARY),
    ),
    # -- the deed registry ------------------------------------------------------------------
    ("GET", "/api/v1/offices/{office_id:uuid}/deeds"): Entry(OFFICE_A_MEMBER, variants=IN_OFFICE_B),
    ("POST", "/api/v1/offices/{office_id:uuid}/deeds"): Entry(
        OFFICE_A_MEMBER, 201, body=deed_form, variants=IN_OFFICE_B
    ),
    ("GET", "/offices/{office_id:uuid}/deeds"): Entry(OFFICE_A_MEMBER, variants=IN_OFFICE_B),
    ("POST", "/offices/{office_id:uuid}/deeds"): Entry(
        OFFICE_A_MEMBER, 303, body=deed_form, variants=IN_OFFICE_B
    ),
    ("GET", "/api/v1/deeds"): Entry(LOGIN),
    ("GET", "/api/v1/deeds/{deed_id:uuid}"): Entry(DEED_PARTY),
    ("GET", "/api/v1/deeds/{deed_id:uuid}/content"): Entry(DEED_PARTY),
    ("GET", "/deeds"): Entry(LOGIN),
    ("GET", "/deeds/{deed_id:uuid}"): Entry(DEED_PARTY),
    # -- questionnaires ---------------------------------------------------------------------
    **QUESTIONNAIRE_ENTRIES,
    **DOSSIER_ENTRIES,
    # -- the office's administration and its software -------------------------------------
    ("GET", "/offices/{office_id:uuid}/admin"): Entry(
        OFFICE_A_NOTARY,
        variants=(Variant("office B", OFFICE_B_NOTARY, {"office_id": attrgetter("office_b")}),),
    ),
    ("POST", "/offices/{office_id:uuid}/admin/members"): Entry(
        OFFICE_A_NOTARY,
        303,
        body=form(lambda w: {"nrn": OFFICE_A_EXTRA_STAFF, "role": "staff"}),
        variants=(Variant("office B", OFFICE_B_NOTARY, {"office_id": attrgetter("office_b")}),),
    ),
    ("POST", "/offices/{office_id:uuid}/admin/members/{member_id:uuid}/remove"): Entry(
        OFFICE_A_NOTARY,
        303,
        variants=(Variant("through office B", NOBODY, {"office_id": attrgetter("office_b")}),),
    ),
    ("POST", "/oauth/token"): Entry(
        not_authorization(
            "the offices' software's token endpoint: without a grant and an assertion, refused",
            400,
        )
    ),
    # -- succession (tests/support/succession_world.py) -------------------------------------
    ("PUT", "/api/v1/me/succession"): Entry(LOGIN, body=json(lambda w: {"option": 1})),
    ("POST", "/api/v1/death-notices"): Entry(
        NOTARIES, 201, body=per_notary(lambda number: {"nrn": number, **NOTICE})
    ),
    ("POST", "/api/v1/death-notices/{notice_id:uuid}/withdraw"): Entry(
        OFFICE_A_NOTARY, body=json(lambda w: {"reason": "matrix"})
    ),
    ("POST", "/api/v1/estates/lookup"): Entry(
        NOTARIES, body=json(lambda w: {"nrn": DECEASED, "reason": "matrix"})
    ),
    ("POST", "/api/v1/estates"): Entry(
        NOTARIES, 201, body=per_notary(lambda number: {"nrn": number, "reason": "matrix"}, True)
    ),
    ("GET", "/api/v1/estates"): Entry(NOTARIES),
    ("GET", "/api/v1/estates/{estate_id:uuid}"): Entry(OFFICE_A_NOTARY),
    ("PUT", "/api/v1/estates/{estate_id:uuid}/heirs"): Entry(
        OFFICE_A_NOTARY, body=json(lambda w: {"heirs": [MARIE]}), fill=OPEN
    ),
    ("POST", "/api/v1/estates/{estate_id:uuid}/transfer"): Entry(OFFICE_A_NOTARY, fill=OPEN),
    ("GET", "/api/v1/inheritances"): Entry(LOGIN),
    (
        "GET",
        "/api/v1/inheritances/{inheritance_id:uuid}/documents/{document_id:uuid}/content",
    ): Entry(RECIPIENT, fill=INHERITED),
    ("POST", "/api/v1/inheritances/{inheritance_id:uuid}/documents/{document_id:uuid}/copy"): Entry(
        RECIPIENT, 201, fill=INHERITED
    ),
    ("GET", "/succession"): Entry(LOGIN),
    ("POST", "/succession"): Entry(LOGIN, 303, body=form(lambda w: {"option": "1"})),
    ("GET", "/inheritances"): Entry(LOGIN),
    ("POST", "/inheritances/{inheritance_id:uuid}/documents/{document_id:uuid}/copy"): Entry(
        RECIPIENT, 303, fill=INHERITED
    ),
    ("GET", DESK): Entry(DESK_A, variants=AT_OFFICE_B),
    ("POST", DESK + "/deaths"): Entry(
        DESK_A,
        303,
        body=per_notary_form(lambda number: {"nrn": number, **PAGE_NOTICE}),
        variants=AT_OFFICE_B,
    ),
    ("POST", DESK + "/lookup"): Entry(
        DESK_A, body=form(lambda w: {"nrn": DECEASED, "reason": "matrix"}), variants=AT_OFFICE_B
    ),
    ("POST", DESK + "/estates"): Entry(
        DESK_A,
        303,
        body=per_notary_form(lambda number: {"nrn": number, "reason": "matrix"}, True),
        variants=AT_OFFICE_B,
    ),
    ("POST", DESK + "/notices/{notice_id:uuid}/withdraw"): Entry(
        DESK_A, 303, body=form(lambda w: {"reason": "matrix"}), variants=THROUGH_B
    ),
    ("GET", ESTATE_PAGE): Entry(DESK_A, variants=THROUGH_B),
    ("POST", ESTATE_PAGE + "/heirs"): Entry(
        DESK_A, 303, body=form(lambda w: {"heirs": MARIE}), fill=OPEN, variants=THROUGH_B
    ),
    ("POST", ESTATE_PAGE + "/transfer"): Entry(
        DESK_A, 303, body=form(lambda w: {"confirm": "yes"}), fill=OPEN, variants=THROUGH_B
    ),
    # -- not about authorization ----------------------------------------------------------
    ("GET", "/static/{file_path:path}"): Entry(
        not_authorization("static files: the same for everyone", 200)
    ),
    ("GET", "/dev/outbox"): Entry(
        not_authorization("development outbox: refused by production settings", 200)
    ),
    ("GET", "/dev/outbox.json"): Entry(
        not_authorization("development outbox: refused by production settings", 200)
    ),
    ("GET", "/dev-idp/.well-known/openid-configuration"): Entry(
        not_authorization("development identity provider: its discovery document", 200)
    ),
    ("GET", "/dev-idp/jwks"): Entry(
        not_authorization("development identity provider: its public keys", 200)
    ),
    ("GET", "/dev-idp/authorize"): Entry(
        not_authorization("development identity provider: no client, refused", 400)
    ),
    ("POST", "/dev-idp/authorize"): Entry(
        not_authorization("development identity provider: no ticket, refused", 400)
    ),
    ("POST", "/dev-idp/token"): Entry(
        not_authorization("development identity provider: no client credentials", 401)
    ),
    ("GET", "/dev-idp/userinfo"): Entry(
        not_authorization("development identity provider: no access token", 401)
    ),
    ("GET", "/dev-idp/end-session"): Entry(
        not_authorization("development identity provider: back to the platform", 302)
    ),
    **{
        ("GET", f"/schema{page}"): Entry(
            not_authorization("the OpenAPI document and its viewers: public by design", 200)
        )
        for page in (
            "",
            "/openapi.json",
            "/openapi.yaml",
            "/openapi.yml",
            "/swagger",
            "/redoc",
            "/rapidoc",
            "/elements",
            "/oauth2-redirect.html",
        )
    },
    ("GET", "/schema/{path:str}"): Entry(
        not_authorization("Litestar's answer for a schema viewer it does not have", 404)
    ),
    # -- operations: about the process, no one's data -------------------------------------
    ("GET", "/health/live"): Entry(not_authorization("liveness: the same for everyone", 200)),
    ("GET", "/health/ready"): Entry(
        not_authorization("readiness of the platform's dependencies: no one's data", 200)
    ),
    ("GET", "/metrics"): Entry(
        not_authorization("metrics: counts only; production asks for the metrics token", 200)
    ),
}


def route_table(app) -> set[tuple[str, str]]:
    return {
        (method, route.path) for route in app.routes for method in route.methods - SKIPPED_METHODS
    }


def test_every_route_has_a_matrix_entry(live_server):
    assert [r for r in live_server.app.routes if not isinstance(r, HTTPRoute)] == []
    table = route_table(live_server.app)

    assert {
        "routes without an entry": sorted(table - MATRIX.keys()),
        "entries without a route": sorted(MATRIX.keys() - table),
    } == {"routes without an entry": [], "entries without a route": []}


# -- the checks -------------------------------------------------------------------------------


class Worlds:
    """The current world, rebuilt before a check when the previous one changed it."""

    def __init__(self, cast: Cast) -> None:
        self.cast = cast
        self.world: World | None = None

    async def current(self) -> World:
        return self.world or await self.fresh()

    async def fresh(self) -> World:
        self.world = await self.cast.build_world()
        return self.world

    def spoilt(self) -> None:
        self.world = None


@pytest.fixture(scope="module")
async def worlds(live_server, platform) -> AsyncIterator[Worlds]:
    async with cast_of(live_server, platform) as cast:
        yield Worlds(cast)


def url_of(path: str, world: World, fill: Fill) -> str:
    values = PATH_VALUES | fill
    return re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)](world), path)


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    entry: Entry,
    world: World,
    cast: Cast,
    role: str,
) -> httpx.Response:
    """As the product's own clients do: the API with the CSRF header, pages as form posts
    with the CSRF field."""
    arguments = entry.body(world, cast, role) if entry.body else {}
    if method not in SAFE_METHODS:
        token = client.cookies.get("csrftoken", "")
        if url.startswith("/api/"):
            arguments["headers"] = {"x-csrftoken": token}
        else:
            arguments["data"] = {**arguments.get("data", {}), "_csrf_token": token}
    return await client.request(method, url, **arguments)


def refusal_shape(url: str, response: httpx.Response) -> str | None:
    """A refusal as the product words it, or what is wrong with it: problem+json from the
    API, the error page elsewhere, each with a `login-required` or `…not-found` type."""
    wanted = "login-required" if response.status_code == 401 else "not-found"
    if url.startswith("/api/"):
        if not response.headers.get("content-type", "").startswith("application/problem+json"):
            return f"{response.headers.get('content-type')}, not problem+json"
        kind = response.json().get("type", "")
    else:
        if not response.headers.get("content-type", "").startswith("text/html"):
            return f"{response.headers.get('content-type')}, not the error page"
        found = re.search(r'data-problem-type="([^"]+)"', response.text)
        kind = found.group(1) if found else ""
    return None if kind.endswith(wanted) else f"problem type {kind!r}, not …{wanted}"


def unknown_ids(path: str, policy: Policy | Fixed) -> Variant | None:
    """Every id of the path made up: nobody finds anything (API.md: unknown ids answer 404
    as foreign ones do), and a login is still asked for first where one is needed."""
    names = UUID_PARAMETER.findall(path)
    if not names or isinstance(policy, Fixed):
        return None
    anonymous = 404 if ANONYMOUS in policy.allowed else 401
    nobody = Policy("NOBODY", frozenset(), anonymous_refused=anonymous)
    return Variant("unknown ids", nobody, {name: lambda _: str(uuid.uuid4()) for name in names})


def differences(outcomes: dict[str, int], expected: dict[str, int]) -> dict[str, str]:
    return {
        role: f"got {outcomes[role]}, expected {status}"
        for role, status in expected.items()
        if outcomes[role] != status
    }


@pytest.mark.parametrize(
    ("method", "path"), sorted(MATRIX), ids=[f"{m} {p}" for m, p in sorted(MATRIX)]
)
async def test_each_role_gets_what_the_matrix_says(worlds: Worlds, method: str, path: str):
    entry = MATRIX[(method, path)]
    cases = [("", entry.policy, entry.fill)]
    cases += [(v.name, v.policy, entry.fill | v.fill) for v in entry.variants]
    if unknown := unknown_ids(path, entry.policy):
        cases.append((unknown.name, unknown.policy, unknown.fill))
    cast = worlds.cast
    for name, policy, fill in cases:
        expected = policy.statuses(entry.ok)
        if isinstance(policy, Fixed):
            outcomes, changed = await _ask_everyone(worlds, method, path, entry, fill)
            assert differences(outcomes, expected) == {}, f"{policy.name}: {policy.reason}"
            assert changed == {}, "changed by a request that is not about access"
            continue

        refused = [role for role in ROLES if role not in policy.allowed]
        world = await worlds.current()
        url = url_of(path, world, fill)
        before = await cast.snapshot()
        outcomes, shapes = {}, {}
        for role in refused:
            response = await send(cast.clients[role], method, url, entry, world, cast, role)
            outcomes[role] = response.status_code
            if response.status_code in (401, 404):
                shapes[role] = refusal_shape(url, response)
        changed = changes(before, await cast.snapshot())
        if changed:
            worlds.spoilt()

        allowed = [role for role in ROLES if role in policy.allowed]
        if allowed and method not in SAFE_METHODS:
            # It changes things: in a world of its own, which no other check then sees.
            world = await worlds.fresh()
            url = url_of(path, world, fill)
            worlds.spoilt()
        for role in allowed:
            response = await send(cast.clients[role], method, url, entry, world, cast, role)
            outcomes[role] = response.status_code

        case = f"{policy.name}, {name}" if name else policy.name
        assert differences(outcomes, expected) == {}, case
        assert changed == {}, f"refusals changed rows ({case})"
        wrong = {role: shape for role, shape in shapes.items() if shape}
        assert wrong == {}, f"refusals not worded as the product words them ({case})"


async def _ask_everyone(
    worlds: Worlds, method: str, path: str, entry: Entry, fill: Fill
) -> tuple[dict[str, int], dict[str, str]]:
    """A route not about access: every role asks; the vault's and the offices' rows stay
    as they were (the history may record a refused login or a logout)."""
    cast = worlds.cast
    world = await worlds.current()
    url = url_of(path, world, fill)
    tables = ("documents", "shares", "contacts", "contact_invitations", "office_exchanges")
    before = await cast.snapshot(tables)
    outcomes = {}
    for role in ROLES:
        if entry.own_session and role != ANONYMOUS:
            async with cast.fresh_login(role) as client:
                response = await send(client, method, url, entry, world, cast, role)
        else:
            response = await send(cast.clients[role], method, url, entry, world, cast, role)
        outcomes[role] = response.status_code
    if entry.own_session:  # only the session that asked ended
        for role in ROLE_NRNS:
            assert (await cast.clients[role].get("/api/v1/me")).status_code == 200, role
    return outcomes, changes(before, await cast.snapshot(tables))
