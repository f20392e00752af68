"""The few styles a sync needs, added to styles.xml once and found again on later syncs."""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from xlsync.xlsx.package import NS_MAIN, Package, PackageError, q

# Children of <styleSheet> in schema order.
_ORDER = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles",
          "dxfs", "tableStyles", "colors", "extLst"]  # fmt: skip
_RANK = {name: i for i, name in enumerate(_ORDER)}

# What a reader needs at least (Excel and openpyxl fail without it): one font, the two
# fills every workbook has (none and gray125), one border, one cell style format and one
# cell format, and the Normal cell style.
_MINIMAL: dict[str, str] = {
    "fonts": '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>',
    "fills": '<fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>',
    "borders": "<border><left/><right/><top/><bottom/><diagonal/></border>",
    "cellStyleXfs": '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>',
    "cellXfs": '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
    "cellStyles": '<cellStyle name="Normal" xfId="0" builtinId="0"/>',
}


def _styles(package: Package) -> etree._Element:
    """The workbook's styles, created when it has none, with every required element."""
    part = package.styles_part()
    if part is None:
        part = package.add_styles(
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{NS_MAIN}"/>'.encode()
        )
    root = package.xml(part)
    if etree.QName(root).namespace != NS_MAIN:
        raise PackageError("styles.xml 使用了不支持的命名空间，无法写回")
    for tag, children in _MINIMAL.items():
        element = root.find(q(tag))
        if element is not None and len(element):
            continue
        if element is None:
            element = _insert(root, etree.Element(q(tag)))
        for child in etree.fromstring(f'<x xmlns="{NS_MAIN}">{children}</x>'):
            element.append(child)
        element.set("count", str(len(element)))
    return root


def _insert(root: etree._Element, element: etree._Element) -> etree._Element:
    rank = _RANK[etree.QName(element).localname]
    for i, child in enumerate(root):
        name = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if _RANK.get(name, -1) > rank:
            root.insert(i, element)
            return element
    root.append(element)
    return element


def ensure_fill_dxf(package: Package, rgb: str) -> int:
    """A differential format (for conditional formatting) that fills with `rgb`."""
    root = _styles(package)
    dxfs = root.find(q("dxfs"))
    if dxfs is None:
        dxfs = _insert(root, etree.Element(q("dxfs")))
        dxfs.set("count", "0")
    for i, dxf in enumerate(dxfs.findall(q("dxf"))):
        colours = [c.get("rgb") for c in dxf.iter(q("bgColor"))]
        if colours == [rgb] and dxf.find(q("font")) is None:
            return i
    dxf = etree.SubElement(dxfs, q("dxf"))
    fill = etree.SubElement(dxf, q("fill"))
    pattern = etree.SubElement(fill, q("patternFill"))
    pattern.set("patternType", "solid")
    etree.SubElement(pattern, q("bgColor")).set("rgb", rgb)
    dxfs.set("count", str(len(dxfs.findall(q("dxf")))))
    return len(dxfs.findall(q("dxf"))) - 1


def ensure_bold_xf(package: Package) -> int:
    """A cell format with a bold font and a light fill, for headers of the tool-owned sheets."""
    return ensure_xf(package, bold=True, fill="FFDDEBF7", border=True)


def ensure_xf(
    package: Package,
    *,
    bold: bool = False,
    fill: str | None = None,
    border: bool = False,
    wrap: bool = False,
    base: str | None = None,
    num_fmt: str | None = None,
) -> int:
    """A cell format (index into cellXfs) with what is asked, found again on later syncs:
    a bold font, a solid `fill` (ARGB), thin borders, wrapped text aligned to the top.
    `base` starts from an existing format (the rep's header style) and changes only that."""
    root = _styles(package)
    fonts = root.find(q("fonts"))
    fills = root.find(q("fills"))
    borders = root.find(q("borders"))
    xfs = root.find(q("cellXfs"))
    if fonts is None or fills is None or borders is None or xfs is None:
        return 0
    start = None
    if base is not None and base.isdigit() and int(base) < len(xfs.findall(q("xf"))):
        start = xfs.findall(q("xf"))[int(base)]
    font_id = start.get("fontId", "0") if start is not None else "0"
    fill_id = start.get("fillId", "0") if start is not None else "0"
    border_id = start.get("borderId", "0") if start is not None else "0"
    num_fmt = num_fmt or (start.get("numFmtId", "0") if start is not None else "0")
    if bold:
        font_id = str(_find_or_add(
            fonts, "font", lambda f: f.find(q("b")) is not None and f.find(q("i")) is None,
            _bold_font))  # fmt: skip
    if fill is not None:
        while len(fills.findall(q("fill"))) < 2:  # fills 0 and 1 are reserved
            kind = "none" if not fills.findall(q("fill")) else "gray125"
            etree.SubElement(etree.SubElement(fills, q("fill")), q("patternFill")).set(
                "patternType", kind
            )
        fill_id = str(_find_or_add(
            fills, "fill", lambda f: [c.get("rgb") for c in f.iter(q("fgColor"))] == [fill],
            lambda: _solid_fill(fill)))  # fmt: skip
    if border:
        border_id = str(_find_or_add(borders, "border", _is_thin_border, _thin_border))
    wanted = {"numFmtId": num_fmt, "fontId": font_id, "fillId": fill_id,
              "borderId": border_id}  # fmt: skip
    for i, xf in enumerate(xfs.findall(q("xf"))):
        if all(xf.get(k, "0") == v for k, v in wanted.items()) and _wraps(xf) == wrap:
            return i
    xf = etree.SubElement(xfs, q("xf"))
    for attr, value in wanted.items():
        xf.set(attr, value or "0")
    xf.set("xfId", "0")
    for attr, on in (("applyFont", bold), ("applyFill", fill is not None),
                     ("applyBorder", border), ("applyAlignment", wrap)):  # fmt: skip
        if on:
            xf.set(attr, "1")
    if wrap:
        alignment = etree.SubElement(xf, q("alignment"))
        alignment.set("vertical", "top")
        alignment.set("wrapText", "1")
    xfs.set("count", str(len(xfs.findall(q("xf")))))
    return len(xfs.findall(q("xf"))) - 1


_DATE_BUILTINS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}


def is_date_style(package: Package, style: str | None) -> bool:
    """Whether cell format `style` shows a number as a date (a built-in or custom date
    format); a date written with any other format would show as 46327."""
    if style is None or not style.isdigit():
        return False
    root = _styles(package)
    xfs = root.find(q("cellXfs"))
    items = xfs.findall(q("xf")) if xfs is not None else []
    if int(style) >= len(items):
        return False
    fmt = int(items[int(style)].get("numFmtId", "0"))
    if fmt in _DATE_BUILTINS:
        return True
    formats = root.find(q("numFmts"))
    for nf in formats.findall(q("numFmt")) if formats is not None else []:
        if nf.get("numFmtId") == str(fmt):
            code = re.sub(r'"[^"]*"|\\.|\[[^]]*\]', "", nf.get("formatCode", "")).lower()
            return any(ch in code for ch in "ymd")
    return False


def _wraps(xf: etree._Element) -> bool:
    alignment = xf.find(q("alignment"))
    return alignment is not None and alignment.get("wrapText") in ("1", "true")


def _is_thin_border(b: etree._Element) -> bool:
    sides = [b.find(q(side)) for side in ("left", "right", "top", "bottom")]
    return all(s is not None and s.get("style") == "thin" for s in sides)


def _thin_border() -> etree._Element:
    border = etree.Element(q("border"))
    for side in ("left", "right", "top", "bottom"):
        element = etree.SubElement(border, q(side))
        element.set("style", "thin")
        etree.SubElement(element, q("color")).set("rgb", "FFB4BCC8")
    etree.SubElement(border, q("diagonal"))
    return border


def _solid_fill(rgb: str) -> etree._Element:
    fill = etree.Element(q("fill"))
    pattern = etree.SubElement(fill, q("patternFill"))
    pattern.set("patternType", "solid")
    etree.SubElement(pattern, q("fgColor")).set("rgb", rgb)
    etree.SubElement(pattern, q("bgColor")).set("indexed", "64")
    return fill


def _find_or_add(
    parent: etree._Element,
    tag: str,
    match: Callable[[etree._Element], bool],
    make: Callable[[], etree._Element],
) -> int:
    items = parent.findall(q(tag))
    for i, item in enumerate(items):
        if match(item):
            return i
    parent.append(make())
    parent.set("count", str(len(items) + 1))
    return len(items)


def _bold_font() -> etree._Element:
    font = etree.Element(q("font"))
    etree.SubElement(font, q("b"))
    etree.SubElement(font, q("sz")).set("val", "11")
    etree.SubElement(font, q("name")).set("val", "等线")
    return font
