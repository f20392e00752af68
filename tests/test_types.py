"""The type checker runs with the suite: mypy over the whole package with the project's
configuration (pyproject.toml: strict on the core modules)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_mypy_passes_on_the_package() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_type_ignore_names_the_stub_gap() -> None:
    """A `type: ignore` in the package is allowed only under a comment (within the three
    lines above it) that says which library's types fall short."""
    bare: list[str] = []
    for path in sorted((REPO / "xlsync").rglob("*.py")):
        lines = path.read_text("utf-8").splitlines()
        for i, line in enumerate(lines):
            if "type: ignore" not in line:
                continue
            above = [t.strip() for t in lines[max(i - 3, 0) : i]]
            if not any(t.startswith("#") and "types" in t for t in above):
                bare.append(f"{path.relative_to(REPO)}:{i + 1}")
    assert bare == []
