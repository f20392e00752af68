"""The streaming writer (issue 18): a first sync writes what the tree-based writer wrote,
rows no edit touches keep their bytes, and the byte-level edits are what lxml writes."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from xlsync.register.schema import SheetKind
from xlsync.sync import sync
from xlsync.xlsx.package import NS_MAIN, Package, raw_entry
from xlsync.xlsx.sheet import SheetXml

from .data_gen import make_register
from .helpers import rewrite_part
from .office import soffice_available
from .writer_expectations import KEPT, registers, written

AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def kept_registers(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("writer")
    return list(registers(folder, libreoffice=soffice_available()))


def test_a_first_sync_writes_what_the_tree_based_writer_wrote(
    kept_registers: list[tuple[str, Path]],
) -> None:
    assert {name for name, _ in kept_registers} >= {"demo", "gen-1000"}
    for name, path in kept_registers:
        kept = json.loads((KEPT / f"{name}.json").read_text("utf-8"))
        now = json.loads(json.dumps(written(path), ensure_ascii=False))
        for sheet, expected in kept["sheets"].items():
            got = now["sheets"].get(sheet)
            assert got is not None, (name, sheet)
            assert got["first"] == expected["first"], (name, sheet)
            assert (got["rows"], got["sha256"]) == (expected["rows"], expected["sha256"]), (
                name,
                sheet,
            )
        assert set(now["sheets"]) == set(kept["sheets"]), name


_ROW = re.compile(rb'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.S)


def _rows(path: Path, part: str) -> dict[int, bytes]:
    data = zipfile.ZipFile(path).read(part)
    return {int(m.group(1)): m.group(0) for m in _ROW.finditer(data)}


def test_rows_no_edit_touches_keep_their_bytes(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    make_register(path, rows=300, seed=5)
    assert sync(path, AS_OF).files[0].written
    wb = openpyxl.load_workbook(path)  # the rep adds a customer at the end and saves
    ws = wb["跟进中"]
    ws.append([None, "杭州新来客户科技有限公司", "周先生", "13912345678", "杭州", "张伟"])
    wb.save(path)
    before = _rows(path, "xl/worksheets/sheet1.xml")
    outcome = sync(path, AS_OF)
    plan = outcome.files[0].plan
    assert outcome.files[0].written
    after = _rows(path, "xl/worksheets/sheet1.xml")
    following = plan.register.sheets[SheetKind.FOLLOWING]
    touched = {row for (kind, row) in plan.new_ids if kind is SheetKind.FOLLOWING}
    touched |= {row for (kind, row) in plan.text.hints if kind is SheetKind.FOLLOWING}
    touched |= {m.source for m in plan.moves} | set(following.hints) | {following.header_row}
    assert touched and ws.max_row in touched  # the new customer got its 编号
    untouched = [r for r in before if r not in touched]
    assert len(untouched) > 200
    for r in untouched:
        assert after[r] == before[r], r
    assert any(after[r] != before[r] for r in touched)


W = f'<worksheet xmlns="{NS_MAIN}" xmlns:x14ac="urn:x14ac">'
ROWS = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>head</t></is></c></row>'
    '<row r="2" ht="15" customHeight="false" x14ac:dyDescent="0.25">'
    '<c r="A2" s="3"/><c r="C2" s="4"><v>7</v></c></row>'
    '<row r="3" s="2" customFormat="1"/>'
    '<row r="4" ht="40" customHeight="1"><c r="B4"><v>1</v></c></row>'
)
SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'{W}<dimension ref="A1:C4"/><sheetData>{ROWS}</sheetData></worksheet>'
)


def _write(sheet: SheetXml) -> bytes:
    return b"".join(sheet.chunks())


def _parsed(data: bytes) -> bytes:
    root = etree.fromstring(data)
    return etree.tostring(root.find(f"{{{NS_MAIN}}}sheetData"), method="c14n")


def _forced(sheet: SheetXml, r: int) -> None:
    """An edit the byte-level path does not take (a style copied between missing cells:
    no effect), so that row `r` goes through lxml."""
    sheet.copy_style(r, 40, 41)


@pytest.mark.parametrize(
    "edits",
    [
        [("text", 2, 1, "编号1")],  # a missing cell between two cells
        [("text", 2, 0, "A & <b> > c\r")],  # an empty styled cell, escapes
        [("text", 2, 5, " spaced ")],  # after the last cell, xml:space
        [("text", 3, 0, "x"), ("fit", 3, 3)],  # a row with no cells, made taller
        [("value", 2, 4, "hint", "9"), ("fit", 2, 2)],  # with a style, taller
        [("value", 2, 0, "hint", "9"), ("fit", 4, 5)],  # restyled; a height set by hand
        [("text", 1, 3, "x"), ("text", 1, 1, "y")],  # two cells, in either order
    ],
)
def test_byte_level_edits_are_what_lxml_writes(edits: list[tuple]) -> None:
    quick, slow = SheetXml(SHEET.encode()), SheetXml(SHEET.encode())
    for sheet in (quick, slow):
        for edit in edits:
            if edit[0] == "text":
                sheet.set_text(edit[1], edit[2], edit[3])
            elif edit[0] == "value":
                sheet.set_value(edit[1], edit[2], edit[3], edit[4])
            else:
                sheet.fit_height(edit[1], edit[2])
    for r in {edit[1] for edit in edits}:
        _forced(slow, r)
        assert quick._patched(quick._rows[r]) is not None
        assert slow._patched(slow._rows[r]) is None
    assert _parsed(_write(quick)) == _parsed(_write(slow))


def test_an_untouched_sheet_is_not_rewritten_and_edits_keep_other_rows() -> None:
    sheet = SheetXml(SHEET.encode())
    assert not sheet.changed
    sheet.set_text(2, 1, "id")
    out = _write(sheet)
    assert out.count(b'<row r="4" ht="40" customHeight="1"><c r="B4"><v>1</v></c></row>') == 1
    assert b'<row r="3" s="2" customFormat="1"/>' in out
    assert b'<c r="B2" t="inlineStr"><is><t>id</t></is></c>' in out


def _cells(data: bytes) -> list[tuple[str, str, str]]:
    """(row, cell, its text) in document order."""
    root = etree.fromstring(data)
    out = []
    for row in root.iter(f"{{{NS_MAIN}}}row"):
        for c in row.iter(f"{{{NS_MAIN}}}c"):
            text = "".join(c.itertext())
            out.append((row.get("r", ""), c.get("r", ""), text))
    return out


@pytest.mark.parametrize(
    "variant",
    ["plain", "prefixed", "comment", "cdata", "latin1", "no-sheetdata"],
)
def test_sheets_written_in_other_ways_are_edited_alike(variant: str) -> None:
    data = SHEET
    if variant == "prefixed":  # x: for the main namespace, as some producers write
        data = re.sub(r"<(/?)(?!\?)", r"<\1x:", SHEET.replace(f'xmlns="{NS_MAIN}"', ""))
        data = data.replace("<x:worksheet", f'<x:worksheet xmlns:x="{NS_MAIN}"', 1)
    elif variant == "comment":
        data = SHEET.replace('<row r="3"', '<!-- <row r="9"> --><row r="3"')
    elif variant == "cdata":
        data = SHEET.replace("<t>head</t>", "<t><![CDATA[head </row>]]></t>")
    elif variant == "latin1":
        data = SHEET.replace("UTF-8", "ISO-8859-1")
    elif variant == "no-sheetdata":
        data = f'<?xml version="1.0"?>\n{W}<dimension ref="A1"/></worksheet>'
    raw = data.encode("latin-1" if variant == "latin1" else "utf-8")
    sheet = SheetXml(raw)
    sheet.shift_rows(4, 1)  # row 4 moves to 5 (as the writer does first), 6 is added
    sheet.set_text(2, 1, "编号" if variant != "latin1" else "id")
    sheet.set_text(6, 0, "new")
    sheet.update_dimension()
    out = _write(sheet)
    cells = _cells(out)
    if variant == "no-sheetdata":
        assert cells == [("2", "B2", "编号"), ("6", "A6", "new")]
        return
    assert ("2", "B2", "编号" if variant != "latin1" else "id") in cells
    assert [c[1] for c in cells if c[0] == "2"] == ["A2", "B2", "C2"]
    assert [c[:2] for c in cells][-2:] == [("5", "B5"), ("6", "A6")]
    assert b'<dimension ref="A1:C6"/>' in out.replace(b"x:", b"")
    assert etree.fromstring(out) is not None


def test_untouched_parts_are_copied_as_stored(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    make_register(path, rows=120, seed=9)
    before = tmp_path / "before.xlsx"
    shutil.copy(path, before)
    assert sync(path, AS_OF).files[0].written
    with zipfile.ZipFile(before) as old, zipfile.ZipFile(path) as new:
        names = {i.filename for i in new.infolist()}
        with Package(path) as package:
            sheets = set(package.sheet_parts().values())
        same = [i for i in old.infolist() if i.filename in names and i.filename not in sheets]
        copied = [
            i.filename for i in same if raw_entry(old, i) == raw_entry(new, new.getinfo(i.filename))
        ]
        assert "docProps/core.xml" in copied
        assert new.testzip() is None


@pytest.mark.parametrize("window", [7, 64, 1 << 22])
def test_a_style_out_of_range_is_found_in_any_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    from xlsync.xlsx import package as module

    monkeypatch.setattr(module, "_WINDOW", window)
    path = tmp_path / "r.xlsx"
    make_register(path, rows=60, seed=3)
    assert module.package_faults(path) == set()

    def broken(data: bytes) -> bytes:
        assert b'<c r="B60"' in data
        data = data.replace(b'<c r="B60"', b'<c r="B60" s="999"')
        return data.replace(
            b"</sheetData>",
            b'</sheetData><conditionalFormatting sqref="A1"><cfRule type="expression" '
            b'dxfId="77" priority="1"><formula>TRUE</formula></cfRule></conditionalFormatting>',
        )

    rewrite_part(path, "xl/worksheets/sheet1.xml", broken)
    faults = module.package_faults(path)
    assert any("s=999" in f for f in faults), faults
    assert any("dxfId=77" in f for f in faults), faults


@pytest.mark.parametrize("size", [1, 5, 16, 1 << 20])
def test_styles_are_searched_the_same_in_pieces_of_any_size(size: int) -> None:
    """The cells' styles anywhere; the conditional formats' dxfId only after the last
    `sheetData>` (one written inside the rows is not a conditional format)."""
    from xlsync.xlsx.package import _styles_out_of_range

    sheet = (
        b'<worksheet><sheetData><row r="1"><c r="A1" s="3"/><c r="B1" s="12"/>'
        b'<c r="C1" s="40"/><x dxfId="99"/></row></sheetData><conditionalFormatting>'
        b'<cfRule dxfId="1"/><cfRule dxfId="8"/><cfRule dxfId="9"/></conditionalFormatting>'
        b"</worksheet>"
    )
    pieces = [sheet[i : i + size] for i in range(0, len(sheet), size)]
    assert _styles_out_of_range(pieces, 10, 5) == (b"12", b"8")
    assert _styles_out_of_range(pieces, 41, 10) == (None, None)
    assert _styles_out_of_range(pieces, None, None) == (b"3", b"1")
    # a row's style too, and after any whitespace (the usual space is searched for quickly)
    other = b'<worksheet><sheetData><row r="1"\ts="40"><c r="A1"\ns="3"/></row></sheetData>'
    pieces = [other[i : i + size] for i in range(0, len(other), size)]
    assert _styles_out_of_range(pieces, 10, 5) == (b"40", None)
    assert _styles_out_of_range(pieces, 41, 5) == (None, None)
    # a cell's text that reads like a style is text (a customer named so, in 冲突)
    text = b'<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr" s="2"><is><t>A s="999"'
    text += b"</t></is></c></row></sheetData></worksheet>"
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    assert _styles_out_of_range(pieces, 10, 5) == (None, None)
    assert _styles_out_of_range(pieces, 1, 5) == (b"2", None)
    # rows that end in an empty <sheetData/>, or under a prefix; leading zeros
    for sheet in (
        b'<worksheet><sheetData/><conditionalFormatting><cfRule dxfId="8"/>'
        b"</conditionalFormatting></worksheet>",
        b'<x:worksheet><x:sheetData><x:row r="1"><x:c r="A1" s="012"/><x:c dxfId="99"/>'
        b'</x:row></x:sheetData><x:conditionalFormatting><x:cfRule dxfId="8"/>'
        b"</x:conditionalFormatting></x:worksheet>",
    ):
        pieces = [sheet[i : i + size] for i in range(0, len(sheet), size)]
        found = _styles_out_of_range(pieces, 10, 5)
        assert found == ((b"012" if b"012" in sheet else None), b"8")


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 2))
def test_the_numbers_at_least_a_limit(limit: int, value: int, zeros: int) -> None:
    from xlsync.xlsx.package import numbers_at_least

    pattern = re.compile(b"0*" + numbers_at_least(limit))
    for number in (value, limit, limit + 1, max(limit - 1, 0), value * 10):
        text = ("0" * zeros + str(number)).encode()
        assert bool(pattern.fullmatch(text)) == (number >= limit), (limit, text)


def test_a_part_is_inflated_as_zipfile_reads_it(tmp_path: Path) -> None:
    """`inflate` gives ZipFile.read's bytes for stored and deflated parts, and refuses a
    part whose bytes do not match its CRC, as ZipFile.read does."""
    from xlsync.xlsx.package import inflate

    path = tmp_path / "p.zip"
    text = ("<row>客户</row>" * 5000).encode()
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("deflated.xml", text, zipfile.ZIP_DEFLATED)
        z.writestr("stored.xml", text, zipfile.ZIP_STORED)
        z.writestr("empty.xml", b"", zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            assert inflate(z, info) == z.read(info.filename), info.filename
    data = path.read_bytes()
    stored_at = data.index(text)  # the stored part's bytes, changed in place
    path.write_bytes(data[:stored_at] + b"X" + data[stored_at + 1 :])
    with zipfile.ZipFile(path) as z:
        with pytest.raises(zipfile.BadZipFile):
            z.read("stored.xml")
        with pytest.raises(zipfile.BadZipFile):
            inflate(z, z.getinfo("stored.xml"))
