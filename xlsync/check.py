"""The read-only pipeline: read -> validate -> match -> rules; the result `check` prints."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from xlsync.lookup import display_name
from xlsync.matching import analyse
from xlsync.matching.group import Group, GroupReason, Item, group_items
from xlsync.model import Problem, Row
from xlsync.register.schema import FIELDS
from xlsync.register.validate import validate_rows
from xlsync.registers import RegisterSet, load_set
from xlsync.rules import Decision, decide

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

    @property
    def conflicts(self) -> list[DuplicateGroup]:
        return [g for g in self.groups if g.decision.is_conflict]

    @property
    def is_folder(self) -> bool:
        return self.registers.is_folder

    @property
    def has_findings(self) -> bool:
        return bool(self.conflicts or self.problems)


# What the matcher is given: (customer name, canonical phones) of every row, in match order.
Names = tuple[tuple[str, tuple[str, ...]], ...]


class GroupingCache:
    """The last grouping computed, reused when the same names are checked again (a watcher
    re-checking a register whose names did not change).

    Safe to share between threads (the watcher's sync and its report thread check at the
    same time): the names and their groups are stored as one tuple under a lock and compared
    on a snapshot, so every caller gets the groups of its own names. The grouping itself
    runs outside the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[Names, tuple[Group, ...]] | None = None

    def groups(self, names: Names) -> tuple[Group, ...]:
        with self._lock:
            last = self._last
        if last is not None and last[0] == names:
            return last[1]
        found = tuple(
            group_items([Item.of(name, phones, canonical=True) for name, phones in names])
        )
        with self._lock:
            self._last = (names, found)
        return found


# Used by callers that do not bring their own cache (one `check`, `sync` or report run).
# A long-running caller such as the watcher can own one and pass it in.
_SHARED_GROUPING = GroupingCache()


def run_check(
    target: Path | str, as_of: dt.date, *, grouping: GroupingCache | None = None
) -> CheckResult:
    registers = load_set(target)
    return check_registers(str(target), registers, as_of, grouping=grouping)


def check_registers(
    target: str,
    registers: RegisterSet,
    as_of: dt.date,
    *,
    grouping: GroupingCache | None = None,
) -> CheckResult:
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
        problems.append(Problem(bad.path.name, "", 0, "", "", bad.message))
    problems.extend(validate_rows(rows, settings, as_of))
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
    # match in an order that does not depend on where rows stand (a sync moves rows)
    order = sorted(range(len(rows)), key=lambda i: rows[i].content_key())
    names: Names = tuple((rows[i].customer, rows[i].phones) for i in order)
    found = (grouping or _SHARED_GROUPING).groups(names)
    groups: list[DuplicateGroup] = []
    for group in sorted(found, key=lambda g: min(order[i] for i in g.members)):
        members = [rows[i] for i in sorted(order[m] for m in group.members)]
        decision = decide(members, settings.protection_days, as_of)
        groups.append(DuplicateGroup(_group_key(members), group.reason, members, decision))
    moves = sorted((r for r in rows if r.is_move), key=lambda r: (r.file, r.row))
    return CheckResult(target, as_of, registers, rows, problems, groups, moves)


def _group_key(rows: list[Row]) -> str:
    """The most common core name of a group (the smallest of equally common ones)."""
    cores = Counter(analyse(r.customer).core for r in rows if r.customer)
    if not cores:
        return rows[0].customer
    best = max(cores.values())
    return min(c for c, n in cores.items() if n == best)


def check_json(result: CheckResult) -> dict[str, object]:
    """The contract's `check --json` object. Row references carry "file" for a folder."""
    folder = result.is_folder

    def ref(obj: Row | Problem, **extra: object) -> dict[str, object]:
        out: dict[str, object] = {"file": obj.file} if folder else {}
        out["sheet"] = obj.sheet
        out["row"] = obj.row
        out.update(extra)
        return out

    conflicts = []
    for group in result.conflicts:
        owner = group.decision.owner
        conflicts.append(
            {
                "customer": (owner.row if owner else group.rows[0]).customer or group.key,
                "owner": ref(owner.row, rep=owner.row.rep, reason=owner.protection.reason())
                if owner
                else None,
                "claims": [
                    ref(c.row, rep=c.row.rep, verdict=c.verdict.value)
                    for c in group.decision.claims
                ],
            }
        )
    return {
        "register": result.target,
        "as_of": result.as_of.isoformat(),
        "groups": [
            {"key": g.key, "reason": g.reason.text(), "rows": [ref(r) for r in g.rows]}
            for g in result.groups
        ],
        "conflicts": conflicts,
        "problems": [
            ref(p, column=p.column, value=p.value, message=p.message) for p in result.problems
        ],
        "moves": [ref(r, customer=r.customer, rep=r.rep) for r in result.moves],
    }
