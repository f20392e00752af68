"""The few styles a sync needs, added to styles.xml once and found again on later syncs."""

from __future__ import annotations

from lxml import etree

from xlsync.xlsx.package import Package, q

STYLES = "xl/styles.xml"


def _styles(package: Package) -> etree._Element:
    if not package.has(STYLES):
        raise ValueError("workbook has no styles part")
    return package.xml(STYLES)


def ensure_fill_dxf(package: Package, rgb: str) -> int:
    """A differential format (for conditional formatting) that fills with `rgb`."""
    root = _styles(package)
    dxfs = root.find(q("dxfs"))
    if dxfs is None:
        dxfs = etree.Element(q("dxfs"))
        dxfs.set("count", "0")
        anchor = root.find(q("tableStyles"))
        if anchor is None:
            anchor = root.find(q("colors"))
        if anchor is None:
            anchor = root.find(q("extLst"))
        if anchor is not None:
            anchor.addprevious(dxfs)
        else:
            root.append(dxfs)
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
    root = _styles(package)
    fonts = root.find(q("fonts"))
    fills = root.find(q("fills"))
    xfs = root.find(q("cellXfs"))
    if fonts is None or fills is None or xfs is None:
        return 0
    font_id = _find_or_add(fonts, "font", lambda f: f.find(q("b")) is not None and f.find(q("i")) is None,
                           _bold_font)  # fmt: skip
    fill_id = _find_or_add(
        fills,
        "fill",
        lambda f: [c.get("rgb") for c in f.iter(q("fgColor"))] == ["FFDDEBF7"],
        _header_fill,
    )
    for i, xf in enumerate(xfs.findall(q("xf"))):
        if xf.get("fontId") == str(font_id) and xf.get("fillId") == str(fill_id):
            return i
    xf = etree.SubElement(xfs, q("xf"))
    for attr, value in (
        ("numFmtId", "0"),
        ("fontId", str(font_id)),
        ("fillId", str(fill_id)),
        ("borderId", "0"),
        ("xfId", "0"),
        ("applyFont", "1"),
        ("applyFill", "1"),
    ):
        xf.set(attr, value)  # fmt: skip
    xfs.set("count", str(len(xfs.findall(q("xf")))))
    return len(xfs.findall(q("xf"))) - 1


def _find_or_add(parent: etree._Element, tag: str, match, make) -> int:  # type: ignore[no-untyped-def]
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


def _header_fill() -> etree._Element:
    fill = etree.Element(q("fill"))
    pattern = etree.SubElement(fill, q("patternFill"))
    pattern.set("patternType", "solid")
    etree.SubElement(pattern, q("fgColor")).set("rgb", "FFDDEBF7")
    etree.SubElement(pattern, q("bgColor")).set("indexed", "64")
    return fill
