"""The broker's rules for every provider, with a provider double that answers as told."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from idp_bridge import build_identity
from idp_bridge.domain import LoginRefused
from idp_bridge.interfaces import Keyring, LoginRequest, LogoutToken, VerifiedIdentity
from idp_bridge.models import LoginAttempt, WebSession
from idp_bridge.services import IdentityBroker
from idp_bridge.services.sessions import provider_reference
from kluis.audit import PLATFORM_SUBJECT, Actor, HistoryEvent
from kluis.hooks import Hooks
from tests.support.login import JAN

VISITOR = Actor(label="unidentified visitor", ip="127.0.0.1")


@dataclass
class ScriptedProvider:
    """Returns `identity` from `complete`, or raises `refusal`."""

    identity: VerifiedIdentity | None = None
    refusal: LoginRefused | None = None
    name: str = "scripted"
    label: str = "Scripted"
    min_loa: str = "substantial"
    posts_back: bool = False
    state_parameter: str = "state"

    async def start(self, login: LoginRequest, keys: Keyring) -> str:
        return f"https://op.test/authorize?state={login.state}"

    async def complete(
        self, params: Mapping[str, str], login: LoginRequest, keys: Keyring
    ) -> VerifiedIdentity:
        if self.refusal:
            raise self.refusal
        assert self.identity is not None
        return self.identity

    async def end_session_url(
        self, id_token: str | None, post_logout_uri: str, keys: Keyring
    ) -> str | None:
        return None

    async def verify_logout_token(self, token: str, keys: Keyring) -> LogoutToken:
        raise LoginRefused("login-token-invalid")


def identity(**changes: object) -> VerifiedIdentity:
    values = dict(
        provider="scripted",
        subject="sub-1",
        nrn=JAN,
        given_name="Jan",
        surname="Peeters",
        email=None,
        language="nl",
        loa="high",
        birth_date=None,
    )
    values.update(changes)
    return VerifiedIdentity(**values)  # type: ignore[arg-type]


async def attempt(db, broker: IdentityBroker) -> str:
    url = await broker.start_login(
        db, "scripted", browser_token="browser", next_path=None, login_hint=None, actor=VISITOR
    )
    return url.split("state=")[1]


@pytest.fixture
def broker(platform) -> IdentityBroker:
    providers = {"scripted": ScriptedProvider()}
    return build_identity(platform.settings, platform.keys, Hooks(), providers).broker


async def count(db, model) -> int:
    return await db.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (LoginRefused("login-token-invalid", check="bad signature"), "login-token-invalid"),
        (LoginRefused("login-provider-unavailable"), "login-provider-unavailable"),
        (identity(nrn=None), "nrn-missing"),
        (identity(loa="low"), "loa-too-low"),
    ],
)
async def test_every_refusal_leaves_no_session_and_a_history_entry(db, broker, outcome, reason):
    provider = broker.providers["scripted"]
    if isinstance(outcome, LoginRefused):
        provider.refusal = outcome
    else:
        provider.identity = outcome
    state = await attempt(db, broker)

    with pytest.raises(LoginRefused) as refused:
        await broker.complete_login(
            db, "scripted", {"state": state, "code": "c"}, browser_token="browser", actor=VISITOR
        )

    assert refused.value.type == reason
    assert 400 <= refused.value.status < 600
    assert await count(db, WebSession) == 0
    assert await count(db, LoginAttempt) == 0  # used up, whatever happened
    event = await db.scalar(select(HistoryEvent).where(HistoryEvent.subject_id == PLATFORM_SUBJECT))
    assert event.action == "idp:login:refused"
    assert event.detail["reason"] == reason
    assert JAN not in str(event.detail)


async def test_an_unreachable_provider_is_logged_for_the_operator_with_what_failed(
    db, broker, caplog
):
    provider = broker.providers["scripted"]
    try:
        raise ConnectionRefusedError("connection refused by op.test:443")
    except ConnectionRefusedError as exc:
        provider.refusal = LoginRefused("login-provider-unavailable", check="token endpoint")
        provider.refusal.__cause__ = exc
    state = await attempt(db, broker)

    with caplog.at_level(logging.WARNING, logger="idp_bridge"), pytest.raises(LoginRefused):
        await broker.complete_login(
            db, "scripted", {"state": state, "code": "c"}, browser_token="browser", actor=VISITOR
        )

    [record] = [r for r in caplog.records if r.name == "idp_bridge.services.login"]
    assert record.getMessage() == "identity provider scripted unavailable"
    assert record.refusal == {"check": "token endpoint"}
    assert record.cause == "ConnectionRefusedError: connection refused by op.test:443"


async def test_a_citizens_refusal_is_not_logged_as_the_operators(db, broker, caplog):
    broker.providers["scripted"].identity = identity(loa="low")
    state = await attempt(db, broker)

    with caplog.at_level(logging.WARNING, logger="idp_bridge"), pytest.raises(LoginRefused):
        await broker.complete_login(
            db, "scripted", {"state": state, "code": "c"}, browser_token="browser", actor=VISITOR
        )

    assert not [r for r in caplog.records if r.name == "idp_bridge.services.login"]


async def test_a_successful_login_makes_a_session_and_a_history_entry(db, broker):
    broker.providers["scripted"].identity = identity()
    state = await attempt(db, broker)

    result = await broker.complete_login(
        db, "scripted", {"state": state, "code": "c"}, browser_token="browser", actor=VISITOR
    )

    assert result.next_path == "/"  # API.md: 302 to `next` or /
    assert await count(db, WebSession) == 1
    current = await broker.sessions.load(db, result.session_token)
    assert current is not None and current.person.given_name == "Jan"
    assert await broker.sessions.load(db, "not-a-token") is None


async def test_a_first_login_asks_the_keys_for_the_nrn_index_once(db, platform):
    """On an HSM every blind index is a call to the token (docs/scaling.md, "Keys")."""
    asked: list[str] = []

    class CountingKeys:
        def __getattr__(self, name: str) -> object:
            return getattr(platform.keys, name)

        def blind_index(self, purpose: str, value: str) -> str:
            asked.append(purpose)
            return platform.keys.blind_index(purpose, value)

    providers = {"scripted": ScriptedProvider(identity=identity())}
    broker = build_identity(platform.settings, CountingKeys(), Hooks(), providers).broker
    state = await attempt(db, broker)

    await broker.complete_login(
        db, "scripted", {"state": state, "code": "c"}, browser_token="browser", actor=VISITOR
    )

    assert await count(db, WebSession) == 1
    assert asked.count("nrn") == 1


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("a1b2c3-opaque", True),
        ("f" * 255, True),
        (f"BE/BE/{JAN}", False),  # an eIDAS NameID carrying the NRN
        (JAN, False),
        ("x" * 256, False),  # longer than its column
    ],
)
def test_a_provider_reference_never_keeps_a_national_number_in_clear(platform, value, kept):
    stored = provider_reference(platform.keys, value)
    assert (stored == value) is kept
    assert JAN not in stored and len(stored) <= 255
    assert stored == provider_reference(platform.keys, value)  # logouts find it again
