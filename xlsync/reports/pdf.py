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
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from xlsync.reports.model import CustomerLine, MonthlyReport, Score

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
# The page content as plain strings, built before any font work.


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
    widths: list[float]  # mm, adding up to the text width
    aligns: list[str]  # L / C / R per column
    rows: list[_Row]
    caption: str = ""
    zebra: bool = True  # shade every other row group


@dataclass(slots=True)
class _Section:
    title: str
    count: str  # right-aligned beside the title, e.g. 共 12 家
    note: str  # one grey line under the title explaining the list
    tables: list[_Table] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(t.rows for t in self.tables)


def _date(value: dt.date | None, empty: str = "") -> str:
    return value.isoformat() if value else empty


def _month_label(month: str) -> str:
    try:
        year, mon = month.split("-", 1)
        return f"{int(year)}年{int(mon):02d}月"
    except ValueError:
        return month


def _customer_cell(line: CustomerLine, *, bold: bool = False, star: bool = False) -> _Cell:
    text = line.customer
    if star:
        text = "★ " + text
    return _Cell(text, bold=bold)


def _zone1(report: MonthlyReport) -> _Section:
    rows = [
        _Row(
            [
                _Cell(str(i)),
                _customer_cell(line),
                _Cell(line.rep),
                _Cell(line.department),
                _Cell(_date(line.visited)),
                _Cell(_date(line.sampled)),
                _Cell(line.sample),
                _Cell(_date(line.last_follow_up)),
                _Cell(_date(line.protected_until, "—")),
            ]
        )
        for i, line in enumerate(report.zone1, 1)
    ]
    table = _Table(
        ["序号", "客户", "业务员", "部门", "拜访日期", "送样日期", "样品", "最近跟进", "保护至"],
        [11, 53, 15, 18, 18.5, 18.5, 19, 18.5, 18.5],
        ["C", "L", "L", "L", "C", "C", "L", "C", "C"],
        rows,
    )
    return _Section(
        "一、本月拜访/送样客户（未合作）",
        f"共 {len(rows)} 家",
        "本月有拜访或送样记录、尚未合作的客户。保护期内的客户，其他业务员请勿跟进。",
        [table],
    )


def _zone2(report: MonthlyReport) -> _Section:
    rows: list[_Row] = []
    for i, line in enumerate(report.zone2, 1):
        rows.append(
            _Row(
                [
                    _Cell(str(i)),
                    _customer_cell(line, bold=line.marked, star=line.marked),
                    _Cell(line.rep),
                    _Cell(line.department),
                    _Cell(line.region),
                    _Cell(_date(line.won)),
                    _Cell(line.sample),
                    _Cell("本月新成交" if line.marked else "", bold=line.marked),
                ],
                fill=_MARK_FILL if line.marked else None,
            )
        )
    table = _Table(
        ["序号", "客户", "业务员", "部门", "地区", "成交日期", "样品", "备注"],
        [11, 70.5, 15, 18, 20, 18.5, 19, 18],
        ["C", "L", "L", "L", "L", "C", "L", "C"],
        rows,
    )
    won = sum(1 for line in report.zone2 if line.marked)
    return _Section(
        "二、合作客户",
        f"共 {len(rows)} 家，本月新成交 {won} 家",
        "已下单的客户及成交业务员。★ 标记并加底色的为本月新成交。",
        [table],
    )


def _score_cells(score: Score) -> list[_Cell]:
    return [
        _Cell(str(score.calls)),
        _Cell(str(score.visits)),
        _Cell(str(score.samples)),
        _Cell(str(score.won)),
        _Cell(score.rate_text()),
    ]


def _leaderboard(report: MonthlyReport) -> _Section:
    counts = ["R", "R", "R", "R", "R"]
    reps = _Table(
        ["名次", "业务员", "部门", "电话", "拜访", "送样", "新合作", "送样成交率"],
        [12, 30, 34, 20, 20, 20, 20, 34],
        ["C", "L", "L", *counts],
        [
            _Row([_Cell(str(i)), _Cell(s.name), _Cell(s.department), *_score_cells(s)])
            for i, s in enumerate(report.reps, 1)
        ],
        caption="按业务员",
    )
    dept_rows = [
        _Row([_Cell(str(i)), _Cell(s.name), *_score_cells(s)])
        for i, s in enumerate(report.departments, 1)
    ]
    if report.departments:
        total = Score(
            name="合计",
            department="",
            calls=sum(s.calls for s in report.departments),
            visits=sum(s.visits for s in report.departments),
            samples=sum(s.samples for s in report.departments),
            won=sum(s.won for s in report.departments),
            sampled_total=sum(s.sampled_total for s in report.departments),
            sampled_won=sum(s.sampled_won for s in report.departments),
        )
        cells = [_Cell("", bold=True), _Cell("合计", bold=True), *_score_cells(total)]
        for cell in cells:
            cell.bold = True
        dept_rows.append(_Row(cells, fill=_HEAD_FILL))
    depts = _Table(
        ["名次", "部门", "电话", "拜访", "送样", "新合作", "送样成交率"],
        [12, 64, 20, 20, 20, 20, 34],
        ["C", "L", *counts],
        dept_rows,
        caption="按部门",
    )
    return _Section(
        "三、业绩排行",
        f"{len(report.reps)} 名业务员，{len(report.departments)} 个部门",
        "电话、拜访、送样、新合作为本月数量；送样成交率 = 送过样的客户中已合作的比例（累计）。",
        [reps, depts],
    )


def _follow_ups(report: MonthlyReport) -> _Section:
    rows = [
        _Row(
            [
                _Cell(str(i)),
                _customer_cell(line),
                _Cell(line.rep),
                _Cell(line.department),
                _Cell(line.phone),
                _Cell(_date(line.last_follow_up, "—")),
                _Cell(_clip(line.note, _MAX_NOTE)),
            ]
        )
        for i, line in enumerate(report.follow_ups_due, 1)
    ]
    table = _Table(
        ["序号", "客户", "业务员", "部门", "电话", "最近跟进", "说明"],
        [11, 44, 15, 18, 21, 18.5, 62.5],
        ["C", "L", "L", "L", "L", "C", "L"],
        rows,
    )
    return _Section(
        "四、待跟进",
        f"共 {len(rows)} 家",
        "较长时间没有跟进记录的客户，请负责的业务员尽快联系。",
        [table],
    )


def _ending_soon(report: MonthlyReport) -> _Section:
    rows: list[_Row] = []
    for i, line in enumerate(report.ending_soon, 1):
        left = ""
        if line.protected_until is not None:
            days = (line.protected_until - report.as_of).days
            left = f"{days} 天" if days >= 0 else "已到期"
        rows.append(
            _Row(
                [
                    _Cell(str(i)),
                    _customer_cell(line),
                    _Cell(line.rep),
                    _Cell(line.department),
                    _Cell(line.phone),
                    _Cell(_date(line.visited)),
                    _Cell(_date(line.sampled)),
                    _Cell(_date(line.protected_until, "—")),
                    _Cell(left),
                ]
            )
        )
    table = _Table(
        ["序号", "客户", "业务员", "部门", "电话", "拜访日期", "送样日期", "保护至", "剩余"],
        [11, 57.5, 15, 18, 21, 18.5, 18.5, 18.5, 12],
        ["C", "L", "L", "L", "L", "C", "C", "C", "C"],
        rows,
    )
    return _Section(
        "五、保护即将到期（14天内）",
        f"共 {len(rows)} 家",
        "保护期将在 14 天内结束。如需继续保护，请在到期前再次拜访或送样。",
        [table],
    )


def _free(report: MonthlyReport) -> _Section:
    rows: list[_Row] = []
    for i, line in enumerate(report.free, 1):
        rows.append(
            _Row(
                [
                    # The number spans both rows: fpdf2 never breaks a page inside a rowspan,
                    # so a customer and its opening line always stay together.
                    _Cell(str(i), rowspan=2),
                    _customer_cell(line, bold=True),
                    _Cell(line.rep),
                    _Cell(line.department),
                    _Cell(line.phone),
                    _Cell(line.region),
                    _Cell(line.sample),
                    _Cell(_date(line.protected_until, "—")),
                ]
            )
        )
        opening = _clip(line.note, _MAX_NOTE) or "（无建议）"
        rows.append(_Row([_Cell("建议开场白：" + opening, colspan=7)]))
    table = _Table(
        ["序号", "客户", "原业务员", "部门", "电话", "地区", "样品", "保护至"],
        [11, 67.5, 15, 18, 21, 20, 19, 18.5],
        ["C", "L", "L", "L", "L", "L", "L", "C"],
        rows,
    )
    return _Section(
        "六、可转交客户",
        f"共 {len(report.free)} 家",
        "保护已过期且未成交的客户，可转交其他业务员跟进；每家附一句建议开场白。",
        [table],
    )


def _conflicts(report: MonthlyReport) -> _Section:
    rows: list[_Row] = []
    for i, c in enumerate(report.conflicts, 1):
        rows.append(
            _Row(
                [
                    _Cell(str(i)),
                    _Cell(c.customer),
                    _Cell(c.owner or "无人保护"),
                    _Cell(c.reason),
                    _Cell(c.others),
                    _Cell("已解决" if c.settled else "未解决", bold=not c.settled),
                ],
                fill=None if c.settled else _OPEN_FILL,
            )
        )
    table = _Table(
        ["序号", "客户", "归属业务员", "依据", "其他业务员", "状态"],
        [11, 38, 18, 53, 56, 14],
        ["C", "L", "L", "L", "L", "C"],
        rows,
        zebra=False,
    )
    settled = sum(1 for c in report.conflicts if c.settled)
    return _Section(
        "七、本月冲突",
        f"共 {len(rows)} 起，已解决 {settled} 起",
        "本月出现的重复登记冲突。未解决的加底色标出，请相关业务员按归属处理。",
        [table],
    )


def _sections(report: MonthlyReport) -> list[_Section]:
    return [
        _zone1(report),
        _zone2(report),
        _leaderboard(report),
        _follow_ups(report),
        _ending_soon(report),
        _free(report),
        _conflicts(report),
    ]


def _summary(report: MonthlyReport) -> list[tuple[str, str]]:
    open_conflicts = sum(1 for c in report.conflicts if not c.settled)
    return [
        ("本月拜访/送样", f"{len(report.zone1)} 家"),
        ("合作客户", f"{len(report.zone2)} 家"),
        ("本月新成交", f"{sum(1 for c in report.zone2 if c.marked)} 家"),
        ("待跟进", f"{len(report.follow_ups_due)} 家"),
        ("14天内到期", f"{len(report.ending_soon)} 家"),
        ("可转交", f"{len(report.free)} 家"),
        ("本月冲突", f"{len(report.conflicts)} 起（未解决 {open_conflicts}）"),
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
    def __init__(self, report: MonthlyReport, clean: _Cleaner) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.company = clean(report.company) or "客户清单"
        self.month_label = _month_label(report.month)
        self.generated = report.generated.strftime("%Y-%m-%d %H:%M")
        self.set_margins(_MARGIN, 16, _MARGIN)
        self.set_auto_page_break(True, margin=14)
        self.alias_nb_pages("{nb}")
        self.set_title(f"{self.company} {self.month_label} 客户清单")
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


def _meta(report: MonthlyReport) -> str:
    meta = f"统计截至 {report.as_of.isoformat()}　　登记表：{report.register}"
    meta += f"　　生成于 {report.generated:%Y-%m-%d %H:%M}"
    if report.masked_phones:
        meta += "　　电话号码已部分隐藏"
    return meta


def _title_block(pdf: _Handout, report: MonthlyReport, clean: _Cleaner) -> None:
    pdf.set_font(_FAMILY, "B", 18)
    pdf.multi_cell(
        _TEXT_WIDTH,
        9,
        f"{pdf.company} {pdf.month_label} 客户清单",
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_font(_FAMILY, "", 8.5)
    pdf.set_text_color(*_GREY)
    pdf.multi_cell(
        _TEXT_WIDTH, 5, clean(_meta(report)), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_text_color(*_INK)
    pdf.ln(3)
    summary = _summary(report)
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
        self._cw = {
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


# Line breaking for Chinese: a break may fall between any two Chinese characters, but not
# inside a run of Latin letters and digits (a date, a phone, a model number such as BL-466),
# not before closing punctuation and not after opening punctuation.
_TOKENS = re.compile(r"\n| +|[!-~]+|.", re.S)
_NO_START = frozenset("，。、；：！？）》」』】〕〉…—%·,.;:!?)]}")
_NO_END = frozenset("（《「『【〔〈“‘([{")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for tok in _TOKENS.findall(text):
        if out and tok not in ("\n",) and not tok.isspace():
            prev = out[-1]
            if (tok[0] in _NO_START and not prev.isspace() and prev != "\n") or (
                prev[-1] in _NO_END
            ):
                out[-1] = prev + tok
                continue
        out.append(tok)
    return out


def _wrap(text: str, avail: float, measure: _Measure, bold: bool, max_lines: int) -> list[str]:
    if "\n" not in text and measure.width(text, bold) <= avail:
        return [text]
    lines: list[str] = []
    cur, cur_w = "", 0.0
    for tok in _tokens(text):
        if tok == "\n":
            lines.append(cur.rstrip())
            cur, cur_w = "", 0.0
            continue
        w = measure.width(tok, bold)
        if tok.isspace():
            if cur:
                cur, cur_w = cur + tok, cur_w + w
            continue
        if cur_w + w <= avail:
            cur, cur_w = cur + tok, cur_w + w
            continue
        if cur.strip():
            lines.append(cur.rstrip())
        cur, cur_w = "", 0.0
        if w <= avail:
            cur, cur_w = tok, w
            continue
        for ch in tok:  # a run longer than the whole line: break it anywhere
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
    for cell in cells:
        x, w = xs[cell.col], xs[cell.col + cell.span] - xs[cell.col]
        h = sum(heights[: cell.rowspan])
        if fill is not None:
            pdf.set_fill_color(*fill)
            pdf.rect(x, top, w, h, style="DF")
        else:
            pdf.rect(x, top, w, h, style="D")
        pdf.set_font(_FAMILY, "B" if cell.bold else "", _BODY_PT)
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
    xs = [pdf.l_margin]
    for w in table.widths:
        xs.append(xs[-1] + w)
    page_room = pdf.page_break_trigger - pdf.t_margin
    max_lines = max(1, int((page_room - 4 * _LINE_H - 4 * _PAD[0]) / _LINE_H))

    def place(
        cells: Sequence[_Cell], covered: dict[int, int], header: bool
    ) -> tuple[list[_Placed], float]:
        placed: list[_Placed] = []
        height = _LINE_H + 2 * _PAD[0]
        col = 0
        for cell in cells:
            while col in covered:
                col += 1
            w = xs[col + cell.colspan] - xs[col] - 2 * _PAD[1] - 0.2
            text = cell.text if header else clean(cell.text, multiline=cell.colspan > 1)
            bold = cell.bold or header
            lines = _wrap(text, w, measure, bold, max_lines)
            align = cell.align or ("C" if header else table.aligns[col])
            placed.append(_Placed(col, cell.colspan, cell.rowspan, lines, bold, align))
            if cell.rowspan == 1:
                height = max(height, len(lines) * _LINE_H + 2 * _PAD[0])
            col += cell.colspan
        return placed, height

    head, head_h = place([_Cell(t) for t in table.headers], {}, header=True)
    groups: list[list[_Entry]] = []
    covered: dict[int, int] = {}  # column -> rows it stays covered below this one
    for row in table.rows:
        placed, height = place(row.cells, covered, header=False)
        if covered:
            groups[-1].append((placed, height, row.fill))
        else:
            groups.append([(placed, height, row.fill)])
        covered = {c: n - 1 for c, n in covered.items() if n > 1}
        for p in placed:
            if p.rowspan > 1:
                covered.update({c: p.rowspan - 1 for c in range(p.col, p.col + p.span)})
    return _Laid(table, xs, head, head_h, groups)


def _draw_table(pdf: FPDF, laid: _Laid, measure: _Measure) -> None:
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
        pdf.cell(_TEXT_WIDTH, 6, "（无）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
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
        top = pdf.get_y()
        for i, (placed, _, fill) in enumerate(group):
            if fill is None and table.zebra and n % 2 == 1:
                fill = _ZEBRA
            _draw_row(pdf, laid.xs, top, heights[i:], placed, fill, measure)
            top += heights[i]
        pdf.set_y(top)
    pdf.ln(3)


def _all_text(report: MonthlyReport, sections: Sequence[_Section]) -> tuple[list[str], list[str]]:
    """Every string the PDF draws, split into regular and bold text."""
    # Printable ASCII and the usual full-width punctuation go into both faces.
    always = "".join(chr(c) for c in range(0x20, 0x7F)) + "　（）：，。、；！？“”…—★"
    regular: list[str] = [always, "（无）", "生成于 第 页 / 共 内部资料，请勿外传", "客户清单"]
    bold: list[str] = [always, report.company]
    regular += [report.company, _month_label(report.month), _meta(report)]
    bold += [f"{report.company} {_month_label(report.month)} 客户清单"]
    for label, value in _summary(report):
        regular.append(label)
        bold.append(value)
    for section in sections:
        bold.append(section.title)
        regular += [section.count, section.note]
        for table in section.tables:
            bold += [table.caption, *table.headers]
            for row in table.rows:
                for cell in row.cells:
                    (bold if cell.bold else regular).append(cell.text)
    return regular, bold


# --------------------------------------------------------------------------------------


def render_monthly_pdf(report: MonthlyReport, dest: Path) -> Path:
    """Write the monthly handout of `report` to `dest` (a .pdf file); return its path."""
    dest = Path(dest)
    sections = _sections(report)
    with resources.as_file(font_path()) as source:
        clean = _Cleaner(_cmap(source))
        regular_text, bold_text = _all_text(report, sections)
        regular_chars = set("".join(clean(t, multiline=True) for t in regular_text))
        bold_chars = set("".join(clean(t, multiline=True) for t in bold_text))
        with _fonts(regular_chars, bold_chars, source) as (regular_path, bold_path):
            pdf = _Handout(report, clean)
            pdf.add_font(_FAMILY, "", str(regular_path))
            pdf.add_font(_FAMILY, "B", str(bold_path))
            pdf.set_font(_FAMILY, "", _BODY_PT)
            measure = _Measure(pdf, _BODY_PT)
            pdf.add_page()
            _title_block(pdf, report, clean)
            for section in sections:
                laid = [_layout_table(pdf, t, clean, measure) for t in section.tables]
                # Keep the heading with the start of its first table.
                lead = laid[0].lead_height() if laid and not section.empty else 8.0
                _section_heading(pdf, section, keep=lead)
                if section.empty:
                    pdf.set_font(_FAMILY, "", _BODY_PT)
                    pdf.cell(_TEXT_WIDTH, 6, "（无）", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                    pdf.ln(3)
                    continue
                for table in laid:
                    _draw_table(pdf, table, measure)
            dest.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target and rename: a reader never sees half a PDF.
            tmp = dest.with_name(f".{dest.name}.tmp")
            try:
                pdf.output(str(tmp))
                tmp.replace(dest)
            finally:
                tmp.unlink(missing_ok=True)
    return dest
