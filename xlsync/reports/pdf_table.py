"""A table engine for fpdf2, made for Chinese handouts.

The same rules as fpdf2's `table()` (a header row on every page, no row split across
pages) but about ten times faster, with column widths taken from the content and line
breaks that suit Chinese text: a place (东莞市 / 塘厦镇), a legal form (有限公司), a
number, a model code or a date is never broken; several numbers or models in one cell
break only between them.

`layout_table` measures and wraps every cell once; `draw_table` draws what was laid out,
repeating the header after each page break.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fpdf import FPDF
from fpdf.enums import TextMode, XPos, YPos
from fpdf.fonts import TTFFont

from xlsync.reports.handout import parts
from xlsync.reports.pdf_fonts import FAMILY

# Cleans a cell's text for the PDF (control characters, length): see pdf._Cleaner.
Clean = Callable[..., str]

# Page geometry (mm) and type sizes (pt).
MARGIN = 10.0
TEXT_WIDTH = 210.0 - 2 * MARGIN
BODY_PT = 8.5
LINE_H = 4.0  # one line of table text at 8.5 pt
PAD = (1.0, 1.2)  # cell padding: vertical, horizontal
HEADING_H = 15.0  # a section title with its one-line note

# Colours (RGB), chosen to stay readable on a black-and-white printer.
INK = (25, 25, 25)
GREY = (110, 110, 110)
RULE = (150, 150, 150)
HEAD_FILL = (222, 226, 232)
ZEBRA = (246, 247, 249)
MARK_FILL = (255, 241, 196)  # won this month
OPEN_FILL = (253, 228, 224)  # conflict still open


@dataclass(slots=True)
class Cell:
    text: str
    bold: bool = False
    colspan: int = 1
    rowspan: int = 1
    align: str | None = None


@dataclass(slots=True)
class TableRow:
    cells: list[Cell]
    fill: tuple[int, int, int] | None = None


@dataclass(slots=True)
class PdfTable:
    headers: list[str]
    kinds: list[str]  # the column kinds of handout.py: how cells break, how wide they are
    aligns: list[str]  # L / C / R per column
    rows: list[TableRow]
    caption: str = ""
    zebra: bool = True  # shade every other row group
    empty: str = "（无）"


TOKENS_KEPT = 1 << 15  # see Measure.tokens


class Measure:
    """Text widths in mm from the fonts' advance widths, cached per character and per
    string (a handout measures the same names, dates and words many times)."""

    def __init__(self, pdf: FPDF, size_pt: float) -> None:
        self._scale = size_pt * 0.001 / pdf.k
        self._cw: dict[bool, Any] = {  # per-font advance widths, indexed by code point
            False: pdf.fonts[FAMILY.lower()].cw,
            True: pdf.fonts[FAMILY.lower() + "B"].cw,
        }
        self._cache: dict[bool, dict[str, float]] = {False: {}, True: {}}
        self._strings: dict[bool, dict[str, float]] = {False: {}, True: {}}
        self.known = self._strings  # the widths measured so far, per face: read-only
        self._fonts: dict[bool, TTFFont] = {}
        for bold, key in ((False, FAMILY.lower()), (True, FAMILY.lower() + "B")):
            font = pdf.fonts[key]
            assert isinstance(font, TTFFont), key  # the handout embeds its TrueType fonts
            self._fonts[bold] = font
        self._encoded: dict[bool, dict[str, str]] = {False: {}, True: {}}
        self.encodings = self._encoded  # the strings encoded so far, per face: read-only
        self._glyphs: dict[bool, dict[str, str]] = {False: {}, True: {}}
        self._tables: dict[bool, dict[int, str]] = {False: {}, True: {}}  # for str.translate
        self._tokens: dict[tuple[str, str], tuple[str, ...]] = {}

    def tokens(self, text: str, kind: str) -> tuple[str, ...]:
        """`cell_tokens(text, kind)`, found once for the layout's two passes and for the
        tables that repeat a name. At most `TOKENS_KEPT` texts are kept (a 20,000-row
        handout's all, some 20 MB); beyond that the memo starts afresh, where keeping every
        text of a 100,000-row handout took some 90 MB."""
        key = (text, kind)
        found = self._tokens.get(key)
        if found is None:
            if len(self._tokens) >= TOKENS_KEPT:
                self._tokens.clear()
            found = self._tokens[key] = cell_tokens(text, kind)
        return found

    def encoded(self, text: str, bold: bool = False) -> str:
        """`text` as the font's subset glyphs, the `(…) Tj` operator fpdf2 writes: the
        same every time (a character keeps the glyph number its first use gave it)."""
        done = self._encoded[bold].get(text)
        if done is None:
            font = self._fonts[bold]
            if font.is_symbol:
                done = font.encode_text(text)
            else:  # encode_text, with each character's glyph looked up once
                glyphs = self._glyphs[bold]
                if not glyphs.keys() >= set(text):  # new characters: picked in text order
                    for ch in text:
                        if ch not in glyphs:
                            picked = font.subset.pick(ord(ch))
                            glyphs[ch] = "" if picked is None else chr(picked)
                    self._tables[bold] = str.maketrans(glyphs)
                done = f"({font.escape_text(text.translate(self._tables[bold]))}) Tj"
            self._encoded[bold][text] = done
        return done

    def width(self, text: str, bold: bool = False) -> float:
        strings = self._strings[bold]
        known = strings.get(text)
        if known is not None:
            return known
        cache = self._cache[bold]
        total = 0.0
        for ch in text:
            w = cache.get(ch)
            if w is None:
                w = cache[ch] = self._cw[bold][ord(ch)] * self._scale
            total += w
        strings[text] = total
        return total


# Line breaking. A line breaks between words or at separators, never inside a phone
# number, a date, a model code (BL-466) or a short name (a rep, a department, a place such
# as 东莞市塘厦镇): those are single tokens, and a column is made at least as wide as its
# widest token. Between Chinese characters of a longer name or sentence a line may break,
# except inside a leading place name (东莞市 / 塘厦镇) or a legal form (有限公司); never
# before closing punctuation or after opening punctuation.
_TOKENS = re.compile(r"\n| +|[!-~]+|.", re.S)
_LATIN_PART = re.compile(r"[^/,;]+[/,;]*|[/,;]+")
_NO_START = frozenset("，。、；：！？）》」』】〕〉…—%·,.;:!?)]}")
_NO_END = frozenset("（《「『【〔〈“‘([{")
_HAN = "\u3400-\u9fff"
_PLACE = re.compile(
    f"([{_HAN}]{{2,3}}省)?([{_HAN}]{{2,3}}市)?([{_HAN}]{{2,3}}[区县镇])?(?=[{_HAN}]{{2}})"
)
_LEGAL = re.compile(
    "(?:股份有限公司|有限责任公司|有限公司|分公司|总公司|集团|公司|工厂|厂|商行|经营部|门市部)"
    "(?=[）)]?$)"
)
_WHOLE = frozenset({"index", "date", "num", "tag", "header"})
_SHORT_CHARS = 10  # a short cell (rep, department, place) up to this long is never broken


def _generic(text: str) -> list[str]:
    out: list[str] = []
    for tok in _TOKENS.findall(text):
        if "!" <= tok[0] <= "~":
            out.extend(_LATIN_PART.findall(tok) or [tok])  # EP-526/ AC-759
        else:
            out.append(tok)
    return out


def _glue(tokens: Iterable[str]) -> list[str]:
    """Join closing punctuation to the token before it, opening to the one after."""
    out: list[str] = []
    for tok in tokens:
        if out and tok != "\n" and not tok.isspace():
            prev = out[-1]
            if (tok[0] in _NO_START and not prev.isspace() and prev != "\n") or (
                prev[-1] in _NO_END
            ):
                out[-1] = prev + tok
                continue
        out.append(tok)
    return out


def _name_tokens(text: str) -> list[str]:
    head: list[str] = []
    m = _PLACE.match(text)
    if m and m.end():
        head = [g for g in m.groups() if g]
        text = text[m.end() :]
    tail: list[str] = []
    legal = _LEGAL.search(text)
    if legal and legal.start() > 0:
        tail = [text[legal.start() :]]
        text = text[: legal.start()]
    return head + _generic(text) + tail


def cell_tokens(text: str, kind: str = "text") -> tuple[str, ...]:
    """`text` cut into the pieces a line may break between (see above)."""
    if not text:
        return ()
    if kind in _WHOLE or (kind == "short" and len(text) <= _SHORT_CHARS and "\n" not in text):
        return (text,)
    if kind in ("phone", "code"):
        return tuple(parts(text))
    if kind in ("name", "short"):
        return tuple(_glue(_name_tokens(text)))
    return tuple(_glue(_generic(text)))


def wrap(
    text: str,
    avail: float,
    measure: Measure,
    bold: bool,
    max_lines: int,
    kind: str = "text",
) -> list[str]:
    avail += 0.01  # column edges are sums of floats: a token measured to fit must fit
    if "\n" not in text and measure.width(text, bold) <= avail:
        return [text]
    lines: list[str] = []
    cur, cur_w = "", 0.0
    known: dict[str, float] = measure.known[bold] if isinstance(measure, Measure) else {}
    tokens = measure.tokens if isinstance(measure, Measure) else cell_tokens
    for tok in tokens(text, kind):
        if tok == "\n":
            lines.append(cur.rstrip())
            cur, cur_w = "", 0.0
            continue
        w = known.get(tok)
        if w is None:
            w = measure.width(tok, bold)
        if tok.isspace():
            if cur:
                cur, cur_w = cur + tok, cur_w + w
            continue
        if cur_w + w <= avail or cur_w + measure.width(tok.rstrip(), bold) <= avail:
            cur, cur_w = cur + tok, cur_w + w
            continue
        if cur.strip():
            lines.append(cur.rstrip())
        cur, cur_w = "", 0.0
        if measure.width(tok.rstrip(), bold) <= avail:
            cur, cur_w = tok, w
            continue
        for ch in tok:  # a token longer than the whole line: break it anywhere
            cw = measure.width(ch, bold)
            if cur and cur_w + cw > avail:
                lines.append(cur)
                cur, cur_w = "", 0.0
            cur, cur_w = cur + ch, cur_w + cw
    if cur.strip() or not lines:
        lines.append(cur.rstrip())
    if len(lines) > max_lines:  # never taller than a page
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


_FLEX = frozenset({"name", "text"})  # columns that take the room left over
_LISTS = frozenset({"phone", "code"})  # several numbers or models: break between them


def column_widths(
    kinds: Sequence[str], mins: Sequence[float], maxs: Sequence[float], total: float
) -> list[float]:
    """Column widths from their content, the way a browser lays out an automatic table.

    `mins[i]`: the widest unbreakable token of column i (with padding); `maxs[i]`: its
    widest cell on one line. Every column gets its minimum; then the columns of single
    words (reps, departments, places, dates, counts) grow to their one-line width; then
    names, sentences and lists of phones or codes share what is left in proportion to
    what they could use; anything still left goes to names and sentences.
    """
    n = len(kinds)
    wanted = [max(lo, hi) for lo, hi in zip(mins, maxs, strict=True)]
    floor = sum(mins)
    if floor >= total:  # cannot fit: shrink everything (tokens then break anywhere)
        return [m * total / floor for m in mins]
    widths = list(mins)
    room = total - floor
    flex = [i for i in range(n) if kinds[i] in _FLEX]
    fixed = [i for i in range(n) if kinds[i] not in _FLEX | _LISTS]
    for group in (fixed, [i for i in range(n) if i not in fixed]):
        slack = sum(wanted[i] - widths[i] for i in group)
        if slack <= 1e-9:
            continue
        share = min(1.0, room / slack)
        for i in group:
            widths[i] += (wanted[i] - widths[i]) * share
        room -= slack * share
        if room <= 1e-9:
            return widths
    grow = flex or list(range(n))
    base = sum(widths[i] for i in grow) or 1.0
    for i in grow:
        widths[i] += room * widths[i] / base
    return widths


@dataclass(slots=True)
class Placed:
    """A cell ready to draw: its column span, wrapped lines and style."""

    col: int
    span: int
    rowspan: int
    lines: list[str]
    bold: bool
    align: str


class _Numbers:
    """The numbers a table's rows repeat, formatted once: column edges and widths, heights,
    the x of left-aligned text (PDF points, two decimals, as fpdf2 writes them)."""

    def __init__(self, pdf: FPDF, xs: Sequence[float]) -> None:
        self.k, self.page_h, self.xs = pdf.k, pdf.h, xs
        self.boxes: dict[tuple[int, int], tuple[str, str]] = {}  # (col, span) -> x, width
        self.lefts: dict[int, str] = {}  # col -> x of left-aligned text
        self.heights: dict[float, str] = {}

    def box(self, col: int, span: int) -> tuple[str, str]:
        done = self.boxes.get((col, span))
        if done is None:
            x, w = self.xs[col], self.xs[col + span] - self.xs[col]
            done = self.boxes[(col, span)] = (f"{x * self.k:.2f}", f"{w * self.k:.2f}")
        return done

    def height(self, h: float) -> str:
        done = self.heights.get(h)
        if done is None:
            done = self.heights[h] = f"{-h * self.k:.2f}"
        return done

    def left(self, col: int) -> str:
        done = self.lefts.get(col)
        if done is None:
            done = self.lefts[col] = f"{(self.xs[col] + PAD[1]) * self.k:.2f}"
        return done


def _draw_row(
    pdf: FPDF,
    xs: Sequence[float],
    top: float,
    heights: Sequence[float],
    cells: Sequence[Placed],
    fill: tuple[int, int, int] | None,
    measure: Measure,
    numbers: _Numbers | None = None,
) -> None:
    # The cell boxes go out as one block of PDF operators (what `rect()` writes, without
    # its per-call bookkeeping): thousands of rows draw noticeably faster.
    num = numbers or _Numbers(pdf, xs)
    k, page_h = num.k, num.page_h
    op = "B" if fill is not None else "S"
    if fill is not None:
        pdf.set_fill_color(*fill)
    top_k = f"{(page_h - top) * k:.2f}"
    boxes = []
    for cell in cells:
        x_k, w_k = num.box(cell.col, cell.span)
        h = sum(heights[: cell.rowspan])
        boxes.append(f"{x_k} {top_k} {w_k} {num.height(h)} re {op}")
    pdf._out("\n".join(boxes))
    # The text lines go out the same way: the operators fpdf2's `text()` writes (position,
    # the glyphs of the font's subset, the text colour when it differs from the fill), with
    # each string encoded once per font (Measure.encoded), in one block per row.
    direct = _plain_text(pdf)
    head, tail = "BT ", " ET"
    ink = pdf.text_color
    if direct and ink is not None and pdf.fill_color != ink:
        head, tail = f"q {ink.serialize().lower()} BT ", " ET Q"
    ops: list[str] = []
    encoded = measure.encodings
    # fpdf2's font state, read once and followed here (only this loop changes it)
    style, size, font_set = pdf.font_style, pdf.font_size, pdf.current_font_is_set_on_page
    for cell in cells:
        if not any(cell.lines):
            continue
        x, w = xs[cell.col], xs[cell.col + cell.span] - xs[cell.col]
        h = sum(heights[: cell.rowspan])
        bold = cell.bold
        if style != ("B" if bold else ""):
            style = "B" if bold else ""
            pdf.set_font(FAMILY, style, BODY_PT)  # writes nothing yet
            size, font_set = pdf.font_size, pdf.current_font_is_set_on_page
        y = top + (h - len(cell.lines) * LINE_H) / 2 + LINE_H / 2 + 0.3 * size
        for text in cell.lines:
            if text:
                if cell.align == "L":
                    tx = x + PAD[1]
                else:
                    tw = measure.width(text, bold)
                    tx = x + (w - tw) / 2 if cell.align == "C" else x + w - PAD[1] - tw
                if direct:
                    if not font_set:  # what text() writes first
                        font = pdf.current_font
                        assert font is not None
                        ops.append(pdf._set_font_for_page(font, pdf.font_size_pt))
                        font_set = True
                    glyphs = encoded[bold].get(text) or measure.encoded(text, bold)
                    tx_k = num.left(cell.col) if cell.align == "L" else f"{tx * k:.2f}"
                    ops.append(f"{head}{tx_k} {(page_h - y) * k:.2f} Td {glyphs}{tail}")
                else:
                    pdf.text(tx, y, text)
            y += LINE_H
    if ops:
        pdf._out("\n".join(ops))


def _plain_text(pdf: FPDF) -> bool:
    """Whether fpdf2's `text()` would write nothing but position, glyphs and colour."""
    return (
        pdf.is_ttf_font
        and pdf.text_mode == TextMode.FILL
        and not pdf.underline
        and not pdf.strikethrough
        and not pdf._record_text_quad_points
    )


_Entry = tuple[list[Placed], float, tuple[int, int, int] | None]


@dataclass(slots=True)
class Laid:
    """A table measured and wrapped, ready to draw."""

    table: PdfTable
    xs: list[float]  # column edges, mm
    head: list[Placed]
    head_h: float
    groups: list[list[_Entry]]  # rows joined by a rowspan stay together on one page

    def lead_height(self) -> float:
        """Room needed for the caption, the header row and the first row group."""
        caption = 6.0 if self.table.caption else 0.0
        if not self.groups:
            return caption + 8.0
        return caption + self.head_h + sum(h for _, h, _ in self.groups[0])


def _widest(tokens: Iterable[str], measure: Measure, bold: bool) -> float:
    """The width of the widest of `tokens` (trailing spaces left out)."""
    known = measure.known[bold]
    widest = 0.0
    for tok in tokens:
        tok = tok.rstrip()
        w = known.get(tok)
        if w is None:
            w = measure.width(tok, bold)
        if w > widest:
            widest = w
    return widest


def layout_table(pdf: FPDF, table: PdfTable, clean: Clean, measure: Measure) -> Laid:
    n = len(table.headers)
    pad = 2 * PAD[1] + 0.2
    mins = [measure.width(h, True) + pad for h in table.headers]
    maxs = list(mins)
    texts: list[list[str]] = []
    # Each distinct text is cleaned, measured and wrapped once per table (dates, reps,
    # departments and places repeat on every page): plain dict look-ups, no calls.
    cleaned_of: dict[str, str] = {}
    known = measure.known
    for row in table.rows:
        if len(row.cells) != n:  # a detail row (one cell across the columns): any width
            texts.append([clean(c.text, multiline=c.colspan > 1) for c in row.cells])
            continue
        cleaned = []
        for c in row.cells:
            done = cleaned_of.get(c.text)
            if done is None:
                done = cleaned_of[c.text] = clean(c.text)
            cleaned.append(done)
        texts.append(cleaned)
        for i, (cell, text) in enumerate(zip(row.cells, cleaned, strict=True)):
            if not text:
                continue
            full = known[cell.bold].get(text)
            full = (measure.width(text, cell.bold) if full is None else full) + pad
            if full > maxs[i]:
                maxs[i] = full
                widest = _widest(measure.tokens(text, table.kinds[i]), measure, cell.bold) + pad
                mins[i] = max(mins[i], widest)
            elif full > mins[i] and table.kinds[i] not in _WHOLE:
                tokens = measure.tokens(text, table.kinds[i])
                widest = _widest(tokens, measure, cell.bold) + pad if len(tokens) > 1 else full
                mins[i] = max(mins[i], widest)
    widths = column_widths(table.kinds, mins, maxs, TEXT_WIDTH)
    xs = [pdf.l_margin]
    for w in widths:
        xs.append(xs[-1] + w)
    page_room = pdf.page_break_trigger - pdf.t_margin
    max_lines = max(1, int((page_room - 4 * LINE_H - 4 * PAD[0]) / LINE_H))

    wrapped: dict[tuple[str, int, int, bool], list[str]] = {}  # (text, col, span, bold)

    def place(
        cells: Sequence[Cell], cleaned: Sequence[str], covered: dict[int, int], header: bool
    ) -> tuple[list[Placed], float]:
        placed: list[Placed] = []
        height = LINE_H + 2 * PAD[0]
        col = 0
        for cell, text in zip(cells, cleaned, strict=True):
            while col in covered:
                col += 1
            bold = cell.bold or header
            key = (text, col, cell.colspan, bold)
            lines = wrapped.get(key)
            if lines is None:
                w = xs[col + cell.colspan] - xs[col] - pad
                kind = "header" if header else table.kinds[col] if cell.colspan == 1 else "text"
                lines = wrapped[key] = wrap(text, w, measure, bold, max_lines, kind)
            align = cell.align or ("C" if header else table.aligns[col])
            placed.append(Placed(col, cell.colspan, cell.rowspan, lines, bold, align))
            if cell.rowspan == 1:
                height = max(height, len(lines) * LINE_H + 2 * PAD[0])
            col += cell.colspan
        return placed, height

    head, head_h = place([Cell(t) for t in table.headers], table.headers, {}, header=True)
    groups: list[list[_Entry]] = []
    covered: dict[int, int] = {}  # column -> rows it stays covered below this one
    for row, cleaned in zip(table.rows, texts, strict=True):
        placed, height = place(row.cells, cleaned, covered, header=False)
        if covered:
            groups[-1].append((placed, height, row.fill))
        else:
            groups.append([(placed, height, row.fill)])
        covered = {c: k - 1 for c, k in covered.items() if k > 1}
        for p in placed:
            if p.rowspan > 1:
                covered.update({c: p.rowspan - 1 for c in range(p.col, p.col + p.span)})
    return Laid(table, xs, head, head_h, groups)


def draw_table(
    pdf: FPDF, laid: Laid, measure: Measure, drawn: list[tuple[int, float, float]] | None = None
) -> None:
    """Draw a table: header row repeated on every page, no row (group) split across pages.

    fpdf2's own `table()` does the same but measures every cell twice through
    `multi_cell()`: for a few thousand rows that takes many seconds, and its word wrap does
    not know where a Chinese line may break. This draws rectangles and text lines directly.
    """
    table = laid.table
    if pdf.get_y() + laid.lead_height() > pdf.page_break_trigger:
        pdf.add_page()
    if table.caption:
        pdf.set_font(FAMILY, "B", 9.5)
        pdf.cell(TEXT_WIDTH, 6, table.caption, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if not laid.groups:
        pdf.set_font(FAMILY, "", BODY_PT)
        pdf.cell(TEXT_WIDTH, 6, table.empty, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
        return

    numbers = _Numbers(pdf, laid.xs)

    def draw_head() -> None:
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.15)
        pdf.set_text_color(*INK)
        _draw_row(pdf, laid.xs, pdf.get_y(), [laid.head_h], laid.head, HEAD_FILL, measure, numbers)
        pdf.set_y(pdf.get_y() + laid.head_h)

    draw_head()
    for n, group in enumerate(laid.groups):
        heights = [h for _, h, _ in group]
        if pdf.get_y() + sum(heights) > pdf.page_break_trigger:
            pdf.add_page()
            draw_head()
        top = start = pdf.get_y()
        for i, (placed, _, fill) in enumerate(group):
            if fill is None and table.zebra and n % 2 == 1:
                fill = ZEBRA
            _draw_row(pdf, laid.xs, top, heights[i:], placed, fill, measure, numbers)
            top += heights[i]
        if drawn is not None:  # (page, top, bottom) of every row group, for the tests
            drawn.append((pdf.page_no(), start, top))
        pdf.set_y(top)
    pdf.ln(3)
