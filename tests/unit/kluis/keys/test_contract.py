"""The key provider's contract, held by both providers: the local key file and a real
SoftHSM2 token over PKCS#11."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.exceptions import InvalidTag

from kluis.errors import ConfigurationError
from kluis.keys import LocalKeyFile, ManagedKeys
from kluis.keys.pkcs11 import Pkcs11Keys
from tests.support.softhsm import unique_prefix


@dataclass
class Keys:
    """One provider under test, and the means to start it again or make an unrelated one."""

    provider: ManagedKeys
    restart: Callable[[], ManagedKeys]  # the same keys, as a new process would see them
    unrelated: Callable[[], ManagedKeys]  # keys of another platform


@pytest.fixture(params=["local-file", "pkcs11"])
def keys(request, tmp_path) -> Keys:
    if request.param == "local-file":
        path = tmp_path / "keys.json"
        others = iter(range(1, 100))
        local = LocalKeyFile(path)
        local.create_missing()  # as `kluis keys init` would
        return Keys(
            local,
            lambda: LocalKeyFile(path),
            lambda: LocalKeyFile(tmp_path / f"other-{next(others)}.json"),
        )
    hsm = request.getfixturevalue("softhsm")
    prefix = unique_prefix()

    def on_token(prefix: str) -> Pkcs11Keys:
        provider = Pkcs11Keys(
            hsm.module, hsm.token_label, hsm.pin, prefix=prefix, require_keys=False
        )
        provider.create_missing()
        return provider

    return Keys(on_token(prefix), lambda: on_token(prefix), lambda: on_token(unique_prefix()))


@pytest.fixture
def recheck_at_once(monkeypatch):
    """Processes look for a newer master key on every seal instead of once a minute."""
    monkeypatch.setattr("kluis.keys.local.CURRENT_KEY_RECHECK_SECONDS", 0.0)
    monkeypatch.setattr("kluis.keys.pkcs11.CURRENT_KEY_RECHECK_SECONDS", 0.0)


def test_a_sealed_value_opens_and_names_its_key(keys):
    sealed = keys.provider.seal(b"85073003328", b"person.nrn")

    assert b"85073003328" not in sealed
    assert sealed.startswith(b"k1\x00")
    assert keys.provider.open(sealed, b"person.nrn") == b"85073003328"
    assert keys.restart().open(sealed, b"person.nrn") == b"85073003328"
    assert keys.provider.open(keys.provider.seal(b"", b""), b"") == b""


def test_sealing_twice_gives_different_values(keys):
    assert keys.provider.seal(b"same", b"a") != keys.provider.seal(b"same", b"a")


def test_a_sealed_value_opens_only_with_its_associated_data(keys):
    sealed = keys.provider.seal(b"data key", b"document:1")

    with pytest.raises(InvalidTag):
        keys.provider.open(sealed, b"document:2")
    with pytest.raises(InvalidTag):
        keys.provider.open(sealed, b"")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: s[:-1] + bytes([s[-1] ^ 1]), id="tag"),
        pytest.param(lambda s: s[:10] + bytes([s[10] ^ 1]) + s[11:], id="nonce"),
        pytest.param(lambda s: s[:20] + bytes([s[20] ^ 0x80]) + s[21:], id="ciphertext"),
        pytest.param(lambda s: s[:-3], id="truncated"),
        pytest.param(lambda s: s[:15], id="shorter-than-a-tag"),
        pytest.param(lambda s: s.replace(b"\x00", b"x", 1), id="no-key-id"),
    ],
)
def test_a_tampered_value_does_not_open(keys, tamper):
    sealed = keys.provider.seal(b"a private key, say", b"aad")

    with pytest.raises(InvalidTag):
        keys.provider.open(tamper(sealed), b"aad")


def test_a_value_sealed_by_other_keys_does_not_open(keys):
    sealed = keys.unrelated().seal(b"x", b"a")
    with pytest.raises(InvalidTag):
        keys.provider.open(sealed, b"a")


def test_an_unknown_master_key_is_named(keys):
    sealed = keys.provider.seal(b"x", b"a")
    with pytest.raises(ConfigurationError, match="k9"):
        keys.provider.open(b"k9" + sealed[2:], b"a")


def test_the_blind_index_is_keyed_stable_and_separated_by_purpose(keys):
    index = keys.provider.blind_index("nrn", "85073003328")

    assert len(index) == 64 and int(index, 16) >= 0
    assert "85073003328" not in index
    assert keys.provider.blind_index("nrn", "85073003328") == index
    assert keys.restart().blind_index("nrn", "85073003328") == index
    assert keys.provider.blind_index("email", "85073003328") != index
    assert keys.provider.blind_index("nrn", "90031412508") != index
    assert keys.unrelated().blind_index("nrn", "85073003328") != index


def test_derived_secrets_are_keyed_stable_and_separated_by_purpose(keys):
    secret = keys.provider.derive_secret("csrf")

    assert len(secret) == 32
    assert keys.provider.derive_secret("csrf") == secret
    assert keys.restart().derive_secret("csrf") == secret
    assert keys.provider.derive_secret("email-confirmation-link") != secret
    assert keys.unrelated().derive_secret("csrf") != secret


def test_rotation_seals_under_the_new_key_and_old_values_still_open(keys):
    provider = keys.provider
    old = provider.seal(b"sealed under k1", b"a")
    index, secret = provider.blind_index("nrn", "1"), provider.derive_secret("csrf")

    rotated = provider.rotate()

    assert (rotated.key_id, rotated.current) == ("k2", True)
    assert provider.current_key_id == "k2"
    new = provider.seal(b"sealed under k2", b"a")
    assert new.startswith(b"k2\x00")
    assert provider.open(old, b"a") == b"sealed under k1"
    assert provider.open(new, b"a") == b"sealed under k2"
    # The blind-index key and the root secret never rotate.
    assert provider.blind_index("nrn", "1") == index
    assert provider.derive_secret("csrf") == secret
    restarted = keys.restart()
    assert restarted.current_key_id == "k2"
    assert restarted.open(old, b"a") == b"sealed under k1"
    assert restarted.seal(b"x", b"a").startswith(b"k2\x00")
    assert provider.rotate().key_id == "k3"
    assert [(k.key_id, k.current) for k in provider.describe() if k.kind == "master"] == [
        ("k1", False),
        ("k2", False),
        ("k3", True),
    ]


def test_a_process_that_did_not_rotate_opens_new_values_and_then_seals_with_them(
    keys, recheck_at_once
):
    elsewhere = keys.restart()  # another server process, started before the rotation
    keys.provider.rotate()
    new = keys.provider.seal(b"new", b"a")

    assert elsewhere.open(new, b"a") == b"new"  # an unknown key is looked up at once
    assert elsewhere.seal(b"x", b"a").startswith(b"k2\x00")
    keys.provider.rotate()
    keys.provider.rotate()  # two rotations between two of its checks
    assert elsewhere.seal(b"x", b"a").startswith(b"k4\x00")


def test_a_process_keeps_its_current_key_for_a_minute(keys):
    elsewhere = keys.restart()
    elsewhere.seal(b"x", b"a")
    keys.provider.rotate()
    assert elsewhere.seal(b"x", b"a").startswith(b"k1\x00")


def test_the_keys_are_described_without_their_values(keys):
    described = keys.provider.describe()

    assert [(k.kind, k.key_id, k.current) for k in described] == [
        ("master", "k1", True),
        ("index", "", False),
        ("root", "", False),
    ]
    assert len({k.label for k in described}) == 3
    assert keys.provider.create_missing() == []


def test_threads_share_one_provider(keys):
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(40):
                value = f"{n}:{i}".encode()
                aad = f"aad {n}".encode()
                assert keys.provider.open(keys.provider.seal(value, aad), aad) == value
                assert len(keys.provider.blind_index("t", value.decode())) == 64
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
