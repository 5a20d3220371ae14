"""The platform's relying-party keys and their rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from idp_bridge.models import RelyingPartyKey
from idp_bridge.rp_keys import RelyingPartyKeys


async def test_jwks_publishes_one_signing_and_one_encryption_key(db, platform):
    keys = RelyingPartyKeys(platform.keys)
    await keys.ensure(db)

    jwks = await keys.jwks(db)

    assert sorted(k["use"] for k in jwks["keys"]) == ["enc", "sig"]
    assert all("d" not in k for k in jwks["keys"])  # public parts only


async def test_rotation_publishes_new_keys_and_keeps_the_old_decryption_key(db, platform):
    keys = RelyingPartyKeys(platform.keys)
    await keys.ensure(db)
    before = {k["kid"] for k in (await keys.jwks(db))["keys"]}

    new = await keys.rotate(db)

    after = {k["kid"] for k in (await keys.jwks(db))["keys"]}
    assert after == set(new)
    assert not before & after
    keyring = await keys.keyring(db)
    assert keyring.signing.kid in new
    decrypting = {k.kid for k in keyring.decryption.keys}
    assert decrypting == {kid for kid in before | after if kid.startswith("enc-")}


async def test_old_decryption_key_is_dropped_after_24_hours(db, platform):
    keys = RelyingPartyKeys(platform.keys)
    await keys.ensure(db)
    await keys.rotate(db)
    day_ago = datetime.now(UTC) - timedelta(hours=24, minutes=1)
    await db.execute(
        update(RelyingPartyKey)
        .where(RelyingPartyKey.retired_at.is_not(None))
        .values(retired_at=day_ago)
    )
    await db.commit()

    keyring = await keys.keyring(db)

    assert len(keyring.decryption.keys) == 1
    assert keyring.decryption.keys[0].kid in {k["kid"] for k in (await keys.jwks(db))["keys"]}
