"""Edit one worksheet part as a stream: set text cells, copy and clear rows, conditional
formatting. The part is never held as a tree (see `SheetXml`).

Cells are addressed by 1-based row and 0-based column. New text is written as inline
strings (`t="inlineStr"`), so sharedStrings.xml is never touched and nothing written can
become a formula.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from functools import cache, partial
from typing import cast

from lxml import etree

from xlsync.xlsx.package import NS_MAIN, PARSER, Package, PackageError, q

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


Op = Callable[[etree._Element], None]

# Tags found by a byte-level pass: a name with any prefix, then attributes quoted either way.
_PREFIX = rb"(?:([A-Za-z_][\w.-]*):)?"
_ATTRS = rb"""((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(/?)>"""
_WORKSHEET = re.compile(rb"<" + _PREFIX + rb"worksheet(?![\w.:-])" + _ATTRS)
_SHEET_DATA = re.compile(rb"<" + _PREFIX + rb"sheetData(?![\w.:-])" + _ATTRS)
# inside <sheetData>: comments and processing instructions are skipped (CDATA sections are
# turned into text before the pass, see _canonical), row tags and the closing sheetData found
_BODY = re.compile(
    rb"<!--.*?-->|<\?.*?\?>|<(/?)(?:[A-Za-z_][\w.-]*:)?(row|sheetData)(?![\w.:-])" + _ATTRS,
    re.S,
)
_R_ATTR = re.compile(rb"""\sr\s*=\s*["']([A-Z]*)(\d+)["']""")
_VALUE_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:v|is|f)(?![\w.:-])")
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c(?![\w.:-])")
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f(?![\w.:-])")
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']""")
_MARK = "xlsync-rows-5d1c"  # the place of the rows in the skeleton, a comment
_BATCH = 256  # rows parsed together when they are written


class _Row:
    """One row of the sheet: where its bytes are (start -1 for a row xlsync adds) and the
    edits waiting for it, applied when the sheet is written or read."""

    __slots__ = ("end", "num", "ops", "start")

    def __init__(self, num: int, start: int, end: int) -> None:
        self.num = num
        self.start = start
        self.end = end
        self.ops: list[Op] | None = None


class SheetXml:
    """One worksheet part, edited as a stream.

    The part's bytes are kept once. What lies around <sheetData> (columns, dimension,
    conditional formatting, merged cells: small) is parsed into `root`, a skeleton whose
    sheetData holds a marker where the rows go. The rows are only indexed (number -> byte
    span); an edit is recorded as an operation on its row. `chunks` writes the part: the
    rows no edit touches are copied byte for byte, the others are parsed a few hundred at a
    time, edited and serialised. Reading a cell parses its row alone.
    """

    def __init__(self, data: bytes) -> None:
        if _needs_canonical(data):
            data = _canonical(data)
        found = _split(data)
        if found is None:
            data = _canonical(data)
            found = _split(data)
            if found is None:
                raise PackageError("工作表的 XML 结构无法识别，xlsync 无法写回")
        ws, sd, body_end, tail_start, rows = found
        self._data = data
        self._body_start = sd.end()
        self._body_end = body_end
        prefix = sd.group(1) + b":" if sd.group(1) else b""
        self._prefix = prefix
        self._row_tag = prefix + b"row"
        sd_name = prefix + b"sheetData"
        ws_name = (ws.group(1) + b":" if ws.group(1) else b"") + b"worksheet"
        sd_open = b"<" + sd_name + sd.group(2) + b">"
        self._open = data[: ws.end()] + sd_open
        self._close = b"</" + sd_name + b"></" + ws_name + b">"
        skeleton = b"".join(
            [data[: sd.start()], sd_open, f"<!--{_MARK}-->".encode(), b"</", sd_name, b">",
             data[tail_start:]]
        )  # fmt: skip
        self.root = etree.fromstring(skeleton, PARSER)
        marks = [c for c in self.root.iter(etree.Comment) if c.text == _MARK]
        if len(marks) != 1 or marks[0].getparent() is None:
            raise PackageError("工作表的 XML 结构无法识别，xlsync 无法写回")
        self._pristine = _serialise_root(self.root)
        self._order = rows  # as they stand in the file
        self._rows: dict[int, _Row] = {row.num: row for row in rows}
        self._widest = -1  # the rightmost column an edit wrote
        self._edited = False
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

    def _row(self, r: int, create: bool) -> _Row | None:
        row = self._rows.get(r)
        if row is None and create:
            row = self._rows[r] = _Row(r, -1, -1)
        return row

    def _edit(self, r: int, op: Op, create: bool = True) -> bool:
        """Record `op` for row `r` (made when it does not exist and `create`)."""
        row = self._row(r, create)
        if row is None:
            return False
        if row.ops is None:
            row.ops = []
        row.ops.append(op)
        self._edited = True
        return True

    def _wrote(self, col: int) -> None:
        self._widest = max(self._widest, col)

    def _bytes(self, row: _Row) -> bytes:
        if row.start < 0:
            return b'<%s r="%d"/>' % (self._row_tag, row.num)
        return self._data[row.start : row.end]

    def _parse(self, rows: list[_Row]) -> tuple[etree._Element, list[etree._Element]]:
        """The rows parsed (inside the sheet's own worksheet and sheetData tags, so that
        prefixes and entities mean what they mean in the file) with their edits applied."""
        doc = b"".join([self._open, *map(self._bytes, rows), self._close])
        data = etree.fromstring(doc, PARSER)[0]
        elements = [e for e in data if isinstance(e.tag, str)]
        if len(elements) != len(rows) or any(e.tag != _ROW for e in elements):
            raise PackageError("工作表的行结构无法识别，xlsync 无法写回")
        for element, row in zip(elements, rows, strict=True):
            if row.ops:
                if element.get("r") is None:
                    element.set("r", str(row.num))
                for op in row.ops:
                    op(element)
        return data, elements

    def _load(self, row: _Row) -> etree._Element:
        return self._parse([row])[1][0]

    def _cells(self, r: int) -> etree._Element | None:
        row = self._rows.get(r)
        return None if row is None else self._load(row)

    # ------------------------------------------------------------------ values

    def set_text(self, r: int, col: int, text: str) -> None:
        """Write `text` as an inline string (an empty text clears the cell's value)."""
        if self._edit(r, _Put(r, col, text, None), create=bool(text)) and text:
            self._wrote(col)

    def set_value(self, r: int, col: int, value: str | float, style: str | None) -> None:
        """Write a number or a text with a style (the column's, taken from a cell above)."""
        op: Op = (
            _Put(r, col, value, style) if isinstance(value, str)
            else partial(_set_value, r=r, col=col, value=value, style=style)
        )  # fmt: skip
        if self._edit(r, op):
            self._wrote(col)

    def text(self, r: int, col: int) -> str:
        row = self._cells(r)
        c = None if row is None else _cell(row, r, col, create=False)
        if c is None:
            return ""
        if c.get("t") == "inlineStr":
            return "".join(str(t) for t in c.itertext())
        v = c.find(q("v"))
        return v.text or "" if v is not None else ""

    def copy_style(self, r: int, source: int, target: int) -> None:
        """Give the cell at `target` the style of the cell at `source` (both must exist)."""

        def op(row: etree._Element) -> None:
            before = _cell(row, r, source, create=False)
            mine = _cell(row, r, target, create=False)
            if before is not None and mine is not None and before.get("s"):
                mine.set("s", before.get("s", "0"))

        self._edit(r, op, create=False)

    def copy_row_from(self, other: SheetXml, src: int, dst: int, columns: dict[int, int]) -> None:
        """Copy the cells of `other` row `src` into row `dst`, mapping source -> target columns.

        Values and cell styles travel; a formula travels as its last computed value.
        """
        source = other._cells(src)
        if source is None:
            return
        cells = [
            (col, c) for col, c in _row_cells(source)
            if col in columns and (_has_value(c) or c.get("s") is not None)
        ]  # fmt: skip
        if not cells and not source.get("ht"):
            return
        if any(c.find(q("f")) is not None for _col, c in cells):
            self.formulas_removed = True
        for col, _c in cells:
            self._wrote(columns[col])
        kept = etree.tostring(source)  # its bytes, not its tree, wait for the writing

        def op(row: etree._Element) -> None:
            _copy_cells(row, dst, etree.fromstring(kept, PARSER), columns)

        self._edit(dst, op)

    def clear_row(self, r: int) -> None:
        """Remove every value of row `r`; cell styles stay, so the row keeps its look."""
        row = self._rows.get(r)
        if row is None:
            return
        if self._has(row, _FORMULA_TAG):
            self.formulas_removed = True
        self._edit(r, _clear_row, create=False)

    def shift_rows(self, first: int, by: int) -> None:
        """Move every row from `first` on down by `by` rows, to make room above them (the
        合计 rows under the data). Cell references, shared-formula ranges and merged ranges
        inside the moved rows move with them; a moved formula makes the calc chain stale."""
        if by <= 0:
            return
        moved = [self._rows.pop(r) for r in sorted(n for n in self._rows if n >= first)]
        for row in moved:
            if self._has(row, _FORMULA_TAG):
                self.formulas_removed = True  # the calc chain names cells by place
            row.num += by
            self._rows[row.num] = row
            self._edit(row.num, partial(_shift, number=row.num, first=first, by=by))
        merges = self.root.find(q("mergeCells"))
        if merges is not None:
            for m in merges.iter(q("mergeCell")):
                m.set("ref", _shift_range(m.get("ref", ""), first, by))

    def _has(self, row: _Row, tag: re.Pattern[bytes]) -> bool:
        """Whether the row's own bytes hold `tag` (edits add no formula and no value the
        callers ask about before they are made)."""
        return row.start >= 0 and tag.search(self._data, row.start, row.end) is not None

    def style_above(self, r: int, col: int, top: int) -> tuple[str | None, bool]:
        """The style index and numeric-ness of the nearest cell above row `r` in column
        `col` (below the header row `top`) that has a value: how the column is written."""
        for above in range(r - 1, top, -1):
            row = self._cells(above)
            c = None if row is None else _cell(row, above, col, create=False)
            if c is not None and _has_value(c):
                numeric = c.get("t") in (None, "n") and c.find(q("v")) is not None
                return c.get("s"), numeric
        return None, False

    def fit_height(self, r: int, lines: int, line_height: float = 15.0) -> None:
        """Make row `r` tall enough for `lines` lines of text, unless the rep set its height
        (customHeight) or it is tall enough already; a height is never taken away."""
        if lines > 1:
            self._edit(r, _Fit(lines * line_height), create=False)

    def last_used_row(self) -> int:
        for r in sorted(self._rows, reverse=True):
            row = self._rows[r]
            if row.ops:
                if any(_has_value(c) for c in self._load(row)):
                    return r
            elif self._has(row, _VALUE_TAG):
                return r
        return 0

    def update_dimension(self) -> None:
        dimension = self.root.find(q("dimension"))
        widest = max((self._last_col(row) for row in self._order), default=-1)
        widest = max(widest, self._widest)
        if not self._rows or widest < 0:
            return
        text = f"A1:{ref(max(self._rows), widest)}"
        if dimension is None:
            dimension = self.insert(etree.Element(q("dimension")))
        dimension.set("ref", text)

    def _last_col(self, row: _Row) -> int:
        """The column of the row's last cell, read from its bytes (-1: none)."""
        data = self._data
        at = data.rfind(b"<" + self._prefix + b"c ", row.start + 1, row.end)
        if at >= 0:
            found = _R_ATTR.search(data, at, data.find(b">", at, row.end))
            if found is not None and found.group(1):
                return _column_number(found.group(1).decode()) - 1
        elif _CELL_TAG.search(data, row.start + 1, row.end) is None:
            return -1
        element = self._load(row)  # written some other way: parsed
        return max((split_ref(r)[1] for r in _cell_refs(element) if r), default=-1)

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

    # ------------------------------------------------------------------ output

    @property
    def changed(self) -> bool:
        return self._edited or _serialise_root(self.root) != self._pristine

    def save(self, package: Package, part: str) -> None:
        """Hand the part to the package, to be written as a stream, if anything changed."""
        if self.changed:
            package.put_stream(part, self.chunks)

    def chunks(self) -> Iterator[bytes | memoryview]:
        """The part's bytes, in pieces: the skeleton around the rows, untouched rows as
        they are, edited and added rows serialised."""
        head, tail = _serialise_root(self.root).split(f"<!--{_MARK}-->".encode())
        yield head
        view = memoryview(self._data)
        batch: list[_Row] = []
        for item in self._items():
            if isinstance(item, _Row):
                batch.append(item)
                if len(batch) >= _BATCH:
                    yield self._render(batch)
                    batch = []
                continue
            if batch:
                yield self._render(batch)
                batch = []
            yield view[item[0] : item[1]]
        if batch:
            yield self._render(batch)
        yield tail

    def _render(self, rows: list[_Row]) -> bytes:
        out: list[bytes] = []
        parsed: list[_Row] = []
        for row in rows:
            quick = self._patched(row)
            if quick is None:
                parsed.append(row)
                continue
            if parsed:
                out.append(self._render_parsed(parsed))
                parsed = []
            out.append(quick)
        if parsed:
            out.append(self._render_parsed(parsed))
        return b"".join(out)

    def _render_parsed(self, rows: list[_Row]) -> bytes:
        data, _elements = self._parse(rows)
        out = etree.tostring(data)
        return out[out.index(b">") + 1 : out.rindex(b"<")]

    def _patched(self, row: _Row) -> bytes | None:
        """The row written without parsing it, when its edits only write texts into cells
        that are missing or empty and set its height (ids and hints on a first sync); None
        otherwise. The bytes are what lxml writes for the same edits."""
        if row.start < 0 or not row.ops:
            return None
        data = self._data[row.start : row.end]
        tag = _ROW_START.match(data)
        if tag is None:
            return None
        start, rest = data[: tag.end()], data[tag.end() :]
        if tag.group(2):  # <row .../>: it gets a body
            start = start[:-2].rstrip() + b">"
            rest = b"</" + self._row_tag + b">"
        for op in row.ops:
            if type(op) is _Fit:
                start = _with_height(start, op.height)
                continue
            if type(op) is not _Put or not op.text or op.r != row.num:
                return None
            patched = self._put_bytes(rest, op)
            if patched is None:
                return None
            rest = patched
        return start + rest

    def _put_bytes(self, body: bytes, put: _Put) -> bytes | None:
        """The row's content (after its start tag) with `put` done, or None when the cell
        holds something (a value, a formula, rich text) or a cell has no reference."""
        if not _PLAIN.fullmatch(put.text):
            return None
        target = ref(put.r, put.col).encode()
        attrs: list[tuple[bytes, bytes]] = [(b"r", b'"' + target + b'"')]
        at = -1
        end = -1
        cells = _CELL_OPEN.finditer(body)
        last = body.rfind(b"<" + self._prefix + b"c ")
        found = _R_ATTR.search(body, last, body.find(b">", last)) if last >= 0 else None
        if last < 0 and _CELL_TAG.search(body) is None:
            cells = iter(())  # no cell: the text goes at the end
        elif found and found.group(1) and _column_number(found.group(1).decode()) <= put.col:
            cells = iter(())  # right of the last cell: the usual hint, no search
        for cell in cells:
            found = _R_ATTR.search(cell.group(1))
            if found is None or not found.group(1):
                return None
            col = _column_number(found.group(1).decode()) - 1
            if col < put.col:
                continue
            at = cell.start()
            if col == put.col:
                if not cell.group(2):
                    return None  # it has content: the parsed path clears it
                attrs = [(k, v) for k, v in _ATTR.findall(cell.group(1)) if k != b"t"]
                end = cell.end()
            break
        if at < 0:
            at = end = body.rfind(b"</")
        elif end < 0:
            end = at
        attrs.append((b"t", b'"inlineStr"'))
        if put.style is not None:
            value = b'"' + _escape_attr(put.style) + b'"'
            named = [k for k, _v in attrs]
            if b"s" in named:
                attrs[named.index(b"s")] = (b"s", value)
            else:
                attrs.append((b"s", value))
        p = self._prefix
        space = b"" if put.text == put.text.strip() else b' xml:space="preserve"'
        written = b"<%sc%s><%sis><%st%s>%s</%st></%sis></%sc>" % (
            p, b"".join(b" %s=%s" % kv for kv in attrs), p, p, space, _escape_text(put.text),
            p, p, p,
        )  # fmt: skip
        return body[:at] + written + body[end:]

    def _items(self) -> Iterator[_Row | tuple[int, int]]:
        """The sheetData's content in order: byte spans copied as they are, and the rows
        written anew (edited ones where they stand, added ones before the first row with a
        larger number)."""
        added = sorted((row for row in self._rows.values() if row.start < 0), key=_num)
        waiting = iter(added)
        upcoming = next(waiting, None)
        pos = self._body_start
        for row in self._order:
            if upcoming is not None and upcoming.num < row.num:
                if pos < row.start:
                    yield pos, row.start
                    pos = row.start
                while upcoming is not None and upcoming.num < row.num:
                    yield upcoming
                    upcoming = next(waiting, None)
            if not row.ops:
                continue
            if pos < row.start:
                yield pos, row.start
            yield row
            pos = row.end
        last = self._order[-1].end if self._order else self._body_start
        if pos < last:
            yield pos, last
            pos = last
        while upcoming is not None:
            yield upcoming
            upcoming = next(waiting, None)
        if pos < self._body_end:
            yield pos, self._body_end


class _Put:
    """Write a text into a cell (an empty text clears it), with a style if given."""

    __slots__ = ("col", "r", "style", "text")

    def __init__(self, r: int, col: int, text: str, style: str | None) -> None:
        self.r = r
        self.col = col
        self.text = text
        self.style = style

    def __call__(self, row: etree._Element) -> None:
        if self.style is None:
            _set_text(row, self.r, self.col, self.text)
        else:
            _set_value(row, self.r, self.col, self.text, self.style)


class _Fit:
    """Make the row at least this tall, unless its height was set by hand."""

    __slots__ = ("height",)

    def __init__(self, height: float) -> None:
        self.height = height

    def __call__(self, row: etree._Element) -> None:
        _fit_height(row, self.height)


# text lxml writes as it is apart from the escapes below (XML 1.0 characters)
_PLAIN = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
_ROW_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row(?![\w.:-])" + _ATTRS)
_CELL_OPEN = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c(?![\w.:-])" + _ATTRS)
_ATTR = re.compile(rb"""([^\s=]+)\s*=\s*("[^"]*"|'[^']*')""")
_HEIGHT = re.compile(rb"""(\sht\s*=\s*)(["'])([^"']*)["']""")
_CUSTOM_HEIGHT = re.compile(rb"""\scustomHeight\s*=\s*["'](?:1|true)["']""")


def _escape_text(text: str) -> bytes:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\r", "&#13;").encode()
    )  # fmt: skip


def _escape_attr(text: str) -> bytes:
    return _escape_text(text).replace(b'"', b"&quot;")


def _with_height(start: bytes, want: float) -> bytes:
    """A row's start tag after `_fit_height(want)`."""
    if _CUSTOM_HEIGHT.search(start):
        return start
    found = _HEIGHT.search(start)
    try:
        have = float(found.group(3)) if found is not None else 0.0
    except ValueError:
        have = 0.0
    if have >= want:
        return start
    value = f"{want:g}".encode()
    if found is None:
        return start[:-1].rstrip() + b' ht="' + value + b'">'
    return start[: found.start(3)] + value + start[found.end(3) :]


def _num(row: _Row) -> int:
    return row.num


_ROW = q("row")
_C = q("c")


def _needs_canonical(data: bytes) -> bool:
    """Whether the byte-level pass cannot read the part as it is: not UTF-8, or with CDATA."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    declared = _ENCODING.match(data[:200].lstrip(b"\xef\xbb\xbf"))
    if declared is not None and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return True
    return b"<![CDATA[" in data


def _canonical(data: bytes) -> bytes:
    """The part parsed whole and serialised as lxml writes it (UTF-8, CDATA as text),
    with a sheetData where it had none."""
    root = etree.fromstring(data, PARSER)
    if root.find(q("sheetData")) is None:
        rank = _RANK["sheetData"]
        element = etree.Element(q("sheetData"))
        for i, child in enumerate(root):
            name = etree.QName(child).localname if isinstance(child.tag, str) else ""
            if _RANK.get(name, -1) > rank:
                root.insert(i, element)
                break
        else:
            root.append(element)
    return _serialise_root(root)


def _split(
    data: bytes,
) -> tuple[re.Match[bytes], re.Match[bytes], int, int, list[_Row]] | None:
    """The worksheet and sheetData tags, where the rows end and the rest begins, and the
    rows (None when the bytes are not laid out as expected)."""
    ws = _WORKSHEET.search(data)
    if ws is None or ws.group(3):
        return None
    sd = _SHEET_DATA.search(data, ws.end())
    if sd is None:
        return None
    if sd.group(3):  # <sheetData/>
        return ws, sd, sd.end(), sd.end(), []
    quick = _quick_rows(data, sd)
    if quick is not None:
        return ws, sd, *quick
    rows: list[_Row] = []
    start = -1
    number = 0
    for m in _BODY.finditer(data, sd.end()):
        name = m.group(2)
        if name is None:
            continue  # a comment or a processing instruction
        closing = bool(m.group(1))
        if name == b"sheetData":
            if not closing or start >= 0:
                return None
            return ws, sd, m.start(), m.end(), rows
        if closing:
            if start < 0:
                return None
            rows.append(_Row(number, start, m.end()))
            start = -1
            continue
        if start >= 0:
            return None
        found = _R_ATTR.search(m.group(3) or b"")
        number = int(found.group(2)) if found is not None else number + 1
        if m.group(4):
            rows.append(_Row(number, m.start(), m.end()))
        else:
            start = m.start()
    return None


def _quick_rows(data: bytes, sd: re.Match[bytes]) -> tuple[int, int, list[_Row]] | None:
    """`_split`'s rows found with plain searches for the row tags of the sheetData's own
    prefix: for the usual part, with no comment, no processing instruction and no row tag
    written another way (else None, and the full pass reads it)."""
    prefix = sd.group(1) + b":" if sd.group(1) else b""
    close_data = re.compile(rb"</" + re.escape(prefix) + rb"sheetData\s*>")
    ending = close_data.search(data, sd.end())
    if ending is None:
        return None
    begin, finish = sd.end(), ending.start()
    if data.find(b"<!--", begin, finish) >= 0 or data.find(b"<?", begin, finish) >= 0:
        return None
    opening, closing = b"<" + prefix + b"row", b"</" + prefix + b"row>"
    rows: list[_Row] = []
    number = 0
    pos = begin
    ends = 0
    while True:
        at = data.find(opening, pos, finish)
        if at < 0:
            break
        tag = _ROW_START.match(data, at)
        if tag is None:
            return None
        found = _R_ATTR.search(tag.group(1))
        number = int(found.group(2)) if found is not None else number + 1
        if tag.group(2):
            rows.append(_Row(number, at, tag.end()))
            pos = tag.end()
            continue
        end = data.find(closing, tag.end(), finish)
        if end < 0:
            return None
        ends += 1
        pos = end + len(closing)
        rows.append(_Row(number, at, pos))
    if data.count(b"row>", begin, finish) != ends or data.count(b"row", begin, finish) > 2 * len(
        rows
    ):
        return None  # a row tag of another spelling, or text that looks like one: check whole
    return finish, ending.end(), rows


def _serialise_root(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# ---------------------------------------------------------------------- one row's cells


def _col_of(name: str) -> int:
    """The 0-based column of a cell reference (`split_ref(name)[1]`, faster)."""
    letters = name.rstrip(_DIGITS)
    if letters and len(letters) < len(name) and letters.isascii() and letters.isupper():
        return _column_number(letters) - 1
    return split_ref(name)[1]


def _cell(row: etree._Element, r: int, col: int, create: bool) -> etree._Element | None:
    target = ref(r, col)
    for c in row.iter(_C):
        name = c.get("r")
        if name == target:
            return c
        if name and create and _col_of(name) > col:
            element = etree.Element(q("c"))
            element.set("r", target)
            c.addprevious(element)
            return element
    if not create:
        return None
    element = etree.SubElement(row, q("c"))
    element.set("r", target)
    return element


def _row_cells(row: etree._Element) -> list[tuple[int, etree._Element]]:
    return [(_col_of(c.get("r", "")), c) for c in row.iter(_C) if c.get("r")]


def _set_text(row: etree._Element, r: int, col: int, text: str) -> None:
    c = _cell(row, r, col, create=bool(text))
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


def _set_value(
    row: etree._Element, r: int, col: int, value: str | float, style: str | None
) -> None:
    if isinstance(value, str):
        _set_text(row, r, col, value)
    else:
        c = _cell(row, r, col, create=True)
        assert c is not None
        _clear_value(c)
        v = etree.SubElement(c, q("v"))
        v.text = str(int(value)) if float(value).is_integer() else repr(float(value))
    c = _cell(row, r, col, create=False)
    if c is not None and style is not None:
        c.set("s", style)


def _copy_cells(
    row: etree._Element, dst: int, source: etree._Element, columns: dict[int, int]
) -> None:
    if source.get("ht"):
        for attr in ("ht", "customHeight"):
            if source.get(attr):
                row.set(attr, source.get(attr, ""))
    have = dict(_row_cells(row))
    last = max(have, default=-1)
    for col, c in _row_cells(source):
        if col not in columns or (not _has_value(c) and c.get("s") is None):
            continue
        into = columns[col]
        target = have.get(into)
        if target is None and into > last:  # the usual case: the row fills left to right
            target = etree.SubElement(row, _C)
            target.set("r", ref(dst, into))
        elif target is None:
            target = _cell(row, dst, into, create=True)
        assert target is not None
        have[into] = target
        last = max(last, into)
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
        _drop_formula(target)


def _clear_row(row: etree._Element) -> None:
    for _col, c in _row_cells(row):
        _clear_value(c)


def _shift(row: etree._Element, number: int, first: int, by: int) -> None:
    row.set("r", str(number))
    for c in row.iter(q("c")):
        name = c.get("r")
        if name:
            rr, cc = split_ref(name)
            c.set("r", ref(rr + by, cc))
        f = c.find(q("f"))
        if f is not None and f.get("ref"):
            f.set("ref", _shift_range(f.get("ref", ""), first, by))


def _fit_height(row: etree._Element, want: float) -> None:
    if row.get("customHeight") in ("1", "true"):
        return
    try:
        have = float(row.get("ht", "0"))
    except ValueError:
        have = 0.0
    if have < want:
        row.set("ht", f"{want:g}")


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
