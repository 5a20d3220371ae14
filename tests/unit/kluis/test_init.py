"""What importing the kernel sets up for every process (src/kluis/__init__.py)."""

from __future__ import annotations

import subprocess
import sys


def test_a_command_does_not_warn_that_httpx_is_deprecated():
    # Each `kluis` command printed authlib's warning: authlib's "always" filter, made when
    # it is first imported, came in front of ours.
    run = subprocess.run(
        [
            sys.executable,
            "-W",
            "default",
            "-c",
            "import kluis; from authlib.integrations.httpx_client import AsyncOAuth2Client",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "httpx module is deprecated" not in run.stderr
