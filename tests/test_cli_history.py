"""`xlsync history` and `xlsync restore` through the real command line."""

import shutil
from pathlib import Path

import openpyxl

from xlsync.register.reader import read_register

from .helpers import run_cli

SAMPLE = Path(__file__).parent.parent / "sample_registers" / "demo.xlsx"


def test_a_deleted_row_is_reported_listed_and_restored(tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    shutil.copy(SAMPLE, path)
    assert run_cli("sync", path, "--as-of", "2026-11-01").code == 0
    before = {r.id: r for r in read_register(path).rows}
    book = openpyxl.load_workbook(path)
    sheet = book["跟进中"]
    gone_id, gone_name = sheet["A5"].value, sheet["B5"].value
    sheet.delete_rows(5)
    book.save(path)

    run = run_cli("sync", path, "--as-of", "2026-11-01")
    assert run.code == 0
    assert gone_id in run.stdout and "xlsync restore" in run.stdout

    listed = run_cli("history", path, gone_id, "--json").json()
    assert [e["kind"] for e in listed] == ["deleted", "new"]
    assert listed[0]["detail"]["values"]["客户名称"] == gone_name

    run = run_cli("restore", path, gone_id, "--as-of", "2026-11-01")
    assert run.code == 0, run.stdout + run.stderr
    after = {r.id: r for r in read_register(path).rows}
    assert after[gone_id].customer == gone_name
    assert after[gone_id].rep == before[gone_id].rep
    assert after[gone_id].phones == before[gone_id].phones
    assert run_cli("history", path, gone_id, "--json").json()[0]["kind"] == "restored"
    again = run_cli("restore", path, gone_id)
    assert again.code == 2 and "无需恢复" in again.stderr


def test_history_before_any_sync(tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    shutil.copy(SAMPLE, path)
    run = run_cli("history", path)
    assert run.code == 0 and "还没有同步记录" in run.stdout
    assert run_cli("restore", path, "C999999").code == 2
