"""`xlsync sync`: the register shows the truth afterwards, and nothing a rep typed is lost."""

import datetime as dt
import os
import shutil
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from xlsync.check import run_check
from xlsync.register.reader import read_register
from xlsync.register.schema import HINT_HEADER, SheetKind, Status
from xlsync.sync import sync

from .features import FEATURES, build_feature_register, feature_fingerprint
from .helpers import ROSTER, customer, rewrite_part, run_cli, write_register

AS_OF = dt.date(2026, 11, 1)
SAMPLE = Path(__file__).parent.parent / "sample_registers" / "demo.xlsx"


def all_values(path: Path) -> list[str]:
    """Every non-empty cell text of every sheet (calamine, as any reader would see it)."""
    book = CalamineWorkbook.from_path(str(path))
    out = []
    for name in book.sheet_names:
        for row in book.get_sheet_by_name(name).to_python():
            out.extend(str(v) for v in row if v not in ("", None))
    return out


@pytest.fixture()
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "demo.xlsx"
    shutil.copy(SAMPLE, path)
    return path


def test_sync_assigns_ids_moves_won_rows_and_shows_hints(demo: Path) -> None:
    before = run_check(demo, AS_OF)
    outcome = sync(demo, AS_OF)
    (f,) = outcome.files
    assert f.written and f.backup is not None and f.backup.exists()
    after = run_check(demo, AS_OF)
    assert after.moves == []
    assert len(after.rows) == len(before.rows)
    ids = [r.id for r in after.rows]
    assert all(ids) and len(set(ids)) == len(ids) - 1  # one planted duplicate 编号 stays
    moved = {(m.customer, m.rep) for m in before.moves}
    coop = [r for r in after.rows if r.kind is SheetKind.COOPERATING]
    assert moved <= {(r.customer, r.rep) for r in coop}
    register = read_register(demo)
    following = register.sheets[SheetKind.FOLLOWING]
    assert following.headers[following.hint_col] == HINT_HEADER
    texts = list(following.hints.values())
    assert any(t.startswith("【冲突】") for t in texts)
    assert any(t.startswith("【问题】") for t in texts)
    book = openpyxl.load_workbook(demo)
    assert {"冲突", "问题"} <= set(book.sheetnames)
    assert book["冲突"].freeze_panes == "A2" and book["冲突"].auto_filter.ref
    assert book["问题"].max_row == len(after.problems) + 1


def test_second_sync_writes_nothing(demo: Path) -> None:
    sync(demo, AS_OF)
    data, stat = demo.read_bytes(), demo.stat()
    outcome = sync(demo, AS_OF)
    assert all(f.plan.empty and not f.written for f in outcome.files)
    assert demo.read_bytes() == data
    assert demo.stat().st_mtime_ns == stat.st_mtime_ns


def test_nothing_a_rep_typed_is_lost(demo: Path) -> None:
    before = all_values(demo)
    # the one value a sync may change: a won row's 状态 becomes 已合作 when it moves
    moved = [r for r in run_check(demo, AS_OF).moves if r.status is not Status.COOPERATING]
    for r in moved:
        if r.status is not None:
            before.remove(r.status.label)
    sync(demo, AS_OF)
    after = all_values(demo)
    remaining = list(after)
    for value in before:
        assert value in remaining, value
        remaining.remove(value)
    assert after.count("已合作") >= before.count("已合作") + len(moved)


def test_hints_are_cleared_when_the_cause_is_gone(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 10, 3), status="送样"),
            customer(
                customer="格林电子有限公司", rep="李娜", visited=dt.date(2026, 10, 9), status="拜访"
            ),
        ],
        [],
    )
    sync(path, AS_OF)
    hints = read_register(path).sheets[SheetKind.FOLLOWING].hints
    assert hints[3].startswith("【冲突】与 张伟 冲突")
    book = openpyxl.load_workbook(path)
    ws = book["跟进中"]
    ws["B3"] = "华美涂料"  # the rep fixes the name: no conflict any more
    book.save(path)
    sync(path, AS_OF)
    assert read_register(path).sheets[SheetKind.FOLLOWING].hints == {}


def test_an_open_register_is_not_written_and_exit_3_names_who(demo: Path) -> None:
    owner = demo.parent / f"~${demo.name}"
    name = "王芳"
    owner.write_bytes(bytes([len(name.encode("gbk"))]) + name.encode("gbk") + b"\x00" * 60)
    data = demo.read_bytes()
    run = run_cli("sync", demo, "--as-of", "2026-11-01")
    assert run.code == 3, run.stdout + run.stderr
    assert "王芳" in run.stdout
    assert demo.read_bytes() == data
    assert (demo.parent / "xlsync报告" / "demo-冲突与问题.xlsx").exists()
    owner.unlink()
    lo = demo.parent / f".~lock.{demo.name}#"
    lo.write_text(",李娜,PC-LINA,23.11.2026 10:00,file:///C:/Users/lina;")
    run = run_cli("sync", demo, "--as-of", "2026-11-01")
    assert run.code == 3 and "李娜" in run.stdout and "LibreOffice" in run.stdout
    lo.unlink()
    assert run_cli("sync", demo, "--as-of", "2026-11-01").code == 0
    assert demo.read_bytes() != data


def test_a_change_between_read_and_write_starts_over(demo: Path, monkeypatch) -> None:
    import xlsync.sync as module

    original = module.apply_plan
    calls = {"n": 0}

    def meddle(plan, source, dest):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:  # a rep saves while we work
            book = openpyxl.load_workbook(source)
            book["跟进中"]["L5"] = "刚刚补充的跟进情况"
            book.save(source)
        return original(plan, source, dest)

    monkeypatch.setattr(module, "apply_plan", meddle)
    outcome = sync(demo, AS_OF)
    assert outcome.attempts == 2
    assert "刚刚补充的跟进情况" in all_values(demo)


@pytest.mark.parametrize("feature", FEATURES)
def test_workbook_features_survive_a_sync(tmp_path: Path, feature: str) -> None:
    path = build_feature_register(tmp_path / "f.xlsx", feature)
    before = feature_fingerprint(path, feature)
    outcome = sync(path, AS_OF)
    (f,) = outcome.files
    assert f.written, f.refused
    assert feature_fingerprint(path, feature) == before
    assert all(r.id for r in read_register(path).rows)


def test_an_excel_table_is_refused_with_a_sidecar(tmp_path: Path) -> None:
    from openpyxl.worksheet.table import Table

    path = write_register(tmp_path / "t.xlsx", [customer(customer="格林电子", rep="张伟")], [])
    book = openpyxl.load_workbook(path)
    book["跟进中"].add_table(Table(displayName="客户", ref="A1:O2"))
    book.save(path)
    data = path.read_bytes()
    run = run_cli("sync", path, "--as-of", "2026-11-01")
    assert run.code == 2
    assert "表格" in run.stdout
    assert path.read_bytes() == data
    assert (tmp_path / "xlsync报告" / "t-冲突与问题.xlsx").exists()


def test_ids_are_never_reused_after_a_delete(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="甲", rep="张伟"), customer(customer="乙", rep="张伟")],
        [],
        roster=ROSTER,
    )
    sync(path, AS_OF)
    first = {r.customer: r.id for r in read_register(path).rows}
    book = openpyxl.load_workbook(path)
    book["跟进中"].delete_rows(3)  # the rep deletes 乙, the highest id
    book["跟进中"].append([None, "丙", None, None, None, "张伟"])
    book.save(path)
    outcome = sync(path, AS_OF)
    ids = {r.customer: r.id for r in read_register(path).rows}
    assert ids["丙"] not in first.values()
    (f,) = outcome.files
    assert [(e.kind, e.id) for e in f.events if e.kind == "deleted"] == [("deleted", first["乙"])]


def test_libreoffice_reads_the_synced_register(demo: Path, tmp_path: Path) -> None:
    from .office import libreoffice_values, soffice_available

    if not soffice_available():
        pytest.skip("LibreOffice is not installed")
    sync(demo, AS_OF)
    values = libreoffice_values(demo)
    mine = read_register(demo)
    following = values["跟进中"]
    header = following[1]
    col = header.index("客户名称")
    names = {row[col].strip() for row in following[2:] if len(row) > col and row[col]}
    assert {r.customer for r in mine.rows if r.kind is SheetKind.FOLLOWING and r.customer} <= names
    assert values["冲突"][0][0] == "客户"


def test_a_register_written_by_libreoffice_syncs(tmp_path: Path) -> None:
    from .office import libreoffice_roundtrip, soffice_available

    if not soffice_available():
        pytest.skip("LibreOffice is not installed")
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(SAMPLE, source / "demo.xlsx")
    converted = libreoffice_roundtrip(source / "demo.xlsx", tmp_path / "lo")
    before = run_check(converted, AS_OF)
    outcome = sync(converted, AS_OF)
    assert outcome.files[0].written
    after = run_check(converted, AS_OF)
    assert len(after.rows) == len(before.rows) and after.moves == []


def test_sync_json_and_exit_code(demo: Path) -> None:
    run = run_cli("sync", demo, "--as-of", "2026-11-01", "--json")
    assert run.code == 0, run.stderr
    (f,) = run.json()["files"]
    assert f["written"] and f["plan"]["new_ids"] > 0
    again = run_cli("sync", demo, "--as-of", "2026-11-01", "--json")
    assert again.json()["files"][0]["written"] is False
    assert os.path.exists(f["backup"])


def test_the_same_rep_twice_gets_a_duplicate_hint_but_no_conflict(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", visited=dt.date(2026, 10, 1), status="拜访"),
         customer(customer="深圳市格林电子有限公司", rep="张伟")],
        [],
    )  # fmt: skip
    outcome = sync(path, AS_OF)
    assert outcome.result.conflicts == []
    hints = read_register(path).sheets[SheetKind.FOLLOWING].hints
    assert hints == {2: "【重复】同一客户还登记在 跟进中 第 3 行",
                     3: "【重复】同一客户还登记在 跟进中 第 2 行"}  # fmt: skip


def test_a_moved_row_lands_above_the_total_row_of_cooperating(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 9, 3), status="送样",
                  won=dt.date(2026, 10, 20))],
        [customer(customer="宏达印刷", rep="李娜", status="已合作", won=dt.date(2025, 3, 1)),
         ["合计", 1]],
    )  # fmt: skip
    sync(path, dt.date(2026, 11, 1))
    book = openpyxl.load_workbook(path)
    sheet = book["已合作"]
    assert sheet["B3"].value == "格林电子"
    assert sheet["N3"].value == "已合作"  # the moved row's 状态 follows its 成交日期
    assert sheet["A4"].value == "合计"


def test_the_workbook_looks_right_to_the_rep(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="深圳市格林电子科技有限公司", rep="张伟", sampled=dt.date(2026, 10, 3),
                  status="送样"),
         customer(customer="格林电子", rep="李娜", visited=dt.date(2026, 10, 9), status="拜访")],
        [],
    )  # fmt: skip
    book = openpyxl.load_workbook(path)
    for cell in book["跟进中"][1]:
        cell.font = openpyxl.styles.Font(bold=True, color="FF1F3B64")
    book.save(path)
    sync(path, dt.date(2026, 11, 1))
    book = openpyxl.load_workbook(path)
    conflicts = book["冲突"]
    assert conflicts["A2"].value == "深圳市格林电子科技有限公司"  # the owner's spelling, no key
    assert conflicts["A1"].font.b
    stop_row = next(r for r in range(2, conflicts.max_row + 1)
                    if conflicts.cell(r, 8).value == "须停止跟进")  # fmt: skip
    assert conflicts.cell(stop_row, 1).fill.fgColor.rgb == "FFFFC7CE"
    assert conflicts.cell(2, 1).border.left.style == "thin"
    assert conflicts.page_setup.fitToWidth == 1
    sheet = book["跟进中"]
    header = next(c for c in sheet[1] if c.value == HINT_HEADER)
    assert header.font.b and header.font.color.rgb == "FF1F3B64"  # like the rep's headers
    hint = sheet.cell(3, header.column)
    assert hint.value.startswith("【冲突】") and hint.alignment.wrap_text
    assert sheet.row_dimensions[3].height and sheet.row_dimensions[3].height > 15


def _rows_xml(path: Path, sheet: str = "xl/worksheets/sheet1.xml") -> dict[int, bytes]:
    import re
    import zipfile

    data = zipfile.ZipFile(path).read(sheet)
    return {
        int(m.group(1)): m.group(0)
        for m in re.finditer(rb'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', data, re.S)
    }


def test_a_sync_writes_only_the_hints_that_change(tmp_path: Path) -> None:
    """Rows whose hint already says what the sync says are left byte for byte as they
    are, with the height a rep gave them; a hint that changes is written."""
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer="格林电子", rep="张伟", visited=dt.date(2026, 8, 20)),  # 2
            customer(customer="格林电子", rep="李娜", contacted=dt.date(2026, 10, 26)),  # 3
            customer(customer="华美涂料", rep="王芳", visited=dt.date(2026, 10, 25)),  # 4
            customer(customer="华美涂料", rep="刘洋", contacted=dt.date(2026, 10, 26)),  # 5
        ],
        roster=ROSTER,
    )
    sync(path, dt.date(2026, 11, 1))
    hints = read_register(path).sheets[SheetKind.FOLLOWING].hints
    assert set(hints) == {2, 3, 4, 5}
    # the rep makes row 4 taller in Excel
    row4 = _rows_xml(path)[4]
    taller = row4.replace(b'ht="', b'ht="9', 1)
    assert taller != row4
    rewrite_part(path, "xl/worksheets/sheet1.xml", lambda data: data.replace(row4, taller))
    before = _rows_xml(path)

    sync(path, dt.date(2026, 12, 15))  # 张伟's visit (08-20) is no longer protected
    after = _rows_xml(path)
    changed = read_register(path).sheets[SheetKind.FOLLOWING].hints
    assert changed[2] != hints[2] and changed[4] == hints[4] and changed[5] == hints[5]
    assert after[4] == before[4] == taller  # the rep's height stays
    assert after[5] == before[5]
    assert after[2] != before[2]


def test_the_snapshot_digest_is_the_digest_of_its_repr() -> None:
    """`_digest` feeds the hash a row at a time; it is the hash of the whole repr."""
    import hashlib

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from xlsync.history import RowSnapshot
    from xlsync.sync import _digest

    rows = st.lists(
        st.builds(RowSnapshot, st.text(max_size=6), st.just("r.xlsx"), st.sampled_from(["跟进中", "已合作"]),
                  st.integers(2, 99), st.dictionaries(st.text(max_size=4), st.text(max_size=8), max_size=3)),
        max_size=5,
    )  # fmt: skip

    @settings(max_examples=200, deadline=None)
    @given(rows, st.lists(st.text(max_size=5), max_size=2))
    def same(snapshot: list[RowSnapshot], rulings: list[str]) -> None:
        whole = hashlib.sha256(repr((snapshot, rulings)).encode()).hexdigest()
        assert _digest(snapshot, rulings) == whole  # type: ignore[arg-type]

    same()


def test_a_name_that_reads_like_a_style_index_is_written(tmp_path: Path) -> None:
    """The written package's style check reads attributes, not cell text: a customer
    named with ` s="999"` (quotes stay raw in XML text) in the hints and 冲突 is no fault."""
    name = '格林 s="999"'
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer=name, rep="张伟", visited=dt.date(2026, 10, 1)),
            customer(customer=name, rep="李娜", visited=dt.date(2026, 10, 5)),
        ],
        roster=ROSTER,
    )
    outcome = sync(path, dt.date(2026, 11, 1))
    assert outcome.files[0].written and outcome.files[0].refused is None
    conflicts = CalamineWorkbook.from_path(path).get_sheet_by_name("冲突").to_python()
    assert any(name in str(cell) for row in conflicts for cell in row)


def test_a_moved_row_equal_to_a_cooperating_one_ranks_the_same_after_the_move(
    tmp_path: Path,
) -> None:
    """Found by tests/test_sync_property.py: a won 跟进中 row (状态 电话) and an 已合作 row
    of the same rep with the same dates tied, and the move's 状态 → 已合作 broke the tie
    the other way at the next sync, which rewrote the hints again. A won row's 状态 counts
    as 已合作 in the tie-break: the second sync changes nothing."""
    same = {"customer": "格林电子", "rep": "张伟", "visited": dt.date(2025, 6, 1),
            "status": "电话", "won": dt.date(2025, 1, 1)}  # fmt: skip
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="深圳市格林电子科技有限公司", rep="张伟"), customer(**same)],
        [
            customer(
                customer="深圳市格林电子科技有限公司", rep="王芳", sampled=dt.date(2025, 6, 1)
            ),
            customer(**same),
        ],
        roster=ROSTER,
    )
    first = sync(path, dt.date(2026, 11, 1))
    assert first.files[0].plan.moves
    again = sync(path, dt.date(2026, 11, 1))
    assert again.files[0].plan.empty, again.files[0].plan.text.hints
