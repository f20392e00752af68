"""The 分配规则 through a check: the table's rows checked against the roster and the places,
every freed customer of the check, and `allocation.allocate` over them."""

from __future__ import annotations

from collections.abc import Sequence

from xlsync.allocation import AllocationRule, FreedCustomer, Suggestion, allocate
from xlsync.matching.normalize import place_code
from xlsync.problems import ProblemCode
from xlsync.records import Problem, Row
from xlsync.rules import Decision, holdings
from xlsync.settings import Settings


def valid_rules(settings: Settings, problems: list[Problem]) -> tuple[AllocationRule, ...]:
    """The 分配规则 rows that can be used; each other row is a located problem in 设置."""
    departments = {d for d in settings.roster.values() if d}
    out: list[AllocationRule] = []
    for rule in settings.allocation:

        def problem(column: str, value: str, message: str, code: ProblemCode,
                    rule: AllocationRule = rule) -> None:  # fmt: skip
            text = f"分配规则：{message}，本行不生效"
            problems.append(
                Problem(rule.file, rule.sheet, rule.row, column, value, text, code=code)
            )

        if not rule.rep and not rule.department:
            problem("业务员", "", "缺少业务员或部门", ProblemCode.ALLOCATION_MISSING_REP)
            continue
        if rule.rep and settings.roster and rule.rep not in settings.roster:
            problem("业务员", rule.rep, "业务员不在「设置」的名单中",
                    ProblemCode.ALLOCATION_UNKNOWN_REP)  # fmt: skip
            continue
        if rule.department and rule.department not in departments:
            problem("部门", rule.department, "名单中没有这个部门的业务员",
                    ProblemCode.ALLOCATION_UNKNOWN_DEPARTMENT)  # fmt: skip
            continue
        code = place_code(rule.region) if rule.region else ""
        if rule.region and not code:
            problem("地区", rule.region, "不是省、市或区县名称", ProblemCode.ALLOCATION_BAD_REGION)
            continue
        out.append(AllocationRule(rule.row, rule.region, code, rule.industry, rule.department,
                                  rule.rep, rule.file, rule.sheet))  # fmt: skip
    return tuple(out)


def is_freed(decision: Decision) -> bool:
    """Nobody owns the customer now, no agent serves it, and a protection of it ended."""
    if decision.owner is not None or decision.agent:
        return False
    return any(c.protection.ever_protected for c in decision.claims)


def freed_customer(rows: Sequence[Row], decision: Decision) -> FreedCustomer:
    names = tuple(dict.fromkeys(r.customer for r in rows if r.customer))
    code = next((c for r in rows if r.region and (c := place_code(r.region))), "")
    if not code:
        code = next((c for n in names if (c := place_code(n))), "")
    ended = frozenset(c.row.rep for c in decision.claims
                      if c.row.rep and c.protection.ever_protected)  # fmt: skip
    key = tuple(sorted("\x1f".join(r.content_key()) for r in rows))
    return FreedCustomer(key, names, code, ended)


def suggestions(
    customers: Sequence[tuple[Sequence[Row], Decision]],
    rules: Sequence[AllocationRule],
    settings: Settings,
) -> dict[int, Suggestion]:
    """The suggestion for every row (by id(row)) of every freed customer a rule fits."""
    if not rules:
        return {}
    freed = [(rows, freed_customer(rows, d)) for rows, d in customers if is_freed(d)]
    held = holdings([d for _, d in customers])
    found = allocate([f for _, f in freed], rules, settings.roster, held,
                     settings.max_protected)  # fmt: skip
    out: dict[int, Suggestion] = {}
    for rows, customer in freed:
        suggestion = found.get(customer.key)
        if suggestion is not None:
            out.update({id(r): suggestion for r in rows})
    return out
