"""The monthly handout as a PDF: A4, Chinese, printable on any machine.

fpdf2 lays the pages out; the Chinese font is Noto Sans SC (SIL OFL 1.1) from the
`justmytype-intl-cjk` package, a TrueType (glyf) variable font. fpdf2 embeds a subset of
each font it uses, so the PDF needs no font on the reader's machine and its text extracts
cleanly (TrueType outlines with a ToUnicode map; no CFF quirks).

The variable font's default instance is Thin, and instancing all 30,000 glyphs at
Regular takes fontTools some 20 seconds. So each render first subsets the font to the
characters the report uses (a few thousand at most), then instances that small font at
Regular (400) and at Bold (700, for the headings only), which takes about a second.

Layout: A4 portrait. The widest table (zone 1: nine columns, four of them dates) fits the
190 mm text width at 8.5 pt with the customer name wrapping inside a 53 mm column, and a
portrait handout is what the office staples and files; landscape would only buy a wider
name column. Tables are drawn here rather than with fpdf2's `table()` (see `_draw_table`):
same rules (header row on every page, no row split across pages), ten times faster, and
line breaks that suit Chinese text.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from xlsync.fileio import atomic_write
from xlsync.reports.handout import Handout, Table, build_handout, parts
from xlsync.reports.model import MonthlyReport

__all__ = ["FONT_PACKAGE", "FONT_RESOURCE", "font_path", "render_monthly_pdf"]

# Where the font lives: package data of a pip-installed package, found through importlib.
FONT_PACKAGE = "justmytype_intl_cjk"
FONT_RESOURCE = "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"
_FAMILY = "NotoSansSC"

# Page geometry (mm) and type sizes (pt).
_MARGIN = 10.0
_TEXT_WIDTH = 210.0 - 2 * _MARGIN
_BODY_PT = 8.5
_LINE_H = 4.0  # one line of table text at 8.5 pt
_PAD = (1.0, 1.2)  # cell padding: vertical, horizontal
_HEADING_H = 15.0  # a section title with its one-line note

# Colours (RGB), chosen to stay readable on a black-and-white printer.
_INK = (25, 25, 25)
_GREY = (110, 110, 110)
_RULE = (150, 150, 150)
_HEAD_FILL = (222, 226, 232)
_ZEBRA = (246, 247, 249)
_MARK_FILL = (255, 241, 196)  # won this month
_OPEN_FILL = (253, 228, 224)  # conflict still open

# A cell holds at most this much text, so that no single row can outgrow a page.
_MAX_CELL = 400
_MAX_NOTE = 1200

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_REPLACEMENT = "?"


# --------------------------------------------------------------------------------------
# The page content: the handout's sections (handout.py) as tables of plain strings.


@dataclass(slots=True)
class _Cell:
    text: str
    bold: bool = False
    colspan: int = 1
    rowspan: int = 1
    align: str | None = None


@dataclass(slots=True)
class _Row:
    cells: list[_Cell]
    fill: tuple[int, int, int] | None = None


@dataclass(slots=True)
class _Table:
    headers: list[str]
    kinds: list[str]  # the column kinds of handout.py: how cells break, how wide they are
    aligns: list[str]  # L / C / R per column
    rows: list[_Row]
    caption: str = ""
    zebra: bool = True  # shade every other row group
    empty: str = "（无）"


@dataclass(slots=True)
class _Section:
    title: str
    count: str  # right-aligned beside the title, e.g. 共 12 家
    note: str  # one grey line under the title explaining the list
    empty: str  # said instead of the tables when all are empty
    tables: list[_Table] = field(default_factory=list)

    @property
    def empty_section(self) -> bool:
        return not any(t.rows for t in self.tables)


_FILLS = {"marked": _MARK_FILL, "open": _OPEN_FILL, "total": _HEAD_FILL}


def _table(table: Table) -> _Table:
    rows: list[_Row] = []
    width = len(table.columns)
    for line in table.lines:
        fill = _FILLS.get(line.style)
        cells = [_Cell(c.text, bold=c.bold) for c in line.cells]
        if line.detail:
            # The first cell spans both rows: a row group is never split across pages,
            # so a customer and its opening line always stay together.
            cells[0].rowspan = 2
            rows.append(_Row(cells, fill))
            rows.append(_Row([_Cell(_clip(line.detail, _MAX_NOTE), colspan=width - 1)], fill))
        else:
            rows.append(_Row(cells, fill))
    return _Table(
        [c.header for c in table.columns],
        [c.kind for c in table.columns],
        [c.align for c in table.columns],
        rows,
        caption=table.caption,
        zebra=table.zebra,
        empty=table.empty,
    )


def _sections(handout: Handout) -> list[_Section]:
    return [
        _Section(s.title, s.count, s.note, s.empty, [_table(t) for t in s.tables])
        for s in handout.sections
    ]


# --------------------------------------------------------------------------------------
# Text clean-up and the font.


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Cleaner:
    """Makes cell text printable: no control characters, nothing the font cannot draw."""

    def __init__(self, cmap: dict[int, str]) -> None:
        self._cmap = cmap
        self._cache: dict[str, str] = {}

    def __call__(self, text: str, *, multiline: bool = False) -> str:
        key = text if not multiline else "\n" + text
        done = self._cache.get(key)
        if done is not None:
            return done
        out = unicodedata.normalize("NFC", text)
        out = out.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        if not multiline:
            out = out.replace("\n", " ")
        out = _CONTROL.sub("", out)
        if any(ord(ch) not in self._cmap and ch not in "\n " for ch in out):
            out = "".join(
                ch if ch in "\n " or ord(ch) in self._cmap else _REPLACEMENT for ch in out
            )
        out = _clip(out.strip(), _MAX_NOTE if multiline else _MAX_CELL)
        self._cache[key] = out
        return out


def font_path() -> Traversable:
    """The Noto Sans SC variable TrueType font inside its pip package."""
    try:
        root = resources.files(FONT_PACKAGE)
    except ModuleNotFoundError as exc:  # pragma: no cover - a broken install
        raise RuntimeError(
            f"PDF 需要字体包 {FONT_PACKAGE.replace('_', '-')}，请先安装：pip install "
            f"{FONT_PACKAGE.replace('_', '-')}"
        ) from exc
    return root.joinpath(FONT_RESOURCE)


def _static_instance(data: bytes, chars: Iterable[str], weight: int, style: str) -> bytes:
    """Subset the variable font to `chars`, then pin its weight: a small static TrueType."""
    font = TTFont(io.BytesIO(data))
    if chars:
        _subset(font, chars)
    instancer.instantiateVariableFont(font, {"wght": weight}, inplace=True)
    font["OS/2"].usWeightClass = weight
    name = font["name"]
    for name_id, value in (
        (1, "Noto Sans SC"),
        (2, style),
        (4, f"Noto Sans SC {style}"),
        (6, f"NotoSansSC-{style}"),
    ):
        name.setName(value, name_id, 3, 1, 0x409)
        name.setName(value, name_id, 1, 0, 0)
    for name_id in (16, 17):
        name.removeNames(nameID=name_id)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _subset(font: TTFont, chars: Iterable[str]) -> None:
    options = ft_subset.Options()
    options.layout_features = []  # fpdf2 does no shaping here: CJK needs none
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "vhea", "vmtx", "VVAR"]
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=sorted({ord(ch) for ch in chars}))
    subsetter.subset(font)


@contextmanager
def _fonts(regular: set[str], bold: set[str], source: Path) -> Iterator[tuple[Path, Path]]:
    """Static Regular and Bold fonts for exactly these characters, in a temporary folder."""
    font = TTFont(str(source), lazy=True)
    try:
        _subset(font, regular | bold)
        buf = io.BytesIO()
        font.save(buf)
    finally:
        font.close()
    variable = buf.getvalue()
    with tempfile.TemporaryDirectory(prefix="xlsync-font-") as tmp:
        regular_path = Path(tmp) / "NotoSansSC-Regular.ttf"
        bold_path = Path(tmp) / "NotoSansSC-Bold.ttf"
        regular_path.write_bytes(_static_instance(variable, (), 400, "Regular"))
        bold_path.write_bytes(_static_instance(variable, bold, 700, "Bold"))
        yield regular_path, bold_path


def _cmap(source: Path) -> dict[int, str]:
    font = TTFont(str(source), lazy=True)
    try:
        return dict(font.getBestCmap())
    finally:
        font.close()


# --------------------------------------------------------------------------------------
# The document.


class _Handout(FPDF):
    def __init__(self, report: MonthlyReport, handout: Handout, clean: _Cleaner) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.company = clean(report.company) or "客户清单"
        self.month_label = handout.month_label
        self.handout_title = clean(handout.title)
        self.rows_drawn: list[tuple[int, float, float]] = []  # (page, top, bottom) per group
        self.generated = report.generated.strftime("%Y-%m-%d %H:%M")
        self.set_margins(_MARGIN, 16, _MARGIN)
        self.set_auto_page_break(True, margin=14)
        self.alias_nb_pages("{nb}")
        self.set_title(self.handout_title)
        self.set_author(self.company)
        self.set_subject("月度客户清单")
        self.set_creator("xlsync")
        self.set_lang("zh-CN")
        self.set_creation_date(
            report.generated.astimezone(dt.UTC)
            if report.generated.tzinfo
            else report.generated.replace(tzinfo=dt.UTC)
        )

    def header(self) -> None:
        self.set_y(7)
        self.set_text_color(*_GREY)
        self.set_font(_FAMILY, "B", 8.5)
        self.cell(_TEXT_WIDTH * 0.7, 5, self._fit(self.company, _TEXT_WIDTH * 0.7), align="L")
        self.set_font(_FAMILY, "", 8.5)
        self.cell(_TEXT_WIDTH * 0.3, 5, f"{self.month_label} 客户清单", align="R")
        self.set_draw_color(*_RULE)
        self.set_line_width(0.2)
        self.line(_MARGIN, 12.5, _MARGIN + _TEXT_WIDTH, 12.5)
        self.set_text_color(*_INK)
        self.set_y(16)

    def _fit(self, text: str, width: float) -> str:
        """`text` cut with an ellipsis to fit `width` mm in the current font."""
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "…") > width:
            text = text[:-1]
        return text + "…"

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(_FAMILY, "", 7.5)
        self.set_text_color(*_GREY)
        third = _TEXT_WIDTH / 3
        self.cell(third, 4, f"生成于 {self.generated}", align="L")
        self.cell(third, 4, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")
        self.cell(third, 4, "内部资料，请勿外传", align="R")
        self.set_text_color(*_INK)


def _title_block(pdf: _Handout, handout: Handout, clean: _Cleaner) -> None:
    pdf.set_font(_FAMILY, "B", 18)
    pdf.multi_cell(
        _TEXT_WIDTH,
        9,
        pdf.handout_title,
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_font(_FAMILY, "", 8.5)
    pdf.set_text_color(*_GREY)
    pdf.multi_cell(
        _TEXT_WIDTH, 5, clean(handout.meta), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_text_color(*_INK)
    pdf.ln(3)
    summary = handout.summary
    width = _TEXT_WIDTH / len(summary)
    x0, y0 = pdf.l_margin, pdf.get_y()
    pdf.set_fill_color(*_ZEBRA)
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.2)
    pdf.rect(x0, y0, _TEXT_WIDTH, 15, style="DF")
    for i, (label, value) in enumerate(summary):
        pdf.set_xy(x0 + i * width, y0 + 2)
        pdf.set_font(_FAMILY, "", 7.5)
        pdf.set_text_color(*_GREY)
        pdf.cell(width, 4, label, align="C")
        pdf.set_xy(x0 + i * width, y0 + 7)
        pdf.set_font(_FAMILY, "B", 9.5 if len(value) < 8 else 8)
        pdf.set_text_color(*_INK)
        pdf.cell(width, 6, value, align="C")
    pdf.set_xy(x0, y0 + 15 + 5)


def _section_heading(pdf: _Handout, section: _Section, keep: float) -> None:
    """The numbered title, its count and note; `keep` mm of what follows stay with it."""
    if pdf.get_y() + _HEADING_H + keep > pdf.page_break_trigger:
        pdf.add_page()
    pdf.set_font(_FAMILY, "B", 12.5)
    pdf.set_text_color(*_INK)
    y = pdf.get_y()
    pdf.cell(_TEXT_WIDTH * 0.65, 7, section.title, align="L")
    pdf.set_font(_FAMILY, "", 8.5)
    pdf.set_text_color(*_GREY)
    pdf.cell(_TEXT_WIDTH * 0.35, 7, section.count, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*_INK)
    pdf.set_line_width(0.4)
    pdf.line(_MARGIN, y + 7.3, _MARGIN + _TEXT_WIDTH, y + 7.3)
    pdf.set_y(y + 8.5)
    pdf.set_font(_FAMILY, "", 7.5)
    pdf.multi_cell(_TEXT_WIDTH, 4, section.note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_INK)
    pdf.ln(1.5)


class _Measure:
    """Text widths in mm from the fonts' advance widths, cached per character."""

    def __init__(self, pdf: FPDF, size_pt: float) -> None:
        self._scale = size_pt * 0.001 / pdf.k
        self._cw: dict[bool, Any] = {  # per-font advance widths, indexed by code point
            False: pdf.fonts[_FAMILY.lower()].cw,
            True: pdf.fonts[_FAMILY.lower() + "B"].cw,
        }
        self._cache: dict[bool, dict[str, float]] = {False: {}, True: {}}

    def width(self, text: str, bold: bool = False) -> float:
        cache = self._cache[bold]
        total = 0.0
        for ch in text:
            w = cache.get(ch)
            if w is None:
                w = cache[ch] = self._cw[bold][ord(ch)] * self._scale
            total += w
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


@lru_cache(maxsize=1 << 16)
def _tokens(text: str, kind: str = "text") -> tuple[str, ...]:
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


def _wrap(
    text: str, avail: float, measure: _Measure, bold: bool, max_lines: int, kind: str = "text"
) -> list[str]:
    avail += 0.01  # column edges are sums of floats: a token measured to fit must fit
    if "\n" not in text and measure.width(text, bold) <= avail:
        return [text]
    lines: list[str] = []
    cur, cur_w = "", 0.0
    for tok in _tokens(text, kind):
        if tok == "\n":
            lines.append(cur.rstrip())
            cur, cur_w = "", 0.0
            continue
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


def _column_widths(
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
class _Placed:
    """A cell ready to draw: its column span, wrapped lines and style."""

    col: int
    span: int
    rowspan: int
    lines: list[str]
    bold: bool
    align: str


def _draw_row(
    pdf: FPDF,
    xs: Sequence[float],
    top: float,
    heights: Sequence[float],
    cells: Sequence[_Placed],
    fill: tuple[int, int, int] | None,
    measure: _Measure,
) -> None:
    # The cell boxes go out as one block of PDF operators (what `rect()` writes, without
    # its per-call bookkeeping): thousands of rows draw noticeably faster.
    k, page_h = pdf.k, pdf.h
    op = "B" if fill is not None else "S"
    if fill is not None:
        pdf.set_fill_color(*fill)
    boxes = []
    for cell in cells:
        x, w = xs[cell.col], xs[cell.col + cell.span] - xs[cell.col]
        h = sum(heights[: cell.rowspan])
        boxes.append(f"{x * k:.2f} {(page_h - top) * k:.2f} {w * k:.2f} {-h * k:.2f} re {op}")
    pdf._out("\n".join(boxes))
    for cell in cells:
        if not any(cell.lines):
            continue
        x, w = xs[cell.col], xs[cell.col + cell.span] - xs[cell.col]
        h = sum(heights[: cell.rowspan])
        style = "B" if cell.bold else ""
        if pdf.font_style != style:
            pdf.set_font(_FAMILY, style, _BODY_PT)
        y = top + (h - len(cell.lines) * _LINE_H) / 2 + _LINE_H / 2 + 0.3 * pdf.font_size
        for text in cell.lines:
            if text:
                if cell.align == "L":
                    tx = x + _PAD[1]
                else:
                    tw = measure.width(text, cell.bold)
                    tx = x + (w - tw) / 2 if cell.align == "C" else x + w - _PAD[1] - tw
                pdf.text(tx, y, text)
            y += _LINE_H


_Entry = tuple[list[_Placed], float, tuple[int, int, int] | None]


@dataclass(slots=True)
class _Laid:
    """A table measured and wrapped, ready to draw."""

    table: _Table
    xs: list[float]  # column edges, mm
    head: list[_Placed]
    head_h: float
    groups: list[list[_Entry]]  # rows joined by a rowspan stay together on one page

    def lead_height(self) -> float:
        """Room needed for the caption, the header row and the first row group."""
        caption = 6.0 if self.table.caption else 0.0
        if not self.groups:
            return caption + 8.0
        return caption + self.head_h + sum(h for _, h, _ in self.groups[0])


def _layout_table(pdf: FPDF, table: _Table, clean: _Cleaner, measure: _Measure) -> _Laid:
    n = len(table.headers)
    pad = 2 * _PAD[1] + 0.2
    mins = [measure.width(h, True) + pad for h in table.headers]
    maxs = list(mins)
    texts: list[list[str]] = []
    for row in table.rows:
        cleaned = [clean(c.text, multiline=c.colspan > 1) for c in row.cells]
        texts.append(cleaned)
        if len(row.cells) != n:
            continue  # a detail row (one cell across the columns): it wraps in any width
        for i, (cell, text) in enumerate(zip(row.cells, cleaned, strict=True)):
            if not text:
                continue
            full = measure.width(text, cell.bold) + pad
            if full > maxs[i]:
                maxs[i] = full
                tokens = _tokens(text, table.kinds[i])
                widest = max(measure.width(t.rstrip(), cell.bold) for t in tokens) + pad
                mins[i] = max(mins[i], widest)
            elif full > mins[i] and table.kinds[i] not in _WHOLE:
                tokens = _tokens(text, table.kinds[i])
                if len(tokens) > 1:
                    widest = max(measure.width(t.rstrip(), cell.bold) for t in tokens) + pad
                else:
                    widest = full
                mins[i] = max(mins[i], widest)
    widths = _column_widths(table.kinds, mins, maxs, _TEXT_WIDTH)
    xs = [pdf.l_margin]
    for w in widths:
        xs.append(xs[-1] + w)
    page_room = pdf.page_break_trigger - pdf.t_margin
    max_lines = max(1, int((page_room - 4 * _LINE_H - 4 * _PAD[0]) / _LINE_H))

    def place(
        cells: Sequence[_Cell], cleaned: Sequence[str], covered: dict[int, int], header: bool
    ) -> tuple[list[_Placed], float]:
        placed: list[_Placed] = []
        height = _LINE_H + 2 * _PAD[0]
        col = 0
        for cell, text in zip(cells, cleaned, strict=True):
            while col in covered:
                col += 1
            w = xs[col + cell.colspan] - xs[col] - pad
            kind = "header" if header else table.kinds[col] if cell.colspan == 1 else "text"
            bold = cell.bold or header
            lines = _wrap(text, w, measure, bold, max_lines, kind)
            align = cell.align or ("C" if header else table.aligns[col])
            placed.append(_Placed(col, cell.colspan, cell.rowspan, lines, bold, align))
            if cell.rowspan == 1:
                height = max(height, len(lines) * _LINE_H + 2 * _PAD[0])
            col += cell.colspan
        return placed, height

    head, head_h = place([_Cell(t) for t in table.headers], table.headers, {}, header=True)
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
    return _Laid(table, xs, head, head_h, groups)


def _draw_table(pdf: _Handout, laid: _Laid, measure: _Measure) -> None:
    """Draw a table: header row repeated on every page, no row (group) split across pages.

    fpdf2's own `table()` does the same but measures every cell twice through
    `multi_cell()`: for a few thousand rows that takes many seconds, and its word wrap does
    not know where a Chinese line may break. This draws rectangles and text lines directly.
    """
    table = laid.table
    if pdf.get_y() + laid.lead_height() > pdf.page_break_trigger:
        pdf.add_page()
    if table.caption:
        pdf.set_font(_FAMILY, "B", 9.5)
        pdf.cell(_TEXT_WIDTH, 6, table.caption, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if not laid.groups:
        pdf.set_font(_FAMILY, "", _BODY_PT)
        pdf.cell(_TEXT_WIDTH, 6, table.empty, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
        return

    def draw_head() -> None:
        pdf.set_draw_color(*_RULE)
        pdf.set_line_width(0.15)
        pdf.set_text_color(*_INK)
        _draw_row(pdf, laid.xs, pdf.get_y(), [laid.head_h], laid.head, _HEAD_FILL, measure)
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
                fill = _ZEBRA
            _draw_row(pdf, laid.xs, top, heights[i:], placed, fill, measure)
            top += heights[i]
        pdf.rows_drawn.append((pdf.page_no(), start, top))
        pdf.set_y(top)
    pdf.ln(3)


def _all_text(handout: Handout, sections: Sequence[_Section]) -> tuple[list[str], list[str]]:
    """Every string the PDF draws, split into regular and bold text."""
    # Printable ASCII and the usual full-width punctuation go into both faces.
    always = "".join(chr(c) for c in range(0x20, 0x7F)) + "　（）：，。、；！？“”…—★"
    regular: list[str] = [always, "（无）", "生成于 第 页 / 共 内部资料，请勿外传", "客户清单"]
    bold: list[str] = [always, handout.company, handout.title]
    regular += [handout.company, handout.month_label, handout.meta]
    for label, value in handout.summary:
        regular.append(label)
        bold.append(value)
    for section in sections:
        bold.append(section.title)
        regular += [section.count, section.note, section.empty]
        for table in section.tables:
            bold += [table.caption, *table.headers]
            regular.append(table.empty)
            for row in table.rows:
                for cell in row.cells:
                    (bold if cell.bold else regular).append(cell.text)
    return regular, bold


# --------------------------------------------------------------------------------------


def render_monthly_pdf(report: MonthlyReport, dest: Path) -> Path:
    """Write the monthly handout of `report` to `dest` (a .pdf file); return its path."""
    return _render(report, dest).dest


@dataclass(slots=True)
class _Rendered:
    dest: Path
    rows: list[tuple[int, float, float]]  # every row group drawn: (page, top, bottom) mm
    page_top: float
    page_bottom: float


def _render(report: MonthlyReport, dest: Path) -> _Rendered:
    dest = Path(dest)
    handout = build_handout(report)
    sections = _sections(handout)
    with resources.as_file(font_path()) as source:
        clean = _Cleaner(_cmap(source))
        regular_text, bold_text = _all_text(handout, sections)
        regular_chars = set("".join(clean(t, multiline=True) for t in regular_text))
        bold_chars = set("".join(clean(t, multiline=True) for t in bold_text))
        with _fonts(regular_chars, bold_chars, source) as (regular_path, bold_path):
            pdf = _Handout(report, handout, clean)
            pdf.add_font(_FAMILY, "", str(regular_path))
            pdf.add_font(_FAMILY, "B", str(bold_path))
            pdf.set_font(_FAMILY, "", _BODY_PT)
            measure = _Measure(pdf, _BODY_PT)
            pdf.add_page()
            _title_block(pdf, handout, clean)
            for section in sections:
                laid = [_layout_table(pdf, t, clean, measure) for t in section.tables]
                # Keep the heading with the start of its first table.
                lead = laid[0].lead_height() if laid and not section.empty_section else 8.0
                _section_heading(pdf, section, keep=lead)
                if section.empty_section:
                    pdf.set_font(_FAMILY, "", _BODY_PT)
                    pdf.cell(_TEXT_WIDTH, 6, section.empty, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                    pdf.ln(3)
                    continue
                for table in laid:
                    _draw_table(pdf, table, measure)
            atomic_write(dest, bytes(pdf.output()))  # a reader never sees half a PDF
    return _Rendered(dest, pdf.rows_drawn, pdf.t_margin, pdf.page_break_trigger)
