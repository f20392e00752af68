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
name column. Tables are drawn here rather than with fpdf2's `table()` (see `draw_table`):
same rules (header row on every page, no row split across pages), ten times faster, and
line breaks that suit Chinese text.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from xlsync.fileio import atomic_write
from xlsync.reports.content import MonthlyReport
from xlsync.reports.handout import Handout, Section, Table, build_handout
from xlsync.reports.pdf_fonts import (
    FAMILY,
    FONT_PACKAGE,
    FONT_RESOURCE,
    _drawable,
    _fonts,
    font_path,
)
from xlsync.reports.pdf_table import (
    BODY_PT,
    GREY,
    HEAD_FILL,
    HEADING_H,
    INK,
    MARGIN,
    MARK_FILL,
    OPEN_FILL,
    RULE,
    TEXT_WIDTH,
    ZEBRA,
    Cell,
    Measure,
    PdfTable,
    TableRow,
    draw_table,
    layout_table,
)

__all__ = ["FONT_PACKAGE", "FONT_RESOURCE", "font_path", "render_monthly_pdf"]


# A cell holds at most this much text, so that no single row can outgrow a page.
_MAX_CELL = 400
_MAX_NOTE = 1200

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_REPLACEMENT = "?"


# --------------------------------------------------------------------------------------
# The page content: the handout's sections (handout.py) as tables of plain strings.


_FILLS = {"marked": MARK_FILL, "open": OPEN_FILL, "total": HEAD_FILL}


def _table(table: Table) -> PdfTable:
    rows: list[TableRow] = []
    width = len(table.columns)
    for line in table.lines:
        fill = _FILLS.get(line.style)
        cells = [Cell(c.text, bold=c.bold) for c in line.cells]
        if line.detail:
            # The first cell spans both rows: a row group is never split across pages,
            # so a customer and its opening line always stay together.
            cells[0].rowspan = 2
            rows.append(TableRow(cells, fill))
            rows.append(TableRow([Cell(_clip(line.detail, _MAX_NOTE), colspan=width - 1)], fill))
        else:
            rows.append(TableRow(cells, fill))
    return PdfTable(
        [c.header for c in table.columns],
        [c.kind for c in table.columns],
        [c.align for c in table.columns],
        rows,
        caption=table.caption,
        zebra=table.zebra,
        empty=table.empty,
    )


# --------------------------------------------------------------------------------------
# Text clean-up and the font.


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Cleaner:
    """Makes cell text printable: no control characters, nothing the font cannot draw."""

    def __init__(self, drawable: frozenset[str]) -> None:
        self._ok = drawable | {"\n", " "}
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
        if not self._ok.issuperset(out):
            out = "".join(ch if ch in self._ok else _REPLACEMENT for ch in out)
        out = _clip(out.strip(), _MAX_NOTE if multiline else _MAX_CELL)
        self._cache[key] = out
        return out


# --------------------------------------------------------------------------------------
# The document.


PAGE_COUNT = "{pages}"  # replaced by the number of pages when the PDF is written


class _Handout(FPDF):
    def __init__(self, report: MonthlyReport, handout: Handout, clean: _Cleaner) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.company = clean(report.company) or "客户清单"
        self.month_label = handout.month_label
        self.handout_title = clean(handout.title)
        self.rows_drawn: list[tuple[int, float, float]] = []  # (page, top, bottom) per group
        self.generated = report.generated.strftime("%Y-%m-%d %H:%M")
        self.set_margins(MARGIN, 16, MARGIN)
        self.set_auto_page_break(True, margin=14)
        # the page count's alias: fpdf2 reserves one digit per character ("{nb}" only 3, and
        # a 100,000-row register's handout has some 3,000 pages); the text is re-centred
        self.alias_nb_pages(PAGE_COUNT)
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
        self.set_text_color(*GREY)
        self.set_font(FAMILY, "B", 8.5)
        self.cell(TEXT_WIDTH * 0.7, 5, self._fit(self.company, TEXT_WIDTH * 0.7), align="L")
        self.set_font(FAMILY, "", 8.5)
        self.cell(TEXT_WIDTH * 0.3, 5, f"{self.month_label} 客户清单", align="R")
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(MARGIN, 12.5, MARGIN + TEXT_WIDTH, 12.5)
        self.set_text_color(*INK)
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
        self.set_font(FAMILY, "", 7.5)
        self.set_text_color(*GREY)
        third = TEXT_WIDTH / 3
        self.cell(third, 4, f"生成于 {self.generated}", align="L")
        self.cell(third, 4, f"第 {self.page_no()} 页 / 共 {PAGE_COUNT} 页", align="C")
        self.cell(third, 4, "内部资料，请勿外传", align="R")
        self.set_text_color(*INK)


def _title_block(pdf: _Handout, handout: Handout, clean: _Cleaner) -> None:
    pdf.set_font(FAMILY, "B", 18)
    pdf.multi_cell(
        TEXT_WIDTH,
        9,
        pdf.handout_title,
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(
        TEXT_WIDTH, 5, clean(handout.meta), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_text_color(*INK)
    pdf.ln(3)
    summary = handout.summary
    width = TEXT_WIDTH / len(summary)
    x0, y0 = pdf.l_margin, pdf.get_y()
    pdf.set_fill_color(*ZEBRA)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.rect(x0, y0, TEXT_WIDTH, 15, style="DF")
    for i, (label, value) in enumerate(summary):
        pdf.set_xy(x0 + i * width, y0 + 2)
        pdf.set_font(FAMILY, "", 7.5)
        pdf.set_text_color(*GREY)
        pdf.cell(width, 4, label, align="C")
        pdf.set_xy(x0 + i * width, y0 + 7)
        pdf.set_font(FAMILY, "B", 9.5 if len(value) < 8 else 8)
        pdf.set_text_color(*INK)
        pdf.cell(width, 6, value, align="C")
    pdf.set_xy(x0, y0 + 15 + 5)


def _section_heading(pdf: _Handout, section: Section, keep: float) -> None:
    """The numbered title, its count and note; `keep` mm of what follows stay with it."""
    if pdf.get_y() + HEADING_H + keep > pdf.page_break_trigger:
        pdf.add_page()
    pdf.set_font(FAMILY, "B", 12.5)
    pdf.set_text_color(*INK)
    y = pdf.get_y()
    pdf.cell(TEXT_WIDTH * 0.65, 7, section.title, align="L")
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(*GREY)
    pdf.cell(TEXT_WIDTH * 0.35, 7, section.count, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.4)
    pdf.line(MARGIN, y + 7.3, MARGIN + TEXT_WIDTH, y + 7.3)
    pdf.set_y(y + 8.5)
    pdf.set_font(FAMILY, "", 7.5)
    pdf.multi_cell(TEXT_WIDTH, 4, section.note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.ln(1.5)


def _all_text(handout: Handout) -> tuple[list[str], list[str]]:
    """Every string the PDF draws, split into regular and bold text."""
    # Printable ASCII and the usual full-width punctuation go into both faces.
    always = "".join(chr(c) for c in range(0x20, 0x7F)) + "　（）：，。、；！？“”…—★"
    regular: list[str] = [always, "（无）", "生成于 第 页 / 共 内部资料，请勿外传", "客户清单"]
    bold: list[str] = [always, handout.company, handout.title]
    regular += [handout.company, handout.month_label, handout.meta]
    for label, value in handout.summary:
        regular.append(label)
        bold.append(value)
    for section in handout.sections:
        bold.append(section.title)
        regular += [section.count, section.note, section.empty]
        for table in section.tables:
            bold += [table.caption, *(c.header for c in table.columns)]
            regular.append(table.empty)
            for line in table.lines:
                for cell in line.cells:
                    (bold if cell.bold else regular).append(cell.text)
                if line.detail:  # clipped when drawn: a superset of characters is harmless
                    regular.append(line.detail)
    return regular, bold


def _chars(texts: Sequence[str], drawable: frozenset[str], clean: _Cleaner) -> set[str]:
    """The characters the font must have for `texts` once cleaned: those the font can draw.
    A superset is harmless (fpdf2 embeds only the glyphs drawn), so the raw characters do,
    unless normalising (NFC) could make new ones."""
    joined = "".join(texts)
    if not unicodedata.is_normalized("NFC", joined):
        joined = "".join(clean(t, multiline=True) for t in texts)
    return set(joined) & drawable


# --------------------------------------------------------------------------------------


def render_monthly_pdf(report: MonthlyReport, dest: Path, handout: Handout | None = None) -> Path:
    """Write the monthly handout of `report` to `dest` (a .pdf file); return its path.
    `handout` is `build_handout(report)` when the caller has it already."""
    return _render(report, dest, handout).dest


@dataclass(slots=True)
class _Rendered:
    dest: Path
    rows: list[tuple[int, float, float]]  # every row group drawn: (page, top, bottom) mm
    page_top: float
    page_bottom: float


def _render(report: MonthlyReport, dest: Path, handout: Handout | None = None) -> _Rendered:
    dest = Path(dest)
    handout = handout or build_handout(report)
    with resources.as_file(font_path()) as source:
        drawable = _drawable(source)
        clean = _Cleaner(drawable)
        regular_text, bold_text = _all_text(handout)
        regular_chars = _chars(regular_text, drawable, clean)
        bold_chars = _chars(bold_text, drawable, clean)
        del regular_text, bold_text
        with _fonts(regular_chars, bold_chars, source) as (regular_path, bold_path):
            pdf = _Handout(report, handout, clean)
            pdf.add_font(FAMILY, "", str(regular_path))
            pdf.add_font(FAMILY, "B", str(bold_path))
            for font in pdf.fonts.values():
                # fpdf2 embeds a subset of each font; its glyphs go in as our static font
                # stores them instead of each being unpacked to recompute bounds that are
                # already there (the font-wide bounds stay those of the static font).
                if isinstance(font, TTFFont):
                    font.ttfont.recalcBBoxes = False
            pdf.set_font(FAMILY, "", BODY_PT)
            measure = Measure(pdf, BODY_PT)
            pdf.add_page()
            _title_block(pdf, handout, clean)
            for section in handout.sections:
                if not any(t.lines for t in section.tables):
                    _section_heading(pdf, section, keep=8.0)
                    pdf.set_font(FAMILY, "", BODY_PT)
                    pdf.cell(TEXT_WIDTH, 6, section.empty, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                    pdf.ln(3)
                    continue
                # One table at a time is converted, laid out and drawn, then let go: a
                # 100,000-row register's handout never holds every laid-out row at once.
                for n, table in enumerate(section.tables):
                    laid = layout_table(pdf, _table(table), clean, measure)
                    if n == 0:  # keep the heading with the start of its first table
                        _section_heading(pdf, section, keep=laid.lead_height())
                    draw_table(pdf, laid, measure, pdf.rows_drawn)
                    del laid
            atomic_write(dest, pdf.output())  # a reader never sees half a PDF
    return _Rendered(dest, pdf.rows_drawn, pdf.t_margin, pdf.page_break_trigger)
