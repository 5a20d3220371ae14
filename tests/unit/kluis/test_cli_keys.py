"""`kluis keys init|rotate|list`, run as an operator would: on a real SoftHSM2 token and on
the local key file. No command shows a key's value or the PIN."""

from __future__ import annotations

import base64
import json

import pytest
from click.testing import CliRunner

from kluis import cli
from kluis.keys import managed_keys_from
from kluis.settings import get_settings, load_settings
from tests.support.softhsm import pkcs11_environ, unique_prefix


@pytest.fixture
def run():
    runner = CliRunner()
    outputs: list[str] = []

    def run(*args: str, code: int = 0) -> str:
        get_settings.cache_clear()
        result = runner.invoke(cli.main, ["keys", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        outputs.append(result.output)
        return result.output

    run.outputs = outputs  # type: ignore[attr-defined]
    yield run
    get_settings.cache_clear()


@pytest.fixture
def on_token(monkeypatch, softhsm):
    prefix = unique_prefix()
    for name, value in {"KLUIS_ENV": "test", **pkcs11_environ(softhsm.settings(prefix))}.items():
        monkeypatch.setenv(name, value)
    return prefix


@pytest.fixture
def key_file(monkeypatch, tmp_path):
    path = tmp_path / "keys" / "keys.json"
    monkeypatch.setenv("KLUIS_ENV", "test")
    monkeypatch.setenv("KLUIS_KEY_FILE", str(path))
    return path


def rows(output: str) -> list[list[str]]:
    return [line.split("\t") for line in output.splitlines()]


def test_init_rotate_and_list_on_the_token(run, on_token, softhsm):
    prefix = on_token
    assert "kluis keys init" in run("list", code=1)
    assert "kluis keys init" in run("rotate", code=1)

    created = run("init")

    assert created.splitlines() == [
        f"created master key {prefix}-master-k1",
        f"created index key {prefix}-index",
        f"created root key {prefix}-root",
        "current master key: k1",
    ]
    assert run("init").splitlines() == [
        "every key exists already: nothing created",
        "current master key: k1",
    ]
    assert rows(run("list")) == [
        ["master", f"{prefix}-master-k1", "k1", "current"],
        ["index", f"{prefix}-index", "-", ""],
        ["root", f"{prefix}-root", "-", ""],
    ]
    settings = load_settings()
    before = managed_keys_from(settings).seal(b"sealed before the rotation", b"aad")

    rotated = run("rotate")

    assert rotated.startswith(f"current master key: k2 ({prefix}-master-k2), was k1\n")
    assert [r[2:] for r in rows(run("list")) if r[0] == "master"] == [["k1", ""], ["k2", "current"]]
    after = managed_keys_from(settings)
    assert after.open(before, b"aad") == b"sealed before the rotation"
    assert after.seal(b"x", b"aad").startswith(b"k2\x00")
    assert all(softhsm.pin not in output for output in run.outputs)


def test_a_wrong_token_is_refused_plainly(run, on_token, monkeypatch):
    monkeypatch.setenv("KLUIS_PKCS11__TOKEN_LABEL", "no-such-token")
    assert "no token labelled 'no-such-token'" in run("init", code=1)


def test_the_pin_comes_from_the_environment(run, on_token, monkeypatch):
    monkeypatch.delenv("KLUIS_PKCS11__PIN")
    assert "KLUIS_PKCS11__PIN" in run("list", code=1)


def test_init_rotate_and_list_on_the_local_key_file(run, key_file):
    assert "kluis keys init" in run("list", code=1)
    assert "kluis keys init" in run("rotate", code=1)
    assert not key_file.exists()

    assert run("init").splitlines() == [
        "created master key master_keys.k1",
        "created index key index_key",
        "created root key root_secret",
        "current master key: k1",
    ]
    assert "nothing created" in run("init")
    assert run("rotate").startswith("current master key: k2 (master_keys.k2), was k1\n")
    assert rows(run("list")) == [
        ["master", "master_keys.k1", "k1", ""],
        ["master", "master_keys.k2", "k2", "current"],
        ["index", "index_key", "-", ""],
        ["root", "root_secret", "-", ""],
    ]
    # No output carries key material, in any spelling.
    data = json.loads(key_file.read_text())
    secrets = [*data["master_keys"].values(), data["index_key"], data["root_secret"]]
    spellings = [s for b64 in secrets for s in (b64, base64.b64decode(b64).hex())]
    assert not [s for s in spellings for output in run.outputs if s in output]
