"""The monthly handout's content, once: what each section is called, which columns it has,
what it says when empty, and the text of every cell.

The HTML page (templates/monthly.html) and the PDF (pdf.py) both draw a `Handout` built
here; neither decides on its own what a section shows, so the two formats are one handout.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from xlsync.reports.content import ConflictLine, CustomerLine, MonthlyReport, Score

# How a column's cells behave; both renderers read it.
#   index  row number           short  a name or word that is never broken (rep, dept, place)
#   name   the customer (bold)  date   YYYY-MM-DD
#   phone  numbers, broken only between numbers   code  sample models, the same
#   num    a count (right)      text   sentences: wraps, takes the room left over
#   tag    a short label (本月新成交, 已解决) drawn as a coloured chip in HTML
KINDS = ("index", "name", "short", "date", "phone", "code", "num", "text", "tag")


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    kind: str

    @property
    def align(self) -> str:
        """L / C / R."""
        return {"index": "C", "date": "C", "num": "R", "tag": "C"}.get(self.kind, "L")


@dataclass(slots=True)
class Cell:
    text: str
    bold: bool = False
    tag: str = ""  # "" or a style for a label: new / done / open / soon


@dataclass(slots=True)
class Line:
    cells: list[Cell]
    style: str = ""  # "" / marked (won this month) / open (conflict) / total
    detail: str = ""  # a full-width line under the row, kept on the same page


@dataclass(slots=True)
class Table:
    columns: tuple[Column, ...]
    lines: list[Line]
    caption: str = ""
    zebra: bool = True
    empty: str = "（无）"  # only shown when the section has other, non-empty tables


@dataclass(slots=True)
class Section:
    key: str  # the HTML id
    title: str
    count: str  # beside the title: 共 12 家
    note: str  # one line under the title: what the list is
    empty: str  # said instead of the tables when they are all empty
    tables: list[Table] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(t.lines for t in self.tables)


@dataclass(slots=True)
class Handout:
    title: str  # 华泰电子 2026年10月 客户清单
    company: str
    month_label: str  # 2026年10月
    meta: str  # 统计截至 …　登记表：…　生成于 …
    summary: list[tuple[str, str]]
    sections: list[Section]
    footer: str


def month_label(month: str) -> str:
    """2026-03 -> 2026年3月."""
    try:
        year, mon = month.split("-", 1)
        return f"{int(year)}年{int(mon)}月"
    except ValueError:
        return month


_PART = re.compile(r"[^/／、,，;；]+(?:[/／、,，;；]\s*)?|[/／、,，;；]\s*")


def parts(text: str) -> list[str]:
    """A phone or model cell cut where a line may break: after each separator between two
    numbers or codes, never inside one (`185****8672 / `, `0769-****3732`)."""
    return _PART.findall(text) or [text]


def _d(value: dt.date | None, empty: str = "") -> str:
    return value.isoformat() if value else empty


# --------------------------------------------------------------------------------------
# The sections: columns and how each cell is filled from a CustomerLine.

_Get = Callable[[CustomerLine], Cell]


def _text(get: Callable[[CustomerLine], str]) -> _Get:
    return lambda c: Cell(get(c))


_CUSTOMER: tuple[Column, _Get] = (Column("客户名称", "name"), lambda c: Cell(c.customer, bold=True))
_REGION = (Column("地区", "short"), _text(lambda c: c.region))
_REP = (Column("业务员", "short"), _text(lambda c: c.rep))
_DEPT = (Column("部门", "short"), _text(lambda c: c.department))
_PHONE = (Column("电话", "phone"), _text(lambda c: c.phone))
_STATUS = (Column("状态", "short"), _text(lambda c: c.status))
_VISITED = (Column("拜访日期", "date"), _text(lambda c: _d(c.visited)))
_SAMPLED = (Column("送样日期", "date"), _text(lambda c: _d(c.sampled)))
_SAMPLE = (Column("样品", "code"), _text(lambda c: c.sample))
_UNTIL = (Column("保护至", "date"), _text(lambda c: _d(c.protected_until, "—")))


def _latest(c: CustomerLine) -> dt.date | None:
    return c.last_follow_up or c.sampled or c.visited or c.contacted


def _customer_table(
    lines: Sequence[CustomerLine],
    spec: Sequence[tuple[Column, _Get]],
    style: Callable[[CustomerLine], str] = lambda c: "",
    detail: Callable[[CustomerLine], str] | None = None,
) -> Table:
    columns = (Column("序号", "index"), *(col for col, _ in spec))
    rows = [
        Line(
            [Cell(str(i)), *(get(c) for _, get in spec)],
            style=style(c),
            detail=detail(c) if detail else "",
        )
        for i, c in enumerate(lines, 1)
    ]
    return Table(columns, rows)


def _zone1(r: MonthlyReport) -> Section:
    spec = [_CUSTOMER, _REGION, _REP, _DEPT, _PHONE, _VISITED, _SAMPLED, _SAMPLE, _UNTIL]
    return Section(
        "zone1",
        "一、本月拜访/送样客户（未合作）",
        f"共 {len(r.zone1)} 家",
        "本月有拜访或送样记录、尚未合作的客户。保护期内的客户，其他业务员请勿跟进。",
        "本月没有新的拜访或送样记录。",
        [_customer_table(r.zone1, spec)],
    )


def _zone2(r: MonthlyReport) -> Section:
    spec = [
        _CUSTOMER, _REGION, _REP, _DEPT, _PHONE, _SAMPLE,
        (Column("成交日期", "date"), _text(lambda c: _d(c.won))),
        (Column("备注", "tag"), lambda c: Cell("本月新成交", tag="new") if c.marked else Cell("")),
    ]  # fmt: skip
    won = sum(1 for c in r.zone2 if c.marked)
    return Section(
        "zone2",
        "二、合作客户",
        f"共 {len(r.zone2)} 家，本月新成交 {won} 家",
        "已下单的客户及成交业务员；加底色的是本月新成交。",
        "暂无合作客户。",
        [_customer_table(r.zone2, spec, style=lambda c: "marked" if c.marked else "")],
    )


def _score_cells(s: Score) -> list[Cell]:
    counts = (s.calls, s.visits, s.samples, s.won)
    return [*(Cell(str(n)) for n in counts), Cell(s.rate_text())]


_COUNTS = tuple(Column(h, "num") for h in ("电话", "拜访", "送样", "新合作", "送样成交率"))


def _office_cells(s: Score, cap: int | None) -> list[Cell]:
    """保护中 (against the cap: 28/30), 释放, 转交, and the near-cap tag."""
    held = f"{s.held}/{cap}" if cap else str(s.held)
    tag = Cell(s.near_cap, bold=True, tag="open" if s.near_cap == "已达上限" else "soon")
    return [Cell(held), Cell(str(s.released)), Cell(str(s.handed_over)),
            tag if s.near_cap else Cell("")]  # fmt: skip


_OFFICE = (
    Column("保护中", "num"), Column("释放", "num"), Column("转交", "num"), Column("上限提醒", "tag"),
)  # fmt: skip


def _scores(r: MonthlyReport) -> Section:
    office = r.office_rules
    reps = Table(
        (
            Column("名次", "index"), Column("业务员", "short"), Column("部门", "short"), *_COUNTS,
            *(_OFFICE if office else ()),
        ),
        [
            Line([Cell(str(i)), Cell(s.name, bold=True), Cell(s.department), *_score_cells(s),
                  *(_office_cells(s, r.cap) if office else ())])
            for i, s in enumerate(r.reps, 1)
        ],
        caption="按业务员",
    )  # fmt: skip
    dept_lines = [
        Line([Cell(str(i)), Cell(s.name, bold=True), *_score_cells(s)])
        for i, s in enumerate(r.departments, 1)
    ]
    if r.departments:
        ds = r.departments
        total = Score(
            "合计", "", sum(s.calls for s in ds), sum(s.visits for s in ds),
            sum(s.samples for s in ds), sum(s.won for s in ds),
            sum(s.sampled_total for s in ds), sum(s.sampled_won for s in ds),
        )  # fmt: skip
        cells = [Cell(""), Cell("合计"), *_score_cells(total)]
        for cell in cells:
            cell.bold = True
        dept_lines.append(Line(cells, style="total"))
    depts = Table(
        (Column("名次", "index"), Column("部门", "short"), *_COUNTS), dept_lines, caption="按部门"
    )
    note = "电话、拜访、送样、新合作为本月数量；送样成交率 = 送过样的客户中现已合作的比例（累计）。"
    if office:
        limit = f"（上限 {r.cap}）" if r.cap else ""
        note += (
            f"保护中 = 现在保护中的客户数{limit}；释放 = 本月保护结束（到期、经理释放或超限）的客户；"
            "转交 = 其中已由其他业务员接手的客户；上限提醒 = 已进入上限的最后 10%。"
        )
    return Section(
        "scores",
        "三、业绩排行",
        f"{len(r.reps)} 名业务员，{len(r.departments)} 个部门",
        note,
        "本月没有业务员记录。",
        [reps, depts],
    )


def _follow_ups(r: MonthlyReport) -> Section:
    spec = [
        _CUSTOMER, _REP, _DEPT, _PHONE, _STATUS,
        (Column("最近跟进", "date"), _text(lambda c: _d(_latest(c)))),
        _UNTIL,
        (Column("说明", "text"), _text(lambda c: c.note)),
    ]  # fmt: skip
    return Section(
        "follow-ups",
        "四、待跟进",
        f"共 {len(r.follow_ups_due)} 家",
        "较长时间没有跟进记录的客户，请负责的业务员尽快联系。",
        "没有需要跟进的客户。",
        [_customer_table(r.follow_ups_due, spec)],
    )


def _ending_soon(r: MonthlyReport) -> Section:
    def left(c: CustomerLine) -> Cell:
        if c.protected_until is None:
            return Cell("")
        days = (c.protected_until - r.as_of).days
        return Cell(f"{days} 天" if days >= 0 else "已到期", tag="soon")

    spec = [
        _CUSTOMER, _REP, _DEPT, _PHONE, _STATUS, _VISITED, _SAMPLED, _UNTIL,
        (Column("剩余", "tag"), left),
    ]  # fmt: skip
    return Section(
        "ending-soon",
        "五、保护即将到期（14天内）",
        f"共 {len(r.ending_soon)} 家",
        "保护期将在 14 天内结束。如需继续保护，请在到期前再次拜访或送样。",
        "14 天内没有到期的保护。",
        [_customer_table(r.ending_soon, spec)],
    )


def _free(r: MonthlyReport) -> Section:
    spec = [
        _CUSTOMER, _REGION, (Column("原业务员", "short"), _text(lambda c: c.rep)), _DEPT,
        _PHONE, _SAMPLE, _UNTIL,
    ]  # fmt: skip
    note = (
        "保护已过期且未成交的客户，可转交其他业务员跟进；每家附一句根据原跟进记录生成的建议开场白。"
    )
    if any(c.suggested for c in r.free):
        spec.append((Column("建议跟进", "short"), _text(lambda c: c.suggested or "—")))
        note += "“建议跟进”按「设置」中的分配规则给出（同部门中保护客户最少的业务员）。"
    return Section(
        "free",
        "六、可转交客户",
        f"共 {len(r.free)} 家",
        note,
        "本月没有可转交的客户。",
        [_customer_table(r.free, spec, detail=lambda c: "建议开场白：" + (c.note or "（无）"))],
    )


def _conflict_line(i: int, c: ConflictLine) -> Line:
    state = Cell("已解决", tag="done") if c.settled else Cell("未解决", bold=True, tag="open")
    cells = [Cell(str(i)), Cell(c.customer, bold=True), Cell(c.owner or "无人保护"),
             Cell(c.reason), Cell(c.others), state]  # fmt: skip
    return Line(cells, style="" if c.settled else "open")


def _conflicts(r: MonthlyReport) -> Section:
    columns = (
        Column("序号", "index"), Column("客户", "name"), Column("归属业务员", "short"),
        Column("依据", "text"), Column("其他业务员", "text"), Column("状态", "tag"),
    )  # fmt: skip
    settled = sum(1 for c in r.conflicts if c.settled)
    lines = [_conflict_line(i, c) for i, c in enumerate(r.conflicts, 1)]
    return Section(
        "conflicts",
        "七、本月冲突",
        f"共 {len(r.conflicts)} 起，已解决 {settled} 起",
        "本月出现的重复登记冲突。未解决的加底色标出，请相关业务员按归属处理。",
        "本月没有冲突。",
        [Table(columns, lines, zebra=False)],
    )


def _rulings(r: MonthlyReport) -> Section:
    columns = (
        Column("序号", "index"), Column("日期", "date"), Column("裁决", "short"),
        Column("客户", "name"), Column("业务员", "short"), Column("经办人", "short"),
        Column("备注", "text"),
    )  # fmt: skip
    lines = [
        Line(
            [
                Cell(str(i)),
                Cell(_d(x.date)),
                Cell(x.kind),
                Cell(x.customer, bold=True),
                Cell(x.rep),
                Cell(x.by),
                Cell(x.note),
            ]
        )
        for i, x in enumerate(r.rulings, 1)
    ]
    waiting = (
        f"另有 {r.open_reviews} 对相似客户在「待确认」中等待经理确认是否同一客户。"
        if r.open_reviews
        else "「待确认」中没有等待确认的相似客户。"
    )
    return Section(
        "rulings",
        "八、经理裁决",
        f"共 {len(r.rulings)} 条，待确认 {r.open_reviews} 对",
        f"本月经理在「裁决」中的决定（指派、释放、同一客户、不同客户），优先于保护规则。{waiting}",
        "本月没有裁决。",
        [Table(columns, lines)],
    )


SECTIONS = (_zone1, _zone2, _scores, _follow_ups, _ending_soon, _free, _conflicts)


def build_handout(r: MonthlyReport) -> Handout:
    label = month_label(r.month)
    company = r.company or ""
    meta = f"统计截至 {r.as_of.isoformat()}　　登记表：{r.register}"
    meta += f"　　生成于 {r.generated:%Y-%m-%d %H:%M}"
    if r.masked_phones:
        meta += "　　电话号码已部分隐藏"
    open_conflicts = sum(1 for c in r.conflicts if not c.settled)
    summary = [
        ("本月拜访/送样", f"{len(r.zone1)} 家"),
        ("合作客户", f"{len(r.zone2)} 家"),
        ("本月新成交", f"{sum(1 for c in r.zone2 if c.marked)} 家"),
        ("待跟进", f"{len(r.follow_ups_due)} 家"),
        ("14天内到期", f"{len(r.ending_soon)} 家"),
        ("可转交", f"{len(r.free)} 家"),
        ("本月冲突", f"{len(r.conflicts)} 起（未解决 {open_conflicts}）"),
    ]
    sections = [make(r) for make in SECTIONS]
    if r.has_rulings:  # the set has a 裁决 sheet, or look-alikes wait in 待确认
        summary.append(("裁决／待确认", f"{len(r.rulings)} 条／{r.open_reviews} 对"))
        sections.append(_rulings(r))
    footer = (
        f"由 xlsync 根据登记表 {r.register} 生成。保护规则：拜访或送样后保护期内归原业务员；"
        "已合作客户长期归属成交业务员；仅电话联系不受保护。"
    )
    return Handout(
        title=f"{company} {label} 客户清单".strip(),
        company=company,
        month_label=label,
        meta=meta,
        summary=summary,
        sections=sections,
        footer=footer,
    )
