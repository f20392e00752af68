"""The manager's sheet 裁决: read its rows, resolve the customers they name, and say what
each ruling does to the matcher (同一客户 / 不同客户) and to the rules (指派 / 释放).

xlsync never changes a ruling the manager wrote. A ruling that cannot be used is a problem
on sheet 裁决 (row and column) and is otherwise ignored. Where two rulings disagree, the
later 日期 wins, then the lower row.

A customer is named the way a rep looks one up: by 编号 first, then by phone, then by name,
through the same query code as `who` (:mod:`xlsync.lookup`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from xlsync.history import RulingRecord
from xlsync.lookup import display_name
from xlsync.matching.group import GroupReason, MatchKind
from xlsync.problems import ProblemCode
from xlsync.records import OfficeRuling, Problem, Register, Row
from xlsync.register.cells import CellError, cell_text, is_blank, parse_date, parse_positive_int
from xlsync.register.schema import SheetKind, norm_label
from xlsync.rules import Claim, Decision, RuleEvent
from xlsync.settings import Settings

HEADER_SCAN_ROWS = 30
LONG_TERM = ("长期", "永久", "long", "longterm", "forever")


class RulingKind(StrEnum):
    SAME = "same"
    DIFFERENT = "different"
    ASSIGN = "assign"
    RELEASE = "release"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS: dict[RulingKind, str] = {
    RulingKind.SAME: "同一客户",
    RulingKind.DIFFERENT: "不同客户",
    RulingKind.ASSIGN: "指派",
    RulingKind.RELEASE: "释放",
}
_KIND_WORDS: dict[str, RulingKind] = {}
for _kind, _label in KIND_LABELS.items():
    _KIND_WORDS[norm_label(_label)] = _kind
    _KIND_WORDS[norm_label(_kind.value)] = _kind
for _alt, _kind in {"同一": RulingKind.SAME, "合并": RulingKind.SAME, "是同一客户": RulingKind.SAME,
                    "不同": RulingKind.DIFFERENT, "不是同一客户": RulingKind.DIFFERENT,
                    "分配": RulingKind.ASSIGN, "assignto": RulingKind.ASSIGN,
                    "放开": RulingKind.RELEASE, "解除保护": RulingKind.RELEASE}.items():  # fmt: skip
    _KIND_WORDS[norm_label(_alt)] = _kind


def parse_kind(value: object) -> RulingKind | None:
    return _KIND_WORDS.get(norm_label(cell_text(value))) if not is_blank(value) else None


@dataclass(frozen=True, slots=True)
class RulingColumn:
    key: str
    header: str  # the Chinese header `init` writes
    aliases: tuple[str, ...]
    width: int


RULING_COLUMNS: tuple[RulingColumn, ...] = (
    RulingColumn("date", "日期", ("date", "裁决日期", "日期时间"), 12),
    RulingColumn("kind", "裁决", ("kind", "类型", "裁决类型", "ruling", "rulings"), 12),
    RulingColumn("customer", "客户", ("customer", "客户名称", "客户1", "客户一"), 28),
    RulingColumn("other", "另一客户", ("other", "客户2", "客户二", "另一个客户"), 28),
    RulingColumn("rep", "业务员", ("rep", "指派给", "销售"), 10),
    RulingColumn("days", "保护天数", ("days", "protectiondays", "天数"), 10),
    RulingColumn("by", "经办人", ("by", "经理", "裁决人", "decidedby"), 10),
    RulingColumn("note", "备注", ("note", "notes", "说明", "原因"), 30),
)
RULING_HEADERS: dict[str, str] = {c.key: c.header for c in RULING_COLUMNS}
_RULING_INDEX: dict[str, str] = {}
for _c in RULING_COLUMNS:
    for _word in (_c.header, _c.key, *_c.aliases):
        _RULING_INDEX.setdefault(norm_label(_word), _c.key)


def find_ruling_header(grid: Sequence[Sequence[object]]) -> tuple[int, dict[str, int]] | None:
    """The 0-based header row of 裁决 and its columns: the row naming the most columns."""
    best: tuple[int, dict[str, int]] | None = None
    for r, cells in enumerate(grid[:HEADER_SCAN_ROWS]):
        columns: dict[str, int] = {}
        for c, value in enumerate(cells):
            if isinstance(value, str) and value.strip():
                key = _RULING_INDEX.get(norm_label(value))
                if key is not None and key not in columns:
                    columns[key] = c
        if (
            len(columns) >= 3
            and "kind" in columns
            and (best is None or len(columns) > len(best[1]))
        ):
            best = (r, columns)
    return best


@dataclass(slots=True)
class Ruling:
    """One row of 裁决, as typed and as resolved."""

    file: str
    sheet: str
    row: int  # 1-based Excel row
    kind: RulingKind | None
    date: dt.date | None
    customer: str = ""
    other: str = ""
    rep: str = ""
    days: int | None = None  # None: the setting (or 长期)
    long_term: bool = False
    by: str = ""
    note: str = ""
    rows: list[Row] = field(default_factory=list)  # what 客户 resolved to
    other_rows: list[Row] = field(default_factory=list)  # what 另一客户 resolved to
    applied: bool = False
    superseded_by: int | None = None  # the row of a later ruling that overrides this one
    bad: bool = False  # a problem was reported: ignored

    @property
    def label(self) -> str:
        return f"裁决第 {self.row} 行"

    @property
    def order(self) -> tuple[dt.date, int]:
        """Later 日期 wins, then the lower row: sort ascending, the last one wins."""
        return (self.date or dt.date.min, -self.row)

    def all_rows(self) -> list[Row]:
        return self.rows + [r for r in self.other_rows if all(r is not x for x in self.rows)]

    def event(self, protection_days: int) -> RuleEvent:
        assert self.date is not None and self.kind in (RulingKind.ASSIGN, RulingKind.RELEASE)
        until: dt.date | None = None
        if self.kind is RulingKind.ASSIGN and not self.long_term:
            until = self.date + dt.timedelta(days=self.days or protection_days)
        return RuleEvent(self.kind.value, self.date, self.row, self.file, self.sheet,
                         self.rep, until)  # fmt: skip


def read_rulings(register: Register, problems: list[Problem]) -> list[Ruling]:
    """The rulings of one register's 裁决 sheet (none when it has no such sheet)."""
    found = register.manager_grids.get(SheetKind.RULINGS)
    if found is None:
        return []
    name, grid = found
    file = register.name
    header = find_ruling_header(grid)
    if header is None:
        if any(not is_blank(v) for row in grid for v in row):
            problems.append(
                Problem(
                    file,
                    name,
                    1,
                    "",
                    "",
                    "找不到裁决表的表头（需要「日期」「裁决」「客户」等列）",
                    code=ProblemCode.RULING_NO_HEADER,
                )
            )
        return []
    top, columns = header
    out: list[Ruling] = []
    for r in range(top + 1, len(grid)):
        cells = grid[r]

        def get(key: str, cells: Sequence[object] = cells) -> object:
            c = columns.get(key)
            return cells[c] if c is not None and c < len(cells) else None

        used = [get(k) for k in ("date", "kind", "customer", "other", "rep", "days")]
        if all(is_blank(v) for v in used):
            continue
        excel_row = r + 1

        def problem(
            code: ProblemCode, key: str, value: object, message: str, row: int = excel_row
        ) -> None:
            header = RULING_HEADERS[key]
            problems.append(Problem(file, name, row, header, cell_text(value), message, code=code))

        ruling = Ruling(file, name, excel_row, parse_kind(get("kind")), None)
        ruling.customer = cell_text(get("customer"))
        ruling.other = cell_text(get("other"))
        ruling.rep = cell_text(get("rep"))
        ruling.by = cell_text(get("by"))
        ruling.note = cell_text(get("note"))
        if ruling.kind is None:
            value = get("kind")
            problem(ProblemCode.RULING_UNKNOWN_KIND, "kind", value, "请填写裁决：同一客户、不同客户、指派 或 释放" if is_blank(value)
                    else "不是有效的裁决，应为 同一客户、不同客户、指派 或 释放")  # fmt: skip
            ruling.bad = True
        value = get("date")
        try:
            ruling.date = parse_date(value, date1904=register.date1904)
        except CellError as exc:
            problem(ProblemCode.RULING_BAD_DATE, "date", value, exc.message)
            ruling.bad = True
        else:
            if ruling.date is None:
                problem(ProblemCode.RULING_BAD_DATE, "date", value, "请填写裁决日期")
                ruling.bad = True
        days = get("days")
        if not is_blank(days):
            if norm_label(cell_text(days)) in {norm_label(w) for w in LONG_TERM}:
                ruling.long_term = True
            else:
                try:
                    ruling.days = parse_positive_int(days)
                except CellError as exc:
                    problem(ProblemCode.RULING_BAD_DAYS, "days", days, exc.message)
                    ruling.bad = True
        if not ruling.customer:
            problem(
                ProblemCode.RULING_MISSING_CUSTOMER,
                "customer",
                "",
                "请填写客户（编号、电话或客户名称）",
            )
            ruling.bad = True
        kind = ruling.kind
        if kind in (RulingKind.SAME, RulingKind.DIFFERENT) and not ruling.other:
            problem(ProblemCode.RULING_MISSING_OTHER, "other", "", f"「{kind.label}」需要填写另一客户")  # fmt: skip
            ruling.bad = True
        if kind is RulingKind.ASSIGN and not ruling.rep:
            problem(ProblemCode.RULING_MISSING_REP, "rep", "", "「指派」需要填写业务员")
            ruling.bad = True
        out.append(ruling)
    return out


# ------------------------------------------------------------------ resolving customers


DeletedLookup = Callable[[str], "tuple[str, str, int, str] | None"]


class Unresolved(NamedTuple):
    """Why a ruling's 客户 names no row: the problem's code and its sentence for 问题."""

    code: ProblemCode
    message: str


class Resolver:
    """Finds the rows a ruling's 客户 names: by 编号, then phone, then name (as `who`)."""

    def __init__(self, rows: Sequence[Row], deleted: DeletedLookup | None = None) -> None:
        from xlsync.lookup import LookupIndex, _customer
        from xlsync.rules import Decision

        self.rows = list(rows)
        self.ids = {r.id.strip().upper(): r for r in rows if r.id.strip()}
        empty = Decision(None, ())
        self.index = LookupIndex(
            [_customer(i, [r], empty, r.customer) for i, r in enumerate(self.rows)]
        )
        self.deleted = deleted

    def resolve(self, text: str) -> tuple[list[Row], Unresolved | None]:
        """The rows `text` names and None, or [] and why not."""
        text = text.strip()
        by_id = self.ids.get(text.upper())
        if by_id is not None:
            return [by_id], None
        if _looks_like_id(text):
            gone = self.deleted(text.upper()) if self.deleted else None
            if gone is not None:
                file, sheet, row, name = gone
                return [], Unresolved(ProblemCode.RULING_DELETED_ROW,
                                      f"编号 {text.upper()}（{name or '未填客户名称'}，原在 {file} {sheet} 第 {row} 行）"
                                      "已被删除；可用 xlsync restore 恢复后再裁决")  # fmt: skip
            return [], Unresolved(ProblemCode.RULING_NOT_FOUND, f"登记表中没有编号 {text.upper()}")
        answer = self.index.find(text)
        rows = [self.rows[h.customer.index] for h in answer.same]
        if not rows:
            near = "、".join(
                f"{h.customer.name}（{_where(self.rows[h.customer.index])}）"
                for h in answer.maybe[:3]
            )
            tail = f"；名称相近的有：{near}" if near else "（可填编号、电话或客户名称）"
            return [], Unresolved(ProblemCode.RULING_NOT_FOUND, f"登记表中找不到「{text}」{tail}")
        if answer.digits:  # a phone names one customer, however many rows carry it
            return rows, None
        if len(rows) > 1 and not _one_customer(rows):
            where = "、".join(f"{_where(r)}（{r.customer}）" for r in rows[:4])
            return [], Unresolved(
                ProblemCode.RULING_AMBIGUOUS, f"「{text}」对应多个客户：{where}；请改填编号"
            )
        return rows, None


def _where(row: Row) -> str:
    return f"{row.sheet} 第 {row.row} 行"


def _looks_like_id(text: str) -> bool:
    return len(text) >= 2 and text[0] in "Cc" and text[1:].isdigit()


def _one_customer(rows: Sequence[Row]) -> bool:
    from xlsync.matching.group import Item, group_items

    found = group_items([Item.of(r.customer, r.phones, canonical=True) for r in rows])
    return len(found) == 1 and len(found[0].members) == len(rows)


# ------------------------------------------------------------------ what the rulings do


@dataclass(slots=True)
class RulingEffects:
    """Every ruling of a register set, and what it does to the matcher and the rules."""

    rulings: list[Ruling] = field(default_factory=list)
    forced: list[tuple[Row, Row, int]] = field(default_factory=list)  # 同一客户, row of 裁决
    forbidden: list[tuple[Row, Row]] = field(default_factory=list)  # 不同客户 pairs
    events: list[tuple[Ruling, RuleEvent]] = field(default_factory=list)  # 指派 / 释放
    # other offices' 指派 / 释放 (shared database), with the rows here they name
    elsewhere: list[tuple[list[Row], RuleEvent]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.rulings or self.elsewhere or self.forced or self.forbidden)

    @property
    def has_events(self) -> bool:
        return bool(self.events or self.elsewhere)

    def events_for(self, rows: Sequence[Row]) -> list[RuleEvent]:
        ids = {id(r) for r in rows}
        return [e for ruling, e in self.events if any(id(r) in ids for r in ruling.rows)] + [
            e for named, e in self.elsewhere if any(id(r) in ids for r in named)
        ]


def add_office_rulings(
    effects: RulingEffects, fetched: Sequence[OfficeRuling], rows: Sequence[Row]
) -> None:
    """Add the other offices' rulings (`fetched`) to `effects`, applied to `rows` (this
    office's and the other offices' candidates) by 编号: a 指派 / 释放 to the customer of the
    rows it names, a 同一客户 / 不同客户 when both sides are among `rows`. This office's own
    rulings come first: a link between rows its own rulings already join or part is left."""
    from xlsync.stores.crossoffice import office_rep

    by_id: dict[str, list[Row]] = {}
    for r in rows:
        if r.id:
            by_id.setdefault(r.id, []).append(r)

    def named(ids: Sequence[str]) -> list[Row]:
        return [r for i in ids for r in by_id.get(i, ())]

    ruled = {frozenset((id(a), id(b))) for a, b, _ in effects.forced}
    ruled |= {frozenset((id(a), id(b))) for a, b in effects.forbidden}
    for o in fetched:
        mine, theirs = named(o.ids), named(o.other_ids)
        if o.kind in (RulingKind.ASSIGN, RulingKind.RELEASE) and mine:
            rep = office_rep(o.office, o.rep) if o.rep else ""
            event = RuleEvent(o.kind, o.date, o.row, f"{o.office}/{o.file}", o.sheet, rep,
                              o.until, o.office)  # fmt: skip
            effects.elsewhere.append((mine, event))
        elif o.kind == RulingKind.SAME and mine and theirs:
            pairs = [(mine[0], r) for r in [*mine[1:], *theirs] if r is not mine[0]]
            effects.forced.extend(
                (a, b, 0) for a, b in pairs if frozenset((id(a), id(b))) not in ruled
            )
        elif o.kind == RulingKind.DIFFERENT and mine and theirs:
            pairs = [(a, b) for a in mine for b in theirs if a is not b]
            effects.forbidden.extend(p for p in pairs if frozenset(map(id, p)) not in ruled)


def load_rulings(
    registers: Sequence[Register],
    rows: Sequence[Row],
    settings: Settings,
    problems: list[Problem],
    deleted: DeletedLookup | None = None,
) -> RulingEffects:
    """Read, check and resolve the rulings of every register of a set."""
    effects = RulingEffects()
    for register in registers:
        effects.rulings.extend(read_rulings(register, problems))
    if not effects.rulings:
        return effects
    resolver = Resolver(rows, deleted)
    for ruling in effects.rulings:

        def problem(
            code: ProblemCode, key: str, value: str, message: str, ruling: Ruling = ruling
        ) -> None:
            where = (ruling.file, ruling.sheet, ruling.row, RULING_HEADERS[key])
            problems.append(Problem(*where, value, message, code=code))
            ruling.bad = True

        if ruling.rep and not settings.rep_known(ruling.rep):
            problem(
                ProblemCode.RULING_UNKNOWN_REP,
                "rep",
                ruling.rep,
                "业务员不在「设置」的业务员名单中",
            )
        if ruling.customer:
            ruling.rows, why = resolver.resolve(ruling.customer)
            if why:
                problem(why.code, "customer", ruling.customer, why.message)
        if ruling.other and ruling.kind in (RulingKind.SAME, RulingKind.DIFFERENT):
            ruling.other_rows, why = resolver.resolve(ruling.other)
            if why:
                problem(why.code, "other", ruling.other, why.message)
            elif ruling.rows and any(r in ruling.other_rows for r in ruling.rows):
                both = next(r for r in ruling.rows if r in ruling.other_rows)
                problem(ProblemCode.RULING_SAME_CUSTOMER, "other", ruling.other,
                        f"客户与另一客户都指向 {_where(both)}（{both.customer}），无法裁决；请改填编号")  # fmt: skip
    _settle(effects, settings)
    return effects


def _settle(effects: RulingEffects, settings: Settings) -> None:
    """Turn the good rulings into links, forbidden pairs and events, the later first."""
    good = sorted((r for r in effects.rulings if not r.bad), key=lambda r: r.order, reverse=True)
    # 同一客户 / 不同客户: the later ruling over the same two customers wins
    joined: dict[int, int] = {}  # id(row) -> representative, for the rulings already taken

    def find(x: int) -> int:
        while joined.get(x, x) != x:
            x = joined[x]
        return x

    apart: list[tuple[set[int], set[int], Ruling]] = []
    for ruling in good:
        if ruling.kind is RulingKind.SAME:
            mine = {find(id(r)) for r in ruling.rows}
            theirs = {find(id(r)) for r in ruling.other_rows}
            blocked = next(
                (later for a, b, later in apart
                 if ({find(x) for x in a} & mine and {find(x) for x in b} & theirs)
                 or ({find(x) for x in b} & mine and {find(x) for x in a} & theirs)),
                None,
            )  # fmt: skip
            if blocked is not None:
                ruling.superseded_by = blocked.row
                continue
            everyone = [*ruling.rows, *ruling.other_rows]
            root = find(id(everyone[0]))
            for r in everyone[1:]:
                other = find(id(r))
                if other != root:
                    joined[other] = root
            first = everyone[0]
            effects.forced.extend((first, r, ruling.row) for r in everyone[1:])
            ruling.applied = True
        elif ruling.kind is RulingKind.DIFFERENT:
            a = {find(id(r)) for r in ruling.rows}
            b = {find(id(r)) for r in ruling.other_rows}
            if a & b:
                later = next(
                    (x for x in good if x.kind is RulingKind.SAME and x.applied and x.order > ruling.order
                     and {find(id(r)) for r in x.all_rows()} & a),
                    None,
                )  # fmt: skip
                ruling.superseded_by = later.row if later else None
                continue
            apart.append(({id(r) for r in ruling.rows}, {id(r) for r in ruling.other_rows}, ruling))
            effects.forbidden.extend((x, y) for x in ruling.rows for y in ruling.other_rows)
            ruling.applied = True
        else:
            effects.events.append((ruling, ruling.event(settings.protection_days)))
            ruling.applied = True


def ruling_json(ruling: Ruling, folder: bool) -> dict[str, object]:
    """One entry of `check --json`'s `rulings`."""

    def ref(row: Row) -> dict[str, object]:
        out: dict[str, object] = {"file": row.file} if folder else {}
        out.update(sheet=row.sheet, row=row.row)
        return out

    out: dict[str, object] = {"file": ruling.file} if folder else {}
    out["row"] = ruling.row
    out["kind"] = ruling.kind.value if ruling.kind else None
    out["applied"] = ruling.applied
    out["rows"] = [ref(r) for r in ruling.all_rows()]
    if ruling.superseded_by is not None:
        out["superseded_by"] = ruling.superseded_by
    return out


def ruled_reason(group_reason: GroupReason) -> str:
    """The 同一客户 rulings that joined a group, as people read them ("" when none)."""
    ruled = GroupReason(tuple(r for r in group_reason.links if r.kind is MatchKind.RULED))
    return ruled.text()


def ruling_rows(reason: GroupReason, decision: Decision, claim: Claim) -> str:
    """The rows of 裁决 that decided a claim of a conflict (the 冲突 sheet's 裁决行): the
    同一客户 rulings that joined its group, the 指派 / 释放 behind its protection or its
    owner's."""
    found = list(reason.ruling_rows)
    for c in (claim, decision.owner):
        if c is not None and c.protection.ruling_row:
            found.append(c.protection.ruling_row)
    return "、".join(str(n) for n in sorted(set(found)))


# ------------------------------------------------------------------ the history of rulings


def ruling_record(ruling: Ruling, id_of: Callable[[Row], str]) -> RulingRecord:
    """What the history keeps of an applied ruling (see `xlsync.history.RulingRecord`);
    `id_of` gives a row's 编号 after the sync (a new row gets one in the same sync)."""
    assert ruling.kind is not None and ruling.date is not None
    days: object = "长期" if ruling.long_term else ruling.days
    typed = [ruling.kind.value, ruling.date.isoformat(), ruling.customer, ruling.other,
             ruling.rep, days, ruling.by, ruling.note]  # fmt: skip
    ids = [i for i in map(id_of, ruling.rows) if i]
    other_ids = [i for i in map(id_of, ruling.other_rows) if i]
    detail: dict[str, object] = {
        "kind": ruling.kind.value,
        "label": ruling.kind.label,
        "date": ruling.date.isoformat(),
        "customer": ruling.customer,
        "customer_name": display_name(ruling.rows) if ruling.rows else ruling.customer,
        "other": ruling.other,
        "other_name": display_name(ruling.other_rows) if ruling.other_rows else ruling.other,
        "rep": ruling.rep,
        "days": days,
        "by": ruling.by,
        "note": ruling.note,
        "ids": ids,
        "other_ids": other_ids,
    }
    key = json.dumps(typed, ensure_ascii=False, default=str)
    return RulingRecord(key, ruling.sheet, ruling.row, (ids + other_ids + [""])[0], detail)


def ruling_sentence(detail: Mapping[str, object]) -> str:
    """A recorded ruling as people read it: `指派 格林电子 给 李娜，长期保护（经办人 王经理）`."""
    label = str(detail.get("label") or detail.get("kind") or "")
    name = str(detail.get("customer_name") or detail.get("customer") or "")
    other = str(detail.get("other_name") or detail.get("other") or "")
    kind = detail.get("kind")
    if kind == RulingKind.ASSIGN.value:
        days = detail.get("days")
        span = "，长期保护" if days == "长期" else f"，保护 {days} 天" if days else ""
        text = f"{label} {name} 给 {detail.get('rep', '')}{span}"
    elif kind in (RulingKind.SAME.value, RulingKind.DIFFERENT.value):
        text = f"{label} {name} 与 {other}"
    else:
        text = f"{label} {name}"
    by = detail.get("by")
    return f"{text}（经办人 {by}）" if by else text
