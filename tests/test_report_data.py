"""What the reports contain, built from a real register."""

import datetime as dt
from pathlib import Path

import pytest

from xlsync.check import run_check
from xlsync.reports.data import (
    build_board,
    build_daily,
    build_monthly,
    mask_number,
    masked_phones,
    month_bounds,
)

from .helpers import ROSTER, customer, run_cli, write_register

NOW = dt.datetime(2026, 11, 1, 9, 0)


@pytest.fixture()
def register(tmp_path: Path) -> Path:
    D = dt.date
    return write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer="深圳市格林电子科技有限公司", rep="张伟", department="业务一部",
                     phone="13812345678", contacted=D(2026, 9, 20), sampled=D(2026, 10, 3),
                     sample="BL-466", status="送样"),
            customer(customer="格林电子", rep="李娜", department="业务二部",
                     visited=D(2026, 10, 20), status="拜访"),
            customer(customer="华美涂料", rep="王芳", contact="陈先生", visited=D(2026, 3, 2),
                     sampled=D(2026, 5, 10), sample="PU-200", status="送样"),
            customer(customer="宏达印刷", rep="张伟", contacted=D(2026, 10, 5), status="电话"),
            customer(customer="雅玛西电子", rep="刘洋", sampled=D(2026, 8, 12), status="送样"),
            customer(customer="永美包装", rep="李娜", visited=D(2026, 9, 1),
                     won=D(2026, 10, 28), status="已合作"),
        ],
        [customer(customer="老客户五金", rep="王芳", won=D(2025, 6, 1), status="已合作")],
        settings=[["保护天数", 90], ["跟进提醒天数", 30], ["公司名称", "深圳某某涂料"]],
        roster=ROSTER,
    )  # fmt: skip


def test_month_bounds_and_masking() -> None:
    assert month_bounds("2026-02") == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    with pytest.raises(ValueError):
        month_bounds("2026-13")
    assert mask_number("13812345678") == "138****5678"
    assert mask_number("076959043732") == "0769-****3732"  # the area code stays
    assert mask_number("01012345678") == "010-****5678"
    assert mask_number("0207654321") == "020-***4321"  # a seven-digit local number
    assert mask_number("23456789") == "****6789"  # written without an area code
    both = masked_phones(("075523456789", "13912345678"), "0755-2345 6789 / 139 1234 5678")
    assert both == "0755-****6789 / 139****5678"
    # a part that does not read as a number keeps only its last four digits
    assert "123456" not in masked_phones((), "138-1234-56")


def test_the_monthly_handout(register: Path) -> None:
    result = run_check(register, dt.date(2026, 10, 31))
    report = build_monthly(result, "2026-10", company="深圳某某涂料", mask=True, now=NOW)
    assert [c.customer for c in report.zone1] == ["格林电子", "深圳市格林电子科技有限公司"]
    assert report.zone1[1].phone == "138****5678"
    assert report.zone1[1].protected_until == dt.date(2027, 1, 1)
    won = {c.customer: c.marked for c in report.zone2}
    assert won == {"永美包装": True, "老客户五金": False}
    reps = {s.name: s for s in report.reps}
    assert (reps["张伟"].calls, reps["张伟"].samples, reps["张伟"].won) == (1, 1, 0)
    assert (reps["李娜"].visits, reps["李娜"].won) == (1, 1)
    assert reps["王芳"].sampled_total == 1 and reps["王芳"].rate == 0.0
    depts = {s.name: s for s in report.departments}
    assert depts["业务一部"].samples == 1 and depts["业务二部"].won == 1
    free = {c.customer: c.note for c in report.free}
    assert "华美涂料" in free
    assert "陈先生" in free["华美涂料"] and "王芳" in free["华美涂料"]
    assert "PU-200" in free["华美涂料"] and "个月前" in free["华美涂料"]
    assert "雅玛西电子" in {c.customer for c in report.ending_soon}  # 08-12 + 90 = 11-10
    due = {c.customer for c in report.follow_ups_due}
    assert "雅玛西电子" in due  # protected, nothing since 08-12
    assert "华美涂料" not in due  # expired: it is in the hand-over list instead
    assert "格林电子" not in due  # 李娜 must stop: not her follow-up
    (conflict,) = report.conflicts
    assert conflict.owner == "张伟" and "李娜" in conflict.others and not conflict.settled


def test_the_daily_list(register: Path) -> None:
    result = run_check(register, dt.date(2026, 10, 20))
    report = build_daily(result, dt.date(2026, 10, 20), company="", mask=False, now=NOW)
    assert [c.customer for c in report.lines] == ["格林电子"]


def test_the_board_knows_who_may_call(register: Path) -> None:
    result = run_check(register, dt.date(2026, 11, 1))
    board = build_board(result, company="", now=NOW)
    entries = {e.line.customer: e for e in board.zone1 + board.zone2 + board.expired + board.others}
    green = entries["深圳市格林电子科技有限公司"]
    assert "格林电子" in green.keys and "13812345678" in green.keys
    assert green.verdict == "请勿联系：已由 张伟 送样保护至 2027-01-01"
    assert entries["格林电子"].owner == "张伟"
    assert entries["宏达印刷"].verdict == "可以联系"
    assert entries["老客户五金"].verdict.startswith("请勿联系：王芳 的合作客户")
    assert board.fingerprint
    assert board.conflicts[0].owner == "张伟"
    # zone 一 holds only what is protected today: the page never contradicts its search box
    assert all(e.line.protected_until and e.line.protected_until >= result.as_of
               for e in board.zone1)  # fmt: skip
    assert all(not c.stop or "请勿联系" in c.verdict for c in board.customers)
    for e in board.zone1:
        assert e.verdict.startswith("请勿联系"), e


def test_the_board_shows_groups_nobody_protects_apart(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "n.xlsx",
        [
            customer(customer="华美涂料", rep="王芳", visited=dt.date(2026, 1, 5), status="拜访"),
            customer(customer="华美涂料有限公司", rep="李娜", contacted=dt.date(2026, 10, 5)),
            customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 10, 3)),
            customer(customer="格林电子厂", rep="刘洋", contacted=dt.date(2026, 10, 9)),
        ],
    )
    board = build_board(run_check(path, dt.date(2026, 11, 1)), company="", now=NOW)
    assert [c.customer for c in board.conflicts] == ["格林电子"]
    assert [c.customer for c in board.notices] == ["华美涂料有限公司"]
    assert [e.line.customer for e in board.expired] == ["华美涂料"]
    assert "华美涂料" not in {e.line.customer for e in board.zone1}


def test_report_commands_write_their_files(register: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = run_cli("report", "monthly", register, "--month", "2026-10", "--out", out,
                  "--as-of", "2026-11-01")  # fmt: skip
    assert run.code == 0, run.stderr
    assert (out / "r-2026-10.html").exists() and (out / "r-2026-10.pdf").exists()
    assert run_cli("report", "daily", register, "--date", "2026-10-20", "--out", out).code == 0
    assert (out / "r-2026-10-20.xlsx").exists() and (out / "r-2026-10-20.html").exists()
    assert run_cli("report", "board", register, "--out", out).code == 0
    assert (out / "r-看板.html").exists()
    bad = run_cli("report", "monthly", register, "--month", "2026/10", "--out", out)
    assert bad.code == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_a_conflict_settled_during_the_month_is_listed_as_settled(tmp_path: Path) -> None:
    import openpyxl

    from xlsync.sync import sync
    from xlsync.workspace import Workspace

    D = dt.date
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", sampled=D(2026, 10, 3), status="送样"),
         customer(customer="格林电子有限公司", rep="李娜", visited=D(2026, 10, 9), status="拜访")],
        [],
    )  # fmt: skip
    sync(path, D(2026, 10, 10), now=dt.datetime(2026, 10, 10, 9))
    book = openpyxl.load_workbook(path)
    book["跟进中"]["B3"] = "华美涂料"  # the manager settles it: it was another customer
    book.save(path)
    sync(path, D(2026, 10, 20), now=dt.datetime(2026, 10, 20, 9))
    result = run_check(path, D(2026, 10, 31))
    with Workspace.of(path).history() as history:
        report = build_monthly(result, "2026-10", company="", mask=True, now=NOW, history=history)
    (line,) = report.conflicts
    assert (line.customer, line.owner, line.settled) == ("格林电子", "张伟", True)
    assert "李娜" in line.others


# Every way of writing a number the office uses; each must print masked.
PHONE_FORMS = {
    "185-7498-8672": "18574988672",
    "0769 5904 3732": "076959043732",
    "+86-135-6408-2000": "13564082000",
    "13812345678": "13812345678",
    "（0755）8888-1234 转 801": "075588881234",
    "020-8765 4321 / 139 1234 5678": "13912345678",
    "手机：186.2233.4455": "18622334455",
}


def _digit_lines(text: str) -> list[str]:
    return ["".join(ch for ch in line if ch.isdigit()) for line in text.splitlines()]


def test_a_masked_handout_prints_no_whole_number(tmp_path: Path) -> None:
    import re

    import pypdf

    from xlsync.reports.build import monthly

    D = dt.date
    rows = [
        customer(customer=f"测试客户{i}号有限公司", rep="张伟", phone=phone,
                 visited=D(2026, 10, 3 + i), sampled=D(2026, 6, 1), status="拜访")
        for i, phone in enumerate(PHONE_FORMS)
    ]  # fmt: skip
    won = [customer(customer="合作客户有限公司", rep="李娜", phone="0769 5904 3732",
                    won=D(2026, 10, 8), status="已合作")]  # fmt: skip
    path = write_register(tmp_path / "r.xlsx", rows, won, roster=ROSTER)
    html, pdf = monthly(path, "2026-10", tmp_path / "out", today=D(2026, 11, 1), mask=True)
    texts = {
        "pdf": "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(pdf).pages),
        "html": re.sub(r"<[^>]+>", "\n", html.read_text("utf-8")),
    }
    numbers = set(PHONE_FORMS.values())
    for row in run_check(path, D(2026, 10, 31)).rows:
        numbers.update(p for p in row.phones if len(p) >= 7)
    for name, text in texts.items():
        assert "****" in text, name  # the masked numbers are there
        lines = _digit_lines(text)
        for number in numbers:
            assert not any(number in line for line in lines), (name, number)
        assert "电话号码已部分隐藏" in text, name
    assert "185****8672" in texts["pdf"] and "0769-****3732" in texts["html"]


def test_the_month_holds_its_own_events_only(tmp_path: Path) -> None:
    """统计截至 10-31: a deal, a visit or a sample dated 11-01 is not October's."""
    D = dt.date
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer="十月拜访公司", rep="张伟", visited=D(2026, 10, 20), status="拜访"),
            customer(customer="十一月拜访公司", rep="张伟", visited=D(2026, 11, 1), status="拜访"),
            customer(customer="十一月成交公司", rep="李娜", visited=D(2026, 10, 12),
                     won=D(2026, 11, 1), status="已合作"),
        ],
        [
            customer(customer="十月成交公司", rep="王芳", won=D(2026, 10, 9), status="已合作"),
            customer(customer="十一月合作公司", rep="刘洋", sampled=D(2026, 9, 1),
                     won=D(2026, 11, 1), status="已合作"),
        ],
        roster=ROSTER,
    )  # fmt: skip
    result = run_check(path, D(2026, 10, 31))
    report = build_monthly(result, "2026-10", company="", mask=True, now=NOW)
    sections = [report.zone1, report.zone2, report.follow_ups_due, report.ending_soon,
                report.free]  # fmt: skip
    for lines in sections:
        for line in lines:
            for day in (line.contacted, line.visited, line.sampled, line.last_follow_up, line.won):
                assert day is None or day <= D(2026, 10, 31), (line.customer, day)
    assert [c.customer for c in report.zone2] == ["十月成交公司"]
    # still a prospect at the end of October: listed with its October visit
    assert {c.customer for c in report.zone1} == {"十月拜访公司", "十一月成交公司"}
    assert "十一月拜访公司" not in {c.customer for lines in sections for c in lines}
    assert sum(s.won for s in report.reps) == 1
    assert {s.name: s.visits for s in report.reps}["张伟"] == 1


def test_the_handout_pauses_the_cycle_collector_and_gives_it_back(
    register: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a handout is made the cycle collector is off (its full passes over a big
    register's objects cost a fifth of the time); afterwards it is as it was, also when
    the handout fails."""
    import gc

    from xlsync.reports import build

    seen: list[bool] = []
    real = build.build_monthly

    def watching(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build, "build_monthly", watching)
    assert gc.isenabled()
    paths = build.monthly(register, "2026-10", tmp_path / "a", today=dt.date(2026, 11, 1))
    assert seen == [False] and gc.isenabled() and len(paths) == 2

    def failing(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(build, "build_monthly", failing)
    with pytest.raises(RuntimeError):
        build.monthly(register, "2026-10", tmp_path / "b", today=dt.date(2026, 11, 1))
    assert gc.isenabled()
    gc.disable()  # someone else's pause is left to them
    try:
        monkeypatch.setattr(build, "build_monthly", watching)
        build.monthly(register, "2026-10", tmp_path / "c", today=dt.date(2026, 11, 1))
        assert not gc.isenabled()
    finally:
        gc.enable()
