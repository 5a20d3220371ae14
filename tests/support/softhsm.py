"""A real SoftHSM2 token for the tests: a throwaway token directory and configuration.

SoftHSM2 reads `SOFTHSM2_CONF` when the PKCS#11 library is initialized, once per process:
the session fixture sets it before any test loads the library, and keeps it for the run.
Tests share the token and keep apart by key label prefix (`[pkcs11] label_prefix`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest

from kluis.settings import Pkcs11Settings, Settings

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "kluis-test"
PIN = "4711-user"
SO_PIN = "4711-security-officer"


@dataclass(frozen=True)
class SoftHsm:
    conf: Path
    module: str = MODULE
    token_label: str = TOKEN
    pin: str = PIN

    def settings(self, prefix: str | None = None) -> Pkcs11Settings:
        """`[pkcs11]` for this token, with a key label prefix of its own unless given."""
        return Pkcs11Settings(
            module=self.module,
            token_label=self.token_label,
            pin=self.pin,
            label_prefix=prefix or unique_prefix(),
        )

    def platform_settings(self, settings: Settings, **changes: object) -> Settings:
        """`settings` with the pkcs11 key provider on this token."""
        return msgspec.structs.replace(
            settings, key_provider="pkcs11", pkcs11=self.settings(), **changes
        )

    def environ(self) -> dict[str, str]:
        """What a `kluis` subprocess needs to find this token."""
        return {"SOFTHSM2_CONF": str(self.conf)}


def pkcs11_environ(config: Pkcs11Settings) -> dict[str, str]:
    """`KLUIS_*` variables choosing the pkcs11 key provider on `config`'s token."""
    return {
        "KLUIS_KEY_PROVIDER": "pkcs11",
        "KLUIS_PKCS11__MODULE": config.module,
        "KLUIS_PKCS11__TOKEN_LABEL": config.token_label,
        "KLUIS_PKCS11__PIN": config.pin,
        "KLUIS_PKCS11__LABEL_PREFIX": config.label_prefix,
    }


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def softhsm_token(root: Path) -> Iterator[SoftHsm]:
    util = shutil.which("softhsm2-util")
    if util is None or not Path(MODULE).is_file():
        pytest.fail("SoftHSM2 is missing: `make test` installs Debian's softhsm2")
    tokens = root / "tokens"
    tokens.mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
        "log.level = ERROR\nslots.removable = false\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(  # noqa: S603 (a fixed tool and arguments)
        [
            util,
            *("--init-token", "--free", "--label", TOKEN),
            *("--so-pin", SO_PIN, "--pin", PIN),
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield SoftHsm(conf)
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous
