"""`xlsync history` and `xlsync restore` through the real command line."""

import datetime as dt
import shutil
from pathlib import Path

import openpyxl

from xlsync.register.reader import read_register

from .helpers import customer, run_cli, write_register

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


def test_a_row_moved_in_its_first_sync_says_where_it_came_from(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 9, 3), status="送样"),
         customer(customer="华美涂料", rep="王芳", visited=dt.date(2026, 8, 1),
                  won=dt.date(2026, 10, 9))],
        [],
    )  # fmt: skip
    assert run_cli("sync", path, "--as-of", "2026-11-01").code in (0, 1)
    events = run_cli("history", path, "--json").json()
    moved = [e for e in events if e["kind"] == "moved"]
    assert len(moved) == 1
    assert (moved[0]["sheet"], moved[0]["row"]) == ("跟进中", 3)
    assert moved[0]["detail"] == {"to_sheet": "已合作", "to_row": 2}
    new = next(e for e in events if e["kind"] == "new" and e["id"] == moved[0]["id"])
    assert (new["sheet"], new["row"]) == ("跟进中", 3)
    shown = run_cli("history", path, moved[0]["id"], env_columns=200).stdout
    assert "跟进中 第3行 → 已合作 第2行" in shown


def test_history_says_how_many_more_events_there_are(tmp_path: Path) -> None:
    rows = [customer(customer=f"客户{i}", rep="张伟", contacted=dt.date(2026, 10, 1))
            for i in range(8)]  # fmt: skip
    path = write_register(tmp_path / "r.xlsx", rows, [])
    run_cli("sync", path, "--as-of", "2026-11-01")
    shown = run_cli("history", path, "--limit", "3").stdout
    assert "共 8 条记录" in shown and "还有 5 条" in shown and "--all" in shown
    everything = run_cli("history", path, "--all").stdout
    assert "还有" not in everything
    assert len(run_cli("history", path, "--all", "--json").json()) == 8


def test_a_restored_row_lands_above_the_total_row_with_real_dates(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 9, 3), status="送样",
                  phone=13812345678),
         customer(customer="华美涂料", rep="王芳", visited=dt.date(2026, 8, 1), status="拜访",
                  phone=13922223333),
         customer(customer="宏达印刷", rep="李娜", visited=dt.date(2026, 10, 5), status="拜访",
                  phone=13733334444)],
        [],
    )  # fmt: skip
    book = openpyxl.load_workbook(path)
    sheet = book["跟进中"]
    for r in (2, 3, 4):
        for col in ("I", "J"):
            sheet[f"{col}{r}"].number_format = "yyyy/m/d"
    sheet["A5"], sheet["B5"] = "合计", "=COUNTA(B2:B4)"
    sheet.merge_cells("C5:D5")
    book.save(path)
    assert run_cli("sync", path, "--as-of", "2026-11-01").code in (0, 1)

    book = openpyxl.load_workbook(path)
    sheet = book["跟进中"]
    gone = sheet["A3"].value  # 华美涂料
    for cell in sheet[3]:
        cell.value = None
    book.save(path)
    assert run_cli("sync", path, "--as-of", "2026-11-01").code in (0, 1)
    run = run_cli("restore", path, gone, "--as-of", "2026-11-01")
    assert run.code == 0, run.stdout + run.stderr

    book = openpyxl.load_workbook(path)
    sheet = book["跟进中"]
    # row 5 held 合计: the restored row goes to 5, the total row moves down to 6
    assert sheet["B5"].value == "华美涂料"
    assert sheet["A6"].value == "合计" and sheet["B6"].value == "=COUNTA(B2:B4)"
    assert "C6:D6" in {str(m) for m in sheet.merged_cells.ranges}
    visited = sheet["I5"]
    assert isinstance(visited.value, dt.datetime) and visited.value.date() == dt.date(2026, 8, 1)
    assert visited.number_format == "yyyy/m/d"
    assert sheet["D5"].value == 13922223333  # the phone column holds numbers: a number again


def test_a_restored_date_shows_as_a_date_where_the_column_has_no_date_format(
    tmp_path: Path,
) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", visited="2026-09-03", status="拜访"),
         customer(customer="华美涂料", rep="王芳", visited="2026/8/1", status="拜访")],
        [],
    )  # fmt: skip
    assert run_cli("sync", path, "--as-of", "2026-11-01").code in (0, 1)
    book = openpyxl.load_workbook(path)
    gone = book["跟进中"]["A3"].value
    book["跟进中"].delete_rows(3)
    book.save(path)
    run_cli("sync", path, "--as-of", "2026-11-01")
    assert run_cli("restore", path, gone, "--as-of", "2026-11-01").code == 0
    cell = openpyxl.load_workbook(path)["跟进中"]["I3"]
    assert cell.is_date and cell.value.date() == dt.date(2026, 8, 1)
    # and the next sync sees nothing changed
    assert "无需改动" in run_cli("sync", path, "--as-of", "2026-11-01").stdout
