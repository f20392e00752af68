"""`check` on generated registers finds exactly what the generator planted."""

import datetime as dt
from pathlib import Path

import pytest

from xlsync.check import run_check

from .data_gen import make_register


@pytest.mark.parametrize("seed", [7, 21, 99])
def test_check_finds_every_planted_problem_move_and_duplicate(tmp_path: Path, seed: int) -> None:
    info = make_register(tmp_path / "r.xlsx", rows=400, seed=seed)
    result = run_check(info.path, dt.date(2026, 11, 1))
    asked = {(r.sheet, r.row) for r in info.won_date_missing}  # 已合作 without 成交日期
    assert {(p.sheet, p.row) for p in result.problems} == (
        {(p.sheet, p.row) for p in info.problems} | asked
    )
    assert [(r.sheet, r.row) for r in result.moves] == sorted(info.moves, key=lambda m: m.row)
    found = {frozenset((r.sheet, r.row) for r in g.rows) for g in result.groups}
    planted = {frozenset(g) for g in info.duplicate_groups()}
    assert found == planted
    rows_per_sheet = {sheet: n for sheet, n in info.data_rows.items()}
    assert {
        s: sum(1 for r in result.rows if r.sheet == s) for s in rows_per_sheet
    } == rows_per_sheet


def test_the_sample_register_is_what_its_readme_says() -> None:
    path = Path(__file__).parent.parent / "sample_registers" / "demo.xlsx"
    result = run_check(path, dt.date(2026, 11, 1))
    assert len(result.problems) == 16  # 9 planted, 7 moves marked 已合作 with no 成交日期
    assert len(result.moves) == 15
    assert len(result.groups) == 17
