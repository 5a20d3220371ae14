"""The demo data set (`config/demo.toml`): test citizens and notary offices.

It is data, not code, so the development identity provider, `kluis demo seed` and outside
checks all read the same list.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec


class DemoCitizen(msgspec.Struct, kw_only=True):
    nrn: str
    given_name: str
    surname: str
    email: str | None = None
    language: str = "nl"


class DemoMember(msgspec.Struct, kw_only=True):
    nrn: str
    role: str


class DemoOffice(msgspec.Struct, kw_only=True):
    name: str
    enterprise_number: str
    municipality: str | None = None
    address: str | None = None
    email: str | None = None
    members: list[DemoMember] = msgspec.field(default_factory=list)


class Demo(msgspec.Struct, kw_only=True):
    citizens: list[DemoCitizen] = msgspec.field(default_factory=list)
    offices: list[DemoOffice] = msgspec.field(default_factory=list)


def load_demo(path: Path) -> Demo:
    if not path.exists():
        return Demo()
    return msgspec.convert(tomllib.loads(path.read_text()), Demo)
