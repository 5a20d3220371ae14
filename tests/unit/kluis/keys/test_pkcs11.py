"""The PKCS#11 key provider on a real SoftHSM2 token: what only a token does."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
import pkcs11
import pytest
from pkcs11 import Attribute, ObjectClass
from pkcs11 import exceptions as p11

from kluis.errors import ConfigurationError
from kluis.keys import key_provider_from, managed_keys_from
from kluis.keys import pkcs11 as provider_module
from kluis.keys.pkcs11 import Pkcs11Keys
from kluis.settings import load_settings
from tests.support.softhsm import pkcs11_environ, unique_prefix


@pytest.fixture
def keys(softhsm) -> Pkcs11Keys:
    provider = Pkcs11Keys(
        softhsm.module, softhsm.token_label, softhsm.pin, prefix=unique_prefix(), require_keys=False
    )
    provider.create_missing()
    return provider


@contextmanager
def token_objects(softhsm, prefix: str) -> Iterator[dict[str, Any]]:
    """The token's objects under `prefix`, seen straight through PKCS#11."""
    token = pkcs11.lib(softhsm.module).get_token(token_label=softhsm.token_label)
    with provider_module._calls:
        session = token.open(rw=True)  # logged in already: the provider's session
        try:
            yield {
                str(o[Attribute.LABEL]): o
                for o in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})
                if str(o[Attribute.LABEL]).startswith(f"{prefix}-")
            }
        finally:
            session.close()


def test_the_keys_live_on_the_token_and_cannot_be_read_out(softhsm, keys):
    with token_objects(softhsm, keys.prefix) as objects:
        assert sorted(objects) == [f"{keys.prefix}-{n}" for n in ("index", "master-k1", "root")]
        for key in objects.values():
            assert key[Attribute.TOKEN] and key[Attribute.PRIVATE]
            assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]
            with pytest.raises(p11.AttributeSensitive):
                key[Attribute.VALUE]
        master = objects[f"{keys.prefix}-master-k1"]
        assert master[Attribute.ENCRYPT] and not master[Attribute.SIGN]
        assert not master[Attribute.WRAP] and not master[Attribute.DERIVE]
        assert master[Attribute.ID] == b"k1"
        index = objects[f"{keys.prefix}-index"]
        assert index[Attribute.SIGN] and not index[Attribute.ENCRYPT]


def test_the_platform_refuses_a_token_without_its_keys(softhsm):
    prefix = unique_prefix()
    with pytest.raises(ConfigurationError, match="kluis keys init") as refused:
        Pkcs11Keys(softhsm.module, softhsm.token_label, softhsm.pin, prefix=prefix)
    assert f"{prefix}-master-k1" in str(refused.value)
    assert softhsm.pin not in str(refused.value)


def test_init_makes_only_what_is_missing(softhsm, keys):
    with token_objects(softhsm, keys.prefix) as objects:
        objects[f"{keys.prefix}-root"].destroy()

    created = keys.create_missing()

    assert [(k.kind, k.label) for k in created] == [("root", f"{keys.prefix}-root")]
    with token_objects(softhsm, keys.prefix) as objects:
        assert len(objects) == 3


def test_rotation_needs_a_first_key(softhsm):
    empty = Pkcs11Keys(
        softhsm.module, softhsm.token_label, softhsm.pin, prefix=unique_prefix(), require_keys=False
    )
    assert empty.describe() == []
    with pytest.raises(ConfigurationError, match="kluis keys init"):
        empty.rotate()
    with pytest.raises(ConfigurationError, match="kluis keys init"):
        empty.seal(b"x", b"a")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"token_label": "no-such-token"}, "no token labelled 'no-such-token'"),
        ({"module": "/nowhere/libpkcs11.so"}, "no PKCS#11 module at /nowhere"),
    ],
)
def test_a_wrong_token_or_module_is_refused(softhsm, changes, problem):
    config = msgspec.structs.replace(softhsm.settings(), **changes)
    with pytest.raises(ConfigurationError, match=problem):
        Pkcs11Keys(config.module, config.token_label, config.pin, prefix=config.label_prefix)


def test_a_wrong_pin_is_refused_without_showing_it(softhsm):
    # The token is logged in once per process: try the PIN in a process of its own.
    script = (
        "import os\n"
        "from kluis.keys.pkcs11 import Pkcs11Keys\n"
        f"Pkcs11Keys({softhsm.module!r}, {softhsm.token_label!r}, os.environ['WRONG_PIN'])\n"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "WRONG_PIN": "not-the-pin-9876"},
    )
    assert result.returncode == 1
    assert "refused the PIN (PinIncorrect)" in result.stderr
    assert "not-the-pin-9876" not in result.stderr


def _in_forked_child(keys: Pkcs11Keys, sealed: bytes, answer) -> None:  # type: ignore[no-untyped-def]
    try:
        answer.send((keys.open(sealed, b"a"), keys.open(keys.seal(b"child", b"a"), b"a")))
    except BaseException as exc:  # reported to the parent
        answer.send(repr(exc))


def test_a_forked_worker_uses_the_token(keys):
    """A Celery prefork pool forks after the parent logged in to the token."""
    sealed = keys.seal(b"parent", b"a")
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_in_forked_child, args=(keys, sealed, send)
    )
    child.start()
    answer = receive.recv() if receive.poll(30) else "no answer"
    child.join(10)

    assert answer == (b"parent", b"child")
    assert keys.open(keys.seal(b"still", b"a"), b"a") == b"still"  # the parent's login holds


def test_a_lost_session_is_replaced(keys):
    sealed = keys.seal(b"x", b"a")
    with provider_module._calls:
        connection = provider_module._connections[keys.module, keys.token_label]
        connection.session.session.close()  # as an HSM restart would leave it

    assert keys.open(sealed, b"a") == b"x"
    assert keys.open(keys.seal(b"y", b"a"), b"a") == b"y"


def test_the_settings_choose_the_token(softhsm):
    prefix = unique_prefix()
    settings = load_settings({"KLUIS_ENV": "test", **pkcs11_environ(softhsm.settings(prefix))})
    managed_keys_from(settings, require_keys=False).create_missing()

    provider = key_provider_from(settings)

    assert isinstance(provider, Pkcs11Keys)
    assert (provider.token_label, provider.prefix) == (softhsm.token_label, prefix)
    assert softhsm.pin not in repr(provider)
