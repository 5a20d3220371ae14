"""deploy/systemd/: every unit as systemd reads it (`systemd-analyze verify`, which also
checks that each program exists), and every command a unit starts is one `kluis` has (its
options are the command's to check: `kluis worker` hands its own on to Celery)."""

from __future__ import annotations

import itertools
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kluis.cli import main

PROJECT = Path(__file__).resolve().parents[3]
UNITS = PROJECT / "deploy" / "systemd"
INSTALLED = "/srv/kluis"  # where docs/operations.md installs the code

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (package systemd)"
)


def verify(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in folder.iterdir())],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )


def units_here(folder: Path, change: tuple[str, str] | None = None) -> Path:
    """The units, their paths pointed at this checkout (its `.venv`), optionally changed."""
    for unit in UNITS.iterdir():
        text = unit.read_text().replace(INSTALLED, str(PROJECT))
        if change is not None:
            text = text.replace(*change)
        (folder / unit.name).write_text(text)
    return folder


def test_systemd_reads_every_unit_without_a_complaint(tmp_path):
    checked = verify(units_here(tmp_path))
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""


def test_the_check_would_see_a_mistake(tmp_path):
    mistaken = units_here(tmp_path, ("\nNice=10", "\nNicety=10"))
    assert "Unknown key 'Nicety'" in verify(mistaken).stderr


def test_the_scrub_timer_starts_the_scrub_weekly():
    timer = (UNITS / "kluis-scrub.timer").read_text()
    assert "OnCalendar=Sun 03:00" in timer
    assert "Persistent=true" in timer
    assert (UNITS / "kluis-scrub.service").exists()  # a timer starts the service of its name


@pytest.mark.parametrize("unit", sorted(p.name for p in UNITS.glob("*.service")))
def test_every_command_a_unit_starts_is_a_kluis_command(unit):
    [line] = [
        line for line in (UNITS / unit).read_text().splitlines() if line.startswith("ExecStart=")
    ]
    program, *arguments = shlex.split(line.removeprefix("ExecStart="))
    assert program == f"{INSTALLED}/.venv/bin/kluis"
    words = list(itertools.takewhile(lambda a: not a.startswith("-"), arguments))
    result = CliRunner().invoke(main, [*words, "--help"])
    assert result.exit_code == 0, result.output
