"""`kluis registry client …`, run as an operator would, on a database of its own."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from joserfc.jwk import ECKey

from kluis import cli
from kluis.settings import get_settings


@pytest.fixture
def kluis(tmp_path, monkeypatch):
    monkeypatch.setenv("KLUIS_ENV", "test")
    monkeypatch.setenv("KLUIS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("KLUIS_KEY_FILE", str(tmp_path / "keys.json"))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli.main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    run("db", "upgrade")
    yield run
    get_settings.cache_clear()


@pytest.fixture
def key():
    return ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)


@pytest.fixture
def jwks(tmp_path, key):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    return str(path)


def test_registry_clients_are_added_listed_and_revoked(kluis, jwks):
    client_id = kluis("registry", "client", "add", "Rijksregister", "--jwks", jwks).strip()

    assert client_id
    listed = kluis("registry", "client", "list")
    assert f"{client_id}\tRijksregister\t" in listed
    assert listed.rstrip().endswith("active")
    assert kluis("registry", "client", "revoke", client_id).strip() == f"{client_id} revoked"
    assert "\trevoked " in kluis("registry", "client", "list")
    assert "client-not-found" in kluis("registry", "client", "revoke", "nobody", code=1)


def test_registry_and_office_clients_stay_apart(kluis, jwks):
    kluis("notary", "office", "add", "--name", "X", "--enterprise-number", "0403170701")
    office_client = kluis(
        "notary", "client", "add", "--office", "0403170701", "--name", "Akteprogramma",
        "--jwks", jwks,
    ).strip()  # fmt: skip
    registry_client = kluis("registry", "client", "add", "Rijksregister", "--jwks", jwks).strip()

    assert office_client not in kluis("registry", "client", "list")
    assert registry_client not in kluis("notary", "client", "list", "--office", "0403170701")
    # Each command revokes only its own kind.
    assert "client-not-found" in kluis("registry", "client", "revoke", office_client, code=1)
    assert "client-not-found" in kluis("notary", "client", "revoke", registry_client, code=1)
    assert "active" in kluis("registry", "client", "list")


def test_a_registry_client_needs_public_keys_and_a_name(kluis, tmp_path, key, jwks):
    private = tmp_path / "private.json"
    private.write_text(json.dumps({"keys": [key.as_dict(private=True)]}))
    not_json = tmp_path / "not.json"
    not_json.write_text("keys")

    assert "jwks-invalid" in kluis(
        "registry", "client", "add", "Rijksregister", "--jwks", str(private), code=1
    )
    assert "jwks-invalid" in kluis(
        "registry", "client", "add", "Rijksregister", "--jwks", str(not_json), code=1
    )
    assert "client-name-invalid" in kluis("registry", "client", "add", " ", "--jwks", jwks, code=1)
    assert kluis("registry", "client", "list") == ""
