import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from xlsync.errors import UnusableInput
from xlsync.register.reader import read_register
from xlsync.register.schema import SheetKind, Status, match_header, match_sheet

from .helpers import HEADERS, ROSTER, customer, write_register


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("客户名称", "customer"),
        ("客户 名称", "customer"),
        ("客户\n名称", "customer"),
        ("Customer", "customer"),
        ("ＣＵＳＴＯＭＥＲ", "customer"),
        ("last_follow_up", "last_follow_up"),
        ("Last Follow-Up", "last_follow_up"),
        ("业务员*", "rep"),
        ("送样日期", "sampled"),
        ("备注2", None),
    ],
)
def test_headers_match_names_and_aliases_ignoring_case_space_and_width(
    text: str, key: str | None
) -> None:
    assert match_header(text) == key


def test_sheet_names_match_aliases_in_any_case_or_width() -> None:
    assert match_sheet("跟进中") is SheetKind.FOLLOWING
    assert match_sheet(" Following ") is SheetKind.FOLLOWING
    assert match_sheet("ＣＯＯＰＥＲＡＴＩＮＧ") is SheetKind.COOPERATING
    assert match_sheet("Sheet1") is None


def test_header_found_under_a_merged_title_and_rows_keep_excel_numbers(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 10, 3), status="送样"),
            [],
            customer(customer="雅玛西电子", rep="李娜", phone="138-1234-5678"),
        ],
        title="2026年10月 客户登记表",
    )
    register = read_register(path)
    sheet = register.sheets[SheetKind.FOLLOWING]
    assert sheet.header_row == 2
    assert [(r.row, r.customer) for r in sheet.rows] == [(3, "格林电子"), (5, "雅玛西电子")]
    first = sheet.rows[0]
    assert first.sampled == dt.date(2026, 10, 3)
    assert first.status is Status.SAMPLED
    assert sheet.rows[1].phones == ("13812345678",)


def test_notes_above_the_header_and_columns_in_any_order(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "following"
    ws.append(["请每天下班前更新本表"])
    ws.append(["注意：拜访后 90 天内受保护"])
    ws.append(["Rep", "微信", "Customer", "Status", "Visited"])
    ws.append(["张伟", "wx123", "格林电子", "visited", "2026/10/3"])
    path = tmp_path / "r.xlsx"
    wb.save(path)
    sheet = read_register(path).sheets[SheetKind.FOLLOWING]
    assert sheet.header_row == 3
    assert "微信" in sheet.headers
    (row,) = sheet.rows
    assert (row.row, row.rep, row.customer, row.status, row.visited) == (
        4,
        "张伟",
        "格林电子",
        Status.VISITED,
        dt.date(2026, 10, 3),
    )


def test_trailing_total_row_is_not_a_customer(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer="格林电子", rep="张伟"),
            customer(customer="华美涂料", rep="王芳"),
            ["合计", "2 家"],
            [None, "总计：2"],
        ],
    )
    rows = read_register(path).sheets[SheetKind.FOLLOWING].rows
    assert [r.customer for r in rows] == ["格林电子", "华美涂料"]


def test_1904_date_system_workbooks_read_the_same_dates(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", visited=dt.date(2026, 10, 3))],
        date1904=True,
    )
    register = read_register(path)
    assert register.date1904 is True
    assert register.sheets[SheetKind.FOLLOWING].rows[0].visited == dt.date(2026, 10, 3)


def test_settings_and_roster_from_the_settings_sheet(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟")],
        settings=[
            ["设置项", "值"],
            ["保护天数", 60],
            ["跟进提醒天数", "14天"],
            ["公司名称", "某某涂料"],
        ],
        roster=ROSTER,
    )
    settings = read_register(path).settings
    assert settings.protection_days == 60
    assert settings.follow_up_days == 14
    assert settings.company == "某某涂料"
    assert settings.roster == dict(ROSTER)


def test_defaults_without_a_settings_sheet(tmp_path: Path) -> None:
    path = write_register(tmp_path / "r.xlsx", [customer(customer="格林电子", rep="张伟")])
    settings = read_register(path).settings
    assert (settings.protection_days, settings.follow_up_days, settings.roster) == (90, 30, {})


def test_a_bad_setting_is_a_located_problem_and_the_default_stays(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟")],
        settings=[["保护天数", "三个月"]],
    )
    register = read_register(path)
    assert register.settings.protection_days == 90
    (problem,) = register.problems
    assert (problem.sheet, problem.row, problem.column, problem.value) == (
        "设置",
        1,
        "保护天数",
        "三个月",
    )


def test_missing_following_sheet_is_unusable(tmp_path: Path) -> None:
    path = write_register(tmp_path / "r.xlsx", [], sheet_names=("客户", "已合作"))
    with pytest.raises(UnusableInput, match="跟进中"):
        read_register(path)


@pytest.mark.parametrize("missing", ["客户名称", "业务员"])
def test_missing_required_header_is_unusable(tmp_path: Path, missing: str) -> None:
    headers = [h for h in HEADERS if h != missing]
    path = write_register(tmp_path / "r.xlsx", [], headers=headers)
    with pytest.raises(UnusableInput, match=missing):
        read_register(path)


def test_an_empty_cooperating_sheet_is_fine(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "跟进中"
    wb.active.append(HEADERS)
    wb.create_sheet("已合作")
    path = tmp_path / "r.xlsx"
    wb.save(path)
    register = read_register(path)
    assert register.sheets[SheetKind.COOPERATING].rows == []


def test_office_rule_settings_are_read_by_name_or_alias(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟")],
        settings=[["设置项", "值"], ["最多保护客户数", 30], ["cool_down_days", "60天"]],
    )
    register = read_register(path)
    assert (register.settings.max_protected, register.settings.cool_down_days) == (30, 60)
    assert register.problems == []


def test_office_rules_are_off_when_blank_or_absent(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟")],
        settings=[["最多保护客户数", None], ["保护天数", 90]],
    )
    register = read_register(path)
    assert (register.settings.max_protected, register.settings.cool_down_days) == (None, None)
    assert register.problems == []


@pytest.mark.parametrize("value", ["三十", 2.5, -1, "-3"])
def test_a_bad_office_rule_is_a_located_problem_and_the_rule_is_off(
    tmp_path: Path, value: object
) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟")],
        settings=[
            ["设置项", "值"],
            ["保护天数", 90],
            ["max_protected", value],
            ["冷却天数", value],
        ],
    )
    register = read_register(path)
    assert (register.settings.max_protected, register.settings.cool_down_days) == (None, None)
    located = [(p.sheet, p.row, p.column) for p in register.problems]
    assert located == [("设置", 3, "max_protected"), ("设置", 4, "冷却天数")]
    assert all("整数" in p.message for p in register.problems)


def test_a_rows_only_read_finds_the_same_rows(tmp_path: Path) -> None:
    """What a sync verifies its written file with: the same customer rows (blank and 合计
    rows skipped alike), without their cells parsed."""
    from .data_gen import make_register

    path = tmp_path / "r.xlsx"
    make_register(path, rows=400, seed=5, messy=True, problems=0.1)
    book = openpyxl.load_workbook(path)
    sheet = book["跟进中"]
    sheet.cell(sheet.max_row + 2, 2).value = "合计"  # a total row after a blank one
    book.save(path)
    full = read_register(path)
    light = read_register(path, rows_only=True)
    assert [(r.file, r.sheet, r.kind, r.row) for r in light.rows] == [
        (r.file, r.sheet, r.kind, r.row) for r in full.rows
    ]
    assert len(full.rows) > 380 and full.problems  # the register had cells to parse
    assert all(not r.customer and not r.phones for r in light.rows)
