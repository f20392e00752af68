"""`init` creates the manager's 裁决 sheet ready to use: headers, dropdowns, date format."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from tests.helpers import customer, run_cli

RULING_HEADERS = ["日期", "裁决", "客户", "另一客户", "业务员", "保护天数", "经办人", "备注"]


def _init(tmp_path: Path) -> Path:
    path = tmp_path / "客户登记表.xlsx"
    run = run_cli("init", path)
    assert run.code == 0, run.stderr
    return path


def test_init_writes_the_rulings_sheet_with_its_dropdowns(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(_init(tmp_path))
    ws = wb["裁决"]
    assert [c.value for c in ws[1]][: len(RULING_HEADERS)] == RULING_HEADERS
    note = ws.cell(row=1, column=len(RULING_HEADERS) + 2).value
    assert isinstance(note, str) and "指派" in note and "编号" in note
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].number_format == "yyyy-mm-dd"
    by_column = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    assert by_column["B2"].type == "list"
    assert by_column["B2"].formula1 == '"同一客户,不同客户,指派,释放"'
    assert by_column["E2"].type == "list" and by_column["E2"].formula1 == "业务员名单"
    assert by_column["A2"].type == "date"
    assert "业务员名单" in wb.defined_names


def test_a_fresh_register_with_a_ruling_syncs_and_checks_cleanly(tmp_path: Path) -> None:
    path = _init(tmp_path)
    assert run_cli("check", path, "--json").code == 0
    wb = openpyxl.load_workbook(path)
    wb["跟进中"].append(
        customer(customer="格林电子", rep="张伟", visited=dt.date(2026, 10, 1), status="拜访")
    )
    wb["跟进中"].append(
        customer(customer="深圳格林电子有限公司", rep="李娜", visited=dt.date(2026, 10, 9),
                 status="拜访")
    )  # fmt: skip
    wb["裁决"].append([dt.date(2026, 10, 20), "指派", "格林电子", None, "李娜", "长期", "陈经理"])
    wb.save(path)
    run = run_cli("sync", path, "--as-of", "2026-11-01")
    assert run.code in (0, 1), run.stderr
    data = run_cli("check", path, "--json", "--as-of", "2026-11-01").json()
    assert data["problems"] == []
    assert data["rulings"] == [
        {"row": 2, "kind": "assign", "applied": True,
         "rows": [{"sheet": "跟进中", "row": 2}, {"sheet": "跟进中", "row": 3}]}
    ]  # fmt: skip
    (conflict,) = data["conflicts"]
    assert conflict["owner"]["rep"] == "李娜"
    assert "经理指派 2026-10-20，长期保护" in conflict["owner"]["reason"]
    again = run_cli("sync", path, "--as-of", "2026-11-01")
    assert again.code in (0, 1) and "无需改动" in again.stdout, again.stdout
