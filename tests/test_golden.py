"""`check --json` answers exactly what tests/golden/ keeps for every register of the golden
set (sample_registers/demo.xlsx, generated registers, a folder of two): a restructuring
changes no answer. Fields added later (such as a problem's `code`) are ignored only where
the kept output does not have them yet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .golden_registers import GOLDEN, output, registers


def _without_new_keys(now: object, kept: object) -> object:
    """`now` with the dict keys that `kept` does not have removed, recursively."""
    if isinstance(now, dict) and isinstance(kept, dict):
        return {k: _without_new_keys(v, kept[k]) for k, v in now.items() if k in kept}
    if isinstance(now, list) and isinstance(kept, list) and len(now) == len(kept):
        return [_without_new_keys(a, b) for a, b in zip(now, kept, strict=True)]
    return now


@pytest.fixture(scope="module")
def golden_set(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Path]]:
    return list(registers(tmp_path_factory.mktemp("golden")))


def test_every_golden_register_answers_as_kept(golden_set: list[tuple[str, Path]]) -> None:
    assert len(golden_set) == 6
    for name, path in golden_set:
        kept = json.loads((GOLDEN / f"{name}.json").read_text("utf-8"))
        now = json.loads(json.dumps(output(path), ensure_ascii=False, sort_keys=True))
        assert _without_new_keys(now, kept) == kept, name
