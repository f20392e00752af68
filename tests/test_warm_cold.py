"""A warm process answers as a cold one: after a watcher has synced a register twice (the
name keys, phone readings, sounds and the grouping answer cached in its process), a check
in that process prints exactly what `xlsync check --json` prints in a fresh process."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl

from xlsync.check import check_json, run_check
from xlsync.watch import WatchConfig, Watcher

from .data_gen import make_register
from .helpers import run_cli

AS_OF = dt.date(2026, 11, 1)


def _edit(path: Path) -> None:
    """What a rep does between two saves: copy one customer's name onto another row (a new
    duplicate claim), rename a third one, and blank a phone."""
    book = openpyxl.load_workbook(path)
    sheet = book["跟进中"]
    header_row = next(
        r for r in range(1, 30) if any(c.value == "客户名称" for c in sheet[r] if c.value)
    )
    cols = {c.value: c.column for c in sheet[header_row] if c.value}
    name, phone = cols["客户名称"], cols["电话"]
    rows = [r for r in range(header_row + 1, sheet.max_row + 1) if sheet.cell(r, name).value]
    sheet.cell(rows[10], name).value = sheet.cell(rows[3], name).value
    sheet.cell(rows[20], name).value = "深圳市新隆电子有限公司"
    sheet.cell(rows[30], phone).value = None
    book.save(path)


def test_a_warm_watcher_and_a_cold_check_agree(tmp_path: Path) -> None:
    path = tmp_path / "客户登记表.xlsx"
    make_register(path, rows=300, seed=23)
    watcher = Watcher(tmp_path, WatchConfig(scheduled=False), today=lambda: AS_OF)
    first = watcher.once()
    assert first is not None and first.files[0].written
    _edit(path)
    second = watcher.once()
    assert second is not None and second.files[0].written
    assert check_json(second.result) != check_json(first.result)  # the edit was seen
    warm = json.dumps(check_json(run_check(tmp_path, AS_OF)), ensure_ascii=False, indent=2)
    cold = run_cli("check", tmp_path, "--json", "--as-of", AS_OF.isoformat())
    assert cold.code in (0, 1), cold.stderr
    assert warm + "\n" == cold.stdout
