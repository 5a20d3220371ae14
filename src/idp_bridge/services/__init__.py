"""Identity use cases: logging in (the broker), sessions, people and their e-mail addresses."""

from idp_bridge.services.email import EmailAddresses, EmailChange
from idp_bridge.services.login import IdentityBroker, LoginResult, safe_next
from idp_bridge.services.people import People, masked_nrn, nrn_index, seal_nrn
from idp_bridge.services.sessions import CurrentSession, LogoutRefused, Sessions

__all__ = [
    "CurrentSession",
    "EmailAddresses",
    "EmailChange",
    "IdentityBroker",
    "LoginResult",
    "LogoutRefused",
    "People",
    "Sessions",
    "masked_nrn",
    "nrn_index",
    "safe_next",
    "seal_nrn",
]
