"""The read-only pipeline: read -> validate -> match -> rules; the result `check` prints."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from xlsync.agents import Listing, agent_for, read_agents
from xlsync.allocation import AllocationRule, Suggestion
from xlsync.earlier import EarlierDates, overwritten_dates
from xlsync.lookup import display_name
from xlsync.matching import analyse
from xlsync.matching.group import Group, GroupReason, Item, group_items
from xlsync.problems import ProblemCode
from xlsync.records import OtherOffices, Problem, Row
from xlsync.register.schema import FIELDS, SheetKind, field_text
from xlsync.register.validate import validate_rows
from xlsync.register_set import RegisterSet, load_set
from xlsync.review import PossiblePair, pair_json, possible_pairs
from xlsync.rules import Decision, Verdict, apply_agent, apply_cap, apply_cool_down, decide
from xlsync.rulings import (
    DeletedLookup,
    RulingEffects,
    add_office_rulings,
    load_rulings,
    ruled_reason,
    ruling_json,
)
from xlsync.runtime import collector_paused
from xlsync.settings import Settings
from xlsync.suggest import suggestions, valid_rules

if TYPE_CHECKING:
    from xlsync.workspace import Workspace

_COLUMN_ORDER = {f.header: i for i, f in enumerate(FIELDS)}


@dataclass(slots=True)
class DuplicateGroup:
    key: str  # the matcher's key (check --json `key`); never shown to people
    reason: GroupReason  # why the rows were grouped; people read `reason.text()`
    rows: list[Row]
    decision: Decision

    @property
    def name(self) -> str:
        """The customer's name as a rep wrote it: the owner's spelling, else the fullest."""
        owner = self.decision.owner
        return display_name(self.rows, owner.row if owner else None)


@dataclass(slots=True)
class CheckResult:
    target: str  # PATH as given
    as_of: dt.date
    registers: RegisterSet
    rows: list[Row]
    problems: list[Problem]
    groups: list[DuplicateGroup]
    moves: list[Row]
    # the manager's rulings (裁决) and the single-row customers a 指派 / 释放 decided
    rulings: RulingEffects = field(default_factory=RulingEffects)
    ruled: list[DuplicateGroup] = field(default_factory=list)
    possible: list[PossiblePair] = field(default_factory=list)  # for 待确认
    # single-row customers an office rule (最多保护客户数, 冷却天数) took protection from
    limited: list[DuplicateGroup] = field(default_factory=list)
    # the 分配规则's next rep for the rows of freed customers, by id(row)
    suggested: dict[int, Suggestion] = field(default_factory=dict)
    # rows of other offices (shared database) matched with this office's rows, read only
    others: list[Row] = field(default_factory=list)
    others_stale: dt.datetime | None = None  # other offices unreachable: their data as of

    def customers(self) -> list[tuple[Sequence[Row], Decision]]:
        """Every customer of the check and its decision (single rows decided alone)."""
        days = self.registers.settings.protection_days
        return every_customer(self.rows, self.groups + self.ruled + self.limited, days, self.as_of)

    def suggestion_for(self, rows: Sequence[Row]) -> Suggestion | None:
        """The suggested next rep of the customer of `rows` (freed, a rule fits), or None."""
        return next((s for r in rows if (s := self.suggested.get(id(r))) is not None), None)

    @property
    def conflicts(self) -> list[DuplicateGroup]:
        return [g for g in self.groups + self.ruled + self.limited if g.decision.is_conflict]

    @property
    def double_entries(self) -> list[DuplicateGroup]:
        """Groups whose rows all belong to one rep: not conflicts, but check --json lists
        them in `conflicts` so that the rep sees the double entry."""
        return [g for g in self.groups if g.decision.is_one_rep]

    @property
    def has_rulings_sheet(self) -> bool:
        return any(SheetKind.RULINGS in r.manager_grids for r in self.registers.registers)

    @property
    def is_folder(self) -> bool:
        return self.registers.is_folder

    @property
    def has_findings(self) -> bool:
        return bool(self.conflicts or self.problems)


# What the matcher is given: (customer name, canonical phones, contact person) of every
# row, in match order.
Names = tuple[tuple[str, tuple[str, ...], str], ...]


Forced = tuple[tuple[int, int, int], ...]  # 同一客户 links: positions in match order, row of 裁决
Forbidden = tuple[tuple[int, int], ...]  # 不同客户 pairs
Unsure = tuple[tuple[int, int, str], ...]  # look-alike pairs the matcher did not group


class GroupingCache:
    """The last grouping computed, reused when the same names (and the same rulings) are
    checked again (a watcher re-checking a register whose names did not change).

    Safe to share between threads (the watcher's sync and its report thread check at the
    same time): the names and their groups are stored as one tuple under a lock and compared
    on a snapshot, so every caller gets the groups of its own names. The grouping itself
    runs outside the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[object, tuple[tuple[Group, ...], Unsure]] | None = None
        # each row's prepared item (a pure function of its name triple), of the last names
        # only: a changed register prepares only its new and changed rows again
        self._items: dict[tuple[str, tuple[str, ...], str], Item] = {}

    def groups(
        self, names: Names, forced: Forced = (), forbidden: Forbidden = ()
    ) -> tuple[tuple[Group, ...], Unsure]:
        """The groups of `names` under the rulings' links, and the unsure pairs."""
        key = (names, forced, forbidden)
        with self._lock:
            last, known = self._last, self._items
        if last is not None and last[0] == key:
            return last[1]
        unsure: list[tuple[int, int, str]] = []
        with collector_paused():
            items = [
                known.get(triple)
                or Item.of(triple[0], triple[1], canonical=True, contact=triple[2])
                for triple in names
            ]
            found = tuple(group_items(items, forced=forced, forbidden=forbidden, possible=unsure))
        answer = (found, tuple(unsure))
        with self._lock:
            self._last = (key, answer)
            self._items = dict(zip(names, items, strict=True))
        return answer


def run_check(
    target: Path | str, as_of: dt.date, *, grouping: GroupingCache | None = None
) -> CheckResult:
    from xlsync.workspace import Workspace

    registers = load_set(target)
    others = Workspace.of(registers.target).other_offices()
    return check_registers(str(target), registers, as_of, grouping=grouping, others=others)


def check_registers(
    target: str,
    registers: RegisterSet,
    as_of: dt.date,
    deleted: DeletedLookup | None = None,
    *,
    grouping: GroupingCache | None = None,
    earlier: EarlierDates | None = None,
    others: OtherOffices | None = None,
) -> CheckResult:
    """`deleted` finds a deleted row by 编号 in the history (for a ruling that names one);
    `earlier` gives the visit and sample dates rows lost (default: from the set's history,
    read only when 冷却天数 is on). `others` finds the rows of other offices that may name
    the same customers: they are matched and decided with this office's rows, and never
    written."""
    settings = registers.settings
    rows: list[Row] = []
    problems: list[Problem] = []
    for register in registers.registers:
        # rows in the order they will stand after a sync: won rows go to the end of 已合作
        here = register.rows
        rows.extend(r for r in here if not r.is_move)
        rows.extend(r for r in here if r.is_move)
        problems.extend(register.problems)
    for bad in registers.unusable:
        problems.append(Problem.whole_file(bad.path.name, ProblemCode.FILE_UNUSABLE, bad.message))
    problems.extend(validate_rows(rows, settings, as_of))
    rulings = load_rulings(
        registers.registers, rows, settings, problems, _deleted(registers, deleted)
    )
    listings = read_agents(registers.registers, problems)
    allocation = valid_rules(settings, problems)
    sheet_rank = {
        (reg.name, name): i for reg in registers.registers for i, name in enumerate(reg.sheet_names)
    }
    problems.sort(
        key=lambda p: (
            p.file,
            sheet_rank.get((p.file, p.sheet), -1),
            p.row,
            _COLUMN_ORDER.get(p.column, 99),
        )
    )
    local = rows
    other = others.candidates(local) if others is not None else None
    rows = local + other.rows if other is not None else local
    if other is not None and other.rulings:  # the other offices' rulings on these customers
        add_office_rulings(rulings, other.rulings, rows)
    if other is not None and other.agents:  # an agent listed by any office serves them
        listings += [Listing(f"{a.office}/{a.file}", a.sheet, a.row, a.name, a.phones, a.region,
                             a.agent, a.until) for a in other.agents]  # fmt: skip
    # match in an order that does not depend on where rows stand (a sync moves rows)
    order = sorted(range(len(rows)), key=lambda i: rows[i].content_key())
    names: Names = tuple((rows[i].customer, rows[i].phones, rows[i].contact) for i in order)
    forced, forbidden = _ruled_links(rows, order, rulings) if rulings else ((), ())
    # a caller without a cache of its own (one `check`, a report) groups afresh; a
    # long-running one (the watcher, through its Workspace) brings one in
    found, unsure = (grouping or GroupingCache()).groups(names, forced, forbidden)
    groups: list[DuplicateGroup] = []
    grouped: set[int] = set()
    for group in sorted(found, key=lambda g: min(order[i] for i in g.members)):
        members = [rows[i] for i in sorted(order[m] for m in group.members)]
        grouped.update(id(r) for r in members)
        events = rulings.events_for(members) if rulings else []
        decision = decide(members, settings.protection_days, as_of, events)
        groups.append(DuplicateGroup(_group_key(members), group.reason, members, decision))
    ruled: list[DuplicateGroup] = []
    for row in local if rulings.has_events else ():
        events = rulings.events_for([row])
        if events and id(row) not in grouped:  # one row, decided by a 指派 / 释放
            decision = decide([row], settings.protection_days, as_of, events)
            ruled.append(DuplicateGroup(_group_key([row]), GroupReason(()), [row], decision))
    if earlier is None and settings.cool_down_days:
        earlier = _earlier(registers)
    limited = _office_rules(local, groups, ruled, settings, as_of, listings, rulings, earlier or {})
    suggested = _suggest(local, groups + ruled + limited, allocation, settings, as_of)
    moves = sorted((r for r in local if r.is_move), key=lambda r: (r.file, r.row))
    in_group = {id(r): k for k, g in enumerate(groups) for r in g.rows}
    apart = {frozenset((id(a), id(b))) for a, b in rulings.forbidden}
    possible = possible_pairs(rows, order, unsure, in_group, apart)
    if other is not None:  # look-alikes with another office's row are not for 待确认 here
        mine = {id(r) for r in local}
        possible = [p for p in possible if id(p.a) in mine and id(p.b) in mine]
    return CheckResult(
        target, as_of, registers, local, problems, groups, moves, rulings, ruled, possible, limited,
        suggested, other.rows if other else [], other.stale_since if other else None,
    )  # fmt: skip


def _suggest(
    rows: list[Row],
    decided: list[DuplicateGroup],
    allocation: Sequence[AllocationRule],
    settings: Settings,
    as_of: dt.date,
) -> dict[int, Suggestion]:
    """The 分配规则's suggestion for each row of a freed customer (by id(row))."""
    if not allocation:
        return {}
    customers = every_customer(rows, decided, settings.protection_days, as_of)
    return suggestions(customers, allocation, settings)


def every_customer(
    rows: Sequence[Row], decided: Sequence[DuplicateGroup], days: int, as_of: dt.date
) -> list[tuple[Sequence[Row], Decision]]:
    """Every customer and its decision: the groups decided, then each other row alone."""
    seen = {id(r) for g in decided for r in g.rows}
    customers: list[tuple[Sequence[Row], Decision]] = [(g.rows, g.decision) for g in decided]
    customers += [([r], decide([r], days, as_of)) for r in rows if id(r) not in seen]
    return customers


def _office_rules(
    rows: list[Row],
    groups: list[DuplicateGroup],
    ruled: list[DuplicateGroup],
    settings: Settings,
    as_of: dt.date,
    listings: Sequence[Listing] = (),
    rulings: RulingEffects | None = None,
    earlier: EarlierDates | None = None,
) -> list[DuplicateGroup]:
    """Apply 冷却天数 then 最多保护客户数 over every customer (groups, ruled single rows and
    the other single rows), then the 代理商 listings, in place; return the single rows whose
    protection a rule took. `earlier`: dates the rows lost (by 编号), for the cool-down."""
    live = [x for x in listings if x.applies(as_of)]
    if not settings.max_protected and not settings.cool_down_days and not live:
        return []
    days = settings.protection_days
    seen = {id(r) for g in groups + ruled for r in g.rows}
    singles = [
        DuplicateGroup(_group_key([r]), GroupReason(()), [r], decide([r], days, as_of))
        for r in rows
        if id(r) not in seen
    ]
    everyone = groups + ruled + singles
    lost = earlier or {}

    def cool(group: DuplicateGroup) -> Decision:
        known = [(rep or r.rep, d) for r in group.rows if r.id for rep, d in lost.get(r.id, ())]
        events = rulings.events_for(group.rows) if rulings and rulings.has_events else []
        return apply_cool_down(group.decision, days, settings.cool_down_days, as_of,
                               earlier=known, events=events)  # fmt: skip

    cooled = [cool(g) for g in everyone]
    for group, decision in zip(everyone, apply_cap(cooled, settings.max_protected), strict=True):
        agent = agent_for(group.rows, live, as_of) if live else ""
        group.decision = apply_agent(decision, agent) if agent else decision
    return [g for g in singles if any(c.protection.limit for c in g.decision.claims)]


Links = tuple[Forced, Forbidden]


def _ruled_links(rows: list[Row], order: list[int], rulings: RulingEffects) -> Links:
    """The rulings' 同一客户 links and 不同客户 pairs, as positions in the matching order."""
    where = {id(rows[i]): k for k, i in enumerate(order)}
    forced = tuple((where[id(a)], where[id(b)], why) for a, b, why in rulings.forced)
    forbidden = tuple((where[id(a)], where[id(b)]) for a, b in rulings.forbidden)
    return forced, forbidden


def _earlier(registers: RegisterSet) -> EarlierDates:
    """The visit and sample dates rows lost, from the set's history (never created here)."""
    from xlsync.workspace import Workspace

    workspace = Workspace.of(registers.target)
    try:
        store = workspace.existing_history()
        if store is None:
            return {}
        with store as history:
            return overwritten_dates(history, [r.name for r in registers.registers])
    except Exception:  # an unusable history only loses the history-based cool-down
        return {}


def _deleted(registers: RegisterSet, given: DeletedLookup | None) -> DeletedLookup | None:
    """Deleted rows by 编号 from the set's history, when it has one (read, never created)."""
    if given is not None:
        return given
    from xlsync.workspace import Workspace

    return deleted_lookup(Workspace.of(registers.target))


def deleted_lookup(workspace: Workspace) -> DeletedLookup | None:
    """Deleted rows by 编号 from a workspace's history, when it has one (never created)."""
    try:
        if not workspace.backend.exists(workspace):
            return None
    except Exception:  # an unreachable history only loses this explanation
        return None

    def lookup(row_id: str) -> tuple[str, str, int, str] | None:
        try:
            store = workspace.existing_history()
            if store is None:
                return None
            with store as history:
                last = history.last_values(row_id)
        except Exception:  # an unusable history only loses this explanation
            return None
        if last is None:
            return None
        name = field_text(last.values, "customer")
        return last.file, last.sheet, last.row, name

    return lookup


def others_note(result: CheckResult) -> str:
    """What a check says when the other offices' rows are the last ones it could fetch
    ("" when they are current, or when there is no shared database)."""
    since = result.others_stale
    if since is None:
        return ""
    if since == dt.datetime.min:
        return "其他办事处数据暂不可用（本次运行尚未取得）"
    return f"其他办事处数据暂不可用，截至 {since:%Y-%m-%d %H:%M}"


def _group_key(rows: list[Row]) -> str:
    """The most common core name of a group (the smallest of equally common ones)."""
    cores = Counter(analyse(r.customer).core for r in rows if r.customer)
    if not cores:
        return rows[0].customer
    best = max(cores.values())
    return min(c for c, n in cores.items() if n == best)


def owner_reason(group: DuplicateGroup) -> str:
    """Why the owner owns the customer, naming the ruling that joined the rows if one did."""
    owner = group.decision.owner
    reason = owner.protection.reason() if owner else ""
    ruled = ruled_reason(group.reason)
    return f"{reason}；{ruled}" if ruled and reason else reason or ruled


def check_json(result: CheckResult) -> dict[str, object]:
    """The contract's `check --json` object. Row references carry "file" for a folder."""
    folder = result.is_folder
    elsewhere = {id(r) for r in result.others}  # other offices' rows always name their file

    def ref(obj: Row | Problem, **extra: object) -> dict[str, object]:
        named = folder or id(obj) in elsewhere or (isinstance(obj, Row) and bool(obj.office))
        out: dict[str, object] = {"file": obj.file} if named else {}
        out["sheet"] = obj.sheet
        out["row"] = obj.row
        out.update(extra)
        return out

    conflicts = []
    one_rep = {id(g) for g in result.double_entries}
    for group in result.groups + result.ruled + result.limited:  # conflicts, double entries
        if not group.decision.is_conflict and id(group) not in one_rep:
            continue
        owner = group.decision.owner
        claims = group.decision.one_rep_claims() if id(group) in one_rep else group.decision.claims
        lead = owner or next((c for c in claims if c.verdict is Verdict.OWNER), None)
        conflicts.append(
            {
                "customer": (lead.row if lead else group.rows[0]).customer or group.key,
                "owner": ref(owner.row, rep=owner.row.rep, reason=owner_reason(group))
                if owner
                else None,
                "claims": [ref(c.row, rep=c.row.rep, verdict=c.verdict.value) for c in claims],
            }
        )
    out: dict[str, object] = {
        "register": result.target,
        "as_of": result.as_of.isoformat(),
        "groups": [
            {"key": g.key, "reason": g.reason.text(), "rows": [ref(r) for r in g.rows]}
            for g in result.groups
        ],
        "conflicts": conflicts,
        "problems": [
            ref(p, column=p.column, value=p.value, message=p.message, code=p.code.value)
            for p in result.problems
        ],
        "moves": [ref(r, customer=r.customer, rep=r.rep) for r in result.moves],
    }
    if result.possible or result.has_rulings_sheet:  # absent: none
        out["possible"] = [pair_json(p, folder) for p in result.possible]
    if result.has_rulings_sheet:  # listed when the set has a 裁决 sheet (else: none)
        out["rulings"] = [ruling_json(r, folder) for r in result.rulings.rulings]
    return out
