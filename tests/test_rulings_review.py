"""待确认 and 裁决 beyond one file: a pair across two files of a folder set is asked once,
its decision applies across the set, the appended 日期 is a real Excel date (read back
after LibreOffice re-saves the workbook), and a 同一客户 ruling is named wherever the
customer's decision shows (hints, 冲突, who, the board)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.helpers import ROSTER, customer, run_cli, write_register
from xlsync.check import run_check
from xlsync.reports.data import build_board

D = dt.date
AS_OF = "2026-11-01"
RULING_HEADER = ["日期", "裁决", "客户", "另一客户", "业务员", "保护天数", "经办人", "备注"]
JINHUI = customer(customer="深圳市金辉五金有限公司", phone="13800000001", rep="张伟",
                  visited=D(2026, 10, 1), status="拜访")  # fmt: skip
JINHUI2 = customer(customer="深圳市金晖五金有限公司", phone="13900000002", rep="王芳",
                   visited=D(2026, 10, 5), status="拜访")  # fmt: skip


def _sheet(path: Path, name: str) -> list[list[Any]]:
    wb = openpyxl.load_workbook(path)
    if name not in wb.sheetnames:
        return []
    return [list(r) for r in wb[name].iter_rows(values_only=True)]


def _hint(path: Path, name: str) -> str:
    return next(str(r[-1]) for r in _sheet(path, "跟进中") if r[1] == name)


def test_a_pair_across_two_files_is_asked_once_and_decided_for_the_set(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    # b.xlsx holds the first 编号 (C000001) but a.xlsx comes first by name: it asks
    b = write_register(folder / "b.xlsx", [JINHUI], roster=ROSTER)
    a = write_register(folder / "a.xlsx", [JINHUI2], roster=ROSTER)
    assert run_cli("sync", folder, "--as-of", AS_OF).code == 0
    review_a = _sheet(a, "待确认")
    assert len(review_a) == 2 and review_a[1][1] == "深圳市金晖五金有限公司"
    assert review_a[1][7] == "深圳市金辉五金有限公司"
    assert len(_sheet(b, "待确认")) <= 1  # never the same pair twice
    assert "由经理在「待确认」中裁定" in _hint(a, "深圳市金晖五金有限公司")
    assert "由经理在 a.xlsx 的「待确认」中裁定" in _hint(b, "深圳市金辉五金有限公司")
    data = run_cli("check", folder, "--json", "--as-of", AS_OF).json()
    assert [[r["file"] for r in p["rows"]] for p in data["possible"]] == [["a.xlsx", "b.xlsx"]]

    wb = openpyxl.load_workbook(a)
    wb["待确认"].cell(2, 14).value = "同一客户"
    wb["待确认"].cell(2, 15).value = "陈经理"
    wb.save(a)
    assert run_cli("sync", folder, "--as-of", "2026-11-02").code in (0, 1)
    appended = _sheet(a, "裁决")
    assert appended[1][:4] == [dt.datetime(2026, 11, 2), "同一客户", review_a[1][0], review_a[1][6]]
    assert _sheet(b, "裁决") == []
    data = run_cli("check", folder, "--json", "--as-of", "2026-11-02").json()
    assert data["possible"] == []
    (group,) = data["groups"]
    assert sorted(r["file"] for r in group["rows"]) == ["a.xlsx", "b.xlsx"]
    assert data["rulings"][0]["applied"] is True
    # the earlier visit (张伟, in b.xlsx) owns it; 王芳 in a.xlsx must stop, told why
    assert _hint(a, "深圳市金晖五金有限公司").startswith("【冲突】与 张伟 冲突")
    assert _hint(a, "深圳市金晖五金有限公司").endswith("；经理裁定为同一客户（裁决第 2 行）")


def _calamine_cell(path: Path, sheet: str, row: int, col: int) -> object:
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return grid[row - 1][col - 1]


@pytest.mark.parametrize("above", ["date", "text"])
def test_the_appended_date_is_a_real_date_after_libreoffice(tmp_path: Path, above: str) -> None:
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed")
    path = write_register(tmp_path / "r.xlsx", [JINHUI, JINHUI2], roster=ROSTER)
    assert run_cli("sync", path, "--as-of", AS_OF).code == 0
    wb = openpyxl.load_workbook(path)
    wb["待确认"].cell(2, 14).value = "不同客户"
    sheet = wb.create_sheet("裁决")
    sheet.append(RULING_HEADER)
    # the manager's own row: a real date in yyyy/mm/dd, or the date typed as text
    first = D(2026, 10, 20) if above == "date" else "2026-10-20"
    sheet.append([first, "指派", "C000001", None, "张伟", None, "陈经理"])
    if above == "date":
        sheet.cell(2, 1).number_format = "yyyy/mm/dd"
    wb.save(path)
    assert run_cli("sync", path, "--as-of", "2026-11-02").code in (0, 1)
    cell = openpyxl.load_workbook(path)["裁决"].cell(3, 1)
    assert cell.value == dt.datetime(2026, 11, 2) and cell.is_date
    if above == "date":
        assert cell.number_format == "yyyy/mm/dd"  # the column's own format
    # the manager's rows are untouched
    assert _sheet(path, "裁决")[1][0] == (dt.datetime(2026, 10, 20) if above == "date" else first)
    # LibreOffice re-saves it: still a date, as calamine (xlsync's reader) sees it
    out = tmp_path / "lo"
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(path)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    value = _calamine_cell(out / "r.xlsx", "裁决", 3, 1)
    assert isinstance(value, dt.date) and value == D(2026, 11, 2), value
    data = run_cli("check", out / "r.xlsx", "--json", "--as-of", "2026-11-02").json()
    assert all(r["applied"] for r in data["rulings"])


def test_a_same_customer_ruling_is_named_wherever_the_decision_shows(tmp_path: Path) -> None:
    rows = [
        customer(customer="深圳市联力电子有限公司", phone="0755-29981234", rep="张伟",
                 visited=D(2026, 10, 1), status="拜访"),
        customer(customer="华南联力", phone="13712345678", rep="王芳",
                 visited=D(2026, 10, 5), status="拜访"),
    ]  # fmt: skip
    ruling = [D(2026, 10, 20), "同一客户", "联力电子", "137 1234 5678"]
    path = write_register(
        tmp_path / "r.xlsx", rows, roster=ROSTER, extra_sheets={"裁决": [RULING_HEADER, ruling]}
    )
    said = "经理裁定为同一客户（裁决第 2 行）"
    assert run_cli("sync", path, "--as-of", AS_OF).code == 0
    assert _hint(path, "深圳市联力电子有限公司") == (
        f"【归属】本客户归你（拜访 2026-10-01，保护至 2026-12-30）；王芳 须停止跟进；{said}"
    )
    assert _hint(path, "华南联力").startswith("【冲突】与 张伟 冲突")
    assert _hint(path, "华南联力").endswith(f"请停止跟进；{said}")
    conflicts = _sheet(path, "冲突")
    assert conflicts[0][-2:] == ["匹配依据", "裁决行"]
    # the matcher also finds the names alike: both reasons are named, the ruling last
    assert all(r[-2].endswith(said) and r[-1] == "2" for r in conflicts[1:])
    who = run_cli("who", path, "13712345678", "--json", "--as-of", AS_OF).json()
    assert who["customers"][0]["verdict"] == f"请勿联系：已由 张伟 拜访保护至 2026-12-30；{said}"
    result = run_check(path, D(2026, 11, 1))
    board = build_board(result, company="测试", now=dt.datetime(2026, 11, 1, 9))
    verdicts = {c.name: c.verdict for c in board.customers}
    assert verdicts["深圳市联力电子有限公司"].endswith(f"；{said}")


def test_merged_cells_in_the_rulings_sheet_are_located_not_a_traceback(tmp_path: Path) -> None:
    rows = [
        [None],  # the title row, merged across
        RULING_HEADER,
        [D(2026, 10, 20), "不同客户", "金辉五金", "金晖五金", None, None, "陈经理", "两家公司"],
        [None, "释放", "金辉五金", None, None, None, "陈经理"],  # its 日期 merged from above
    ]
    path = write_register(
        tmp_path / "r.xlsx", [JINHUI, JINHUI2], roster=ROSTER, extra_sheets={"裁决": rows}
    )
    wb = openpyxl.load_workbook(path)
    ws = wb["裁决"]
    ws["A1"] = "经理裁决记录"
    ws.merge_cells("A1:H1")
    ws.merge_cells("A3:A4")
    ws.merge_cells("H3:H4")
    wb.save(path)
    run = run_cli("check", path, "--json", "--as-of", AS_OF)
    assert run.code in (0, 1) and "Traceback" not in run.stderr, run.stderr
    data = run.json()
    (problem,) = [p for p in data["problems"] if p["sheet"] == "裁决"]
    assert [(r["row"], r["applied"]) for r in data["rulings"]] == [(3, True), (4, False)]
    assert (problem["row"], problem["column"], problem["code"]) == (4, "日期", "ruling.bad_date")
    assert data["possible"] == []  # ruled 不同客户: no longer asked


@pytest.mark.parametrize(
    ("days", "said"),
    [
        (None, "保护至 2027-01-23"),  # blank: the setting (90 days)
        (30, "保护至 2026-11-24"),
        ("长期", "长期保护"),
    ],
)
def test_an_assignment_runs_for_the_setting_given_days_or_long_term(
    tmp_path: Path, days: object, said: str
) -> None:
    ruling = [D(2026, 10, 25), "指派", "深圳市金辉五金有限公司", None, "王芳", days, "陈经理"]
    path = write_register(
        tmp_path / "r.xlsx", [JINHUI], roster=ROSTER, extra_sheets={"裁决": [RULING_HEADER, ruling]}
    )
    who = run_cli("who", path, "金辉五金", "--as-of", AS_OF)
    assert who.code == 1
    assert f"请勿联系：经理已指派给 王芳，{said}" in who.stdout
    # after its end nobody is protected (张伟's visit was cut on the assignment's 日期)
    if days is not None and days != "长期":
        assert run_cli("who", path, "金辉五金", "--as-of", "2026-11-25").code == 0
