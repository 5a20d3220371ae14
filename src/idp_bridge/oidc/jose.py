"""The JOSE policy of the relying party: accepted algorithms, time claims, and decrypting or
encrypting to a key. joserfc does the cryptography."""

from __future__ import annotations

import base64
import json
import math

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from idp_bridge.domain import LoginRefused
from idp_bridge.interfaces import Keyring

JWE_ALGORITHMS = [
    "RSA-OAEP",
    "RSA-OAEP-256",
    "A128CBC-HS256",
    "A256CBC-HS512",
    "A128GCM",
    "A256GCM",
]
REQUEST_OBJECT_ENCRYPTION = {"alg": "RSA-OAEP-256", "enc": "A128CBC-HS256"}
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z


def refused(check: str) -> LoginRefused:
    return LoginRefused("login-token-invalid", check=check)


def is_jwe(token: str) -> bool:
    return token.count(".") == 4


def _pad(segment: str) -> str:
    return segment + "=" * (-len(segment) % 4)


def is_time(value: object) -> bool:
    """A JSON number, finite, within the years a datetime can represent."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value < MAX_TIMESTAMP
    )


def decrypt(token: str, keys: Keyring) -> str:
    registry = jwe.JWERegistry(algorithms=JWE_ALGORITHMS)
    try:
        header = json.loads(base64.urlsafe_b64decode(_pad(token.split(".", 1)[0])))
    except ValueError as exc:
        raise refused("malformed encryption header") from exc
    # Without a `kid`, any of our encryption keys may be the one (during a rotation's
    # overlap there are two).
    candidates = (
        [keys.decryption]
        if isinstance(header, dict) and header.get("kid")
        else [KeySet([k]) for k in keys.decryption.keys]
    )
    for candidate in candidates:
        try:
            plaintext = jwe.decrypt_compact(token, candidate, registry=registry).plaintext
            return (plaintext or b"").decode()
        except (JoseError, ValueError):  # UnicodeDecodeError is a ValueError
            continue
    raise refused("cannot decrypt")


def encrypt_to(key: RSAKey, payload: str) -> str:
    header = {**REQUEST_OBJECT_ENCRYPTION, "cty": "JWT"}
    if key.kid:
        header["kid"] = key.kid
    return jwe.encrypt_compact(
        header, payload, key, registry=jwe.JWERegistry(algorithms=JWE_ALGORITHMS)
    )
