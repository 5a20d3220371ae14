"""Office seals: an office's signature over a document's SHA-256, so a citizen (or anyone
with the office's published key) can check that a document comes from that office,
unaltered.

A seal is a compact JWS (ES256) whose payload names the office, the document and its
SHA-256. Private keys are stored sealed by the kernel key provider, like the platform's own
OpenID keys; public keys are published per office (`/api/v1/offices/{id}/seal-keys`).
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acts.models import NotaryOffice, OfficeSealKey
from kluis.hooks import SealStatus
from kluis.keys import KeyProvider

ALGORITHM = "ES256"


def seal_key_aad(kid: str) -> bytes:
    return f"office-seal-key:{kid}".encode()


class Seals:
    def __init__(self, keys: KeyProvider) -> None:
        self.keys = keys
        self._imported: dict[str, ECKey] = {}

    async def _active(self, db: AsyncSession, office_id: uuid.UUID) -> OfficeSealKey:
        row = await db.scalar(
            select(OfficeSealKey)
            .where(OfficeSealKey.office_id == office_id, OfficeSealKey.retired_at.is_(None))
            .order_by(OfficeSealKey.created_at.desc())
            .limit(1)
        )
        if row is not None:
            return row
        kid = f"seal-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(6)}"
        key = ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig"}, private=True)
        row = OfficeSealKey(
            office_id=office_id,
            kid=kid,
            public_jwk={**key.as_dict(private=False), "alg": ALGORITHM},
            private_jwk_sealed=self.keys.seal(
                json.dumps(key.as_dict(private=True)).encode(), seal_key_aad(kid)
            ),
        )
        db.add(row)
        await db.flush()
        return row

    def _private(self, row: OfficeSealKey) -> ECKey:
        if row.kid not in self._imported:
            data = json.loads(self.keys.open(row.private_jwk_sealed, seal_key_aad(row.kid)))
            self._imported[row.kid] = ECKey.import_key(data)
        return self._imported[row.kid]

    async def seal(self, db: AsyncSession, office: NotaryOffice, *, sha256: str, name: str) -> str:
        """The office's seal over a document (in the caller's transaction)."""
        row = await self._active(db, office.id)
        payload = {
            "office": str(office.id),
            "enterprise_number": office.enterprise_number,
            "name": name,
            "sha256": sha256,
            "iat": int(datetime.now(UTC).timestamp()),
        }
        return jws.serialize_compact(
            {"alg": ALGORITHM, "kid": row.kid},
            json.dumps(payload, separators=(",", ":")).encode(),
            self._private(row),
        )

    async def check(self, db: AsyncSession, seal: str, sha256: str) -> SealStatus:
        """Whether `seal` is a valid seal, by the office its key belongs to, over `sha256`."""
        try:
            kid = jws.extract_compact(seal.encode()).protected.get("kid")
        except (JoseError, ValueError):
            return SealStatus(None, False)
        found = (
            await db.execute(
                select(OfficeSealKey, NotaryOffice)
                .join(NotaryOffice, NotaryOffice.id == OfficeSealKey.office_id)
                .where(OfficeSealKey.kid == str(kid))
            )
        ).first()
        if found is None:
            return SealStatus(None, False)
        key_row, office = found
        try:
            public = ECKey.import_key(key_row.public_jwk)
            payload = json.loads(jws.deserialize_compact(seal, public, [ALGORITHM]).payload)
        except (JoseError, ValueError):
            return SealStatus(office.name, False)
        holds = payload.get("sha256") == sha256 and payload.get("office") == str(office.id)
        return SealStatus(office.name, holds)

    async def published(self, db: AsyncSession, office_id: uuid.UUID) -> dict[str, list]:
        """The office's public seal keys, retired ones included (old seals stay checkable)."""
        rows = await db.scalars(
            select(OfficeSealKey.public_jwk).where(OfficeSealKey.office_id == office_id)
        )
        return {"keys": list(rows)}
