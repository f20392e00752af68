"""The cool-down that only the history knows: a rep who typed a new 拜访日期 over the old one
is still in cool-down; a manager's 释放 starts one too. Across real syncs of a real file."""

import datetime as dt
from pathlib import Path

import openpyxl

from tests.helpers import ROSTER, customer, run_cli, write_register
from xlsync.register.schema import HINT_HEADER

COOLED = "【冷却】冷却期内（原保护 2026-07-30 到期，冷却至 2026-09-28），本次拜访不受保护"


def _hints(path: Path) -> dict[int, str]:
    ws = openpyxl.load_workbook(path)["跟进中"]
    header = [c.value for c in ws[1]]
    col = header.index(HINT_HEADER)
    return {r[0].row: r[col].value or "" for r in ws.iter_rows(min_row=2)}


def _set_cell(path: Path, row: int, header: str, value: object) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["跟进中"]
    col = [c.value for c in ws[1]].index(header) + 1
    ws.cell(row=row, column=col, value=value)
    wb.save(path)


def _sync(path: Path, as_of: str) -> None:
    run = run_cli("sync", path, "--as-of", as_of)
    assert run.code in (0, 1), run.stderr


def _register(path: Path, cool: int | None) -> Path:
    d = dt.date
    return write_register(
        path,
        [
            customer(customer="丁塑胶有限公司", rep="李娜", visited=d(2026, 5, 1)),
            customer(customer="戊五金有限公司", rep="张伟", visited=d(2026, 10, 1)),
        ],
        [],
        settings=[["设置项", "值"], ["保护天数", 90], ["冷却天数", cool]],
        roster=ROSTER,
    )


def test_an_overwritten_visit_date_is_still_in_cool_down(tmp_path: Path) -> None:
    path = _register(tmp_path / "r.xlsx", 60)
    _sync(path, "2026-06-01")  # the history now knows the visit of 2026-05-01
    assert _hints(path)[2] == ""
    _set_cell(path, 2, "拜访日期", dt.datetime(2026, 9, 1))  # typed over the old date
    _sync(path, "2026-09-05")  # sees the change: the old date goes into the history
    assert _hints(path)[2] == COOLED
    who = run_cli("who", path, "丁塑胶有限公司", "--as-of", "2026-09-05", "--rep", "王芳")
    assert who.stdout.startswith("可以联系"), who.stdout
    # a visit after the cool-down protects anew
    _set_cell(path, 2, "拜访日期", dt.datetime(2026, 10, 1))
    _sync(path, "2026-10-02")
    assert _hints(path)[2] == ""


def test_without_the_setting_the_overwritten_date_protects(tmp_path: Path) -> None:
    path = _register(tmp_path / "r.xlsx", None)
    _sync(path, "2026-06-01")
    _set_cell(path, 2, "拜访日期", dt.datetime(2026, 9, 1))
    _sync(path, "2026-09-05")
    assert _hints(path)[2] == ""
    who = run_cli("who", path, "丁塑胶有限公司", "--as-of", "2026-09-05")
    assert who.stdout.startswith("请勿联系：已由 李娜 拜访保护至 2026-11-30"), who.stdout


def test_a_release_starts_a_cool_down(tmp_path: Path) -> None:
    d = dt.date
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer="戊五金有限公司", rep="张伟", visited=d(2026, 9, 1)),
            customer(customer="戊五金有限公司", rep="张伟", visited=d(2026, 10, 20)),
            customer(customer="己电子有限公司", rep="王芳", visited=d(2026, 10, 20)),
        ],
        [],
        settings=[["设置项", "值"], ["保护天数", 90], ["冷却天数", 30]],
        roster=ROSTER,
        extra_sheets={
            "裁决": [
                ["日期", "裁决", "客户", "另一客户", "业务员", "保护天数", "经办人", "备注"],
                ["2026-10-01", "释放", "戊五金有限公司", None, None, None, "经理", None],
            ]
        },
    )
    _sync(path, "2026-11-01")
    hints = _hints(path)
    assert "冷却期内（原保护 2026-10-01 经理释放，冷却至 2026-10-31），本次拜访不受保护" in hints[3]
    who = run_cli("who", path, "戊五金有限公司", "--as-of", "2026-11-01", "--rep", "王芳")
    assert who.stdout.startswith("可以联系"), who.stdout
