"""A plan's records as people read them: the hint sentences and the grids of 冲突, 问题 and
待确认, made in one step at the edge (the writer, the side-car report), and compared with
what the register shows to know which of them a sync rewrites."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never

from xlsync.plan import (
    ClaimHint,
    ConflictRow,
    DuplicateHint,
    Hint,
    LimitHint,
    Place,
    Plan,
    Position,
    ProblemHint,
    ProblemRow,
    ReviewHint,
    ReviewRow,
    RulingAppend,
)
from xlsync.records import Row
from xlsync.register.cells import cell_text, trim_grid
from xlsync.register.schema import SheetKind
from xlsync.rules import VERDICT_LABELS, Claim, Verdict, agent_sentence

CONFLICT_HEADERS = ["客户", "归属业务员", "归属依据", "登记业务员", "部门", "工作表", "行", "判定",
                    "该登记的保护", "匹配依据"]  # fmt: skip
PROBLEM_HEADERS = ["工作表", "行", "列", "内容", "问题"]
RULING_COLUMN = "裁决行"  # added to 冲突 when the register set has a 裁决 sheet
HINT_SEPARATOR = "；"  # between the hints of one row

Where = Callable[[Row], str]


@dataclass(frozen=True, slots=True)
class PlanText:
    """A plan rendered: what the writer puts in the register, and what changes."""

    hints: dict[Position, str]
    conflicts: list[list[object]]  # 冲突, header first
    problems: list[list[object]]  # 问题, header first
    review: list[list[object]] | None  # 待确认, header first (None: not written)
    hints_changed: bool
    write_conflicts: bool
    write_problems: bool
    write_review: bool


def render(plan: Plan) -> PlanText:
    reg = plan.register
    viewer = reg.name
    where = where_in(plan)
    hints = {
        pos: HINT_SEPARATOR.join(hint_text(h, where) for h in found)
        for pos, found in plan.hints.items()
    }
    current = {(kind, number): text for kind, data in reg.sheets.items()
               for number, text in data.hints.items()}  # fmt: skip
    # one layout for a register alone and in a folder: alternating `sync FILE` and
    # `watch FOLDER` must not rewrite these sheets (a row in another register names
    # its file in the 工作表 cell; a register's problems are all its own)
    headers = [*CONFLICT_HEADERS, RULING_COLUMN] if plan.ruled else CONFLICT_HEADERS
    conflicts = [list[object](headers), *(conflict_line(c, viewer) for c in plan.conflicts)]
    problems = [list[object](PROBLEM_HEADERS), *map(problem_line, plan.problems)]
    review = review_grid(plan.review) if plan.review is not None else None
    old_review = reg.manager_grids.get(SheetKind.REVIEW)
    return PlanText(
        hints=hints,
        conflicts=conflicts,
        problems=problems,
        review=review,
        hints_changed=hints != current,
        write_conflicts=_as_text(conflicts) != reg.tool_grids.get(SheetKind.CONFLICTS),
        write_problems=_as_text(problems) != reg.tool_grids.get(SheetKind.PROBLEMS),
        write_review=review is not None
        and (old_review is None or _trimmed(review) != _trimmed(old_review[1])),
    )


def where_in(plan: Plan) -> Where:
    """Where a row stands after the sync, as the register `plan` writes says it."""
    viewer = plan.register.name

    def where(row: Row) -> str:
        place = plan.places.get((row.file, row.sheet, row.row)) or Place(
            row.file, row.sheet, row.row
        )
        text = f"{place.sheet} 第 {place.row} 行"
        return f"{row.file} {text}" if row.file != viewer else text

    return where


# ------------------------------------------------------------------ the sheets' rows


def conflict_line(c: ConflictRow, viewer: str) -> list[object]:
    """A row of 冲突 in the register `viewer` (a row of another register names its file)."""
    owner, place = c.owner, c.place
    line: list[object] = [
        c.customer,
        owner.row.rep if owner else f"代理商 {c.agent}" if c.agent else "（无人受保护）",
        owner.protection.reason() if owner else agent_sentence(c.agent) if c.agent else "",
        c.claim.row.rep,
        c.claim.row.department,
        place.sheet if place.file == viewer else f"{place.file} {place.sheet}",
        place.row,
        VERDICT_LABELS[c.claim.verdict],
        c.claim.protection.reason(),
        c.reason.text(),
    ]
    if c.ruling_rows is not None:
        line.append(c.ruling_rows)
    return line


def problem_line(p: ProblemRow) -> list[object]:
    return [p.place.sheet, p.place.row, p.problem.column, p.problem.value, p.problem.message]


def review_grid(rows: list[ReviewRow]) -> list[list[object]]:
    from xlsync.review import REVIEW_HEADERS, review_line

    lines: list[list[object]] = [list[object](REVIEW_HEADERS)]
    for r in rows:
        if r.kept is not None:
            lines.append(list(r.kept))
        elif r.pair is not None:
            lines.append(review_line(r.pair, r.id_a, r.id_b, (r.choice, r.by)))
        else:  # a choice not applied whose row is gone: its ids and the choice
            lines.append([r.id_a, "", "", "", "", "", r.id_b, *[""] * 6, r.choice, r.by])
    return lines


def ruling_cells(append: RulingAppend) -> list[object]:
    """The row appended to 裁决 for a manager's decision (in RULING_COLUMNS order)."""
    from xlsync.review import ruling_line

    return ruling_line(append.decision, append.on, append.reason)


def _as_text(grid: list[list[object]]) -> list[list[str]]:
    """A grid as the reader gives a written sheet back: texts, without trailing empty
    cells and rows (a 冲突 row with an empty 裁决 column ends before it)."""
    return trim_grid([[str(v) if v is not None else "" for v in row] for row in grid])


def _trimmed(grid: list[list[object]]) -> list[list[str]]:
    return trim_grid([[cell_text(v) for v in row] for row in grid])


# ------------------------------------------------------------------ hints


def hint_text(hint: Hint, where: Where) -> str:
    """The sentence of one hint; `where` says where a row stands, for the register shown."""
    match hint:
        case ClaimHint():
            text = _claim_text(hint, where)
            text = f"{text}；{hint.ruled}" if text and hint.ruled else text
            return f"{text}（{hint.stale}）" if text and hint.stale else text
        case LimitHint():
            return _limit_text(hint)
        case DuplicateHint():
            joined = f"；{hint.ruled}" if hint.ruled else ""
            return f"【重复】同一客户还登记在 {'、'.join(where(r) for r in hint.others)}{joined}"
        case ReviewHint():
            other = hint.other
            return (
                f"【待确认】可能与 {other.rep or '其他业务员'} 登记的「{other.customer}」"
                f"（{where(other)}）是同一客户，"
                f"由经理在{f' {hint.listed_in} 的' if hint.listed_in else ''}「待确认」中裁定"
            )
        case ProblemHint():
            p = hint.problem
            shown = f"「{p.value}」" if p.value else ""
            return f"【问题】{p.column}{shown}：{p.message}"
        case _:
            assert_never(hint)


def _others(claims: tuple[Claim, ...]) -> str:
    """Each other rep once, with what is true of their own claim: 杜雪梅（拜访 …，保护已于 … 到期）."""
    seen: dict[str, str] = {}
    for c in claims:
        rep = c.row.rep or "其他业务员"
        seen.setdefault(rep, f"{rep}（{c.protection.reason()}）")
    return "、".join(seen.values())


def _limit_text(hint: LimitHint) -> str:
    """The hint of a row whose protection an office rule took (its note says why)."""
    p = hint.claim.protection
    tag = {"cap": "【超限】", "agent": "【代理商】"}.get(p.limit, "【冷却】")
    owner = hint.now_owner
    tail = f"；现归 {owner.row.rep}（{owner.protection.reason()}）" if owner is not None else ""
    return f"{tag}{p.note}{tail}"


def _claim_text(hint: ClaimHint, where: Where) -> str:
    """The sentence shown in a claim's own row: what is true of this row and of the others."""
    claim, owner, others = hint.claim, hint.owner, hint.others
    match hint.told:
        case Verdict.MUST_STOP:
            assert owner is not None
            o = owner.row
            if owner.protection.assigned:
                row = owner.protection.ruling_row  # 0: another office's ruling (named in reason)
                at = f"，裁决第 {row} 行" if row else ""
                return (
                    f"【冲突】经理已指派给 {o.rep}（{owner.protection.reason()}{at}），请停止跟进"
                )
            return f"【冲突】与 {o.rep} 冲突：{o.rep} {owner.protection.reason()}（{where(o)}），请停止跟进"
        case Verdict.OWNER:
            stop = [c for c in others if c.verdict is Verdict.MUST_STOP]
            tail = (
                f"；{'、'.join(dict.fromkeys(c.row.rep for c in stop))} 须停止跟进" if stop else ""
            )
            return f"【归属】本客户归你（{claim.protection.reason()}）{tail}"
        case Verdict.EXPIRED if owner is not None:
            return (
                f"【提醒】你的保护已过期（{claim.protection.reason()}）；"
                f"现归 {owner.row.rep}（{owner.protection.reason()}）"
            )
        case Verdict.EXPIRED:
            return (
                f"【提醒】你的保护已过期（{claim.protection.reason()}）；"
                f"{_others(others)} 也登记过，目前无人受保护，可继续跟进"
            )
        case Verdict.NOTICE:
            return f"【提醒】{_others(others)} 也登记过这个客户，目前无人受保护，请先与对方沟通"
        case Verdict.SAME_REP:
            return "【重复】同一客户你登记了两次：" + "、".join(map(where, hint.mine))
        case Verdict.AGENT:  # the rules give it with the office rule's limit: said as such
            return _limit_text(LimitHint(claim, None))
        case _:
            assert_never(hint.told)
