"""Who may act in a succession: a notary of an office (on a high-assurance login, the only
one on which the register grants roles), or the population register's API client."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Request

from acts import RegistryClient, registry_client_of
from idp_bridge import Person, identity_of, request_actor
from kluis.audit import Actor
from kluis.errors import Forbidden, Invalid, NotFound, Unauthenticated


@dataclass(frozen=True)
class Notary:
    """A notary in person, acting for one of their offices."""

    person: Person
    office_id: uuid.UUID
    office_name: str
    actor: Actor


@dataclass(frozen=True)
class Recorder:
    """Who records a death: a notary, or the registry's software (no office)."""

    label: str
    actor: Actor
    office_id: uuid.UUID | None = None
    office_name: str | None = None


def notary_of(
    request: Request[Any, Any, Any], office_id: uuid.UUID | None = None, *, about_id: bool = False
) -> Notary:
    """The notary making the request, for `office_id` or, if they have one office, that one.
    Staff and citizens get 403 `notary-only`; on a route about an id (`about_id`), 404, as
    for any id that is not theirs (API.md: ids cannot be probed)."""
    identity = identity_of(request)
    if identity is None:
        raise Unauthenticated()
    offices = {r.scope_id: r.scope_label or "" for r in identity.roles if r.name == "notary"}
    offices.pop(None, None)
    if not offices and about_id:
        raise NotFound()
    if not offices:
        raise Forbidden(
            "Only a notary, logged in with an eID card or itsme, may do this.", type="notary-only"
        )
    if office_id is None:
        if len(offices) > 1:
            raise Invalid("Say for which of your offices you act.", type="office-required")
        office_id = next(iter(offices))
    if office_id not in offices:
        raise NotFound("This notary office is not registered.", type="office-not-found")
    assert office_id is not None
    return Notary(identity.person, office_id, offices[office_id], request_actor(request))


def recorder_of(request: Request[Any, Any, Any], office_id: uuid.UUID | None = None) -> Recorder:
    """A notary, or the registry's API client, recording a death."""
    registry: RegistryClient | None = registry_client_of(request)
    if registry is not None and identity_of(request) is None:
        actor = request_actor(request).with_identity(registry.id, registry.label)
        return Recorder(label=registry.label, actor=actor)
    notary = notary_of(request, office_id)
    return Recorder(
        label=notary.person.full_name,
        actor=notary.actor,
        office_id=notary.office_id,
        office_name=notary.office_name,
    )
