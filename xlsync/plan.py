"""The changes a sync would make to each register, computed from a check, as typed records:
ids, moves, restores, hints, the rows of 冲突 / 问题 / 待确认 and the rows appended to 裁决.
Their sentences and grids are made in one step at the edge, :mod:`xlsync.plan_render`; a plan
is empty when the register already shows the truth (then nothing is written)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from xlsync.check import CheckResult, others_note
from xlsync.ids import id_number
from xlsync.matching.group import GroupReason
from xlsync.problems import ProblemCode
from xlsync.records import Problem, Register, Row, SheetData
from xlsync.register.schema import FIELDS, SHEET_NAMES, SheetKind, Status
from xlsync.rules import Claim, Verdict
from xlsync.rulings import ruled_reason, ruling_rows

if TYPE_CHECKING:
    from xlsync.plan_render import PlanText
    from xlsync.review import Decision, PossiblePair

Position = tuple[SheetKind, int]  # sheet and 1-based Excel row in one register
RowKey = tuple[str, str, int]  # a row as read: file, sheet, 1-based Excel row
_COLUMN_ORDER = {f.header: i for i, f in enumerate(FIELDS)}


@dataclass(frozen=True, slots=True)
class Place:
    """Where a row stands after the sync (a won row moves to 已合作)."""

    file: str
    sheet: str
    row: int


@dataclass(frozen=True, slots=True)
class ConflictRecord:
    """A conflict as the history keeps it (per sync), for the handout's settled conflicts."""

    key: str  # the matcher's key: the same customer from one sync to the next
    customer: str  # as a rep wrote it
    owner: str
    reps: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "customer": self.customer, "owner": self.owner,
                "reps": list(self.reps)}  # fmt: skip

    @classmethod
    def parse(cls, raw: object) -> ConflictRecord | None:
        """Read one back; histories written before 0.2 hold [key, owner, reps...] lists."""
        if isinstance(raw, dict) and raw.get("key"):
            return cls(str(raw["key"]), str(raw.get("customer") or raw["key"]),
                       str(raw.get("owner") or ""), tuple(map(str, raw.get("reps") or ())))  # fmt: skip
        if isinstance(raw, list) and raw:
            key = str(raw[0])
            return cls(key, key, str(raw[1]) if len(raw) > 1 else "", tuple(map(str, raw[2:])))
        return None


# ------------------------------------------------------------------ hints, as typed values


@dataclass(frozen=True, slots=True)
class ClaimHint:
    """A row of a customer more than one row claims: its verdict as the row is told it."""

    claim: Claim
    told: Verdict  # the claim's verdict; SAME_REP when no other rep claims the customer
    owner: Claim | None
    others: tuple[Claim, ...]  # the other reps' claims
    mine: tuple[Row, ...]  # this rep's other rows of the customer
    ruled: str = ""  # the 同一客户 rulings that joined the rows: 经理裁定为同一客户（裁决第 5 行）
    stale: str = ""  # another office's claim, as last known: 其他办事处数据暂不可用，截至 …


@dataclass(frozen=True, slots=True)
class LimitHint:
    """A row whose protection an office rule took (最多保护客户数, 冷却天数, 代理商)."""

    claim: Claim  # its protection's `limit` and `note` say which rule and why
    now_owner: Claim | None  # after a cool-down, another rep who holds the customer now


@dataclass(frozen=True, slots=True)
class DuplicateHint:
    """One rep registered the same customer more than once (and no other rep did)."""

    others: tuple[Row, ...]
    ruled: str = ""  # as in ClaimHint


@dataclass(frozen=True, slots=True)
class ReviewHint:
    """A look-alike of another row, for the manager to decide in 待确认."""

    other: Row
    listed_in: str = ""  # the register whose 待确认 lists the pair, when not this row's


@dataclass(frozen=True, slots=True)
class ProblemHint:
    problem: Problem


Hint = ClaimHint | LimitHint | DuplicateHint | ReviewHint | ProblemHint


def claim_hint(claim: Claim, owner: Claim | None, claims: tuple[Claim, ...]) -> Hint | None:
    """What a claim's own row is told, given the other claims of its customer; None when
    there is nothing to say."""
    others = tuple(c for c in claims if c is not claim and c.row.rep != claim.row.rep)
    if claim.protection.limit:
        return limit_hint(claim, owner)
    told = claim.verdict
    if not others and told is not Verdict.MUST_STOP:
        told = Verdict.SAME_REP  # one rep's own rows, whoever is protected
    if told is Verdict.MUST_STOP and owner is None:
        return None  # nobody to name (the rules give no such claim)
    mine = tuple(c.row for c in claims if c is not claim and c.row.rep == claim.row.rep)
    return ClaimHint(claim, told, owner, others, mine)


def limit_hint(claim: Claim, owner: Claim | None) -> LimitHint:
    """The hint of a row whose protection an office rule took."""
    rep = owner.row.rep if owner is not None else ""
    cooled = claim.protection.limit == "cool_down" and rep and rep != claim.row.rep
    return LimitHint(claim, owner if cooled else None)


def _hint(
    claim: Claim, owner: Claim | None, claims: tuple[Claim, ...], where: Callable[[Row], str]
) -> str:
    """The sentence shown in a claim's own row (the typed hint, rendered): what is true of
    this row and of the others."""
    from xlsync.plan_render import hint_text

    hint = claim_hint(claim, owner, claims)
    return hint_text(hint, where) if hint is not None else ""


# ------------------------------------------------------------------ the sheets' rows


@dataclass(frozen=True, slots=True)
class ConflictRow:
    """A row of 冲突: one claim of a customer that more than one rep claims."""

    customer: str  # the group's name
    owner: Claim | None
    claim: Claim
    place: Place  # where the claim's row stands after the sync
    reason: GroupReason
    ruling_rows: str | None  # the rows of 裁决 that decided (None: the set has no 裁决)
    agent: str = ""  # an agent's customer (代理商): the agent holds it


@dataclass(frozen=True, slots=True)
class ProblemRow:
    """A row of 问题 (`place`: where the problem's row stands after the sync)."""

    problem: Problem
    place: Place


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """A row of 待确认: a look-alike pair with the manager's choice so far, or a choice
    that could not be applied, kept as the manager left it."""

    id_a: str
    id_b: str
    pair: PossiblePair | None = None
    choice: str = ""
    by: str = ""
    kept: tuple[object, ...] | None = None  # the manager's row as it was


@dataclass(frozen=True, slots=True)
class RulingAppend:
    """A manager's decision in 待确认, appended to 裁决."""

    decision: Decision
    on: dt.date
    reason: str  # the look-alike's reason, for the note


@dataclass(slots=True)
class Move:
    source: int  # row in 跟进中
    target: int  # row in 已合作
    customer: str
    rep: str
    id: str
    # the 状态 column's header when the moved row's status must become 已合作 ("" if not)
    status_header: str = ""


@dataclass(slots=True)
class Restore:
    """A deleted row put back at the end of its sheet, with its last known values."""

    kind: SheetKind
    row: int
    id: str
    values: dict[str, str]  # header -> text


@dataclass(slots=True)
class Plan:
    """Everything one sync changes in one register, as records. Their text (hint
    sentences, the grids of 冲突 / 问题 / 待确认) is rendered once, on first use, by
    :func:`xlsync.plan_render.render`; the records are final once `build_plans` returns."""

    register: Register
    new_ids: dict[Position, str] = field(default_factory=dict)
    moves: list[Move] = field(default_factory=list)
    hints: dict[Position, list[Hint]] = field(default_factory=dict)  # by final position
    conflicts: list[ConflictRow] = field(default_factory=list)
    problems: list[ProblemRow] = field(default_factory=list)
    restores: list[Restore] = field(default_factory=list)
    # rows to move down before writing (first row, by): trailing 合计 rows make room above
    shifts: dict[SheetKind, tuple[int, int]] = field(default_factory=dict)
    conflict_keys: list[ConflictRecord] = field(default_factory=list)  # kept in the history
    review: list[ReviewRow] | None = None  # rows of 待确认 (None: no 待确认 to write)
    ruling_appends: list[RulingAppend] = field(default_factory=list)  # new rows of 裁决
    ruled: bool = False  # the set has a 裁决 sheet: 冲突 says which of its rows decided
    places: Mapping[RowKey, Place] = field(default_factory=dict)  # every row of the set
    _text: PlanText | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def text(self) -> PlanText:
        if self._text is None:
            from xlsync.plan_render import render

            self._text = render(self)
        return self._text

    @property
    def hints_changed(self) -> bool:
        return self.text.hints_changed

    @property
    def write_conflicts(self) -> bool:
        return self.text.write_conflicts

    @property
    def write_problems(self) -> bool:
        return self.text.write_problems

    @property
    def write_review(self) -> bool:
        return self.text.write_review

    @property
    def empty(self) -> bool:
        return not (
            self.write_review
            or self.ruling_appends
            or self.new_ids
            or self.restores
            or self.moves
            or self.hints_changed
            or self.write_conflicts
            or self.write_problems
        )

    def summary(self) -> dict[str, object]:
        return {
            "file": self.register.name,
            "new_ids": len(self.new_ids),
            "moves": [
                {
                    "from_row": m.source,
                    "to_row": m.target,
                    "customer": m.customer,
                    "rep": m.rep,
                    "id": m.id,
                }
                for m in self.moves
            ],
            "hints": len(self.hints),
            "hints_changed": self.hints_changed,
            "conflict_rows": len(self.conflicts),
            "problem_rows": len(self.problems),
            "write_conflicts": self.write_conflicts,
            "write_problems": self.write_problems,
            "restores": [r.id for r in self.restores],
            "conflicts": [c.to_json() for c in self.conflict_keys],
        }


def next_id_number(registers: list[Register]) -> int:
    """The highest number among the 编号 already in the registers (C000123 -> 123)."""
    return max((n for r in registers for row in r.rows if (n := id_number(row.id))), default=0)


def build_plans(result: CheckResult, new_ids: list[str]) -> list[Plan]:
    """One plan per register of the checked set. `new_ids` are fresh ids, enough for every
    row without one (ids are reserved by the caller so they are never reused)."""
    ids = iter(new_ids)
    plans = {reg.name: Plan(reg) for reg in result.registers.registers}
    position: dict[RowKey, Place] = {}  # final place of every row

    for plan in plans.values():
        reg = plan.register
        cooperating = reg.sheets.get(SheetKind.COOPERATING)
        next_row = first_free_row(cooperating) if cooperating else 2
        for row in reg.rows:
            stands: Position = (row.kind, row.row)
            row_id = row.id
            if not row_id:  # none left while a shared database is down: given later
                row_id = next(ids, "")
                if row_id:
                    plan.new_ids[(row.kind, row.row)] = row_id
            if row.is_move:
                keep = row.status is Status.COOPERATING or "status" in row.unreadable
                status = "" if keep else _status_header(reg)  # never overwrite what is unread
                plan.moves.append(Move(row.row, next_row, row.customer, row.rep, row_id, status))
                stands = (SheetKind.COOPERATING, next_row)
                next_row += 1
            position[(reg.name, row.sheet, row.row)] = Place(
                reg.name, _sheet_name(reg, stands[0]), stands[1]
            )
        make_room(plan, SheetKind.COOPERATING)

    hints: dict[str, dict[Position, list[Hint]]] = defaultdict(lambda: defaultdict(list))
    id_at = {(r.file, r.sheet, r.row): r.id for r in result.rows if r.id}
    for plan in plans.values():
        for (kind, number), new_id in plan.new_ids.items():
            sheet_name = plan.register.sheets[kind].name
            id_at[(plan.register.name, sheet_name, number)] = new_id

    def final(row: Row) -> Place:
        # a 指派 owner with no row of the customer stands at its row of 裁决
        return position.get((row.file, row.sheet, row.row), Place(row.file, row.sheet, row.row))

    def kind_of(place: Place) -> SheetKind:
        if place.file not in plans:  # another office's row (read only): never written
            return SheetKind.FOLLOWING
        reg = plans[place.file].register
        is_coop = place.sheet == _sheet_name(reg, SheetKind.COOPERATING)
        return SheetKind.COOPERATING if is_coop else SheetKind.FOLLOWING

    def at(row: Row) -> Position:
        place = final(row)
        return (kind_of(place), place.row)

    def order(row: Row) -> tuple[str, int, int]:
        """Where a row ends up, as a sort key: the same before and after its move."""
        place = final(row)
        return (row.file, int(kind_of(place) is SheetKind.COOPERATING), place.row)

    stale = others_note(result)  # other offices' rows as last known, when unreachable
    ruled = result.has_rulings_sheet
    groups = sorted(result.conflicts, key=lambda g: min(order(c.row) for c in g.decision.claims))
    for group in groups:
        decision = group.decision
        owner = decision.owner
        claims = tuple(sorted(decision.claims, key=lambda c: order(c.row)))
        joined = ruled_reason(group.reason)  # 经理裁定为同一客户（裁决第 5 行）
        for claim in claims:
            if claim.row.file not in plans:
                continue  # another office's row: its own office tells it
            hint = claim_hint(claim, owner, claims)
            if isinstance(hint, ClaimHint):
                foreign = stale and any(c.row.file not in plans for c in claims)
                hint = replace(hint, ruled=joined, stale=stale if foreign else "")
            if hint is not None:
                hints[claim.row.file][at(claim.row)].append(hint)
        files = {c.row.file for c in claims} & plans.keys()  # not other offices' files
        for file in files:
            plans[file].conflict_keys.append(
                ConflictRecord(
                    key=group.key,
                    customer=group.name,
                    owner=owner.row.rep if owner else "",
                    reps=tuple(sorted({c.row.rep for c in claims if c.row.rep})),
                )
            )
            for claim in claims:
                # the register set has rulings: which row of 裁决 decided
                decided = ruling_rows(group.reason, decision, claim) if ruled else None
                at_row = final(claim.row)
                plans[file].conflicts.append(ConflictRow(
                    group.name, owner, claim, at_row, group.reason, decided, decision.agent
                ))  # fmt: skip

    for group in result.groups:  # one rep registered the same customer twice: say so
        if group.decision.is_conflict:
            continue
        rows = sorted(group.rows, key=order)
        joined = ruled_reason(group.reason)
        for row in rows:
            if row.file not in plans:
                continue
            others = tuple(r for r in rows if r is not row)
            hints[row.file][at(row)].append(DuplicateHint(others, joined))

    # an office rule (最多保护客户数, 冷却天数) took a row's protection: say so in the row
    for group in [g for g in result.groups + result.limited if not g.decision.is_conflict]:
        for claim in group.decision.claims:
            if claim.protection.limit:
                hints[claim.row.file][at(claim.row)].append(limit_hint(claim, group.decision.owner))

    for pair in result.possible:  # look-alikes the manager decides: say so in both rows
        for row, other in ((pair.a, pair.b), (pair.b, pair.a)):
            listed = "" if pair.a.file == row.file else pair.a.file
            hints[row.file][at(row)].append(ReviewHint(other, listed))
    review_rows, review_problems = plan_review(result, plans, id_at)

    sheet_rank = {SheetKind.FOLLOWING: 0, SheetKind.COOPERATING: 1}

    def problem_order(p: Problem) -> tuple[int, int, int]:
        place = position.get((p.file, p.sheet, p.row))
        if place is None:
            return (-1, p.row, 0)  # 设置 and other sheets first, as they come
        return (sheet_rank[kind_of(place)], place.row, _COLUMN_ORDER.get(p.column, 99))

    for p in sorted([*result.problems, *review_problems], key=problem_order):
        if not p.sheet or p.file not in plans:
            continue
        found = position.get((p.file, p.sheet, p.row))
        if found is not None:  # a customer row (not 设置): hint it there
            hints[p.file][(kind_of(found), found.row)].append(ProblemHint(p))
        plans[p.file].problems.append(ProblemRow(p, found or Place(p.file, p.sheet, p.row)))

    for name, plan in plans.items():
        plan.hints = {pos: list(found) for pos, found in hints[name].items()}
        plan.ruled = ruled
        plan.places = position
        plan.review = review_rows.get(name)
    return list(plans.values())


def _sheet_name(register: Register, kind: SheetKind) -> str:
    sheet = register.sheets.get(kind)
    return sheet.name if sheet is not None else SHEET_NAMES[kind]


def _status_header(register: Register) -> str:
    """The header of 跟进中's 状态 column, or "" when the sheet has none."""
    sheet = register.sheets[SheetKind.FOLLOWING]
    col = sheet.columns.get("status")
    return sheet.headers[col] if col is not None and col < len(sheet.headers) else ""


def first_free_row(sheet: SheetData) -> int:
    """Where the next new row of `sheet` goes: right under its last customer row, so above
    trailing 合计 rows (which `make_room` moves down when the gap is too small)."""
    if sheet.header_row == 0:
        return 2
    return max([r.row for r in sheet.rows] + [sheet.header_row]) + 1


def make_room(plan: Plan, kind: SheetKind) -> None:
    """Decide how far the 合计 rows under the data of `kind` move down for the new rows
    (moves into 已合作, restores) the plan puts there."""
    sheet = plan.register.sheets.get(kind)
    if sheet is None or sheet.header_row == 0:
        return
    count = sum(1 for r in plan.restores if r.kind is kind)
    if kind is SheetKind.COOPERATING:
        count += len(plan.moves)
    start = first_free_row(sheet)
    below = [t for t in sheet.total_rows if t >= start]
    if not below or count == 0:
        plan.shifts.pop(kind, None)
        return
    needed = count - (min(below) - start)
    if needed > 0:
        plan.shifts[kind] = (min(below), needed)
    else:
        plan.shifts.pop(kind, None)


def plan_review(
    result: CheckResult, plans: dict[str, Plan], ids: dict[RowKey, str]
) -> tuple[dict[str, list[ReviewRow]], list[Problem]]:
    """The rows of each register's 待確认 (a register has an entry when it has rows or
    already has the sheet), and the manager's choices turned into rulings (appended to
    each plan's `ruling_appends`) or into problems."""
    from xlsync.review import decision_problem, read_decisions

    known = set(ids.values())
    reasons = {
        frozenset((ids.get((p.a.file, p.a.sheet, p.a.row), ""), ids.get((p.b.file, p.b.sheet, p.b.row), ""))): p.reason
        for p in result.possible
    }  # fmt: skip
    problems: list[Problem] = []
    decided: set[frozenset[str]] = set()
    kept: dict[frozenset[str], tuple[str, str]] = {}
    unapplied: dict[str, list[tuple[str, str]]] = defaultdict(list)  # per register
    for plan in plans.values():
        for decision in read_decisions(plan.register):
            pair = decision.pair
            missing = [i for i in (decision.id_a, decision.id_b) if i not in known]
            if decision.kind is None:
                problems.append(
                    decision_problem(
                        decision, ProblemCode.REVIEW_BAD_CHOICE, "只能选择“同一客户”或“不同客户”"
                    )
                )
            elif not decision.id_a or not decision.id_b or missing:
                gone = "、".join(missing) or "编号为空"
                problems.append(
                    decision_problem(
                        decision, ProblemCode.REVIEW_ROW_GONE, f"登记表中已找不到 {gone}"
                    )
                )
            elif pair not in decided:
                decided.add(pair)
                plan.ruling_appends.append(
                    RulingAppend(decision, result.as_of, reasons.get(pair, ""))
                )
                continue
            else:
                continue
            kept[pair] = (decision.text, decision.by)
            unapplied[plan.register.name].append((decision.id_a, decision.id_b))
    out: dict[str, list[ReviewRow]] = {}
    for plan in plans.values():
        lines: list[ReviewRow] = []
        placed: set[frozenset[str]] = set()
        for look_alike in result.possible:
            a, b = look_alike.a, look_alike.b
            if plan.register.name != a.file:
                continue  # one 待确认 per pair: the file of its first row (see review.py)
            id_a = ids.get((a.file, a.sheet, a.row), "")
            id_b = ids.get((b.file, b.sheet, b.row), "")
            key = frozenset((id_a, id_b))
            if key in decided:
                continue
            placed.add(key)
            choice, by = kept.get(key, ("", ""))
            lines.append(ReviewRow(id_a, id_b, look_alike, choice, by))
        for id_a, id_b in unapplied[plan.register.name]:
            # a choice that could not be applied stays where it was
            key = frozenset((id_a, id_b))
            if key not in placed and key in kept:
                old = next(
                    (row for row in plan.register.manager_grids[SheetKind.REVIEW][1][1:]
                     if frozenset((str(row[0]).upper(), str(row[6]).upper() if len(row) > 6 else "")) == key),
                    None,
                )  # fmt: skip
                choice, by = kept[key]
                kept_row = tuple(old) if old else None
                lines.append(ReviewRow(id_a, id_b, None, choice, by, kept=kept_row))
        if lines or SheetKind.REVIEW in plan.register.manager_grids:
            out[plan.register.name] = lines
    return out, problems
