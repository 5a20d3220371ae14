"""The platform's relying-party keys: one `sig` and one `enc` key published as JWKS.

Private keys are stored sealed by the kernel key provider. Rotation retires the current
pair and creates a new one; a retired encryption key keeps decrypting for
`DECRYPTION_OVERLAP` so tokens a provider encrypted before it saw the new JWKS still open.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from idp_bridge.interfaces import Keyring
from idp_bridge.models import RelyingPartyKey
from kluis.keys import KeyProvider

DECRYPTION_OVERLAP = timedelta(hours=24)
KEY_BITS = 2048
ALGORITHMS = {"sig": "RS256", "enc": "RSA-OAEP-256"}


def private_key_aad(kid: str) -> bytes:
    return f"relying-party-key:{kid}".encode()


def _new_key(use: str, keys: KeyProvider, now: datetime) -> RelyingPartyKey:
    kid = f"{use}-{now:%Y%m%d}-{secrets.token_hex(4)}"
    key = RSAKey.generate_key(
        KEY_BITS, parameters={"kid": kid, "use": use, "alg": ALGORITHMS[use]}, private=True
    )
    return RelyingPartyKey(
        kid=kid,
        use=use,
        alg=ALGORITHMS[use],
        private_jwk_sealed=keys.seal(
            json.dumps(key.as_dict(private=True)).encode(), private_key_aad(kid)
        ),
        public_jwk=key.as_dict(private=False),
        created_at=now,
    )


class RelyingPartyKeys:
    def __init__(self, keys: KeyProvider) -> None:
        self.keys = keys
        # Unsealing and importing an RSA key costs ~40 ms; a kid's key never changes.
        self._imported: dict[str, RSAKey] = {}

    async def _active(self, db: AsyncSession) -> list[RelyingPartyKey]:
        query = select(RelyingPartyKey).where(RelyingPartyKey.retired_at.is_(None))
        return list((await db.execute(query)).scalars())

    async def ensure(self, db: AsyncSession) -> None:
        """Create the first key pair if there is none (commits)."""
        active = {k.use for k in await self._active(db)}
        now = datetime.now(UTC)
        for use in ("sig", "enc"):
            if use not in active:
                db.add(_new_key(use, self.keys, now))
        await db.commit()

    async def rotate(self, db: AsyncSession) -> list[str]:
        now = datetime.now(UTC)
        for old in await self._active(db):
            old.retired_at = now
        new = [_new_key(use, self.keys, now) for use in ("sig", "enc")]
        db.add_all(new)
        await db.commit()
        return [k.kid for k in new]

    async def jwks(self, db: AsyncSession) -> dict[str, list[dict[str, str]]]:
        active = await self._active(db)
        if len(active) < 2:
            await self.ensure(db)
            active = await self._active(db)
        return {"keys": [k.public_jwk for k in active]}

    def _private(self, row: RelyingPartyKey) -> RSAKey:
        if row.kid not in self._imported:
            data = json.loads(self.keys.open(row.private_jwk_sealed, private_key_aad(row.kid)))
            self._imported[row.kid] = RSAKey.import_key(data)
        return self._imported[row.kid]

    async def keyring(self, db: AsyncSession) -> Keyring:
        since = datetime.now(UTC) - DECRYPTION_OVERLAP
        query = select(RelyingPartyKey).where(
            (RelyingPartyKey.retired_at.is_(None)) | (RelyingPartyKey.retired_at > since)
        )
        rows = list((await db.execute(query)).scalars())
        current = {r.use: r for r in rows if r.retired_at is None}
        if len(current) < 2:
            await self.ensure(db)
            return await self.keyring(db)
        decryption = [self._private(r) for r in rows if r.use == "enc"]
        return Keyring(
            signing=self._private(current["sig"]),
            encryption=self._private(current["enc"]),
            decryption=KeySet(decryption),
        )
