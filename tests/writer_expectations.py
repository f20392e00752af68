"""What a first `sync` writes into a register, kept as expectations of the writer.

`python -m tests.writer_expectations` rewrites tests/golden/writer/*.json from the current
code; do it only for a change that is meant to change what sync writes, and say so in the
commit. `tests/test_writer_stream.py` compares the current output with what is kept.

Each register is synced once (a first sync, fresh history) and read back with
python-calamine: every sheet's cells as text, one digest per sheet plus its size, and the
first rows whole, so that a difference names its sheet and shows where it starts."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from python_calamine import CalamineWorkbook

from xlsync.sync import sync

from .data_gen import make_register
from .office import libreoffice_roundtrip, soffice_available

HERE = Path(__file__).resolve().parent
KEPT = HERE / "golden" / "writer"
DEMO = HERE.parent / "sample_registers" / "demo.xlsx"
AS_OF = dt.date(2026, 11, 1)
NOW = dt.datetime(2026, 11, 1, 9, 0)
SHOWN = 8  # rows of each sheet kept whole


def registers(folder: Path, *, libreoffice: bool) -> Iterator[tuple[str, Path]]:
    """(name, path) of the registers whose first sync is kept."""
    demo = folder / "demo.xlsx"
    shutil.copy(DEMO, demo)
    yield "demo", demo
    generated = folder / "gen" / "gen-1000.xlsx"
    generated.parent.mkdir()
    make_register(generated, rows=1000, seed=11)
    saved = libreoffice_roundtrip(generated, folder / "lo") if libreoffice else None
    yield "gen-1000", generated
    if saved is not None:  # as LibreOffice saves it: shared strings, its own styles
        yield "lo-1000", saved


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def written(path: Path) -> dict[str, object]:
    """Sync `path` once (it must be fresh) and describe every sheet of the result."""
    outcome = sync(path, AS_OF, now=NOW)
    assert all(f.written for f in outcome.files), [f.refused for f in outcome.files]
    book = CalamineWorkbook.from_path(str(path))
    sheets: dict[str, object] = {}
    for name in book.sheet_names:
        grid = [[_text(v) for v in row] for row in book.get_sheet_by_name(name).to_python()]
        while grid and not any(grid[-1]):
            grid.pop()
        canonical = json.dumps(grid, ensure_ascii=False, separators=(",", ":"))
        sheets[name] = {
            "rows": len(grid),
            "sha256": hashlib.sha256(canonical.encode()).hexdigest(),
            "first": grid[:SHOWN],
        }
    return {"sheets": sheets}


def main() -> int:
    KEPT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in registers(Path(tmp), libreoffice=soffice_available()):
            text = json.dumps(written(path), ensure_ascii=False, indent=1, sort_keys=True)
            (KEPT / f"{name}.json").write_text(text + "\n", encoding="utf-8")
            print(f"wrote tests/golden/writer/{name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
