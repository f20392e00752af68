"""The changes a sync would make to each register, computed from a check; empty when the
register already shows the truth (then nothing is written)."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from xlsync.check import CheckResult, others_note
from xlsync.ids import id_number
from xlsync.model import Problem, Register, Row, SheetData
from xlsync.problems import ProblemCode
from xlsync.register.schema import FIELDS, SHEET_NAMES, SheetKind, Status
from xlsync.rules import VERDICT_LABELS, Claim, Verdict
from xlsync.rulings import ruling_rows

Position = tuple[SheetKind, int]  # sheet and 1-based Excel row in one register

CONFLICT_HEADERS = ["客户", "归属业务员", "归属依据", "登记业务员", "部门", "工作表", "行", "判定",
                    "该登记的保护", "匹配依据"]  # fmt: skip
PROBLEM_HEADERS = ["工作表", "行", "列", "内容", "问题"]
RULING_COLUMN = "裁决行"  # added to 冲突 when the register set has a 裁决 sheet
_COLUMN_ORDER = {f.header: i for i, f in enumerate(FIELDS)}


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
    """Everything one sync changes in one register."""

    register: Register
    new_ids: dict[Position, str] = field(default_factory=dict)
    moves: list[Move] = field(default_factory=list)
    hints: dict[Position, str] = field(default_factory=dict)  # wanted hints, final positions
    hints_changed: bool = False
    conflicts: list[list[object]] = field(default_factory=list)  # rows of 冲突 (with header)
    problems: list[list[object]] = field(default_factory=list)  # rows of 问题 (with header)
    write_conflicts: bool = False
    write_problems: bool = False
    restores: list[Restore] = field(default_factory=list)
    # rows to move down before writing (first row, by): trailing 合计 rows make room above
    shifts: dict[SheetKind, tuple[int, int]] = field(default_factory=dict)
    conflict_keys: list[ConflictRecord] = field(default_factory=list)  # kept in the history
    review: list[list[object]] = field(default_factory=list)  # rows of 待确认 (with header)
    write_review: bool = False
    ruling_appends: list[list[object]] = field(default_factory=list)  # new rows of 裁决

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
            "conflict_rows": max(len(self.conflicts) - 1, 0),
            "problem_rows": max(len(self.problems) - 1, 0),
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
    position: dict[tuple[str, str, int], tuple[str, int]] = {}  # final place of every row

    for plan in plans.values():
        reg = plan.register
        cooperating = reg.sheets.get(SheetKind.COOPERATING)
        next_row = first_free_row(cooperating) if cooperating else 2
        for row in reg.rows:
            place: Position = (row.kind, row.row)
            row_id = row.id
            if not row_id:  # none left while a shared database is down: given later
                row_id = next(ids, "")
                if row_id:
                    plan.new_ids[(row.kind, row.row)] = row_id
            if row.is_move:
                keep = row.status is Status.COOPERATING or "status" in row.unreadable
                status = "" if keep else _status_header(reg)  # never overwrite what is unread
                plan.moves.append(Move(row.row, next_row, row.customer, row.rep, row_id, status))
                place = (SheetKind.COOPERATING, next_row)
                next_row += 1
            position[(reg.name, row.sheet, row.row)] = (_sheet_name(reg, place[0]), place[1])
        make_room(plan, SheetKind.COOPERATING)

    hints: dict[str, dict[Position, list[str]]] = defaultdict(lambda: defaultdict(list))
    id_at = {(r.file, r.sheet, r.row): r.id for r in result.rows if r.id}
    for plan in plans.values():
        for (kind, number), new_id in plan.new_ids.items():
            sheet_name = plan.register.sheets[kind].name
            id_at[(plan.register.name, sheet_name, number)] = new_id

    def final(row: Row) -> tuple[str, int]:
        # a 指派 owner with no row of the customer stands at its row of 裁决
        return position.get((row.file, row.sheet, row.row), (row.sheet, row.row))

    def kind_of(reg_name: str, sheet: str) -> SheetKind:
        if reg_name not in plans:  # another office's row (read only): never written
            return SheetKind.FOLLOWING
        reg = plans[reg_name].register
        is_coop = sheet == _sheet_name(reg, SheetKind.COOPERATING)
        return SheetKind.COOPERATING if is_coop else SheetKind.FOLLOWING

    def where(row: Row, viewer: str) -> str:
        sheet, number = final(row)
        text = f"{sheet} 第 {number} 行"
        return f"{row.file} {text}" if row.file != viewer else text

    def order(row: Row) -> tuple[str, int, int]:
        """Where a row ends up, as a sort key: the same before and after its move."""
        sheet, number = final(row)
        return (row.file, int(kind_of(row.file, sheet) is SheetKind.COOPERATING), number)

    conflict_rows: dict[str, list[list[object]]] = defaultdict(list)
    stale = others_note(result)
    ruled = result.has_rulings_sheet
    groups = sorted(result.conflicts, key=lambda g: min(order(c.row) for c in g.decision.claims))
    for group in groups:
        decision = group.decision
        owner = decision.owner
        claims = tuple(sorted(decision.claims, key=lambda c: order(c.row)))
        for claim in claims:
            row = claim.row
            sheet, number = final(row)
            text = _hint(claim, owner, claims, functools.partial(where, viewer=row.file))
            if text and stale and any(c.row.file not in plans for c in claims):
                text += f"（{stale}）"  # another office's row, as last known
            if text:
                hints[row.file][(kind_of(row.file, sheet), number)].append(text)
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
                row = claim.row
                sheet, number = final(row)
                line: list[object] = [
                    group.name,
                    owner.row.rep if owner else "（无人受保护）",
                    owner.protection.reason() if owner else "",
                    row.rep,
                    row.department,
                    sheet if row.file == file else f"{row.file} {sheet}",
                    number,
                    VERDICT_LABELS[claim.verdict],
                    claim.protection.reason(),
                    group.reason.text(),
                ]
                if ruled:  # the register set has rulings: which row of 裁决 decided
                    line.append(ruling_rows(group.reason, group.decision, claim))
                conflict_rows[file].append(line)

    for group in result.groups:  # one rep registered the same customer twice: say so
        if group.decision.is_conflict:
            continue
        rows = sorted(group.rows, key=order)
        for row in rows:
            others = "、".join(where(r, row.file) for r in rows if r is not row)
            sheet, number = final(row)
            hints[row.file][(kind_of(row.file, sheet), number)].append(
                f"【重复】同一客户还登记在 {others}"
            )

    # an office rule (最多保护客户数, 冷却天数) took a row's protection: say so in the row
    for group in [g for g in result.groups + result.limited if not g.decision.is_conflict]:
        for claim in group.decision.claims:
            if claim.protection.limit:
                sheet, number = final(claim.row)
                hints[claim.row.file][(kind_of(claim.row.file, sheet), number)].append(
                    _limit_hint(claim, group.decision.owner)
                )

    for pair in result.possible:  # look-alikes the manager decides: say so in both rows
        for row, other in ((pair.a, pair.b), (pair.b, pair.a)):
            sheet, number = final(row)
            hints[row.file][(kind_of(row.file, sheet), number)].append(
                f"【待确认】可能与 {other.rep or '其他业务员'} 登记的「{other.customer}」"
                f"（{where(other, row.file)}）是同一客户，由经理在「待确认」中裁定"
            )
    review_rows, review_problems = plan_review(result, plans, id_at)

    problem_rows: dict[str, list[list[object]]] = defaultdict(list)
    sheet_rank = {SheetKind.FOLLOWING: 0, SheetKind.COOPERATING: 1}

    def problem_order(p: Problem) -> tuple[int, int, int]:
        sheet, number = position.get((p.file, p.sheet, p.row), (p.sheet, p.row))
        if (p.file, p.sheet, p.row) not in position:
            return (-1, number, 0)  # 设置 and other sheets first, as they come
        return (sheet_rank[kind_of(p.file, sheet)], number, _COLUMN_ORDER.get(p.column, 99))

    for p in sorted([*result.problems, *review_problems], key=problem_order):
        if not p.sheet or p.file not in plans:
            continue
        sheet, number = position.get((p.file, p.sheet, p.row), (p.sheet, p.row))
        if (p.file, p.sheet, p.row) in position:  # a customer row (not 设置): hint it there
            shown = f"「{p.value}」" if p.value else ""
            hints[p.file][(kind_of(p.file, sheet), number)].append(
                f"【问题】{p.column}{shown}：{p.message}"
            )
        problem_rows[p.file].append([sheet, number, p.column, p.value, p.message])

    for name, plan in plans.items():
        reg = plan.register
        plan.hints = {pos: "；".join(texts) for pos, texts in hints[name].items()}
        current: dict[Position, str] = {}
        for kind, data in reg.sheets.items():
            for number, text in data.hints.items():
                current[(kind, number)] = text
        plan.hints_changed = plan.hints != current
        # one layout for a register alone and in a folder: alternating `sync FILE` and
        # `watch FOLDER` must not rewrite these sheets (a row in another register names
        # its file in the 工作表 cell; a register's problems are all its own)
        headers = [*CONFLICT_HEADERS, RULING_COLUMN] if ruled else CONFLICT_HEADERS
        plan.conflicts = [list[object](headers), *conflict_rows[name]]
        plan.problems = [list[object](PROBLEM_HEADERS), *problem_rows[name]]
        plan.write_conflicts = _as_text(plan.conflicts) != reg.tool_grids.get(SheetKind.CONFLICTS)
        plan.write_problems = _as_text(plan.problems) != reg.tool_grids.get(SheetKind.PROBLEMS)
        review = review_rows.get(name)
        if review is not None:
            plan.review = review
            old = reg.manager_grids.get(SheetKind.REVIEW)
            plan.write_review = old is None or _trimmed(review) != _trimmed(old[1])
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


def _trimmed(grid: list[list[object]]) -> list[list[str]]:
    from xlsync.register.cells import cell_text

    rows = [[cell_text(v) for v in row] for row in grid]
    for row in rows:
        while row and not row[-1]:
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def plan_review(
    result: CheckResult, plans: dict[str, Plan], ids: dict[tuple[str, str, int], str]
) -> tuple[dict[str, list[list[object]]], list[Problem]]:
    """The 待确认 sheet of each register, and the manager's choices turned into rulings."""
    from xlsync.review import (
        REVIEW_HEADERS,
        decision_problem,
        read_decisions,
        review_line,
        ruling_line,
    )

    known = set(ids.values())
    reasons = {
        frozenset((ids.get((p.a.file, p.a.sheet, p.a.row), ""), ids.get((p.b.file, p.b.sheet, p.b.row), ""))): p.reason
        for p in result.possible
    }  # fmt: skip
    problems: list[Problem] = []
    decided: set[frozenset[str]] = set()
    kept: dict[frozenset[str], tuple[str, str]] = {}
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
                    ruling_line(decision, result.as_of, reasons.get(pair, ""))
                )
                continue
            else:
                continue
            kept[pair] = (decision.text, decision.by)
            plan.review.append([decision.id_a, "", "", "", "", "", decision.id_b])  # marker
    out: dict[str, list[list[object]]] = {}
    for plan in plans.values():
        lines: list[list[object]] = []
        placed: set[frozenset[str]] = set()
        for look_alike in result.possible:
            a, b = look_alike.a, look_alike.b
            if plan.register.name not in (a.file, b.file):
                continue
            id_a = ids.get((a.file, a.sheet, a.row), "")
            id_b = ids.get((b.file, b.sheet, b.row), "")
            key = frozenset((id_a, id_b))
            if key in decided:
                continue
            placed.add(key)
            lines.append(review_line(look_alike, id_a, id_b, kept.get(key, ("", ""))))
        for marker in plan.review:  # a choice that could not be applied stays where it was
            key = frozenset((str(marker[0]), str(marker[6])))
            if key not in placed and key in kept:
                old = next(
                    (row for row in plan.register.manager_grids[SheetKind.REVIEW][1][1:]
                     if frozenset((str(row[0]).upper(), str(row[6]).upper() if len(row) > 6 else "")) == key),
                    None,
                )  # fmt: skip
                lines.append(list(old) if old else [*marker, *[""] * 6, kept[key][0], kept[key][1]])
        plan.review = []
        if lines or SheetKind.REVIEW in plan.register.manager_grids:
            out[plan.register.name] = [list[object](REVIEW_HEADERS), *lines]
    return out, problems


def _as_text(grid: list[list[object]]) -> list[list[str]]:
    return [[str(v) if v is not None else "" for v in row] for row in grid]


def _others(claims: list[Claim]) -> str:
    """Each other rep once, with what is true of their own claim: 杜雪梅（拜访 …，保护已于 … 到期）."""
    seen: dict[str, str] = {}
    for c in claims:
        rep = c.row.rep or "其他业务员"
        seen.setdefault(rep, f"{rep}（{c.protection.reason()}）")
    return "、".join(seen.values())


def _limit_hint(claim: Claim, owner: Claim | None) -> str:
    """The hint of a row whose protection an office rule took (its note says why)."""
    p = claim.protection
    tag = {"cap": "【超限】", "agent": "【代理商】"}.get(p.limit, "【冷却】")
    tail = ""
    if (
        p.limit == "cool_down"
        and owner is not None
        and owner.row.rep
        and owner.row.rep != claim.row.rep
    ):
        tail = f"；现归 {owner.row.rep}（{owner.protection.reason()}）"
    return f"{tag}{p.note}{tail}"


def _hint(
    claim: Claim, owner: Claim | None, claims: tuple[Claim, ...], where: Callable[[Row], str]
) -> str:
    """The sentence shown in a claim's own row: what is true of this row and of the others."""
    others = [c for c in claims if c is not claim and c.row.rep != claim.row.rep]
    verdict = claim.verdict
    if claim.protection.limit:
        return _limit_hint(claim, owner)
    if not others and verdict is not Verdict.MUST_STOP:
        verdict = Verdict.SAME_REP  # one rep's own rows, whoever is protected
    if verdict is Verdict.MUST_STOP and owner is not None and owner.protection.assigned:
        o = owner.row
        return f"【冲突】经理已指派给 {o.rep}（{owner.protection.reason()}，裁决第 {owner.protection.ruling_row} 行），请停止跟进"
    if verdict is Verdict.MUST_STOP and owner is not None:
        o = owner.row
        return f"【冲突】与 {o.rep} 冲突：{o.rep} {owner.protection.reason()}（{where(o)}），请停止跟进"
    if verdict is Verdict.OWNER:
        stop = [c for c in others if c.verdict is Verdict.MUST_STOP]
        tail = f"；{'、'.join(dict.fromkeys(c.row.rep for c in stop))} 须停止跟进" if stop else ""
        return f"【归属】本客户归你（{claim.protection.reason()}）{tail}"
    if verdict is Verdict.EXPIRED:
        if owner is not None:
            return (
                f"【提醒】你的保护已过期（{claim.protection.reason()}）；"
                f"现归 {owner.row.rep}（{owner.protection.reason()}）"
            )
        return (
            f"【提醒】你的保护已过期（{claim.protection.reason()}）；"
            f"{_others(others)} 也登记过，目前无人受保护，可继续跟进"
        )
    if verdict is Verdict.NOTICE:
        return f"【提醒】{_others(others)} 也登记过这个客户，目前无人受保护，请先与对方沟通"
    if verdict is Verdict.SAME_REP:
        return "【重复】同一客户你登记了两次：" + "、".join(
            where(c.row) for c in claims if c is not claim and c.row.rep == claim.row.rep
        )
    return ""
