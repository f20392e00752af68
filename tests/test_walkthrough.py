"""A new user's first hour, command by command, on a copy of the demo register: the answers a
person would check at each step (README's first command, then check, who, sync, history,
restore, the reports)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

from xlsync.register.reader import read_register

from .helpers import run_cli

AS_OF = "2026-11-01"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("walk") / "xlsync-demo"
    run = run_cli("demo", folder, timeout=300)
    assert run.code == 0, run.stdout + run.stderr
    return folder, run.stdout


def _register(folder: Path) -> Path:
    return next(p for p in folder.glob("*.xlsx") if not p.name.startswith("~$"))


def test_the_first_command_shows_the_main_job(demo: tuple[Path, str]) -> None:
    folder, out = demo
    register = _register(folder)
    assert str(register.resolve()) in out
    board = next(folder.rglob("*看板.html"))
    pdf = next(folder.rglob("*2026-10.pdf"))
    assert str(board.resolve()) in out and str(pdf.resolve()) in out
    assert "Traceback" not in out
    # the synced workbook: every row has an 编号, won rows moved with 状态 已合作
    book = openpyxl.load_workbook(register)
    assert {"跟进中", "已合作", "冲突", "问题"} <= set(book.sheetnames)
    reg = read_register(register)
    assert all(r.id for r in reg.rows)
    assert not [r for r in reg.rows if r.is_move]
    won = [r for r in reg.rows if r.kind.value == "cooperating"]
    assert won and all(r.status is None or r.status.label == "已合作" for r in won)


def test_check_who_and_the_conflicts_sheet_agree(demo: tuple[Path, str]) -> None:
    folder, _ = demo
    register = _register(folder)
    run = run_cli("check", register, "--json", "--as-of", AS_OF)
    assert run.code == 1  # the demo has conflicts and problems
    data = run.json()
    assert data["moves"] == []  # the first command moved them
    stops = [c for c in data["conflicts"]
             if c["owner"] and any(k["verdict"] == "must_stop" for k in c["claims"])]  # fmt: skip
    assert stops
    conflict = stops[0]
    owner = conflict["owner"]
    # who, asked by the name the other rep wrote, says stop and names the owner
    rows = {(r.sheet, r.row): r for r in read_register(register).rows}
    stopped = next(k for k in conflict["claims"] if k["verdict"] == "must_stop")
    their_name = rows[(stopped["sheet"], stopped["row"])].customer
    who = run_cli("who", register, their_name, "--as-of", AS_OF, "--json")
    assert who.code == 1 and who.json()["verdict"].startswith("请勿联系")
    assert owner["rep"] in who.json()["verdict"]
    # asked by the owner, it is theirs
    mine = run_cli("who", register, their_name, "--rep", owner["rep"], "--as-of", AS_OF)
    assert mine.code == 0 and "你自己的客户" in mine.stdout
    # a phone of the customer, written another way, gives the same answer
    owner_row = rows[(owner["sheet"], owner["row"])]
    if owner_row.phones:
        number = owner_row.phones[0]
        spaced = " ".join(re.findall(r"\d{1,4}", number))
        by_phone = run_cli("who", register, spaced, "--as-of", AS_OF, "--json")
        assert by_phone.json()["verdict"] == who.json()["verdict"]
    # nobody has a company that is not in the register
    free = run_cli("who", register, "北京星辰软件有限公司", "--as-of", AS_OF)
    assert free.code == 0 and "可以联系" in free.stdout
    # the 冲突 sheet shows the same owner for that customer
    sheet = openpyxl.load_workbook(register, read_only=True)["冲突"]
    lines = [
        r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == conflict["customer"]
    ]
    assert lines and {r[1] for r in lines} == {owner["rep"]}


def test_sync_again_history_delete_and_restore(demo: tuple[Path, str]) -> None:
    folder, _ = demo
    register = _register(folder)
    again = run_cli("sync", register, "--as-of", AS_OF)
    assert again.code == 0 and "无需改动" in again.stdout
    book = openpyxl.load_workbook(register)
    sheet = book["跟进中"]
    header_row = next(r for r in range(1, 6) if sheet.cell(r, 1).value == "编号")
    gone_row = header_row + 3
    gone_id, gone_name = sheet.cell(gone_row, 1).value, sheet.cell(gone_row, 2).value
    sheet.delete_rows(gone_row)
    book.save(register)
    told = run_cli("sync", register, "--as-of", AS_OF)
    assert gone_id in told.stdout and "xlsync restore" in told.stdout
    history = run_cli("history", register, gone_id, "--json").json()
    assert history[0]["kind"] == "deleted"
    back = run_cli("restore", register, gone_id, "--as-of", AS_OF)
    assert back.code == 0, back.stdout + back.stderr
    assert {r.customer for r in read_register(register).rows if r.id == gone_id} == {gone_name}


def test_the_reports_a_manager_prints(demo: tuple[Path, str], tmp_path: Path) -> None:
    folder, _ = demo
    register = _register(folder)
    out = tmp_path / "reports"
    daily = run_cli("report", "daily", register, "--date", "2026-10-20", "--out", out,
                    "--as-of", AS_OF)  # fmt: skip
    assert daily.code == 0, daily.stderr
    assert list(out.glob("*.xlsx")) and list(out.glob("*.html"))
    monthly = run_cli("report", "monthly", register, "--month", "2026-10", "--out", out,
                      "--as-of", AS_OF)  # fmt: skip
    assert monthly.code == 0, monthly.stderr
    pypdf = pytest.importorskip("pypdf")
    pdf = next(out.glob("*2026-10.pdf"))
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    digits = re.sub(r"\D", "", text)
    phones = {p for r in read_register(register).rows for p in r.phones if len(p) >= 10}
    assert phones and not [p for p in phones if p in digits]  # masked: no whole number
    assert "2026年10月" in text
    assert dt.date(2026, 11, 1).isoformat() not in text.split("统计截至")[0]
