"""分配规则: who should take a freed customer. A pure function over typed values.

The manager's table in 设置 is `地区 | 部门 | 业务员`, with an optional 行业 column (a word
such as 涂料 or 电子). Each row is an `AllocationRule`; every customer whose protection
ended (expired, released, taken by the cap or the cool-down) and that nobody owns now is a
`FreedCustomer`. `allocate` gives each freed customer at most one `Suggestion`:

- The rules that fit the customer: its place (the row's 地区, else the place its name starts
  with, as a province/city code of the division list the matcher uses) lies in the rule's
  地区 (blank: any place), and its name contains the rule's 行业 (blank: any). The most
  specific rule is tried first (a city before its province, a rule with 行业 before one
  without), then the table's order.
- A rule naming a 业务员 suggests that rep; a rule naming a 部门 (only, or as well) suggests
  the rep of the department (as the roster says) holding the fewest protected customers.
- Never a rep in `excluded` (whose protection of this customer just ended, or who is in
  cool-down for it), nor a rep at the cap (最多保护客户数). When a rule's reps are all
  excluded, the next fitting rule is tried; when none is left, no suggestion.
- Fair and deterministic: the customers are taken in the order of their `key` (what the
  reps typed, never where a row stands), and each suggestion counts towards its rep's load
  for the next ones, so many freed customers spread over a department by load. Ties go to
  the rep whose name sorts first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AllocationRule:
    """One row of the 分配规则 table (validated: a known rep or department, a real place)."""

    row: int  # Excel row in 设置
    region: str = ""  # as typed; "" = any place
    region_code: str = ""  # the place's province/city code ("" when `region` is "")
    industry: str = ""  # a word the customer's name contains; "" = any
    department: str = ""
    rep: str = ""
    file: str = ""
    sheet: str = ""

    def fits(self, customer: FreedCustomer) -> bool:
        if self.region_code and not customer.region_code.startswith(self.region_code):
            return False
        return not self.industry or any(self.industry in n for n in customer.names)

    def specificity(self) -> tuple[int, int, int]:
        """Sort key: the most specific rule first, then the table's order."""
        return (-len(self.region_code), -bool(self.industry), self.row)

    def label(self) -> str:
        return f"分配规则第 {self.row} 行"


@dataclass(frozen=True, slots=True)
class FreedCustomer:
    key: tuple[str, ...]  # a stable order: what the reps typed, never where rows stand
    names: tuple[str, ...]  # the customer's names as written
    region_code: str  # "" when neither its 地区 nor its name names a place
    excluded: frozenset[str] = field(default_factory=frozenset)  # reps never suggested


@dataclass(frozen=True, slots=True)
class Suggestion:
    rep: str
    department: str
    rule_row: int

    def text(self) -> str:
        """销售二部 王芳 (the department first, when the roster gives one)."""
        return f"{self.department} {self.rep}".strip()


def allocate(
    freed: Sequence[FreedCustomer],
    rules: Sequence[AllocationRule],
    roster: Mapping[str, str],
    held: Mapping[str, int],
    cap: int | None = None,
) -> dict[tuple[str, ...], Suggestion]:
    """The suggested next rep of each freed customer (by its key); see the module."""
    if not rules or not freed:
        return {}
    ordered = sorted(rules, key=lambda r: r.specificity())
    by_department: dict[str, list[str]] = {}
    for rep, department in sorted(roster.items()):
        if department:
            by_department.setdefault(department, []).append(rep)
    load = {rep: held.get(rep, 0) for rep in roster}
    out: dict[tuple[str, ...], Suggestion] = {}
    for customer in sorted(freed, key=lambda c: c.key):
        for rule in ordered:
            if not rule.fits(customer):
                continue

            def free(rep: str, customer: FreedCustomer = customer) -> bool:
                if rep in customer.excluded:
                    return False
                return not cap or load.get(rep, held.get(rep, 0)) < cap

            pick = rule.rep if rule.rep and free(rule.rep) else ""
            if not pick and rule.department:
                pool = [r for r in by_department.get(rule.department, []) if free(r)]
                pick = min(pool, key=lambda r: (load.get(r, 0), r), default="")
            if pick:
                department = roster.get(pick, "") or rule.department
                out[customer.key] = Suggestion(pick, department, rule.row)
                load[pick] = load.get(pick, held.get(pick, 0)) + 1
                break
    return out
