"""A decision taken in 待确认 counts in the very sync that appends it to 裁决: that sync's
hints, 冲突 and 待确认 are final, and the next sync writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.helpers import ROSTER, customer, run_cli, write_register

D = dt.date
AS_OF = "2026-11-01"
LOOK_ALIKES = [
    customer(customer="深圳市金辉五金有限公司", phone="13800000001", rep="张伟",
             visited=D(2026, 10, 1), status="拜访"),
    customer(customer="深圳市金晖五金有限公司", phone="13900000002", rep="王芳",
             visited=D(2026, 10, 5), status="拜访"),
    customer(customer="东莞市宏泰塑胶有限公司", rep="李娜", visited=D(2026, 10, 5), status="拜访"),
    customer(customer="东莞市宏太塑胶有限公司", rep="刘洋", visited=D(2026, 10, 5), status="拜访"),
]  # fmt: skip


def _hints(path: Path) -> dict[str, Any]:
    ws = openpyxl.load_workbook(path)["跟进中"]
    return {r[1]: r[-1] for r in ws.iter_rows(min_row=2, values_only=True) if r[1]}


def _choose(path: Path, choice: str, rulings_sheet: bool) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["待确认"]
    assert [ws.cell(2, 1).value, ws.cell(2, 7).value] == ["C000001", "C000002"]
    ws.cell(2, 14).value = choice
    ws.cell(2, 15).value = "陈经理"
    if rulings_sheet:  # the manager's own sheet, with a title row and one ruling already
        sheet = wb.create_sheet("裁决")
        sheet.append(["经理裁决记录"])
        sheet.append(["日期", "裁决", "客户", "另一客户", "业务员", "保护天数", "经办人", "备注"])
        sheet.append([D(2026, 10, 20), "不同客户", "C000003", "C000004", None, None, "陈经理"])
    wb.save(path)


@pytest.mark.parametrize("rulings_sheet", [False, True])
def test_same_customer_counts_in_the_same_sync(tmp_path: Path, rulings_sheet: bool) -> None:
    path = write_register(tmp_path / "r.xlsx", LOOK_ALIKES, roster=ROSTER)
    assert run_cli("sync", path, "--as-of", AS_OF).code == 0
    assert _hints(path)["深圳市金晖五金有限公司"].startswith("【待确认】")
    _choose(path, "同一客户", rulings_sheet)
    assert run_cli("sync", path, "--as-of", AS_OF).code in (0, 1)
    wb = openpyxl.load_workbook(path)
    appended = [list(r) for r in wb["裁决"].iter_rows(values_only=True)][-1]
    assert appended[1:4] == ["同一客户", "C000001", "C000002"]
    row = wb["裁决"].max_row
    hints = _hints(path)
    # the final hints at once: 王芳 must stop
    assert hints["深圳市金晖五金有限公司"].startswith("【冲突】"), hints
    assert "【待确认】" not in (hints["深圳市金辉五金有限公司"] or "")
    review = [r[0] for r in wb["待确认"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert "C000001" not in review
    conflicts = list(wb["冲突"].iter_rows(min_row=2, values_only=True))
    assert any(r[3] == "王芳" and r[-1] == str(row) for r in conflicts)  # 裁决行: the new row
    before = path.read_bytes()
    again = run_cli("sync", path, "--as-of", AS_OF)
    assert "无需改动" in again.stdout, again.stdout
    assert path.read_bytes() == before


def test_different_customers_count_in_the_same_sync(tmp_path: Path) -> None:
    path = write_register(tmp_path / "r.xlsx", LOOK_ALIKES, roster=ROSTER)
    assert run_cli("sync", path, "--as-of", AS_OF).code == 0
    _choose(path, "不同客户", rulings_sheet=False)
    assert run_cli("sync", path, "--as-of", AS_OF).code in (0, 1)
    hints = _hints(path)
    assert not hints["深圳市金辉五金有限公司"] and not hints["深圳市金晖五金有限公司"]
    again = run_cli("sync", path, "--as-of", AS_OF)
    assert "无需改动" in again.stdout, again.stdout


def test_an_open_pair_in_review_is_not_rewritten_by_every_sync(tmp_path: Path) -> None:
    path = write_register(tmp_path / "r.xlsx", LOOK_ALIKES, roster=ROSTER)
    assert run_cli("sync", path, "--as-of", AS_OF).code == 0
    again = run_cli("sync", path, "--as-of", AS_OF)
    assert "无需改动" in again.stdout, again.stdout
