"""Writes the samples of the OpenID corpus (samples/) from the keys in keys.json.

The corpus is replayed from the files, never from this script: run it only to add a
sample (`python -m tests.corpus.openid.craft`, from the repository root). It writes the
samples that are missing and leaves the others alone (`--force` rewrites them all), and it
makes keys.json once if there is none — every sample must then be crafted again.

Every sample is dated `NOW` (tests/support/openid.py), the instant the replay's clock
stands still at, and addressed to the relying party `CLIENT_ID` of the provider `ISSUER`.
"""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256
from joserfc import jwe, jws
from joserfc.jwk import OctKey, RSAKey

from tests.support.openid import (
    CLIENT_ID,
    DISCOVERY,
    ENCRYPTION_HEADER,
    ISSUER,
    NONCE,
    NOW,
    NRN,
    SUBJECT,
    b64,
    encrypt,
    hs256_with_public_key,
    id_token_claims,
    logout_claims,
    sign,
    unsigned,
    userinfo_claims,
)

HERE = Path(__file__).parent
SAMPLES = HERE / "samples"
KEY_NAMES = {
    # name: (kid, use) — the attacker's keys reuse the kids of the keys they pose as.
    "provider": ("op-sig-1", "sig"),
    "provider-encryption": ("op-enc-1", "enc"),
    "rp-signing": ("rp-sig-1", "sig"),
    "rp-encryption": ("rp-enc-1", "enc"),
    "attacker": ("op-sig-1", "sig"),
    "attacker-own": ("attacker-1", "sig"),
    "not-the-rp": ("rp-enc-1", "enc"),
}


def load_keys() -> dict[str, RSAKey]:
    """The corpus's keys, making those keys.json does not have yet."""
    path = HERE / "keys.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    for name, (kid, use) in KEY_NAMES.items():
        if name not in data:
            parameters = {"kid": kid, "use": use}
            key = RSAKey.generate_key(2048, parameters=parameters, private=True)
            data[name] = key.as_dict(private=True)
            path.write_text(json.dumps(data, indent=1) + "\n")
    return {name: RSAKey.import_key(jwk) for name, jwk in data.items()}


KEYS = load_keys()
PROVIDER, RP = KEYS["provider"], KEYS["rp-encryption"]
ATTACKER, ATTACKER_OWN = KEYS["attacker"], KEYS["attacker-own"]
# A shared secret published as a JWKS entry under the provider's kid.
OCT = OctKey.import_key({"kty": "oct", "kid": "op-sig-1", "k": b64(b"a secret everyone can read")})


def by_provider(claims: Any, **header: Any) -> str:
    return sign(claims, PROVIDER, header={"alg": "RS256", "kid": PROVIDER.kid, **header})


def by_attacker(claims: Any, key: RSAKey = ATTACKER, **header: Any) -> str:
    return sign(claims, key, header={"alg": "RS256", **header})


def plain_id_token(**changes: Any) -> dict[str, Any]:
    return id_token_claims(egovNRN=NRN, given_name="Jan", family_name="Peeters", **changes)


def jwe_with(header: dict[str, Any], plaintext: bytes | str, key: Any = RP) -> str:
    algorithms = [header["alg"], header["enc"], *([header["zip"]] if "zip" in header else [])]
    return jwe.encrypt_compact(
        header, plaintext, key, registry=jwe.JWERegistry(algorithms=algorithms)
    )


def without_signature(token: str) -> str:
    return token.rsplit(".", 1)[0] + "."


def truncated_tag(token: str) -> str:
    head, tag = token.rsplit(".", 1)
    return f"{head}.{tag[:8]}"


def general_json(token: str) -> str:
    """The same signed token in the JWS JSON serialization (RFC 7515 §7.2.1)."""
    protected, payload, signature = token.split(".")
    return json.dumps(
        {"payload": payload, "signatures": [{"protected": protected, "signature": signature}]}
    )


def hs256_with(secret: OctKey, claims: dict[str, Any]) -> str:
    return sign(claims, secret, header={"alg": "HS256", "kid": secret.kid})


def bomb() -> bytes:
    """64 MiB of JSON whitespace in ~64 KiB of gzip."""
    return gzip.compress(b"{" + b" " * (64 << 20) + b"}", compresslevel=9)


def jwks(*keys: Any) -> str:
    return json.dumps({"keys": [key.as_dict(private=False) for key in keys]})


ENCRYPTED_ID_TOKEN = encrypt(by_provider(id_token_claims()), RP)

CRAFTED: dict[str, Callable[[], str | bytes]] = {
    # the provider as it should be
    "discovery.json": lambda: json.dumps(DISCOVERY),
    "jwks.json": lambda: jwks(PROVIDER, KEYS["provider-encryption"]),
    "plain-id-token.jwt": lambda: by_provider(plain_id_token()),
    "plain-userinfo.json": lambda: json.dumps({"sub": SUBJECT, "email": "jan@example.be"}),
    "itsme-id-token.jwe": lambda: ENCRYPTED_ID_TOKEN,
    "itsme-userinfo.jwe": lambda: encrypt(by_provider(userinfo_claims()), RP),
    "logout-token.jwt": lambda: by_provider(logout_claims()),
    # the signature and its header
    "alg-none.jwt": lambda: unsigned(plain_id_token()),
    "alg-None.jwt": lambda: unsigned(plain_id_token(), "None"),
    "alg-nOnE.jwt": lambda: unsigned(plain_id_token(), "nOnE"),
    "signature-stripped.jwt": lambda: without_signature(by_provider(plain_id_token())),
    "hs256-public-key.jwt": lambda: hs256_with_public_key(plain_id_token(), PROVIDER),
    "es256-psychic.jwt": lambda: (
        b64(json.dumps({"alg": "ES256", "kid": PROVIDER.kid}).encode())
        + "."
        + b64(json.dumps(plain_id_token()).encode())
        + "."
        + b64(bytes(64))
    ),
    "embedded-jwk.jwt": lambda: by_attacker(
        plain_id_token(),
        ATTACKER_OWN,
        kid=ATTACKER_OWN.kid,
        jwk=ATTACKER_OWN.as_dict(private=False),
    ),
    "jku.jwt": lambda: by_attacker(
        plain_id_token(), ATTACKER_OWN, kid=ATTACKER_OWN.kid, jku="https://evil.test/jwks"
    ),
    "x5u.jwt": lambda: by_attacker(
        plain_id_token(), ATTACKER_OWN, kid=ATTACKER_OWN.kid, x5u="https://evil.test/cert.pem"
    ),
    "provider-kid-attacker-key.jwt": lambda: by_attacker(plain_id_token(), kid=PROVIDER.kid),
    "kid-traversal.jwt": lambda: by_attacker(plain_id_token(), kid="../../../../../dev/null"),
    "kid-injection.jwt": lambda: by_attacker(plain_id_token(), kid="x' UNION SELECT 'k' --"),
    "kid-huge.jwt": lambda: by_attacker(plain_id_token(), kid="k" * 8192),
    "crit-unknown.jwt": lambda: signed_by_hand(
        {"alg": "RS256", "kid": PROVIDER.kid, "crit": ["urn:x:must"], "urn:x:must": 1},
        plain_id_token(),
    ),
    "b64-false.jwt": lambda: signed_by_hand(
        {"alg": "RS256", "kid": PROVIDER.kid, "b64": False, "crit": ["b64"]}, plain_id_token()
    ),
    "json-serialization.json": lambda: general_json(by_provider(plain_id_token())),
    "header-not-json.jwt": lambda: "bm90IGpzb24." + by_provider(plain_id_token()).split(".", 1)[1],
    "five-parts.jwt": lambda: "a.b.c.d.e",
    "claims-array.jwt": lambda: by_provider([plain_id_token()]),
    "claims-not-json.jwt": lambda: sign_text("this is not json"),
    "oct-key-hs256.jwt": lambda: hs256_with(OCT, plain_id_token()),
    "jwks-with-oct-key.json": lambda: jwks(PROVIDER, OCT),
    # the claims, signed by the provider but not for this login
    "aud-other-client.jwt": lambda: by_provider(plain_id_token(aud="another-client")),
    "aud-several-no-azp.jwt": lambda: by_provider(plain_id_token(aud=["another", CLIENT_ID])),
    "iss-trailing-slash.jwt": lambda: by_provider(plain_id_token(iss=f"{ISSUER}/")),
    "iss-other-provider.jwt": lambda: by_provider(plain_id_token(iss="https://other-op.test")),
    "sub-number.jwt": lambda: by_provider(plain_id_token(sub=4711)),
    "nonce-other-login.jwt": lambda: by_provider(plain_id_token(nonce=f"{NONCE}-other")),
    "exp-string.jwt": lambda: by_provider(plain_id_token(exp=str(int(NOW) + 300))),
    "exp-huge.jwt": lambda: by_provider(plain_id_token(exp=1e308)),
    "exp-missing.jwt": lambda: by_provider(id_token_claims(drop=("exp",), egovNRN=NRN)),
    "iat-future.jwt": lambda: by_provider(plain_id_token(iat=int(NOW) + 86400)),
    "expired.jwt": lambda: by_provider(plain_id_token(exp=int(NOW) - 3600)),
    # encryption (the itsme profile: signed, then encrypted to the relying party)
    "not-encrypted.jwt": lambda: by_provider(id_token_claims()),
    "jwe-rsa1_5.jwe": lambda: jwe_with(
        {"alg": "RSA1_5", "enc": "A128CBC-HS256", "cty": "JWT", "kid": RP.kid},
        by_provider(id_token_claims()),
    ),
    "jwe-dir.jwe": lambda: jwe_with(
        {"alg": "dir", "enc": "A128GCM", "cty": "JWT", "kid": RP.kid},
        by_provider(id_token_claims()),
        OctKey.import_key(b"0123456789abcdef"),
    ),
    "jwe-zip-bomb.jwe": lambda: jwe_with(
        {**ENCRYPTION_HEADER, "zip": "DEF", "kid": RP.kid},
        zlib.compress(b" " * (16 << 20), 9),
    ),
    "jwe-truncated-tag.jwe": lambda: truncated_tag(ENCRYPTED_ID_TOKEN),
    "jwe-unsigned-claims.jwe": lambda: jwe_with(
        {"alg": "RSA-OAEP-256", "enc": "A128CBC-HS256", "kid": RP.kid},
        json.dumps(id_token_claims()),
    ),
    "jwe-alg-none-inside.jwe": lambda: encrypt(unsigned(id_token_claims()), RP),
    "jwe-attacker-signed.jwe": lambda: encrypt(by_attacker(id_token_claims()), RP),
    "jwe-in-jwe.jwe": lambda: encrypt(ENCRYPTED_ID_TOKEN, RP),
    "jwe-not-for-us.jwe": lambda: encrypt(by_provider(id_token_claims()), KEYS["not-the-rp"]),
    # userinfo
    "userinfo-other-sub.json": lambda: json.dumps({"sub": "someone-else", "email": "x@y.be"}),
    "userinfo-array.json": lambda: json.dumps([{"sub": SUBJECT}]),
    "userinfo-html.json": lambda: "<html><body>Service unavailable</body></html>",
    "userinfo-bomb.json.gz": bomb,
    "userinfo-attacker-signed.jwe": lambda: encrypt(by_attacker(userinfo_claims()), RP),
    "userinfo-plain.json": lambda: json.dumps(userinfo_claims()),
    # the token endpoint
    "token-id-token-list.json": lambda: json.dumps(
        {"access_token": "at", "token_type": "Bearer", "id_token": ["a.b.c"]}
    ),
    "token-error-200.json": lambda: json.dumps({"error": "invalid_grant"}),
    "token-html.html": lambda: "<!doctype html><title>Login</title><p>Please log in",
    "token-huge.json.gz": lambda: gzip.compress(
        json.dumps({"access_token": "a" * (2 << 20), "token_type": "Bearer"}).encode(), 9
    ),
    "token-gzip.json.gz": lambda: gzip.compress(
        json.dumps({"access_token": "at", "token_type": "Bearer", "id_token": "x"}).encode()
    ),
    # the provider's documents
    "discovery-other-issuer.json": lambda: json.dumps({**DISCOVERY, "issuer": "https://evil.test"}),
    "jwks-huge.json.gz": lambda: gzip.compress(
        json.dumps({"keys": [], "padding": "x" * (2 << 20)}).encode(), 9
    ),
    "jwks-not-json.json": lambda: "<html>maintenance</html>",
    # back-channel logout
    "logout-alg-none.jwt": lambda: unsigned(logout_claims()),
    "logout-with-nonce.jwt": lambda: by_provider(logout_claims(nonce=NONCE)),
    "logout-events-list.jwt": lambda: by_provider(
        logout_claims(events=["http://schemas.openid.net/event/backchannel-logout"])
    ),
    "logout-unsigned-encrypted.jwe": lambda: jwe_with(
        {"alg": "RSA-OAEP-256", "enc": "A128CBC-HS256", "kid": RP.kid},
        json.dumps(logout_claims()),
    ),
    "logout-attacker-signed.jwt": lambda: by_attacker(logout_claims(), kid=PROVIDER.kid),
    "logout-id-token.jwt": lambda: by_provider(plain_id_token(drop=("nonce",))),
}


def sign_text(payload: str) -> str:
    """A provider-signed JWS whose payload is `payload` as is (not a JSON document)."""
    return jws.serialize_compact({"alg": "RS256", "kid": PROVIDER.kid}, payload, PROVIDER)


def signed_by_hand(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """An RS256 signature by the provider over a header joserfc refuses to write."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = PROVIDER.private_key.sign(signing_input.encode(), PKCS1v15(), SHA256())
    return f"{signing_input}.{b64(signature)}"


def main(force: bool) -> None:
    SAMPLES.mkdir(exist_ok=True)
    for name, craft in CRAFTED.items():
        path = SAMPLES / name
        if force or not path.exists():
            data = craft()
            path.write_bytes(data if isinstance(data, bytes) else data.encode())
            print("wrote", path.relative_to(HERE))


if __name__ == "__main__":
    main(force="--force" in sys.argv)
