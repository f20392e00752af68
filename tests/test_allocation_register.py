"""分配规则 through a real register: read from 设置 (beside the roster), suggested in `who`,
on the board and in the handout's hand-over list; bad rows are located problems."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.helpers import customer, run_cli, write_register
from xlsync.check import run_check
from xlsync.lookup import LookupIndex
from xlsync.reports.data import build_board, build_daily, build_monthly

AS_OF = dt.date(2026, 11, 1)
ROSTER = [("张伟", "销售一部"), ("王芳", "销售二部"), ("李娜", "销售二部"), ("刘洋", "销售二部")]


def _register(
    path: Path, rules: list[list[object]], extra: list[list[object]] | None = None
) -> Path:
    d = dt.date
    path = write_register(
        path,
        [
            # expired (2026-07-30): freed; 李娜 held it, so not her
            customer(customer="深圳市甲涂料有限公司", rep="李娜", visited=d(2026, 5, 1)),
            # 王芳 holds two, 刘洋 one: the least loaded other rep is 刘洋
            customer(customer="乙电子有限公司", rep="王芳", visited=d(2026, 10, 1), region="深圳"),
            customer(customer="丙五金有限公司", rep="王芳", visited=d(2026, 10, 2), region="东莞"),
            customer(customer="丁塑胶有限公司", rep="刘洋", visited=d(2026, 10, 3), region="深圳"),
            # a freed customer in Beijing: no rule fits, no suggestion
            customer(customer="北京戊科技有限公司", rep="张伟", visited=d(2026, 4, 1)),
        ],
        [],
        settings=[["设置项", "值"], ["保护天数", 90], *(extra or [])],
        roster=None,
    )
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("设置") if "设置" not in wb.sheetnames else wb["设置"]
    start = ws.max_row + 2
    ws.cell(row=start, column=1, value="业务员")
    ws.cell(row=start, column=2, value="部门")
    for i, (rep, dept) in enumerate(ROSTER, start=1):
        ws.cell(row=start + i, column=1, value=rep)
        ws.cell(row=start + i, column=2, value=dept)
    # the 分配规则 table beside the roster, as `init` writes it
    for i, line in enumerate([["地区", "行业", "部门", "业务员"], *rules]):
        for j, value in enumerate(line):
            ws.cell(row=start + i, column=5 + j, value=value)
    wb.save(path)
    return path


def test_a_freed_customer_gets_a_suggested_rep_everywhere(tmp_path: Path) -> None:
    path = _register(tmp_path / "r.xlsx", [["广东", None, "销售二部", None]])
    result = run_check(path, AS_OF)
    assert result.problems == []
    who = run_cli("who", path, "甲涂料", "--as-of", AS_OF.isoformat())
    assert who.stdout.startswith("可以联系；按分配规则建议由 销售二部 刘洋 跟进"), who.stdout
    who = run_cli("who", path, "北京戊科技有限公司", "--as-of", AS_OF.isoformat(), "--json")
    assert who.json()["verdict"] == "可以联系" and who.json()["customers"][0]["suggested"] is None
    # the board: the search answers from the same customers and the expired zone shows it
    board = build_board(result, company="", now=dt.datetime(2026, 11, 1, 8))
    (green,) = [c for c in board.customers if "甲涂料" in c.name]
    assert green.verdict == "可以联系；按分配规则建议由 销售二部 刘洋 跟进" and not green.stop
    assert [e.suggested for e in board.expired if "甲涂料" in e.line.customer] == ["销售二部 刘洋"]
    # the handout's hand-over list, with the opening line
    august = build_monthly(run_check(path, dt.date(2026, 8, 31)), "2026-08", company="华泰",
                           mask=True, now=dt.datetime(2026, 9, 1))  # fmt: skip
    (line,) = [c for c in august.free if "甲涂料" in c.customer]
    assert line.suggested.startswith("销售二部 ") and line.note.startswith("您好")


def test_the_rule_order_and_the_row_order_do_not_change_the_suggestion(tmp_path: Path) -> None:
    a = _register(
        tmp_path / "a.xlsx", [["广东", None, "销售二部", None], ["深圳", "涂料", None, "张伟"]]
    )
    b = _register(
        tmp_path / "b.xlsx", [["深圳", "涂料", None, "张伟"], ["广东", None, "销售二部", None]]
    )
    for path in (a, b):
        index = LookupIndex.from_check(run_check(path, AS_OF))
        assert index.find("甲涂料").verdict() == "可以联系；按分配规则建议由 销售一部 张伟 跟进"


def test_bad_rows_are_located_problems_and_otherwise_off(tmp_path: Path) -> None:
    path = _register(
        tmp_path / "r.xlsx",
        [
            ["广东", None, "销售九部", None],  # unknown department
            ["广东", None, None, "赵六"],  # unknown rep
            ["火星", None, "销售二部", None],  # no place
            ["广东", "涂料", None, None],  # neither rep nor department
        ],
        extra=[["最多保护客户数", "三十"], ["冷却天数", -5]],
    )
    result = run_check(path, AS_OF)
    found = [(p.sheet, p.row, p.column, p.code.value) for p in result.problems]
    assert found == [
        ("设置", 3, "最多保护客户数", "settings.invalid"),
        ("设置", 4, "冷却天数", "settings.invalid"),
        ("设置", 7, "部门", "allocation.unknown_department"),
        ("设置", 8, "业务员", "allocation.unknown_rep"),
        ("设置", 9, "地区", "allocation.bad_region"),
        ("设置", 10, "业务员", "allocation.missing_rep"),
    ], found
    assert result.suggested == {} and result.limited == []
    run = run_cli("sync", path, "--as-of", AS_OF.isoformat())
    assert run.code in (0, 1), run.stderr
    import openpyxl

    rows = [[c.value for c in r] for r in openpyxl.load_workbook(path)["问题"].iter_rows()]
    assert ["设置", 9, "地区", "火星", "分配规则：不是省、市或区县名称，本行不生效"] in rows


def test_near_the_cap_in_the_daily_list_and_the_leaderboard(tmp_path: Path) -> None:
    path = _register(tmp_path / "r.xlsx", [], extra=[["最多保护客户数", 2]])
    result = run_check(path, AS_OF)
    daily = build_daily(result, AS_OF, company="", mask=True, now=dt.datetime(2026, 11, 1))
    assert daily.warnings == [  # the last 10% of the cap, and at least the last place
        "刘洋：已有 1 个保护中的客户（上限 2），接近上限；请先释放或成交",
        "王芳：已有 2 个保护中的客户（上限 2），已达上限；请先释放或成交",
    ]
    report = build_monthly(result, "2026-10", company="", mask=True, now=dt.datetime(2026, 11, 1))
    scores = {s.name: (s.held, s.released, s.handed_over, s.near_cap) for s in report.reps}
    assert scores["王芳"] == (2, 0, 0, "已达上限")
    assert scores["刘洋"] == (1, 0, 0, "接近上限")
    from xlsync.reports.handout import build_handout

    (section,) = [s for s in build_handout(report).sections if s.key == "scores"]
    header = [c.header for c in section.tables[0].columns]
    assert header[-4:] == ["保护中", "释放", "转交", "上限提醒"]
    wang = next(line for line in section.tables[0].lines if line.cells[1].text == "王芳")
    assert [c.text for c in wang.cells[-4:]] == ["2/2", "0", "0", "已达上限"]


def test_the_board_page_gives_the_suggestion_as_who_does(tmp_path: Path) -> None:
    import pytest

    from tests.test_report_html import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    path = _register(tmp_path / "r.xlsx", [["广东", None, "销售二部", None]])
    run = run_cli("report", "board", path, "--out", tmp_path / "out", "--as-of", AS_OF.isoformat())
    assert run.code == 0, run.stderr
    page_file = next((tmp_path / "out").glob("*.html"))
    index = LookupIndex.from_check(run_check(path, AS_OF))
    queries = ["甲涂料", "深圳市甲涂料有限公司", "乙电子", "北京戊科技有限公司", "不存在的客户"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(page_file.as_uri())
        for q in queries:
            got = page.evaluate("q => window.xlsyncBoard.search(q).verdict", q)
            assert got == index.find(q).verdict(), q
        page.fill("#q", "甲涂料")
        banner = page.text_content("#result .banner") or ""
        cells = page.eval_on_selector_all(
            "#expired td.suggested", "ns => ns.map(n => n.textContent)"
        )
        browser.close()
    assert banner.startswith("可以联系；按分配规则建议由 销售二部 刘洋 跟进")
    assert "销售二部 刘洋" in cells
