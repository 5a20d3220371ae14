"""The key provider: wraps data keys, seals small fields, derives blind-index and secret keys.

`local-file` (development, tests) keeps the keys in a file; `pkcs11` (production) keeps them
in a token, an HSM, and only asks it to use them. Both seal values that name the master key
that sealed them, so master keys can rotate (`kluis keys rotate`, docs/keys.md).
"""

from __future__ import annotations

from kluis.errors import ConfigurationError
from kluis.keys.base import KeyInfo, KeyProvider, ManagedKeys
from kluis.keys.local import LocalKeyFile
from kluis.settings import Settings

__all__ = [
    "KeyInfo",
    "KeyProvider",
    "LocalKeyFile",
    "ManagedKeys",
    "key_provider_from",
    "managed_keys_from",
]


def managed_keys_from(settings: Settings, *, require_keys: bool = True) -> ManagedKeys:
    """The configured provider, with the operator's commands. Without `require_keys` a
    token may still lack its keys (`kluis keys init` makes them)."""
    if settings.key_provider == "local-file":
        return LocalKeyFile(settings.path(settings.key_file))
    if settings.key_provider == "pkcs11":
        from kluis.keys.pkcs11 import Pkcs11Keys

        config = settings.pkcs11
        return Pkcs11Keys(
            config.module,
            config.token_label,
            config.pin,
            prefix=config.label_prefix,
            require_keys=require_keys,
        )
    raise ConfigurationError(f"unknown key provider {settings.key_provider!r}")


def key_provider_from(settings: Settings) -> KeyProvider:
    return managed_keys_from(settings)
