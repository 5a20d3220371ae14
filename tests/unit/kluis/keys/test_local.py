from __future__ import annotations

import json
import os

import pytest
from cryptography.exceptions import InvalidTag

from kluis.errors import ConfigurationError
from kluis.keys import LocalKeyFile


def test_key_file_is_created_private(tmp_path):
    path = tmp_path / "keys" / "keys.json"
    LocalKeyFile(path)
    assert path.stat().st_mode & 0o777 == 0o600


def test_readable_key_file_is_refused(tmp_path):
    path = tmp_path / "keys.json"
    LocalKeyFile(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="readable"):
        LocalKeyFile(path)


def test_sealed_value_opens_only_with_its_associated_data(tmp_path):
    keys = LocalKeyFile(tmp_path / "keys.json")
    sealed = keys.seal(b"85073003328", b"person.nrn")

    assert b"85073003328" not in sealed
    assert keys.open(sealed, b"person.nrn") == b"85073003328"
    with pytest.raises(InvalidTag):
        keys.open(sealed, b"other.field")


def test_keys_survive_a_restart(tmp_path):
    sealed = LocalKeyFile(tmp_path / "keys.json").seal(b"x", b"a")
    reopened = LocalKeyFile(tmp_path / "keys.json")
    assert reopened.open(sealed, b"a") == b"x"


def test_blind_index_is_keyed_and_stable(tmp_path):
    one = LocalKeyFile(tmp_path / "one.json")
    other = LocalKeyFile(tmp_path / "other.json")
    assert one.blind_index("nrn", "85073003328") == one.blind_index("nrn", "85073003328")
    assert one.blind_index("nrn", "85073003328") != other.blind_index("nrn", "85073003328")
    assert one.blind_index("nrn", "85073003328") != one.blind_index("email", "85073003328")


def test_rotation_rewrites_the_file_privately_and_keeps_the_old_keys(tmp_path):
    path = tmp_path / "keys.json"
    keys = LocalKeyFile(path)
    before = json.loads(path.read_text())

    assert keys.rotate().key_id == "k2"

    after = json.loads(path.read_text())
    assert path.stat().st_mode & 0o777 == 0o600
    assert after["current"] == "k2"
    assert after["master_keys"]["k1"] == before["master_keys"]["k1"]
    assert after["master_keys"]["k2"] not in before["master_keys"].values()
    assert (after["index_key"], after["root_secret"]) == (
        before["index_key"],
        before["root_secret"],
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]  # no temporary left
