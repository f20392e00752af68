"""Registers that carry one workbook feature a plain openpyxl load + save loses.

Each file starts as a small valid register written by `tests.helpers.write_register`
(跟进中 with five customers, 已合作, 设置 with a roster on 设置!A10:A13) and then gets
exactly one feature by rewriting the zip package: the parts the feature needs are added
or patched as Excel 2016+ (or WPS, for `wps_cell_image`) writes them, and every other
part is copied byte for byte with its original zip entry.

`feature_fingerprint` says whether the feature survived a writer: it is equal for two
files iff the feature's own parts (compared by content, found through relationships, so a
rename does not matter) and the feature's elements in the sheet or workbook that carries
it are equal. Cells of 跟进中 that the feature does not own are not part of it, so a writer
that assigns ids or writes hints but keeps the feature still compares equal. Per feature:

- x14_data_validation / sparklines: the worksheet `<ext>` with that feature's URI.
- x14_conditional_formatting: that `<ext>` plus the main-part `<conditionalFormatting>`
  linked to it by `<x14:id>` (priorities left out; the writer may add its own rules).
- shape / image: the `<drawing>` element with its r:id replaced by the drawing part's
  content (and, recursively, the image's).
- comment: the note on B2 (author, rich text) and its VML box (style = size, anchor);
  other notes a writer adds do not matter.
- formula_cached: formula + cached value of every formula cell of 跟进中!P (keyed by the
  row's customer name) and of 统计!B.
- wps_cell_image: cellimages.xml and its picture, plus the DISPIMG cells (by customer).
- macro: the workbook's content type, its codeName and vbaProject.bin.
- custom_xml: the customXml item(s) and their properties parts.

Moving a row changes the row-bound ones (formula text, sparkline and DISPIMG cells), as
it would in Excel; compare those across a sync that moves no rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from .helpers import ROSTER, customer, write_register

FEATURES: tuple[str, ...] = (
    "x14_data_validation",
    "x14_conditional_formatting",
    "sparklines",
    "shape",
    "image",
    "comment",
    "formula_cached",
    "wps_cell_image",
    "macro",
    "custom_xml",
)

FOLLOWING_SHEET = "跟进中"
COOPERATING_SHEET = "已合作"
SETTINGS_SHEET = "设置"
STATS_SHEET = "统计"

# --- the base register -------------------------------------------------------------

D = dt.date
FOLLOWING_ROWS: list[list[Any]] = [
    customer(
        customer="格林电子科技有限公司", contact="陈经理", phone="13800138001",
        region="深圳南山", rep="张伟", department="业务一部", contacted=D(2026, 9, 1),
        visited=D(2026, 9, 15), notes="已拜访，等报价", last_follow_up=D(2026, 10, 8),
        status="拜访",
    ),
    customer(
        customer="雅玛西电子有限公司", contact="林小姐", phone="13922223333",
        region="东莞长安", rep="王芳", department="业务一部", contacted=D(2026, 8, 20),
        visited=D(2026, 9, 2), sampled=D(2026, 9, 20), sample="BL-466",
        notes="样品测试中", last_follow_up=D(2026, 10, 10), status="送样",
    ),
    customer(
        customer="华信五金制品厂", contact="黄生", phone="0769-85551234", region="东莞虎门",
        rep="李娜", department="业务二部", contacted=D(2026, 10, 5),
        last_follow_up=D(2026, 10, 5), status="电话",
    ),
    customer(
        customer="美达电器有限公司", contact="何总", phone="13600001111", region="佛山顺德",
        rep="刘洋", department="业务二部", contacted=D(2026, 9, 10),
        sampled=D(2026, 9, 28), sample="TK-200", last_follow_up=D(2026, 10, 12),
        status="送样",
    ),
    customer(
        customer="新锐塑胶有限公司", contact="周经理", phone="13712345678",
        region="惠州惠阳", rep="张伟", department="业务一部", contacted=D(2026, 10, 11),
        last_follow_up=D(2026, 10, 11), status="电话",
    ),
]  # fmt: skip
COOPERATING_ROWS: list[list[Any]] = [
    customer(
        customer="恒泰贸易有限公司", contact="吴总", phone="13511112222", region="广州天河",
        rep="王芳", department="业务一部", visited=D(2026, 6, 1), won=D(2026, 7, 15),
        status="已合作",
    ),
    customer(
        customer="科达照明有限公司", contact="郑经理", phone="13433334444",
        region="中山古镇", rep="刘洋", department="业务二部", sampled=D(2026, 5, 10),
        won=D(2026, 6, 20), status="已合作",
    ),
]  # fmt: skip
# Seven settings rows, a blank row and the roster header put the roster on 设置!A10:A13,
# inside the range the x14 dropdown points at.
SETTINGS_ROWS: list[list[Any]] = [
    ["设置项", "值"],
    ["保护天数", 90],
    ["跟进提醒天数", 30],
    ["公司名称", "华南示例贸易有限公司"],
    ["打印隐藏电话", "是"],
    ["说明", "业务员名单从第 10 行开始，跟进中的业务员下拉列表取自 A10:A20"],
    [],
]
ROSTER_RANGE = f"{SETTINGS_SHEET}!$A$10:$A$20"
FIRST_ROW, LAST_ROW = 2, 1 + len(FOLLOWING_ROWS)  # data rows of 跟进中
EXTRA_COL = "P"  # first column after the 15 contract columns

# --- namespaces, relationship types, content types, ext URIs -------------------------

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
NS_XM = "http://schemas.microsoft.com/office/excel/2006/main"
NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_ETC = "http://www.wps.cn/officeDocument/2017/etCustomData"
NS_V = "urn:schemas-microsoft-com:vml"
NS_X = "urn:schemas-microsoft-com:office:excel"

REL_WORKSHEET = NS_R + "/worksheet"
REL_DRAWING = NS_R + "/drawing"
REL_IMAGE = NS_R + "/image"
REL_COMMENTS = NS_R + "/comments"
REL_VML = NS_R + "/vmlDrawing"
REL_SST = NS_R + "/sharedStrings"
REL_CUSTOM_XML = NS_R + "/customXml"
REL_CUSTOM_XML_PROPS = NS_R + "/customXmlProps"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
REL_WPS_CELL_IMAGE = "http://www.wps.cn/officeDocument/2020/cellImage"

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_PNG = "image/png"
CT_XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_VBA = "application/vnd.ms-office.vbaProject"
CT_WPS_CELL_IMAGE = "application/vnd.wps-officedocument.cellimage+xml"
CT_CUSTOM_XML_PROPS = "application/vnd.openxmlformats-officedocument.customXmlProperties+xml"

EXT_DATA_VALIDATIONS = "{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"
EXT_CONDITIONAL_FORMATTINGS = "{78C0D931-6437-407d-A8EE-F0AAD7539E65}"
EXT_CF_RULE_ID = "{B025F937-C7B1-47D3-B67F-A62EFF666E3E}"
EXT_SPARKLINE_GROUPS = "{05C60535-1F16-4fd2-B633-F4F36F0B64E0}"

XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'

# CT_Worksheet child order (ECMA-376 Part 1, 18.3.1.99): new children must go in place.
SHEET_CHILD_ORDER: tuple[str, ...] = (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
    "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter",
    "sortState", "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr",
    "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions", "pageMargins",
    "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties", "cellWatches",
    "ignoredErrors", "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF",
    "picture", "oleObjects", "controls", "webPublishItems", "tableParts", "extLst",
)  # fmt: skip


# --- the package: read, navigate, patch, write --------------------------------------


class Package:
    """An OPC package in memory: parts in their zip order, with their zip entries."""

    def __init__(self, path: Path) -> None:
        with zipfile.ZipFile(path) as zf:
            self.infos: list[zipfile.ZipInfo] = zf.infolist()
            self.parts: dict[str, bytes] = {i.filename: zf.read(i) for i in self.infos}

    # reading

    def text(self, part: str) -> str:
        return self.parts[part].decode("utf-8")

    def rels(self, source: str) -> list[tuple[str, str, str]]:
        """(Id, Type, resolved target part) of `source`'s relationships ("" = package)."""
        data = self.parts.get(_rels_part(source))
        if data is None:
            return []
        out = []
        for rel in ET.fromstring(data):
            target = rel.get("Target", "")
            if rel.get("TargetMode") != "External":
                target = _resolve(source, target)
            out.append((rel.get("Id", ""), rel.get("Type", ""), target))
        return out

    def related(self, source: str, rel_type: str) -> list[str]:
        return [target for _, kind, target in self.rels(source) if kind == rel_type]

    def workbook_part(self) -> str:
        for _, kind, target in self.rels(""):
            if kind.endswith("/officeDocument"):
                return target
        raise ValueError("package has no workbook")

    def sheet_part(self, name: str) -> str | None:
        workbook = self.workbook_part()
        targets = {rid: target for rid, _, target in self.rels(workbook)}
        for sheet in ET.fromstring(self.parts[workbook]).iter(f"{{{NS_MAIN}}}sheet"):
            if sheet.get("name") == name:
                return targets.get(sheet.get(f"{{{NS_R}}}id", ""))
        return None

    def content_type(self, part: str) -> str:
        types = ET.fromstring(self.parts["[Content_Types].xml"])
        for item in types.iter(f"{{{NS_CT}}}Override"):
            if item.get("PartName", "").lstrip("/") == part:
                return item.get("ContentType", "")
        ext = part.rsplit(".", 1)[-1].lower()
        for item in types.iter(f"{{{NS_CT}}}Default"):
            if item.get("Extension", "").lower() == ext:
                return item.get("ContentType", "")
        return ""

    # patching (string edits, so untouched markup stays exactly as it was)

    def set_text(self, part: str, text: str) -> None:
        self.set_bytes(part, text.encode("utf-8"))

    def set_bytes(self, part: str, data: bytes) -> None:
        if part not in self.parts:
            info = zipfile.ZipInfo(part, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            self.infos.append(info)
        self.parts[part] = data

    def add_rel(self, source: str, rel_type: str, target: str) -> str:
        """Add a relationship from `source` to part `target`; return its new Id."""
        rels_part = _rels_part(source)
        if rels_part not in self.parts:
            self.set_text(
                rels_part, XML_DECL + f'<Relationships xmlns="{NS_PKG_REL}"></Relationships>'
            )
        text = self.text(rels_part)
        used = {int(n) for n in re.findall(r'Id="rId(\d+)"', text)}
        rid = f"rId{max(used, default=0) + 1}"
        relative = posixpath.relpath(target, posixpath.dirname(source) or ".")
        rel = f'<Relationship Id="{rid}" Type="{rel_type}" Target="{relative}"/>'
        self.set_text(rels_part, text.replace("</Relationships>", rel + "</Relationships>"))
        return rid

    def add_override(self, part: str, content_type: str) -> None:
        text = self.text("[Content_Types].xml")
        item = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
        self.set_text("[Content_Types].xml", text.replace("</Types>", item + "</Types>"))

    def add_default(self, extension: str, content_type: str) -> None:
        text = self.text("[Content_Types].xml")
        if f'Extension="{extension}"' in text:
            return
        item = f'<Default Extension="{extension}" ContentType="{content_type}"/>'
        self.set_text(
            "[Content_Types].xml", re.sub(r"(<Types\b[^>]*>)", r"\1" + item, text, count=1)
        )

    def write(self, path: Path) -> None:
        with zipfile.ZipFile(path, "w") as zf:
            for info in self.infos:
                zf.writestr(info, self.parts[info.filename])


def _rels_part(source: str) -> str:
    folder, name = posixpath.split(source)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


# --- worksheet XML string edits ------------------------------------------------------


def add_root_namespace(xml: str, prefix: str, uri: str) -> str:
    """Declare xmlns:prefix on the root element, as Excel does, unless already there."""
    root = re.search(r"<(?!\?)[\w:]+[^>]*?(/?)>", xml)
    assert root is not None
    if f"xmlns:{prefix}=" in root.group(0):
        return xml
    at = root.end() - 1 - len(root.group(1))
    return xml[:at] + f' xmlns:{prefix}="{uri}"' + xml[at:]


def insert_sheet_child(xml: str, tag: str, fragment: str) -> str:
    """Insert a top-level worksheet child where CT_Worksheet's sequence puts it."""
    data_end = re.search(r"</sheetData>|<sheetData\s*/>", xml)
    assert data_end is not None
    later = SHEET_CHILD_ORDER[SHEET_CHILD_ORDER.index(tag) + 1 :]
    starts = [
        m.start() for t in later if (m := re.compile(rf"<{t}[\s/>]").search(xml, data_end.end()))
    ]
    at = min(starts) if starts else xml.rindex("</worksheet>")
    return xml[:at] + fragment + xml[at:]


def add_ext(xml: str, ext: str) -> str:
    """Append an <ext> to the worksheet's <extLst>, creating the list if needed."""
    # The worksheet's own list is its last child; cfRule and others have inner extLst too.
    own = re.search(r"</extLst>\s*</worksheet>\s*$", xml)
    if own is not None:
        return xml[: own.start()] + ext + xml[own.start() :]
    return insert_sheet_child(xml, "extLst", f"<extLst>{ext}</extLst>")


def append_cell(xml: str, row: int, cell: str) -> str:
    """Append a cell at the end of row `row` (the new cell's column is the row's last)."""
    match = re.search(rf'<row r="{row}"[^>]*>.*?(</row>)', xml, re.DOTALL)
    assert match is not None, row
    return xml[: match.start(1)] + cell + xml[match.start(1) :]


def widen_dimension(xml: str, last_col: str) -> str:
    return re.sub(
        r'(<dimension ref="[A-Z]+\d+:)[A-Z]+(\d+)"', rf'\g<1>{last_col}\g<2>"', xml, count=1
    )


def cell_style(xml: str, ref: str) -> str:
    match = re.search(rf'<c r="{ref}"[^>]*?\ss="(\d+)"', xml)
    assert match is not None, ref
    return match.group(1)


def inline_str(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def excel_serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def tiny_png(
    width: int = 16, height: int = 16, rgb: tuple[int, int, int] = (51, 102, 204)
) -> bytes:
    """A valid RGB PNG with a light frame, built with zlib and struct only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = []
    for y in range(height):
        line = bytearray(b"\x00")  # filter type: none
        for x in range(width):
            edge = x in (0, width - 1) or y in (0, height - 1)
            line += bytes((230, 230, 230)) if edge else bytes(rgb)
        rows.append(bytes(line))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


# --- the features --------------------------------------------------------------------


def _x14_data_validation(pkg: Package) -> None:
    """业务员 dropdown whose list is the roster on 设置, stored as Excel 2010+ stores it."""
    sheet = _sheet(pkg, FOLLOWING_SHEET)
    ext = (
        f'<ext uri="{EXT_DATA_VALIDATIONS}" xmlns:x14="{NS_X14}">'
        f'<x14:dataValidations count="1" xmlns:xm="{NS_XM}">'
        '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" '
        'showErrorMessage="1" errorTitle="业务员" error="请从设置表的业务员名单中选择" '
        'promptTitle="业务员" prompt="从下拉列表选择业务员">'
        f"<x14:formula1><xm:f>{ROSTER_RANGE}</xm:f></x14:formula1>"
        "<xm:sqref>F2:F100</xm:sqref>"
        "</x14:dataValidation></x14:dataValidations></ext>"
    )
    pkg.set_text(sheet, add_ext(pkg.text(sheet), ext))


CF_RULE_ID = "{8F2C1A3B-5D4E-4F60-9A7B-1C2D3E4F5A6B}"
SCORES = [3, -2, 5, -1, 0]  # 意向评分, negative on purpose: the bar needs its axis


def _x14_conditional_formatting(pkg: Package) -> None:
    """A data bar with a negative axis on an extra 意向评分 column (x14 + main part)."""
    sheet = _sheet(pkg, FOLLOWING_SHEET)
    xml = pkg.text(sheet)
    xml = append_cell(xml, 1, inline_str(f"{EXTRA_COL}1", "意向评分"))
    for row, score in enumerate(SCORES, start=FIRST_ROW):
        xml = append_cell(xml, row, f'<c r="{EXTRA_COL}{row}"><v>{score}</v></c>')
    xml = widen_dimension(xml, EXTRA_COL)
    sqref = f"{EXTRA_COL}2:{EXTRA_COL}100"
    xml = insert_sheet_child(
        xml,
        "conditionalFormatting",
        f'<conditionalFormatting sqref="{sqref}"><cfRule type="dataBar" priority="1">'
        '<dataBar><cfvo type="min"/><cfvo type="max"/><color rgb="FF638EC6"/></dataBar>'
        f'<extLst><ext uri="{EXT_CF_RULE_ID}" xmlns:x14="{NS_X14}">'
        f"<x14:id>{CF_RULE_ID}</x14:id></ext></extLst></cfRule></conditionalFormatting>",
    )
    xml = add_ext(
        xml,
        f'<ext uri="{EXT_CONDITIONAL_FORMATTINGS}" xmlns:x14="{NS_X14}">'
        "<x14:conditionalFormattings>"
        f'<x14:conditionalFormatting xmlns:xm="{NS_XM}">'
        f'<x14:cfRule type="dataBar" id="{CF_RULE_ID}">'
        '<x14:dataBar minLength="0" maxLength="100" border="1" gradient="0" '
        'negativeBarBorderColorSameAsPositive="0" axisPosition="middle">'
        '<x14:cfvo type="autoMin"/><x14:cfvo type="autoMax"/>'
        '<x14:borderColor rgb="FF638EC6"/><x14:negativeFillColor rgb="FFFF0000"/>'
        '<x14:negativeBorderColor rgb="FFFF0000"/><x14:axisColor rgb="FF000000"/>'
        "</x14:dataBar></x14:cfRule>"
        f"<xm:sqref>{sqref}</xm:sqref></x14:conditionalFormatting>"
        "</x14:conditionalFormattings></ext>",
    )
    pkg.set_text(sheet, xml)


def _sparklines(pkg: Package) -> None:
    """A 进度 column of line sparklines over each row's 联系/拜访/送样 dates (H:J)."""
    sheet = _sheet(pkg, FOLLOWING_SHEET)
    xml = append_cell(pkg.text(sheet), 1, inline_str(f"{EXTRA_COL}1", "进度"))
    xml = widen_dimension(xml, EXTRA_COL)
    lines = "".join(
        f"<x14:sparkline><xm:f>{FOLLOWING_SHEET}!H{r}:J{r}</xm:f>"
        f"<xm:sqref>{EXTRA_COL}{r}</xm:sqref></x14:sparkline>"
        for r in range(FIRST_ROW, LAST_ROW + 1)
    )
    xml = add_ext(
        xml,
        f'<ext uri="{EXT_SPARKLINE_GROUPS}" xmlns:x14="{NS_X14}">'
        f'<x14:sparklineGroups xmlns:xm="{NS_XM}">'
        '<x14:sparklineGroup displayEmptyCellsAs="gap" markers="1">'
        '<x14:colorSeries theme="4" tint="-0.499984740745262"/>'
        '<x14:colorNegative theme="5"/><x14:colorAxis rgb="FF000000"/>'
        '<x14:colorMarkers theme="4" tint="-0.499984740745262"/>'
        '<x14:colorFirst theme="4" tint="0.39997558519241921"/>'
        '<x14:colorLast theme="4" tint="0.39997558519241921"/>'
        '<x14:colorHigh theme="4"/><x14:colorLow theme="4"/>'
        f"<x14:sparklines>{lines}</x14:sparklines>"
        "</x14:sparklineGroup></x14:sparklineGroups></ext>",
    )
    pkg.set_text(sheet, xml)


def _anchor(col0: int, row0: int, col1: int, row1: int) -> str:
    def point(tag: str, col: int, row: int) -> str:
        return (
            f"<xdr:{tag}><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:{tag}>"
        )

    return point("from", col0, row0) + point("to", col1, row1)


def _add_drawing(pkg: Package, anchor_xml: str) -> str:
    """Add xl/drawings/drawing1.xml with one anchor, related from 跟进中; return its part."""
    sheet = _sheet(pkg, FOLLOWING_SHEET)
    drawing = "xl/drawings/drawing1.xml"
    pkg.set_text(
        drawing,
        XML_DECL + f'<xdr:wsDr xmlns:xdr="{NS_XDR}" xmlns:a="{NS_A}">{anchor_xml}</xdr:wsDr>',
    )
    pkg.add_override(drawing, CT_DRAWING)
    rid = pkg.add_rel(sheet, REL_DRAWING, drawing)
    xml = add_root_namespace(pkg.text(sheet), "r", NS_R)
    pkg.set_text(sheet, insert_sheet_child(xml, "drawing", f'<drawing r:id="{rid}"/>'))
    return drawing


def _shape(pkg: Package) -> None:
    """A text box with a note for the reps, right of the table."""
    text = "说明：编号列由 xlsync 填写，请勿修改；状态请从下拉列表选择。"
    sp = (
        '<xdr:twoCellAnchor editAs="absolute">' + _anchor(16, 1, 21, 6)
        + '<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="2" name="文本框 1"/>'
        '<xdr:cNvSpPr txBox="1"/></xdr:nvSpPr><xdr:spPr>'
        '<a:xfrm><a:off x="10972800" y="190500"/><a:ext cx="3048000" cy="952500"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
        '<a:solidFill><a:srgbClr val="FFF2CC"/></a:solidFill>'
        '<a:ln w="9525" cmpd="sng"><a:solidFill><a:srgbClr val="BF9000"/></a:solidFill></a:ln>'
        "</xdr:spPr><xdr:style>"
        '<a:lnRef idx="0"><a:scrgbClr r="0" g="0" b="0"/></a:lnRef>'
        '<a:fillRef idx="0"><a:scrgbClr r="0" g="0" b="0"/></a:fillRef>'
        '<a:effectRef idx="0"><a:scrgbClr r="0" g="0" b="0"/></a:effectRef>'
        '<a:fontRef idx="minor"><a:schemeClr val="dk1"/></a:fontRef></xdr:style>'
        '<xdr:txBody><a:bodyPr vertOverflow="clip" horzOverflow="clip" wrap="square" '
        'rtlCol="0" anchor="t"/><a:lstStyle/><a:p><a:r>'
        '<a:rPr lang="zh-CN" altLang="en-US" sz="1100"/>'
        f"<a:t>{escape(text)}</a:t></a:r></a:p></xdr:txBody></xdr:sp>"
        "<xdr:clientData/></xdr:twoCellAnchor>"
    )  # fmt: skip
    _add_drawing(pkg, sp)


def _image(pkg: Package) -> None:
    """A PNG picture (a logo) anchored right of the table, moving with its cell."""
    pic = (
        '<xdr:twoCellAnchor editAs="oneCell">' + _anchor(16, 1, 17, 3)
        + '<xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="图片 1" descr="公司标志">'
        '<a:extLst><a:ext uri="{FF2B5EF4-FFF2-40B4-BE49-F238E27FC236}">'
        '<a16:creationId xmlns:a16="http://schemas.microsoft.com/office/drawing/2014/main" '
        'id="{3A9B6C1D-2E4F-4A5B-8C7D-9E0F1A2B3C4D}"/></a:ext></a:extLst></xdr:cNvPr>'
        '<xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr>'
        f'<xdr:blipFill><a:blip xmlns:r="{NS_R}" r:embed="rId1"/>'
        "<a:stretch><a:fillRect/></a:stretch></xdr:blipFill>"
        '<xdr:spPr><a:xfrm><a:off x="10972800" y="190500"/><a:ext cx="152400" cy="152400"/>'
        '</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic>'
        "<xdr:clientData/></xdr:twoCellAnchor>"
    )  # fmt: skip
    drawing = _add_drawing(pkg, pic)
    pkg.set_bytes("xl/media/image1.png", tiny_png())
    pkg.add_default("png", CT_PNG)
    rid = pkg.add_rel(drawing, REL_IMAGE, "xl/media/image1.png")
    assert rid == "rId1"


NOTE_CELL = "B2"
NOTE_AUTHOR = "张伟"
NOTE_TEXT = "客户要求下周再报价，联系人只在上午接电话。"


def _comment(pkg: Package) -> None:
    """A note on B2 whose box the rep has enlarged (the size lives only in the VML)."""
    sheet = _sheet(pkg, FOLLOWING_SHEET)
    comments, vml = "xl/comments1.xml", "xl/drawings/vmlDrawing1.vml"
    rpr = '<rPr><sz val="9"/><color indexed="81"/><rFont val="宋体"/><charset val="134"/></rPr>'
    pkg.set_text(
        comments,
        XML_DECL + f'<comments xmlns="{NS_MAIN}"><authors><author>{NOTE_AUTHOR}</author>'
        f'</authors><commentList><comment ref="{NOTE_CELL}" authorId="0" shapeId="0"><text>'
        f"<r><rPr><b/>{rpr[5:]}<t>{NOTE_AUTHOR}:</t></r>"
        f'<r>{rpr}<t xml:space="preserve">\n{escape(NOTE_TEXT)}</t></r>'
        "</text></comment></commentList></comments>",
    )
    # Excel writes VML with CRLF line ends and single-quoted style attributes.
    vml_text = "\r\n".join(
        [
            '<xml xmlns:v="urn:schemas-microsoft-com:vml"',
            ' xmlns:o="urn:schemas-microsoft-com:office:office"',
            ' xmlns:x="urn:schemas-microsoft-com:office:excel">',
            ' <o:shapelayout v:ext="edit">',
            '  <o:idmap v:ext="edit" data="1"/>',
            ' </o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202"',
            '  path="m,l,21600r21600,l21600,xe">',
            '  <v:stroke joinstyle="miter"/>',
            '  <v:path gradientshapeok="t" o:connecttype="rect"/>',
            ' </v:shapetype><v:shape id="_x0000_s1025" type="#_x0000_t202" style=\'position:absolute;',
            "  margin-left:135pt;margin-top:1.5pt;width:264pt;height:96.75pt;z-index:1;",
            '  visibility:hidden\' fillcolor="#ffffe1" o:insetmode="auto">',
            '  <v:fill color2="#ffffe1"/>',
            '  <v:shadow on="t" color="black" obscured="t"/>',
            '  <v:path o:connecttype="none"/>',
            "  <v:textbox style='mso-direction-alt:auto'>",
            "   <div style='text-align:left'></div>",
            "  </v:textbox>",
            '  <x:ClientData ObjectType="Note">',
            "   <x:MoveWithCells/>",
            "   <x:SizeWithCells/>",
            "   <x:Anchor>",
            "    2, 15, 0, 2, 7, 32, 6, 9</x:Anchor>",
            "   <x:AutoFill>False</x:AutoFill>",
            "   <x:Row>1</x:Row>",
            "   <x:Column>1</x:Column>",
            "  </x:ClientData>",
            " </v:shape></xml>",
        ]
    )
    pkg.set_text(vml, vml_text)
    pkg.add_default("vml", CT_VML)
    pkg.add_override(comments, CT_COMMENTS)
    # Excel relates the VML first, then the comments.
    rid = pkg.add_rel(sheet, REL_VML, vml)
    pkg.add_rel(sheet, REL_COMMENTS, comments)
    xml = add_root_namespace(pkg.text(sheet), "r", NS_R)
    pkg.set_text(sheet, insert_sheet_child(xml, "legacyDrawing", f'<legacyDrawing r:id="{rid}"/>'))


PROTECT_FORMULA = 'IF(J{r}<>"",J{r}+90,IF(I{r}<>"",I{r}+90,""))'


def _protected_until(row: list[Any]) -> dt.date | None:
    visited, sampled = row[8], row[9]
    base = sampled or visited
    return base + dt.timedelta(days=90) if base else None


def _formula_cached(pkg: Package) -> None:
    """A filled-down 保护到期 formula column and a 统计 sheet, with Excel's cached values."""
    sheet = _sheet(pkg, FOLLOWING_SHEET)
    xml = pkg.text(sheet)
    date_style = cell_style(xml, "I2")
    xml = append_cell(xml, 1, inline_str(f"{EXTRA_COL}1", "保护到期"))
    last = f"{EXTRA_COL}{LAST_ROW}"
    for r, row in enumerate(FOLLOWING_ROWS, start=FIRST_ROW):
        ref = f"{EXTRA_COL}{r}"
        if r == FIRST_ROW:  # a filled-down column is one shared formula in Excel's file
            f = f'<f t="shared" ref="{EXTRA_COL}{r}:{last}" si="0">{escape(PROTECT_FORMULA.format(r=r))}</f>'
        else:
            f = '<f t="shared" si="0"/>'
        until = _protected_until(row)
        if until is None:
            cell = f'<c r="{ref}" s="{date_style}" t="str">{f}<v></v></c>'
        else:
            cell = f'<c r="{ref}" s="{date_style}">{f}<v>{excel_serial(until)}</v></c>'
        xml = append_cell(xml, r, cell)
    pkg.set_text(sheet, widen_dimension(xml, EXTRA_COL))

    earliest = min(d for row in FOLLOWING_ROWS if (d := _protected_until(row)) is not None)
    sampled = sum(1 for row in FOLLOWING_ROWS if row[13] == "送样")
    stats = [
        ("跟进中客户数", f"COUNTA({FOLLOWING_SHEET}!B:B)-1", str(len(FOLLOWING_ROWS)), ""),
        ("已合作客户数", f"COUNTA({COOPERATING_SHEET}!B:B)-1", str(len(COOPERATING_ROWS)), ""),
        ("送样中", f'COUNTIF({FOLLOWING_SHEET}!N:N,"送样")', str(sampled), ""),
        ("最早保护到期", f"MIN({FOLLOWING_SHEET}!{EXTRA_COL}:{EXTRA_COL})",
         str(excel_serial(earliest)), f' s="{date_style}"'),
        ("第一位客户", f"{FOLLOWING_SHEET}!B2", FOLLOWING_ROWS[0][1], ' t="str"'),
    ]  # fmt: skip
    rows = [f'<row r="1">{inline_str("A1", "指标")}{inline_str("B1", "数值")}</row>']
    for i, (label, formula, value, attrs) in enumerate(stats, start=2):
        rows.append(
            f'<row r="{i}">{inline_str(f"A{i}", label)}<c r="B{i}"{attrs}>'
            f"<f>{escape(formula)}</f><v>{escape(value)}</v></c></row>"
        )
    stats_part = "xl/worksheets/sheet_stats.xml"
    pkg.set_text(
        stats_part,
        XML_DECL + f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">'
        f'<dimension ref="A1:B{len(stats) + 1}"/><sheetViews><sheetView workbookViewId="0"/>'
        '</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        '<cols><col min="1" max="1" width="16" customWidth="1"/>'
        '<col min="2" max="2" width="24" customWidth="1"/></cols>'
        f"<sheetData>{''.join(rows)}</sheetData>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>",
    )
    pkg.add_override(stats_part, CT_WORKSHEET)
    workbook = pkg.workbook_part()
    rid = pkg.add_rel(workbook, REL_WORKSHEET, stats_part)
    text = add_root_namespace(pkg.text(workbook), "r", NS_R)
    sheet_id = max(int(n) for n in re.findall(r'sheetId="(\d+)"', text)) + 1
    text = text.replace(
        "</sheets>", f'<sheet name="{STATS_SHEET}" sheetId="{sheet_id}" r:id="{rid}"/></sheets>'
    )
    # Excel leaves the values it calculated and no order to recalculate on load.
    text = re.sub(r"<calcPr\b[^>]*/>", '<calcPr calcId="191029"/>', text, count=1)
    pkg.set_text(workbook, text)


WPS_IMAGE_ID = "ID_5E0C6F0A2B9D4C1E8F3A7B6C5D4E3F2A"
WPS_IMAGE_ROW = 2


def _wps_cell_image(pkg: Package) -> None:
    """A 名片 column with a WPS in-cell picture: cellimages.xml + a DISPIMG formula."""
    cellimages = "xl/cellimages.xml"
    pkg.set_text(
        cellimages,
        XML_DECL + f'<etc:cellImages xmlns:xdr="{NS_XDR}" xmlns:r="{NS_R}" xmlns:a="{NS_A}" '
        f'xmlns:etc="{NS_ETC}"><etc:cellImage><xdr:pic><xdr:nvPicPr>'
        f'<xdr:cNvPr id="2" name="{WPS_IMAGE_ID}" descr="名片"/>'
        '<xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr>'
        '<xdr:blipFill><a:blip r:embed="rId1"/><a:stretch><a:fillRect/></a:stretch>'
        '</xdr:blipFill><xdr:spPr><a:xfrm><a:off x="0" y="0"/>'
        '<a:ext cx="152400" cy="152400"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
        "</a:prstGeom></xdr:spPr></xdr:pic></etc:cellImage></etc:cellImages>",
    )
    pkg.add_override(cellimages, CT_WPS_CELL_IMAGE)
    pkg.set_bytes("xl/media/image1.png", tiny_png(rgb=(204, 51, 51)))
    pkg.add_default("png", CT_PNG)
    assert pkg.add_rel(cellimages, REL_IMAGE, "xl/media/image1.png") == "rId1"
    pkg.add_rel(pkg.workbook_part(), REL_WPS_CELL_IMAGE, cellimages)
    sheet = _sheet(pkg, FOLLOWING_SHEET)
    xml = append_cell(pkg.text(sheet), 1, inline_str(f"{EXTRA_COL}1", "名片"))
    call = f'DISPIMG("{WPS_IMAGE_ID}",1)'
    xml = append_cell(
        xml,
        WPS_IMAGE_ROW,
        f'<c r="{EXTRA_COL}{WPS_IMAGE_ROW}" t="str"><f>_xlfn.{escape(call)}</f>'
        f"<v>={escape(call)}</v></c>",
    )
    pkg.set_text(sheet, widen_dimension(xml, EXTRA_COL))


# Any bytes will do for the tests; these start like the OLE compound file Excel stores.
VBA_PROJECT = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"xlsync test vbaProject" * 20


def _macro(pkg: Package) -> None:
    """A macro-enabled workbook: vbaProject.bin and the .xlsm main content type."""
    workbook = pkg.workbook_part()
    pkg.set_bytes("xl/vbaProject.bin", VBA_PROJECT)
    pkg.add_default("bin", CT_VBA)
    pkg.add_rel(workbook, REL_VBA, "xl/vbaProject.bin")
    types = pkg.text("[Content_Types].xml")
    types, n = re.subn(
        r'(<Override PartName="/xl/workbook.xml" ContentType=")[^"]*"',
        rf'\g<1>{CT_XLSM_MAIN}"',
        types,
    )
    assert n == 1
    pkg.set_text("[Content_Types].xml", types)
    text = re.sub(
        r"<workbookPr\b[^>]*?/?>",
        '<workbookPr codeName="ThisWorkbook"/>',
        pkg.text(workbook),
        count=1,
    )
    pkg.set_text(workbook, text)


def _custom_xml(pkg: Package) -> None:
    """The custom XML item SharePoint adds to documents in a library."""
    item, props = "customXml/item1.xml", "customXml/itemProps1.xml"
    pkg.set_text(
        item,
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\r\n<?mso-contentType?>'
        '<FormTemplates xmlns="http://schemas.microsoft.com/sharepoint/v3/contenttype/forms">'
        "<Display>DocumentLibraryForm</Display><Edit>DocumentLibraryForm</Edit>"
        "<New>DocumentLibraryForm</New></FormTemplates>",
    )
    pkg.set_text(
        props,
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\r\n'
        '<ds:datastoreItem ds:itemID="{6C7E1F0B-4A3D-4E5F-9B8A-2C1D0E9F8A7B}" '
        'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml">'
        '<ds:schemaRefs><ds:schemaRef ds:uri="http://schemas.microsoft.com/sharepoint/v3/'
        'contenttype/forms"/></ds:schemaRefs></ds:datastoreItem>',
    )
    pkg.add_override(props, CT_CUSTOM_XML_PROPS)
    pkg.add_rel(item, REL_CUSTOM_XML_PROPS, props)
    pkg.add_rel(pkg.workbook_part(), REL_CUSTOM_XML, item)


_BUILDERS: dict[str, Callable[[Package], None]] = {
    "x14_data_validation": _x14_data_validation,
    "x14_conditional_formatting": _x14_conditional_formatting,
    "sparklines": _sparklines,
    "shape": _shape,
    "image": _image,
    "comment": _comment,
    "formula_cached": _formula_cached,
    "wps_cell_image": _wps_cell_image,
    "macro": _macro,
    "custom_xml": _custom_xml,
}
assert tuple(_BUILDERS) == FEATURES


def _sheet(pkg: Package, name: str) -> str:
    part = pkg.sheet_part(name)
    if part is None:
        raise ValueError(f"no sheet {name!r}")
    return part


def build_feature_register(path: Path, feature: str) -> Path:
    """Write a small valid register at `path` carrying `feature`; return the file written.

    `macro` always writes a `.xlsm` (`path` with that suffix if it has another one).
    """
    if feature not in _BUILDERS:
        raise ValueError(f"unknown feature {feature!r}; one of {', '.join(FEATURES)}")
    path = Path(path)
    if feature == "macro" and path.suffix.lower() != ".xlsm":
        path = path.with_suffix(".xlsm")
    write_register(path, FOLLOWING_ROWS, COOPERATING_ROWS, settings=SETTINGS_ROWS, roster=ROSTER)
    pkg = Package(path)
    _BUILDERS[feature](pkg)
    pkg.write(path)
    return path


# --- fingerprints --------------------------------------------------------------------

Tree = tuple[Any, ...]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def part_print(pkg: Package, part: str, _seen: frozenset[str] = frozenset()) -> Tree:
    """A part by its content type, content and (recursively) what it relates to.

    Paths are left out, so a writer may rename `drawing1.xml`; contents are not.
    """
    data = pkg.parts.get(part)
    if data is None:
        return ("missing",)
    if part in _seen:
        return ("cycle",)
    seen = _seen | {part}
    children = sorted(
        ((kind, part_print(pkg, target, seen)) for _, kind, target in pkg.rels(part)), key=repr
    )
    return (pkg.content_type(part), _digest(data), tuple(children))


def _related_prints(pkg: Package, source: str, rel_type: str) -> tuple[Tree, ...]:
    return tuple(sorted((part_print(pkg, t) for t in pkg.related(source, rel_type)), key=repr))


def _tree(elem: ET.Element, resolve: Callable[[str], Tree] | None = None,
          skip_attrs: Iterable[str] = ()) -> Tree:  # fmt: skip
    """An element as nested tuples: namespace URIs not prefixes, attributes sorted,
    whitespace-only text dropped; r:id-style attributes replaced by what they point at."""
    skip = set(skip_attrs)
    attrs = []
    for key, value in sorted(elem.attrib.items()):
        if key in skip:
            continue
        if resolve is not None and key.startswith(f"{{{NS_R}}}"):
            attrs.append((key, resolve(value)))
        else:
            attrs.append((key, value))
    children = tuple(_tree(child, resolve, skip) for child in elem)
    return (elem.tag, tuple(attrs), (elem.text or "").strip(), children)


def _sheet_root(pkg: Package, name: str) -> tuple[str, ET.Element] | None:
    part = pkg.sheet_part(name)
    if part is None or part not in pkg.parts:
        return None
    return part, ET.fromstring(pkg.parts[part])


def _resolver(pkg: Package, source: str) -> Callable[[str], Tree]:
    by_id = {rid: (kind, target) for rid, kind, target in pkg.rels(source)}

    def resolve(rid: str) -> Tree:
        if rid not in by_id:
            return ("dangling", rid)
        kind, target = by_id[rid]
        return (kind, part_print(pkg, target))

    return resolve


def _exts(root: ET.Element, uri: str) -> tuple[Tree, ...]:
    ext_list = root.find(f"{{{NS_MAIN}}}extLst")
    if ext_list is None:
        return ()
    return tuple(_tree(ext) for ext in ext_list if ext.get("uri", "").lower() == uri.lower())


def _sheet_exts(pkg: Package, uri: str) -> tuple[Tree, ...]:
    found = _sheet_root(pkg, FOLLOWING_SHEET)
    return _exts(found[1], uri) if found else ()


def _children(pkg: Package, tag: str) -> tuple[Tree, ...]:
    found = _sheet_root(pkg, FOLLOWING_SHEET)
    if found is None:
        return ()
    part, root = found
    resolve = _resolver(pkg, part)
    return tuple(_tree(e, resolve) for e in root.findall(f"{{{NS_MAIN}}}{tag}"))


def _linked_x14_cf(pkg: Package) -> tuple[Tree, ...]:
    """Main-part conditional formats whose rules link to an x14 rule by <x14:id>.

    Priorities are left out: a writer that adds its own rules may renumber them.
    """
    found = _sheet_root(pkg, FOLLOWING_SHEET)
    if found is None:
        return ()
    out = []
    for cf in found[1].findall(f"{{{NS_MAIN}}}conditionalFormatting"):
        if cf.find(f".//{{{NS_X14}}}id") is not None:
            out.append(_tree(cf, skip_attrs=("priority",)))
    return tuple(sorted(out, key=repr))


class _Cells:
    """Cells of one sheet: value text, formula and cached value, by reference."""

    def __init__(self, pkg: Package, sheet: str) -> None:
        self.cells: dict[str, ET.Element] = {}
        found = _sheet_root(pkg, sheet)
        self.shared: list[str] = []
        if found is None:
            return
        for sst in pkg.related(pkg.workbook_part(), REL_SST):
            if sst in pkg.parts:
                root = ET.fromstring(pkg.parts[sst])
                self.shared = [
                    "".join(t.text or "" for t in si.iter(f"{{{NS_MAIN}}}t"))
                    for si in root.findall(f"{{{NS_MAIN}}}si")
                ]
        for c in found[1].iter(f"{{{NS_MAIN}}}c"):
            self.cells[c.get("r", "")] = c

    def text(self, ref: str) -> str:
        c = self.cells.get(ref)
        if c is None:
            return ""
        if c.get("t") == "inlineStr":
            return "".join(t.text or "" for t in c.iter(f"{{{NS_MAIN}}}t"))
        v = c.findtext(f"{{{NS_MAIN}}}v") or ""
        if c.get("t") == "s" and v.isdigit() and int(v) < len(self.shared):
            return self.shared[int(v)]
        return v

    def formula(self, ref: str) -> tuple[str, str, str, str | None] | None:
        """(formula, shared-formula attributes, type, cached value) of a formula cell."""
        c = self.cells.get(ref)
        if c is None:
            return None
        f = c.find(f"{{{NS_MAIN}}}f")
        if f is None:
            return None
        shared = ",".join(f"{k}={f.get(k)}" for k in ("t", "ref", "si") if f.get(k) is not None)
        return (f.text or "", shared, c.get("t", "n"), c.findtext(f"{{{NS_MAIN}}}v"))

    def column(self, col: str) -> list[str]:
        pattern = re.compile(rf"{col}(\d+)$")
        return sorted((r for r in self.cells if pattern.match(r)), key=lambda r: int(r[len(col) :]))


def _row_formulas(pkg: Package, col: str) -> tuple[Tree, ...]:
    """Formula cells of column `col` of 跟进中, keyed by the row's customer, not its number."""
    cells = _Cells(pkg, FOLLOWING_SHEET)
    out = []
    for ref in cells.column(col):
        formula = cells.formula(ref)
        if formula is not None:
            out.append((cells.text("B" + ref[len(col) :]), formula))
    return tuple(sorted(out, key=repr))


def _comment_print(pkg: Package) -> dict[str, object]:
    """The note on NOTE_CELL (author, rich text) and its VML box (size, anchor)."""
    found = _sheet_root(pkg, FOLLOWING_SHEET)
    if found is None:
        return {"note": ("no sheet",)}
    part = found[0]
    note: Tree = ("missing",)
    for comments in pkg.related(part, REL_COMMENTS):
        if comments not in pkg.parts:
            continue
        root = ET.fromstring(pkg.parts[comments])
        authors = [a.text or "" for a in root.iter(f"{{{NS_MAIN}}}author")]
        for c in root.iter(f"{{{NS_MAIN}}}comment"):
            if c.get("ref") == NOTE_CELL:
                author_id = int(c.get("authorId", "0"))
                author = authors[author_id] if author_id < len(authors) else ""
                text = c.find(f"{{{NS_MAIN}}}text")
                note = (author, _tree(text) if text is not None else None)
    box: Tree = ("missing",)
    for vml in pkg.related(part, REL_VML):
        data = pkg.parts.get(vml)
        if data is None:
            continue
        try:
            root = ET.fromstring(data)
        except ET.ParseError:  # Excel's VML is not always well-formed XML
            box = ("unparsed", _digest(data))
            continue
        for shape in root.iter(f"{{{NS_V}}}shape"):
            data_el = shape.find(f"{{{NS_X}}}ClientData")
            if data_el is None or data_el.get("ObjectType") != "Note":
                continue
            if (data_el.findtext(f"{{{NS_X}}}Row") or "").strip() == "1" and (
                data_el.findtext(f"{{{NS_X}}}Column") or ""
            ).strip() == "1":
                style = re.sub(r"\s+", "", shape.get("style", ""))
                # the shape id may be renumbered by a writer that adds notes
                box = (style, _tree(shape, skip_attrs=("id", "style")))
    return {"note": note, "box": box, "legacyDrawing": _children(pkg, "legacyDrawing") != ()}


def _stats_formulas(pkg: Package) -> tuple[Tree, ...]:
    cells = _Cells(pkg, STATS_SHEET)
    return tuple(
        (ref, cells.text("A" + ref[1:]), formula)
        for ref in cells.column("B")
        if (formula := cells.formula(ref)) is not None
    )


def _macro_print(pkg: Package) -> dict[str, object]:
    workbook = pkg.workbook_part()
    pr = ET.fromstring(pkg.parts[workbook]).find(f"{{{NS_MAIN}}}workbookPr")
    return {
        "main": pkg.content_type(workbook),
        "codeName": pr.get("codeName") if pr is not None else None,
        "vba": _related_prints(pkg, workbook, REL_VBA),
    }


def feature_fingerprint(path: Path, feature: str) -> object:
    """What must stay equal for `feature` to have survived a writer (see module doc)."""
    if feature not in _BUILDERS:
        raise ValueError(f"unknown feature {feature!r}; one of {', '.join(FEATURES)}")
    pkg = Package(Path(path))
    if feature == "x14_data_validation":
        return {"ext": _sheet_exts(pkg, EXT_DATA_VALIDATIONS)}
    if feature == "x14_conditional_formatting":
        return {"main": _linked_x14_cf(pkg), "ext": _sheet_exts(pkg, EXT_CONDITIONAL_FORMATTINGS)}
    if feature == "sparklines":
        return {"ext": _sheet_exts(pkg, EXT_SPARKLINE_GROUPS)}
    if feature in ("shape", "image"):
        return {"drawing": _children(pkg, "drawing")}
    if feature == "comment":
        return _comment_print(pkg)
    if feature == "formula_cached":
        return {"rows": _row_formulas(pkg, EXTRA_COL), "stats": _stats_formulas(pkg)}
    if feature == "wps_cell_image":
        return {
            "store": _related_prints(pkg, pkg.workbook_part(), REL_WPS_CELL_IMAGE),
            "cells": _row_formulas(pkg, EXTRA_COL),
        }
    if feature == "macro":
        return _macro_print(pkg)
    if feature == "custom_xml":
        return {"items": _related_prints(pkg, pkg.workbook_part(), REL_CUSTOM_XML)}
    raise AssertionError(feature)


def fingerprint_present(fingerprint: object) -> bool:
    """True if every component of a fingerprint found its part of the feature."""
    assert isinstance(fingerprint, dict)
    markers = ("'missing'", "'dangling'", "'no sheet'")
    return all(
        bool(value) and not any(m in repr(value) for m in markers) for value in fingerprint.values()
    )


__all__ = [
    "FEATURES",
    "Package",
    "build_feature_register",
    "feature_fingerprint",
    "fingerprint_present",
    "part_print",
    "tiny_png",
]
