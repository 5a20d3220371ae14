"""The `kluis` command line in a process of its own, on the test platform's settings."""

from __future__ import annotations

import json
import os

from kluis.settings import Settings


def command_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that gives a `kluis` process the same database, keys, data folder
    (and with it the task broker), scanner and storage locations as `settings`."""
    return {
        **os.environ,
        "KLUIS_ENV": "test",
        "KLUIS_PORT": str(settings.port),
        "KLUIS_DATABASE_URL": settings.database_url,
        "KLUIS_KEY_FILE": settings.key_file,
        "KLUIS_DATA_DIR": settings.data_dir,
        "KLUIS_VAULT__CLAMD_URL": settings.vault.clamd_url,
        "KLUIS_VAULT__LOCATIONS": json.dumps(
            [{"path": location.path} for location in settings.vault.locations]
        ),
        **extra,
    }
