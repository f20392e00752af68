"""The registers whose `check --json` output is kept in tests/golden/, and the output itself.

`python -m tests.golden_registers` rewrites tests/golden/*.json from the current code; do it
only for a change that is meant to change what `check` answers, and say so in the commit.
`tests/test_golden.py` compares the current output with what is kept."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from xlsync.check import check_json, run_check

from .data_gen import make_register

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
DEMO = HERE.parent / "sample_registers" / "demo.xlsx"
AS_OF = dt.date(2026, 11, 1)


def registers(folder: Path) -> Iterator[tuple[str, Path]]:
    """(name, path) of every register in the golden set, written into `folder`."""
    demo = folder / "demo.xlsx"
    shutil.copy(DEMO, demo)
    yield "demo", demo
    for seed in (7, 21, 99):
        path = folder / f"gen-{seed}.xlsx"
        make_register(path, rows=400, seed=seed)
        yield f"gen-{seed}", path
    clean = folder / "clean.xlsx"
    make_register(clean, rows=200, seed=2, title_row=False, messy=False, roster=False)
    yield "clean", clean
    office = folder / "office"
    office.mkdir()
    make_register(office / "业务一部.xlsx", rows=150, seed=31)
    make_register(office / "业务二部.xlsx", rows=150, seed=32)
    yield "folder", office


def output(path: Path) -> dict[str, object]:
    """`check --json` as the command prints it, with the register named as in the set."""
    data = check_json(run_check(path, AS_OF))
    data["register"] = path.name
    return data


def main() -> int:
    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in registers(Path(tmp)):
            text = json.dumps(output(path), ensure_ascii=False, indent=1, sort_keys=True)
            (GOLDEN / f"{name}.json").write_text(text + "\n", encoding="utf-8")
            print(f"wrote tests/golden/{name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
