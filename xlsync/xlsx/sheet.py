"""Edit one worksheet part: set text cells, copy and clear rows, conditional formatting.

Cells are addressed by 1-based row and 0-based column. New text is written as inline
strings (`t="inlineStr"`), so sharedStrings.xml is never touched and nothing written can
become a formula.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import cast

from lxml import etree

from xlsync.xlsx.package import NS_MAIN, q

# Children of <worksheet> in schema order: new elements must go in the right place.
_ORDER = [
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
    "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
    "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
    "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
    "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
    "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects",
    "controls", "webPublishItems", "tableParts", "extLst",
]  # fmt: skip
_RANK = {name: i for i, name in enumerate(_ORDER)}
_REF = re.compile(r"^([A-Z]+)(\d+)$")
_CHILD_REFS = etree.XPath("*/@r", smart_strings=False)


def _cell_refs(row: etree._Element) -> list[str]:
    """The `r` of the row's cells, collected by libxml2 (a row holds many cells)."""
    return cast(list[str], _CHILD_REFS(row))


_LAST_COLUMN = 18278  # ZZZ: the columns spreadsheet programs can name with three letters


def get_column_letter(index: int) -> str:
    """1 -> A, 27 -> AA (as openpyxl.utils.cell, without importing openpyxl and numpy)."""
    if not 1 <= index <= _LAST_COLUMN:
        raise ValueError(f"Invalid column index {index}")
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index_from_string(letters: str) -> int:
    """A -> 1, AA -> 27 (as openpyxl.utils.cell)."""
    if not 1 <= len(letters) <= 3 or not letters.isascii() or not letters.isalpha():
        raise ValueError(f"{letters} is not a valid column name")
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index


_letters = cache(get_column_letter)  # a sheet has few columns and many cells
_column_number = cache(column_index_from_string)
_DIGITS = "0123456789"


def ref(row: int, col: int) -> str:
    return f"{_letters(col + 1)}{row}"


def split_ref(text: str) -> tuple[int, int]:
    letters = text.rstrip(_DIGITS)
    if letters and len(letters) < len(text) and letters.isascii() and letters.isupper():
        return int(text[len(letters) :]), _column_number(letters) - 1  # A1, XFD1048576
    m = _REF.match(text)  # anything else as the pattern says (it raises when it is not a ref)
    if not m:
        raise ValueError(text)
    return int(m.group(2)), column_index_from_string(m.group(1)) - 1


class SheetXml:
    def __init__(self, root: etree._Element) -> None:
        self.root = root
        data = root.find(q("sheetData"))
        if data is None:
            data = self.insert(etree.Element(q("sheetData")))
        self.data = data
        self.rows: dict[int, etree._Element] = {}
        for row in data.iter(q("row")):
            self.rows[int(row.get("r", "0"))] = row
        self.formulas_removed = False

    # ------------------------------------------------------------------ structure

    def insert(self, element: etree._Element) -> etree._Element:
        """Insert a child of <worksheet> at its schema position."""
        rank = _RANK[etree.QName(element).localname]
        for i, child in enumerate(self.root):
            name = etree.QName(child).localname if isinstance(child.tag, str) else ""
            if _RANK.get(name, -1) > rank:
                self.root.insert(i, element)
                return element
        self.root.append(element)
        return element

    def row(self, r: int, create: bool = True) -> etree._Element | None:
        element = self.rows.get(r)
        if element is None and create:
            element = etree.Element(q("row"))
            element.set("r", str(r))
            later = [n for n in self.rows if n > r]
            if later:
                self.rows[min(later)].addprevious(element)
            else:
                self.data.append(element)
            self.rows[r] = element
        return element

    def cell(self, r: int, col: int, create: bool = True) -> etree._Element | None:
        row = self.row(r, create)
        if row is None:
            return None
        target = ref(r, col)
        for c in row.iter(q("c")):
            name = c.get("r")
            if name == target:
                return c
            if name and split_ref(name)[1] > col and create:
                element = etree.Element(q("c"))
                element.set("r", target)
                c.addprevious(element)
                return element
        if not create:
            return None
        element = etree.SubElement(row, q("c"))
        element.set("r", target)
        return element

    # ------------------------------------------------------------------ values

    def set_text(self, r: int, col: int, text: str) -> None:
        """Write `text` as an inline string (an empty text clears the cell's value)."""
        c = self.cell(r, col, create=bool(text))
        if c is None:
            return
        _clear_value(c)
        if text:
            c.set("t", "inlineStr")
            is_ = etree.SubElement(c, q("is"))
            t = etree.SubElement(is_, q("t"))
            t.text = text
            if text != text.strip():
                t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")

    def set_number(self, r: int, col: int, value: int) -> None:
        c = self.cell(r, col)
        assert c is not None
        _clear_value(c)
        v = etree.SubElement(c, q("v"))
        v.text = str(value)

    def text(self, r: int, col: int) -> str:
        c = self.cell(r, col, create=False)
        if c is None:
            return ""
        if c.get("t") == "inlineStr":
            return "".join(str(t) for t in c.itertext())
        v = c.find(q("v"))
        return v.text or "" if v is not None else ""

    def row_cells(self, r: int) -> list[tuple[int, etree._Element]]:
        row = self.rows.get(r)
        if row is None:
            return []
        return [(split_ref(c.get("r", ""))[1], c) for c in row.iter(q("c")) if c.get("r")]

    def copy_row_from(self, other: SheetXml, src: int, dst: int, columns: dict[int, int]) -> None:
        """Copy the cells of `other` row `src` into row `dst`, mapping source -> target columns.

        Values and cell styles travel; a formula travels as its last computed value.
        """
        src_row = other.rows.get(src)
        if src_row is not None and src_row.get("ht") and self.row(dst) is not None:
            for attr in ("ht", "customHeight"):
                if src_row.get(attr):
                    self.rows[dst].set(attr, src_row.get(attr, ""))
        for col, c in other.row_cells(src):
            if col not in columns or (not _has_value(c) and c.get("s") is None):
                continue
            target = self.cell(dst, columns[col])
            assert target is not None
            for name in [str(a) for a in target.attrib]:
                if name != "r":
                    del target.attrib[name]
            for child in list(target):
                target.remove(child)
            for key, value in c.attrib.items():
                if key != "r":
                    target.set(key, value)
            for child in c:
                target.append(copy.deepcopy(child))
            if _drop_formula(target):
                self.formulas_removed = True

    def clear_row(self, r: int) -> None:
        """Remove every value of row `r`; cell styles stay, so the row keeps its look."""
        for _col, c in self.row_cells(r):
            if c.find(q("f")) is not None:
                self.formulas_removed = True
            _clear_value(c)

    def shift_rows(self, first: int, by: int) -> None:
        """Move every row from `first` on down by `by` rows, to make room above them (the
        合计 rows under the data). Cell references, shared-formula ranges and merged ranges
        inside the moved rows move with them; a moved formula makes the calc chain stale."""
        if by <= 0:
            return
        for r in sorted((n for n in self.rows if n >= first), reverse=True):
            row = self.rows.pop(r)
            row.set("r", str(r + by))
            for c in row.iter(q("c")):
                name = c.get("r")
                if name:
                    rr, cc = split_ref(name)
                    c.set("r", ref(rr + by, cc))
                f = c.find(q("f"))
                if f is not None:
                    self.formulas_removed = True  # the calc chain names cells by place
                    if f.get("ref"):
                        f.set("ref", _shift_range(f.get("ref", ""), first, by))
            self.rows[r + by] = row
        merges = self.root.find(q("mergeCells"))
        if merges is not None:
            for m in merges.iter(q("mergeCell")):
                m.set("ref", _shift_range(m.get("ref", ""), first, by))

    def style_above(self, r: int, col: int, top: int) -> tuple[str | None, bool]:
        """The style index and numeric-ness of the nearest cell above row `r` in column
        `col` (below the header row `top`) that has a value: how the column is written."""
        for above in range(r - 1, top, -1):
            c = self.cell(above, col, create=False)
            if c is not None and _has_value(c):
                numeric = c.get("t") in (None, "n") and c.find(q("v")) is not None
                return c.get("s"), numeric
        return None, False

    def set_value(self, r: int, col: int, value: str | float, style: str | None) -> None:
        """Write a number or a text with a style (the column's, taken from a cell above)."""
        if isinstance(value, str):
            self.set_text(r, col, value)
        else:
            c = self.cell(r, col)
            assert c is not None
            _clear_value(c)
            v = etree.SubElement(c, q("v"))
            v.text = str(int(value)) if float(value).is_integer() else repr(float(value))
        c = self.cell(r, col, create=False)
        if c is not None and style is not None:
            c.set("s", style)

    def fit_height(self, r: int, lines: int, line_height: float = 15.0) -> None:
        """Make row `r` tall enough for `lines` lines of text, unless the rep set its height
        (customHeight) or it is tall enough already; a height is never taken away."""
        row = self.rows.get(r)
        if row is None or lines <= 1 or row.get("customHeight") in ("1", "true"):
            return
        want = lines * line_height
        try:
            have = float(row.get("ht", "0"))
        except ValueError:
            have = 0.0
        if have < want:
            row.set("ht", f"{want:g}")

    def last_used_row(self) -> int:
        return max(
            (r for r, row in self.rows.items() if any(_has_value(c) for c in row)), default=0
        )

    def update_dimension(self) -> None:
        dimension = self.root.find(q("dimension"))
        cols = [split_ref(r)[1] for row in self.rows.values() for r in _cell_refs(row) if r]
        if not self.rows or not cols:
            return
        text = f"A1:{ref(max(self.rows), max(cols))}"
        if dimension is None:
            dimension = self.insert(etree.Element(q("dimension")))
        dimension.set("ref", text)

    # ------------------------------------------------------------------ conditional formatting

    def replace_conditional_formatting(self, owned: str, rules: list[tuple[str, str, int]]) -> None:
        """Replace the conditional formatting blocks whose formulas mention `owned` (our
        marker) by one block over `rules`: (sqref, formula, dxfId)."""
        for block in self.root.findall(q("conditionalFormatting")):
            formulas = " ".join(f.text or "" for f in block.iter(q("formula")))
            if owned in formulas:
                self.root.remove(block)
        if not rules:
            return
        taken = [int(r.get("priority", "0")) for r in self.root.iter(q("cfRule"))]
        priority = max(taken, default=0) + 1
        for sqref, formula, dxf in rules:
            block = etree.Element(q("conditionalFormatting"))
            block.set("sqref", sqref)
            rule = etree.SubElement(block, q("cfRule"))
            rule.set("type", "expression")
            rule.set("dxfId", str(dxf))
            rule.set("priority", str(priority))
            priority += 1
            f = etree.SubElement(rule, q("formula"))
            f.text = formula
            self.insert(block)


def _shift_range(text: str, first: int, by: int) -> str:
    """`A301:O301` with every reference at or below row `first` moved down by `by`."""
    parts = []
    for part in text.split(":"):
        try:
            r, c = split_ref(part)
        except ValueError:
            parts.append(part)
            continue
        parts.append(ref(r + by, c) if r >= first else part)
    return ":".join(parts)


def _has_value(c: etree._Element) -> bool:
    return any(child.tag in (q("v"), q("is"), q("f")) for child in c)


def _clear_value(c: etree._Element) -> None:
    for child in list(c):
        if child.tag in (q("v"), q("is"), q("f")):
            c.remove(child)
    if "t" in c.attrib:
        del c.attrib["t"]


def _drop_formula(c: etree._Element) -> bool:
    """Turn a formula cell into its cached value; True if there was a formula."""
    f = c.find(q("f"))
    if f is None:
        return False
    c.remove(f)
    if c.get("t") == "str":
        v = c.find(q("v"))
        text = v.text if v is not None else ""
        _clear_value(c)
        c.set("t", "inlineStr")
        is_ = etree.SubElement(c, q("is"))
        etree.SubElement(is_, q("t")).text = text
    return True


__all__ = ["NS_MAIN", "SheetXml", "ref", "split_ref"]
