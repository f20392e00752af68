"""The monthly handout's section of the manager's rulings and the open 待确认 count."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pypdf

from tests.helpers import ROSTER, customer, run_cli, write_register
from xlsync.check import run_check
from xlsync.reports.data import build_monthly
from xlsync.reports.handout import build_handout

D = dt.date
HEADER = ["日期", "裁决", "客户", "另一客户", "业务员", "保护天数", "经办人", "备注"]
ROWS = [
    customer(id="C000001", customer="格林电子", phone="13700000001", rep="张伟",
             visited=D(2026, 10, 1)),
    customer(id="C000002", customer="雅玛西电子", rep="王芳", sampled=D(2026, 10, 3)),
    customer(id="C000003", customer="宏达印刷", rep="刘洋", visited=D(2026, 10, 4)),
    customer(customer="深圳市金辉五金有限公司", phone="13800000001", rep="张伟",
             visited=D(2026, 10, 1)),
    customer(customer="深圳市金晖五金有限公司", phone="13900000002", rep="王芳",
             visited=D(2026, 10, 5)),
]  # fmt: skip
RULINGS = [
    HEADER,
    [D(2026, 10, 20), "指派", "13700000001", None, "李娜", "长期", "王经理", "老板交代"],
    [D(2026, 10, 22), "不同客户", "C000002", "C000003", None, None, "王经理"],
    [D(2026, 9, 30), "释放", "C000003", None, None, None, "陈总", "上个月的"],
    [D(2026, 10, 25), "释放", "格林电子", None, None, None, "陈总"],
    [D(2026, 10, 26), "指派", "没有这个客户", None, "李娜", None, "陈总"],  # bad: not listed
]


def _register(tmp_path: Path, rulings: list | None = RULINGS) -> Path:
    extra = {"裁决": rulings} if rulings else None
    return write_register(tmp_path / "r.xlsx", ROWS, roster=ROSTER, extra_sheets=extra)


def test_the_months_rulings_and_the_open_pairs(tmp_path: Path) -> None:
    result = run_check(_register(tmp_path), D(2026, 10, 31))
    report = build_monthly(result, "2026-10", company="", mask=True, now=dt.datetime(2026, 11, 1))
    got = [(x.date, x.kind, x.customer, x.rep, x.by, x.note) for x in report.rulings]
    assert got == [
        (D(2026, 10, 20), "指派", "格林电子", "李娜", "王经理", "老板交代"),  # named by phone
        (D(2026, 10, 22), "不同客户", "雅玛西电子 与 宏达印刷", "", "王经理", ""),
        (D(2026, 10, 25), "释放", "格林电子", "", "陈总", ""),
    ]
    assert report.open_reviews == 1  # 金辉 / 金晖 waits in 待确认
    handout = build_handout(report)
    section = handout.sections[-1]
    assert section.title == "八、经理裁决" and section.count == "共 3 条，待确认 1 对"
    assert ("裁决／待确认", "3 条／1 对") in handout.summary


def test_no_rulings_sheet_and_no_look_alikes_no_section(tmp_path: Path) -> None:
    rows = ROWS[:3]
    path = write_register(tmp_path / "r.xlsx", rows, roster=ROSTER)
    report = build_monthly(run_check(path, D(2026, 10, 31)), "2026-10", company="", mask=True,
                           now=dt.datetime(2026, 11, 1))  # fmt: skip
    handout = build_handout(report)
    assert len(handout.sections) == 7 and "rulings" not in {s.key for s in handout.sections}


def test_html_and_pdf_show_the_rulings(tmp_path: Path) -> None:
    path = _register(tmp_path)
    out = tmp_path / "out"
    run = run_cli("report", "monthly", path, "--month", "2026-10", "--out", out,
                  "--as-of", "2026-10-31")  # fmt: skip
    assert run.code == 0, run.stderr
    html = (out / "r-2026-10.html").read_text("utf-8")
    assert "八、经理裁决" in html and "雅玛西电子 与 宏达印刷" in html and "老板交代" in html
    assert "上个月的" not in html
    text = "".join(p.extract_text() or "" for p in pypdf.PdfReader(out / "r-2026-10.pdf").pages)
    flat = "".join(text.split())
    assert "八、经理裁决" in flat and "共3条，待确认1对" in flat and "老板交代" in flat
