"""`check --json` prints, byte for byte, what tests/golden/identical/ keeps, for every register
the tests have: the golden set (sample_registers/demo.xlsx, generated registers, a folder of
two), more generated registers (a larger one, a write-only one, a very messy one), a
generated register as LibreOffice saves it, and every workbook of the producer corpus
(tests/corpus_gen.py) that `check` reads. The kept text was made by the code before the
speed work of issue 18: a faster reader, matcher or writer changes nothing a user sees.

`python -m tests.test_check_identical` rewrites the kept files from the current code; do it
only for a change that is meant to change what `check` answers, and say so in the commit.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .corpus_gen import build
from .data_gen import make_register
from .golden_registers import GOLDEN, output, registers
from .office import libreoffice_roundtrip, soffice_available

KEPT = GOLDEN / "identical"


def every_register(folder: Path) -> Iterator[tuple[str, Path]]:
    """(name, path) of every register of the set, written into `folder`."""
    (folder / "golden").mkdir()
    yield from registers(folder / "golden")
    more = folder / "more"
    more.mkdir()
    big = more / "gen-11-3000.xlsx"
    make_register(big, rows=3000, seed=11)
    yield "gen-11-3000", big
    write_only = more / "gen-5-write-only.xlsx"
    make_register(write_only, rows=300, seed=5, write_only=True)
    yield "gen-5-write-only", write_only
    messy = more / "gen-41-messy.xlsx"
    make_register(messy, rows=500, seed=41, duplicates=0.2, won=0.1, problems=0.12)
    yield "gen-41-messy", messy
    if soffice_available():
        source = more / "gen-7-lo-source.xlsx"
        make_register(source, rows=400, seed=7)
        yield "gen-7-libreoffice", libreoffice_roundtrip(source, folder / "lo")
    cases, _skipped = build(folder / "corpus")
    for case in cases:
        if case.refusal is None:
            yield f"corpus-{case.name}", case.path


def printed(path: Path, folder: Path) -> str:
    """What `check PATH --json` prints, with the temporary folder's name taken out."""
    text = json.dumps(output(path), ensure_ascii=False, indent=2) + "\n"
    return text.replace(str(folder), "<tmp>")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("identical")


def test_check_json_is_byte_identical_on_every_register(folder: Path) -> None:
    seen = []
    for name, path in every_register(folder):
        kept = KEPT / f"{name}.json"
        if not kept.exists() and name == "gen-7-libreoffice":
            continue
        assert kept.exists(), f"no kept output for {name}"
        assert printed(path, folder) == kept.read_text("utf-8"), name
        seen.append(name)
    # the golden set, three more generated registers and the corpus's readable workbooks
    assert len(seen) >= 6 + 3 + 10, seen


def main() -> int:
    KEPT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, path in every_register(folder):
            (KEPT / f"{name}.json").write_text(printed(path, folder), encoding="utf-8")
            print(f"wrote {KEPT.relative_to(GOLDEN.parent.parent)}/{name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
