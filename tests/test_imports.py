"""Starting xlsync and checking a register import none of the heavy libraries that only some
commands need (openpyxl pulls in numpy; pypinyin loads its phrase dictionary; fpdf2 and
jinja2 are for handouts; watchdog for `watch`): `xlsync --help` and a small `check` stay
quick."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .data_gen import make_register

HEAVY = ("openpyxl", "numpy", "pypinyin", "fpdf", "jinja2", "watchdog", "pandas")
ROOT = Path(__file__).resolve().parent.parent


def _loaded(code: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """The `heavy` top-level modules in sys.modules after running `code` in a fresh Python."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    return [m for m in heavy if m in modules]


@pytest.mark.parametrize("module", ["xlsync.cli", "xlsync.check", "xlsync.sync", "xlsync.watch"])
def test_importing_loads_no_heavy_library(module: str) -> None:
    allowed = {"watchdog"} if module == "xlsync.watch" else set()
    assert [m for m in _loaded(f"import {module}") if m not in allowed] == []
    # libphonenumber reads only numbers outside China: imported when one is met
    assert "phonenumbers" not in _loaded(f"import {module}", ("phonenumbers",))


def test_help_and_check_load_no_heavy_library(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    make_register(path, rows=60, seed=3)
    run_cli = (
        "import sys\nfrom xlsync.cli import app\n"
        "try:\n    app(args={args!r})\nexcept SystemExit:\n    pass"
    )
    assert _loaded(run_cli.format(args=["--help"])) == []
    check = ["check", str(path), "--json", "--as-of", "2026-11-01"]
    assert _loaded(run_cli.format(args=check)) == []


def test_the_command_line_starts_without_the_pipeline_or_the_servers() -> None:
    """`xlsync --help` (and every command before it runs) imports neither rich nor the
    check pipeline nor the server, database and mail libraries: the `notify`, `serve`,
    `users` and `db` commands import them when they run."""
    later = ("rich", "xlsync.check", "xlsync.workspace", "httpx", "starlette", "psycopg")
    probe = f"import sys, xlsync.cli\nprint(','.join(m for m in {later!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""
