"""Workbooks as other programs write them, each with a register sheet injected into it.

`python -m tests.corpus_gen OUT_DIR` writes the corpus; the tests call `build(OUT_DIR)`.

Producers: openpyxl, XlsxWriter, pandas through both of its engines, LibreOffice Calc and
Gnumeric's `ssconvert` (each skipped, with the reason, when not installed), and packages
edited by hand to reproduce what other producers do: Excel 2007's `Sheet1.xml` part names,
no styles part, an empty `<styleSheet/>`, `x:`-prefixed elements, absolute relationship
targets, the workbook part in another folder, inline strings and no shared strings part, a
user's own sheets named `Problems` and `settings`, Strict Open XML, `.xlsb` / `.ods` renamed
to `.xlsx`, and an Excel 4.0 macro sheet.

Into each workbook a 跟进中 sheet is added as a new package part (every other part copied
byte for byte), with a duplicate claim so that a sync writes hints and 冲突.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_WS = NS_R + "/worksheet"
CT_WS = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

# The user's own data: text, numbers, a date, a formula-free grid every producer can write.
USER_ROWS: list[list[object]] = [
    ["产品", "数量", "单价", "日期"],
    ["PU-200", 12, 3.5, dt.date(2026, 3, 1)],
    ["胶水 A", 7, 12.25, dt.date(2026, 4, 15)],
    ["=not a formula", 0, -1.5, dt.date(2025, 12, 31)],
]
REGISTER_ROWS: list[list[str]] = [
    ["客户名称", "联系人", "电话", "业务员", "拜访日期", "状态"],
    ["深圳市格林电子科技有限公司", "陈先生", "13800138000", "张伟", "2026-10-01", "拜访"],
    ["格林电子（深圳）有限公司", "陈总", "138-0013-8000", "王芳", "2026-10-20", "拜访"],
    ["东莞宏达塑胶有限公司", "李小姐", "0769-22223333", "李娜", "2026-09-15", "拜访"],
]


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    producer: str
    path: Path
    refusal: str | None = None  # the words the exit-2 message must contain, if refused
    lo_check: bool = False  # also opened in LibreOffice after the sync


# ---------------------------------------------------------------- producers


def by_openpyxl(dest: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Data"
    for row in USER_ROWS:
        ws.append(row)
    wb.save(dest)


def by_xlsxwriter(dest: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(dest), {"strings_to_formulas": False})
    ws = wb.add_worksheet("Data")
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(USER_ROWS):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), fmt)
            elif isinstance(value, str):
                ws.write_string(r, c, value)
            else:
                ws.write(r, c, value)
    wb.close()


def _by_pandas(engine: str) -> Callable[[Path], None]:
    def make(dest: Path) -> None:
        import pandas as pd

        frame = pd.DataFrame(USER_ROWS[1:], columns=USER_ROWS[0])
        kwargs = {"engine_kwargs": {"options": {"strings_to_formulas": False}}}
        with pd.ExcelWriter(dest, engine=engine, **(kwargs if engine == "xlsxwriter" else {})) as w:
            frame.to_excel(w, sheet_name="Data", index=False)

    return make


def _csv(dest: Path) -> Path:
    src = dest.with_suffix(".csv")
    lines = [",".join(str(v) for v in row) for row in USER_ROWS if not str(row[0]).startswith("=")]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return src


def by_libreoffice(dest: Path) -> None:
    from tests.office import libreoffice_roundtrip

    src = dest.with_name(dest.stem + "-src.xlsx")
    by_openpyxl(src)
    with tempfile.TemporaryDirectory() as tmp:
        out = libreoffice_roundtrip(src, Path(tmp))
        shutil.move(out, dest)
    src.unlink()


def by_gnumeric(dest: Path) -> None:
    src = _csv(dest)
    with tempfile.TemporaryDirectory() as home:
        subprocess.run(
            ["ssconvert", "--export-type=Gnumeric_Excel:xlsx2", str(src), str(dest)],
            check=True,
            capture_output=True,
            env={**os.environ, "HOME": home},
            timeout=120,
        )
    src.unlink()


# ---------------------------------------------------------------- package surgery


def read_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write_parts(path: Path, parts: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def _xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _rels_of(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _workbook_part(parts: dict[str, bytes]) -> str:
    for rel in _xml(parts["_rels/.rels"]):
        if rel.get("Type", "").endswith("/officeDocument"):
            return rel.get("Target", "").lstrip("/")
    raise KeyError("officeDocument")


def inject_register(parts: dict[str, bytes], rows: list[list[str]] = REGISTER_ROWS) -> None:
    """Add 跟进中 as a new worksheet part (inline strings); other parts keep their bytes
    except the workbook, its relationships and the content types, which must list it."""
    workbook = _workbook_part(parts)
    folder = posixpath.dirname(workbook)
    part = posixpath.join(folder, "worksheets", "register-injected.xml")
    cells = []
    for r, row in enumerate(rows, start=1):
        out = "".join(
            f'<c r="{chr(65 + c)}{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
            for c, v in enumerate(row)
        )
        cells.append(f'<row r="{r}">{out}</row>')
    parts[part] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS_MAIN}">'
        f"<sheetData>{''.join(cells)}</sheetData></worksheet>"
    ).encode()
    rels = _xml(parts[_rels_of(workbook)])
    rel = etree.SubElement(rels, f"{{{NS_REL}}}Relationship")
    rel.set("Id", "rIdInjected")
    rel.set("Type", REL_WS)
    rel.set("Target", "worksheets/register-injected.xml")
    parts[_rels_of(workbook)] = _bytes(rels)
    wb = _xml(parts[workbook])
    ns = etree.QName(wb).namespace
    sheets = wb.find(f"{{{ns}}}sheets")
    assert sheets is not None
    sheet = etree.SubElement(sheets, f"{{{ns}}}sheet")
    sheet.set("name", "跟进中")
    sheet.set("sheetId", str(max(int(s.get("sheetId", "0")) for s in sheets) + 1))
    sheet.set(f"{{{NS_R}}}id", "rIdInjected")
    parts[workbook] = _bytes(wb)
    types = _xml(parts["[Content_Types].xml"])
    override = etree.SubElement(types, f"{{{NS_CT}}}Override")
    override.set("PartName", "/" + part)
    override.set("ContentType", CT_WS)
    parts["[Content_Types].xml"] = _bytes(types)


def _rename_part(parts: dict[str, bytes], old: str, new: str) -> None:
    """Move a part and fix every reference to it (relationship targets, content types)."""
    parts[new] = parts.pop(old)
    if _rels_of(old) in parts:
        parts[_rels_of(new)] = parts.pop(_rels_of(old))
    for name in list(parts):
        if name.endswith(".rels") or name == "[Content_Types].xml":
            text = parts[name].decode()
            text = text.replace(f'"/{old}"', f'"/{new}"')
            source_dir = posixpath.dirname(posixpath.dirname(name))
            rel_old = posixpath.relpath(old, source_dir or ".")
            rel_new = posixpath.relpath(new, source_dir or ".")
            text = text.replace(f'Target="{rel_old}"', f'Target="{rel_new}"')
            parts[name] = text.encode()


def excel2007_names(parts: dict[str, bytes]) -> None:
    """Excel 2007 capitalised its sheet part names: xl/worksheets/Sheet1.xml."""
    _rename_part(parts, "xl/worksheets/sheet1.xml", "xl/worksheets/Sheet1.xml")


def no_styles(parts: dict[str, bytes]) -> None:
    del parts["xl/styles.xml"]
    for name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
        root = _xml(parts[name])
        for el in list(root):
            if "styles" in (el.get("Target", "") + el.get("PartName", "")):
                root.remove(el)
        parts[name] = _bytes(root)
    # cells may no longer name a style that does not exist
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = _strip_styles(sheet).encode()


def _strip_styles(xml: str) -> str:
    import re

    return re.sub(r' s="\d+"', "", xml)


def empty_styles(parts: dict[str, bytes]) -> None:
    parts["xl/styles.xml"] = f'<styleSheet xmlns="{NS_MAIN}"/>'.encode()
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = _strip_styles(sheet).encode()


def _reprefix(root: etree._Element, prefix: str) -> etree._Element:
    nsmap = {prefix: NS_MAIN, "r": NS_R}

    def copy(el: etree._Element, parent: etree._Element | None) -> etree._Element:
        new = (
            etree.Element(el.tag, nsmap=nsmap)
            if parent is None
            else etree.SubElement(parent, el.tag)
        )
        for k, v in el.attrib.items():
            new.set(k, v)
        new.text, new.tail = el.text, el.tail
        for child in el:
            if isinstance(child.tag, str):
                copy(child, new)
        return new

    return copy(root, None)


def prefixed(parts: dict[str, bytes]) -> None:
    """Every SpreadsheetML element written as `x:tag` (what some .NET writers do)."""
    for name in list(parts):
        if name.startswith("xl/") and name.endswith(".xml"):
            root = _xml(parts[name])
            if etree.QName(root).namespace == NS_MAIN:
                parts[name] = _bytes(_reprefix(root, "x"))


def absolute_targets(parts: dict[str, bytes]) -> None:
    for name in ("_rels/.rels", "xl/_rels/workbook.xml.rels"):
        root = _xml(parts[name])
        source_dir = posixpath.dirname(posixpath.dirname(name))
        for rel in root:
            target = rel.get("Target", "")
            if not target.startswith("/"):
                rel.set("Target", "/" + posixpath.normpath(posixpath.join(source_dir, target)))
        parts[name] = _bytes(root)


def workbook_elsewhere(parts: dict[str, bytes]) -> None:
    """The workbook and everything under xl/ moved to book/: found through _rels/.rels."""
    for name in [n for n in parts if n.startswith("xl/")]:
        parts["book/" + name[3:]] = parts.pop(name)
    for name in [n for n in parts if n.endswith(".rels")] + ["[Content_Types].xml"]:
        parts[name] = parts[name].replace(b'"/xl/', b'"/book/').replace(b'"xl/', b'"book/')


def inline_strings(parts: dict[str, bytes]) -> None:
    """Every string cell inline, and no shared strings part at all (from a file that had
    one: XlsxWriter's)."""
    ss = _xml(parts.pop("xl/sharedStrings.xml"))
    strings = ["".join(si.itertext()) for si in ss]
    sheet = _xml(parts["xl/worksheets/sheet1.xml"])
    for c in sheet.iter(f"{{{NS_MAIN}}}c"):
        if c.get("t") == "s":
            v = c.find(f"{{{NS_MAIN}}}v")
            assert v is not None
            c.remove(v)
            c.set("t", "inlineStr")
            is_ = etree.SubElement(c, f"{{{NS_MAIN}}}is")
            etree.SubElement(is_, f"{{{NS_MAIN}}}t").text = strings[int(v.text or "0")]
    parts["xl/worksheets/sheet1.xml"] = _bytes(sheet)
    for name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
        root = _xml(parts[name])
        for el in list(root):
            if "sharedStrings" in (el.get("Target", "") + el.get("PartName", "")):
                root.remove(el)
        parts[name] = _bytes(root)


def strict(parts: dict[str, bytes]) -> None:
    """ISO/IEC 29500 Strict: the same package under the purl.oclc.org namespaces."""
    for name in list(parts):
        if name.endswith((".xml", ".rels")) and name != "[Content_Types].xml":
            parts[name] = (
                parts[name]
                .replace(NS_MAIN.encode(), b"http://purl.oclc.org/ooxml/spreadsheetml/main")
                .replace(
                    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                    b"http://purl.oclc.org/ooxml/officeDocument/relationships",
                )
            )


def macro_sheet(parts: dict[str, bytes]) -> None:
    """An Excel 4.0 macro sheet (what old .xlsm files and some add-ins carry)."""
    parts["xl/macrosheets/sheet1.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<xm:macrosheet xmlns="{NS_MAIN}" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="str"><f>RETURN()</f><v></v></c></row></sheetData>'
        "</xm:macrosheet>"
    ).encode()
    rels = _xml(parts["xl/_rels/workbook.xml.rels"])
    rel = etree.SubElement(rels, f"{{{NS_REL}}}Relationship")
    rel.set("Id", "rIdMacro")
    rel.set("Type", "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet")
    rel.set("Target", "macrosheets/sheet1.xml")
    parts["xl/_rels/workbook.xml.rels"] = _bytes(rels)
    wb = _xml(parts["xl/workbook.xml"])
    sheets = wb.find(f"{{{NS_MAIN}}}sheets")
    assert sheets is not None
    sheet = etree.SubElement(sheets, f"{{{NS_MAIN}}}sheet")
    sheet.set("name", "Macro1")
    sheet.set("sheetId", "99")
    sheet.set(f"{{{NS_R}}}id", "rIdMacro")
    parts["xl/workbook.xml"] = _bytes(wb)
    types = _xml(parts["[Content_Types].xml"])
    override = etree.SubElement(types, f"{{{NS_CT}}}Override")
    override.set("PartName", "/xl/macrosheets/sheet1.xml")
    override.set("ContentType", "application/vnd.ms-excel.macrosheet+xml")
    parts["[Content_Types].xml"] = _bytes(types)


def users_own_sheets(path: Path) -> None:
    """The user's own sheets named `Problems` and `settings` (aliases of 问题 and 设置)."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    mine = wb.create_sheet("Problems")
    mine.append(["我的问题清单", "负责人"])
    mine.append(["打印机卡纸", "小王"])
    notes = wb.create_sheet("settings")
    notes.append(["打印机", "HP LaserJet"])
    wb.save(path)


# ---------------------------------------------------------------- the corpus

BINARY_XLSB = {"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01\x00"}
ODS = {
    "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
    "content.xml": b"<office:document-content/>",
}


def build(out: Path) -> tuple[list[Case], list[str]]:
    """Write the corpus into `out`; return the cases and the producers skipped (why)."""
    out.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    skipped: list[str] = []
    producers: list[tuple[str, str, Callable[[Path], None], bool]] = [
        ("openpyxl", "openpyxl", by_openpyxl, False),
        ("xlsxwriter", "XlsxWriter", by_xlsxwriter, True),
        ("pandas-openpyxl", "pandas (openpyxl)", _by_pandas("openpyxl"), False),
        ("pandas-xlsxwriter", "pandas (XlsxWriter)", _by_pandas("xlsxwriter"), False),
    ]
    if shutil.which("soffice") or shutil.which("libreoffice"):
        producers.append(("libreoffice", "LibreOffice Calc", by_libreoffice, True))
    else:
        skipped.append("LibreOffice: soffice not installed")
    if shutil.which("ssconvert"):
        producers.append(("gnumeric", "Gnumeric ssconvert", by_gnumeric, True))
    else:
        skipped.append("Gnumeric: ssconvert not installed (Debian package gnumeric)")
    for name, producer, make, lo in producers:
        path = out / f"{name}.xlsx"
        try:
            make(path)
        except Exception as exc:  # a producer that fails here is reported, not hidden
            skipped.append(f"{producer}: {type(exc).__name__}: {exc}")
            continue
        parts = read_parts(path)
        inject_register(parts)
        write_parts(path, parts)
        cases.append(Case(name, producer, path, lo_check=lo))

    base = out / "_base.xlsx"
    by_openpyxl(base)  # openpyxl writes inline strings: no shared strings part
    shared = out / "_shared.xlsx"
    by_xlsxwriter(shared)  # XlsxWriter writes shared strings
    edits: list[tuple[str, Callable[[dict[str, bytes]], None], str | None, bool]] = [
        ("excel2007-part-names", excel2007_names, None, True),
        ("no-styles", no_styles, None, True),
        ("empty-styles", empty_styles, None, False),
        ("x-prefixed", prefixed, None, False),
        ("absolute-targets", absolute_targets, None, False),
        ("workbook-elsewhere", workbook_elsewhere, None, False),
        ("inline-strings-no-sst", inline_strings, None, False),
        ("macro-sheet", macro_sheet, None, False),
        ("strict", strict, "Strict Open XML", False),
    ]
    for name, edit, refusal, lo in edits:
        parts = read_parts(shared if edit is inline_strings else base)
        edit(parts)
        inject_register(parts)
        path = out / f"{name}.xlsx"
        write_parts(path, parts)
        cases.append(Case(name, "hand-edited", path, refusal=refusal, lo_check=lo))
    own = out / "users-own-sheets.xlsx"
    by_openpyxl(own)
    users_own_sheets(own)
    parts = read_parts(own)
    inject_register(parts)
    write_parts(own, parts)
    cases.append(Case("users-own-sheets", "hand-edited", own, lo_check=True))
    for name, parts, words in (
        ("xlsb-renamed", BINARY_XLSB, ".xlsb"),
        ("ods-renamed", ODS, ".ods"),
    ):
        path = out / f"{name}.xlsx"
        write_parts(path, parts)
        cases.append(Case(name, "renamed", path, refusal=words))
    base.unlink()
    shared.unlink()
    return cases, skipped


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus")
    cases, skipped = build(out)
    buffer = io.StringIO()
    for case in cases:
        print(f"{case.path}\t{case.producer}\t{case.refusal or ''}", file=buffer)
    sys.stdout.write(buffer.getvalue())
    for reason in skipped:
        print(f"skipped: {reason}", file=sys.stderr)


if __name__ == "__main__":
    main()
