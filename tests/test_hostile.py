"""Hostile and broken workbooks: each gives a clear message or a located problem, never a
traceback, a hang or a memory blow-up; and nothing xlsync writes can run."""

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from xlsync.check import run_check
from xlsync.register.reader import read_register
from xlsync.register.schema import SheetKind
from xlsync.sync import sync

from .helpers import HEADERS, customer, rewrite_part, run_cli, write_register

AS_OF = "2026-11-01"


@pytest.fixture()
def plain(tmp_path: Path) -> Path:
    return write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 10, 3), status="送样"),
         customer(customer="格林电子有限公司", rep="李娜", visited=dt.date(2026, 10, 9))],
        [],
    )  # fmt: skip


def test_a_zip_bomb_is_refused_before_inflating(plain: Path) -> None:
    sheet = zipfile.ZipFile(plain).read("xl/worksheets/sheet1.xml")
    bomb = sheet.replace(b"<sheetData>", b"<sheetData>" + b" " * (80 << 20))  # 80 MB of blanks
    rewrite_part(plain, "xl/worksheets/sheet1.xml", lambda _: bomb)
    assert plain.stat().st_size < 2 << 20  # it compresses to almost nothing
    run = run_cli("check", plain)
    assert run.code == 2 and "压缩炸弹" in run.stderr


def test_the_inflate_limit_is_configurable(plain: Path, monkeypatch) -> None:
    monkeypatch.setenv("XLSYNC_MAX_INFLATE_MB", "0.001")
    run = run_cli("check", plain)
    assert run.code == 2 and "解压后过大" in run.stderr


def test_an_xml_entity_bomb_does_not_expand(plain: Path) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b"]>"
    )
    sheet = zipfile.ZipFile(plain).read("xl/worksheets/sheet1.xml")
    body = sheet.split(b"?>", 1)[1] if sheet.startswith(b"<?xml") else sheet
    body = body.replace(b"<t>", b"<t>&lol9;", 1)
    rewrite_part(plain, "xl/worksheets/sheet1.xml", lambda _: laughs + body)
    run = run_cli("check", plain, "--json", timeout=60)
    assert "Traceback" not in run.stderr
    assert "lollollol" not in run.stdout
    if run.code == 2:  # refused: one line naming the file
        assert len(run.stderr.strip().splitlines()) == 1 and plain.name in run.stderr
    else:  # read past the entity: the register's rows are still there, the entity is not
        assert run.code in (0, 1), run.stderr
        data = run.json()
        assert data["register"] == str(plain)


def test_a_stray_cell_on_the_last_row_is_read_quickly(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "跟进中"
    sheet.append(HEADERS)
    sheet.append(customer(customer="格林电子", rep="张伟"))
    sheet.cell(row=1_048_576, column=12, value="误输入")
    path = tmp_path / "stray.xlsx"
    book.save(path)
    result = run_check(path, dt.date(2026, 11, 1))
    assert [r.row for r in result.rows] == [2, 1_048_576]
    assert {(p.row, p.column) for p in result.problems} == {(1_048_576, "客户名称"),
                                                           (1_048_576, "业务员")}  # fmt: skip


def test_long_cells_merged_cells_hidden_rows_filters_and_duplicate_headers(tmp_path: Path) -> None:
    headers = [*HEADERS, "客户名称"]  # the same header twice: the first one counts
    long_text = "很长的跟进记录" * 4681  # 32,767 characters, Excel's limit
    path = write_register(
        tmp_path / "r.xlsx",
        [[*customer(customer="格林电子", rep="张伟", notes=long_text[:32767]), "别的名字"],
         [*customer(customer="格林电子有限公司", rep="李娜"), None],
         [*customer(customer="华美涂料", rep="王芳"), None]],
        [],
        headers=headers,
    )  # fmt: skip
    book = openpyxl.load_workbook(path)
    sheet = book["跟进中"]
    sheet.merge_cells("E2:E3")
    sheet.row_dimensions[4].hidden = True
    sheet.column_dimensions["C"].hidden = True
    sheet.auto_filter.ref = "A1:P4"
    book.save(path)
    result = run_check(path, dt.date(2026, 11, 1))
    assert [r.customer for r in result.rows] == ["格林电子", "格林电子有限公司", "华美涂料"]
    sync(path, dt.date(2026, 11, 1))
    after = openpyxl.load_workbook(path)["跟进中"]
    assert "E2:E3" in {str(m) for m in after.merged_cells.ranges}
    assert after.row_dimensions[4].hidden and after.column_dimensions["C"].hidden
    assert after.auto_filter.ref == "A1:P4"
    assert after["L2"].value == long_text[:32767]
    assert after["P2"].value == "别的名字"


def test_excel_error_values_and_formulas(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", sampled="#N/A", status="送样"),
         customer(customer="=CONCAT(\"华美\",\"涂料\")", rep="王芳")],
        [],
    )  # fmt: skip
    run = run_cli("check", path, "--json", "--as-of", AS_OF)
    assert run.code == 1 and "Traceback" not in run.stderr
    problems = {(p["row"], p["column"]) for p in run.json()["problems"]}
    # calamine gives an error cell (#N/A) as blank: the row is still flagged where it lacks
    # the date its status needs; a formula with no cached value reads as a missing name
    assert problems == {(2, "状态"), (3, "客户名称")}


def test_sheet_names_in_another_case_or_width(tmp_path: Path) -> None:
    path = write_register(tmp_path / "r.xlsx", [customer(customer="格林电子", rep="张伟")], [],
                          sheet_names=("ＦＯＬＬＯＷＩＮＧ", "Cooperating"))  # fmt: skip
    register = read_register(path)
    assert register.sheets[SheetKind.FOLLOWING].name == "ＦＯＬＬＯＷＩＮＧ"
    assert SheetKind.COOPERATING in register.sheets


def test_a_protected_sheet_is_not_written(plain: Path) -> None:
    book = openpyxl.load_workbook(plain)
    book["跟进中"].protection.sheet = True
    book.save(plain)
    before = plain.read_bytes()
    run = run_cli("sync", plain, "--as-of", AS_OF)
    assert run.code == 2 and "保护" in run.stdout
    assert plain.read_bytes() == before


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    evil = '=HYPERLINK("http://example.invalid","点我")'
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 10, 3), status="送样"),
         customer(customer="格林电子", rep="x", visited=dt.date(2026, 10, 9)),
         customer(customer="华美涂料", rep="x", phone="x", status="x")],
        [],
    )  # fmt: skip
    book = openpyxl.load_workbook(path)
    sheet = book["跟进中"]
    for ref, value in (("F3", evil), ("F4", "+王芳"), ("D4", "-12345"), ("N4", "@跟进")):
        sheet[ref] = value
        sheet[ref].data_type = "s"  # what a rep typed as text (Excel: a leading apostrophe)
    book.save(path)
    sync(path, dt.date(2026, 11, 1))
    book = openpyxl.load_workbook(path)
    for name in ("冲突", "问题"):
        for row in book[name].iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    assert cell.data_type == "s", (name, cell.coordinate, cell.value)
    texts = [c.value for row in book["冲突"].iter_rows() for c in row]
    assert evil in texts
    hints = read_register(path).sheets[SheetKind.FOLLOWING].hints
    assert evil in hints[2]  # the owner's row names the rep who must stop, as text
    assert "张伟" in hints[3] and "请停止跟进" in hints[3]


def test_file_names_built_from_data_are_safe() -> None:
    from xlsync.reports.build import safe_name

    assert safe_name('a/b\\c:d*e?"f<g>h|') == "a_b_c_d_e_f_g_h_"
    assert safe_name("..") == "register"
    assert "/" not in safe_name("../../etc/passwd")


def test_a_full_disk_leaves_the_register_untouched(plain: Path, monkeypatch) -> None:
    import errno

    import xlsync.sync as module

    def no_space(plan, source, dest):  # type: ignore[no-untyped-def]
        Path(dest).write_bytes(b"PK\x03\x04 partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(module, "apply_plan", no_space)
    before = plain.read_bytes()
    from xlsync.errors import UnusableInput

    with pytest.raises(UnusableInput, match="磁盘空间不足"):
        sync(plain, dt.date(2026, 11, 1))
    assert plain.read_bytes() == before
    assert not list(plain.parent.glob(".~xlsync-*"))


def test_permission_denied_is_a_clear_message(plain: Path, monkeypatch) -> None:
    import xlsync.sync as module

    def denied(path: Path) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(module, "_temp_beside", denied)
    from xlsync.errors import UnusableInput

    with pytest.raises(UnusableInput, match="没有写入权限"):
        sync(plain, dt.date(2026, 11, 1))


def test_a_macro_workbook_keeps_its_macros(tmp_path: Path) -> None:
    from .features import build_feature_register, feature_fingerprint

    path = build_feature_register(tmp_path / "m.xlsm", "macro")
    before = feature_fingerprint(path, "macro")
    run = run_cli("sync", path, "--as-of", AS_OF)
    assert run.code == 0, run.stdout + run.stderr
    assert feature_fingerprint(path, "macro") == before
    shutil.copy(path, tmp_path / "copy.xlsm")
    assert read_register(tmp_path / "copy.xlsm").rows
