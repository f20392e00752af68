"""`xlsync who`: the check a rep makes before calling a customer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from xlsync.matching.group import Item, group_items
from xlsync.model import Row
from xlsync.rules import Claim, Decision, call_verdict, decide
from xlsync.settings import Settings

MAYBE_SCORE = 70  # name similarity (0-100) from which an unmatched row is worth showing
MAYBE_LIMIT = 8


@dataclass(slots=True)
class WhoAnswer:
    name: str
    phone: str
    decision: Decision | None  # over the rows that are the same customer
    maybe: list[tuple[Row, float]] = field(default_factory=list)  # similar, not certain

    @property
    def owner(self) -> Claim | None:
        return self.decision.owner if self.decision else None

    def may_call(self, rep: str | None = None) -> bool:
        owner = self.owner
        return owner is None or (rep is not None and owner.row.rep == rep)

    def verdict(self, rep: str | None = None) -> str:
        return call_verdict(self.owner, rep)


def who(
    rows: list[Row], settings: Settings, name: str, phone: str | None, as_of: dt.date
) -> WhoAnswer:
    """Find the rows that are the customer `name` (and `phone`) and who owns it."""
    items = [Item.of(r.customer, r.phones, canonical=True) for r in rows]
    query = Item.of(name, [phone] if phone else [])
    groups = group_items([*items, query])
    q = len(items)
    same: list[Row] = []
    for group in groups:
        if q in group.members:
            same = [rows[i] for i in group.members if i != q]
            break
    decision = decide(same, settings.protection_days, as_of) if same else None
    answer = WhoAnswer(name, phone or "", decision)
    if query.key is not None:
        taken = {id(r) for r in same}
        choices = {i: it.key.core for i, it in enumerate(items) if it.key is not None}
        for _core, score, i in process.extract(
            query.key.core, choices, scorer=fuzz.ratio, limit=MAYBE_LIMIT * 4
        ):
            if score >= MAYBE_SCORE and id(rows[i]) not in taken:
                answer.maybe.append((rows[i], score / 100))
                taken.add(id(rows[i]))
            if len(answer.maybe) >= MAYBE_LIMIT:
                break
    return answer
