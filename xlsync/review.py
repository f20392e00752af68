"""The "possible" tier and xlsync's sheet 待确认: look-alikes the matcher will not merge on
its own, for the manager to decide.

A possible pair is two rows the matcher found alike but not sure (same-sounding trade names
with no phone in common, one name in two cities, a short name that fits two companies).
They are not grouped and not a conflict. Each pair is a row of 待确认 with an empty 裁决
column (a dropdown 同一客户 / 不同客户); when the manager picks a value and saves, the next
sync appends that decision to 裁决 and the pair leaves 待确认. A decision that cannot be
applied stays in 待确认 and is said in 问题.

In a folder set a pair whose two rows sit in two files is listed once, in the 待确认 of the
file of its first row (`PossiblePair.a`: files in name order, then 跟进中 before 已合作,
then row order); the other row's hint names that file. The decision typed there is
appended to that file's 裁决 and, like every ruling, applies across the set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from xlsync.problems import ProblemCode
from xlsync.records import Problem, Register, Row
from xlsync.register.cells import cell_text, is_blank
from xlsync.register.schema import SheetKind, norm_label
from xlsync.rulings import RulingKind, parse_kind

REVIEW_HEADERS = [
    "编号", "客户名称", "业务员", "电话", "地区", "日期",
    "另一编号", "另一客户名称", "另一业务员", "另一电话", "另一地区", "另一日期",
    "原因", "裁决", "经办人",
]  # fmt: skip
DECISION_COLUMN = REVIEW_HEADERS.index("裁决")
BY_COLUMN = REVIEW_HEADERS.index("经办人")
CHOICES = (RulingKind.SAME.label, RulingKind.DIFFERENT.label)


@dataclass(frozen=True, slots=True)
class PossiblePair:
    a: Row
    b: Row
    reason: str


def possible_pairs(
    rows: Sequence[Row],
    order: Sequence[int],
    found: Sequence[tuple[int, int, str]],
    grouped: dict[int, int],
    forbidden: set[frozenset[int]],
) -> list[PossiblePair]:
    """The matcher's unsure pairs (positions in the matching `order`) as row pairs: one per
    two customers, none inside a group, none the manager already ruled 不同客户."""
    out: list[PossiblePair] = []
    seen: set[frozenset[object]] = set()
    for i, j, reason in found:
        a, b = rows[order[i]], rows[order[j]]
        ca, cb = grouped.get(id(a), id(a)), grouped.get(id(b), id(b))
        if ca == cb or frozenset((id(a), id(b))) in forbidden:
            continue
        key = frozenset((ca, cb))
        if key in seen:
            continue
        seen.add(key)
        first, second = sorted((a, b), key=lambda r: (r.file, r.sheet != "跟进中", r.row))
        out.append(PossiblePair(first, second, reason))
    out.sort(key=lambda p: (p.a.file, p.a.row, p.b.file, p.b.row))
    return out


def pair_json(pair: PossiblePair, folder: bool) -> dict[str, object]:
    def ref(row: Row) -> dict[str, object]:
        out: dict[str, object] = {"file": row.file} if folder else {}
        out.update(sheet=row.sheet, row=row.row)
        return out

    return {"rows": [ref(pair.a), ref(pair.b)], "reason": pair.reason}


def _date(row: Row) -> str:
    dates = [d for d in (row.won, row.sampled, row.visited, row.contacted) if d is not None]
    return max(dates).isoformat() if dates else ""


def review_line(pair: PossiblePair, id_a: str, id_b: str, keep: tuple[str, str]) -> list[object]:
    a, b = pair.a, pair.b
    return [
        id_a, a.customer, a.rep, a.phone_text, a.region, _date(a),
        id_b, b.customer, b.rep, b.phone_text, b.region, _date(b),
        pair.reason, keep[0], keep[1],
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Decision:
    """A choice the manager typed in 待确认."""

    file: str
    sheet: str
    row: int
    id_a: str
    id_b: str
    kind: RulingKind | None  # None: a value that is not a choice
    text: str
    by: str

    @property
    def pair(self) -> frozenset[str]:
        return frozenset((self.id_a, self.id_b))


def read_decisions(register: Register) -> list[Decision]:
    """The manager's choices in 待确认 (rows with something in the 裁决 column)."""
    found = register.manager_grids.get(SheetKind.REVIEW)
    if found is None:
        return []
    name, grid = found
    if not grid:
        return []
    header = [norm_label(cell_text(v)) for v in grid[0]]
    want = {h: norm_label(h) for h in ("编号", "另一编号", "裁决", "经办人")}
    cols = {h: header.index(n) for h, n in want.items() if n in header}
    if len(cols) < 3:
        return []
    out: list[Decision] = []
    for r, cells in enumerate(grid[1:], start=2):

        def get(h: str, cells: Sequence[object] = cells) -> object:
            c = cols.get(h)
            return cells[c] if c is not None and c < len(cells) else None

        choice = get("裁决")
        if is_blank(choice):
            continue
        kind = parse_kind(choice)
        if kind not in (RulingKind.SAME, RulingKind.DIFFERENT):
            kind = None
        out.append(
            Decision(
                register.name, name, r, cell_text(get("编号")).upper(),
                cell_text(get("另一编号")).upper(), kind, cell_text(choice), cell_text(get("经办人")),
            )
        )  # fmt: skip
    return out


def decision_problem(decision: Decision, code: ProblemCode, why: str) -> Problem:
    return Problem(
        decision.file,
        decision.sheet,
        decision.row,
        "裁决",
        decision.text,
        f"这条裁决还没有写入「裁决」：{why}；请核对后重新选择",
        code=code,
    )


def ruling_line(decision: Decision, on: dt.date, reason: str) -> list[object]:
    """The row appended to 裁决 for a decision (in RULING_COLUMNS order); 日期 is a date,
    written as a real Excel date."""
    assert decision.kind is not None
    return [on, decision.kind.label, decision.id_a, decision.id_b, "", "",
            decision.by, f"来自待确认：{reason}" if reason else "来自待确认"]  # fmt: skip
