"""Identity use cases: logging in (the broker), sessions, and people."""

from idp_bridge.services.login import IdentityBroker, LoginResult, safe_next
from idp_bridge.services.people import People, nrn_index, seal_nrn
from idp_bridge.services.sessions import CurrentSession, Sessions

__all__ = [
    "CurrentSession",
    "IdentityBroker",
    "LoginResult",
    "People",
    "Sessions",
    "nrn_index",
    "safe_next",
    "seal_nrn",
]
