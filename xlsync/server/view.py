"""What one signed-in person may see: the look-up answer filtered for them, and their list.

The answer itself is `who --json`'s (`xlsync.who.answer_json`) over the same
`xlsync.lookup.LookupIndex`; this module only takes away what the viewer may not see and
adds the details they may. The rules (issue 16, 客户信息保密机制):

- a rep sees a row in full (contact, whole phone, notes, sample, dates) only when the row
  is theirs;
- a manager (an account added with `--manager`) or a department head (负责人 = 是 in the
  roster) sees every row of their department in full; one whose 部门 is blank, the whole
  office;
- of every other row the viewer sees the verdict, the owner's name and department, the
  protection's basis and end, and the phone masked (`138****5678`);
- a query needs a name key of at least two characters, or a whole phone number, and the
  answer names at most `MAX_CUSTOMERS` customers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from xlsync.lookup import MIN_KEY, LookupAnswer, LookupIndex, is_phone_query, query_key
from xlsync.records import Row
from xlsync.reports.data import masked_phones
from xlsync.rules import Claim
from xlsync.settings import Settings
from xlsync.who import answer_json

MAX_CUSTOMERS = 20
MAX_QUERY = 100  # characters: a longer query is no customer name


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in person as the confidentiality rules see them."""

    name: str
    department: str  # from the roster; "" when none
    manager: bool  # sees the department (or, with no department, everyone) in full

    @classmethod
    def of(cls, name: str, manager_account: bool, settings: Settings) -> Viewer:
        """A manager's reach comes from the roster: a name no longer in it (or a register
        set without a roster) sees its own rows only, never "the whole office"."""
        head = settings.contact(name).head
        listed = name in settings.roster
        return cls(name, settings.roster.get(name, ""), listed and (manager_account or head))

    def sees(self, row: Row, settings: Settings) -> bool:
        """Whether `row` is shown to this viewer in full."""
        if row.rep == self.name:
            return True
        if not self.manager:
            return False
        return not self.department or department_of(row, settings) == self.department


def department_of(row: Row, settings: Settings) -> str:
    """The row's department: the roster's for its rep, else what the row says."""
    return settings.roster.get(row.rep) or row.department


class Refusal(StrEnum):
    SHORT = "short"  # fewer than two characters of name, and not a whole phone
    LONG = "long"


REFUSAL_TEXT = {
    Refusal.SHORT: "请至少输入两个字的客户名称，或完整的电话号码。",
    Refusal.LONG: f"查询太长（最多 {MAX_QUERY} 个字）。",
}


def refusal(query: str) -> Refusal | None:
    """Why a query is not answered, or None when it is."""
    q = query.strip()
    if len(q) > MAX_QUERY:
        return Refusal.LONG
    if is_phone_query(q):
        return None
    return Refusal.SHORT if len(query_key(q)) < MIN_KEY else None


def capped(answer: LookupAnswer) -> LookupAnswer:
    """The answer naming at most MAX_CUSTOMERS customers (certain ones first)."""
    same = answer.same[:MAX_CUSTOMERS]
    maybe = answer.maybe[: MAX_CUSTOMERS - len(same)]
    return LookupAnswer(answer.query, answer.phone, same, maybe, answer.key, answer.digits)


def _date(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def row_details(row: Row) -> dict[str, object]:
    """Everything a viewer who may see `row` in full is shown."""
    return {
        "id": row.id,
        "contact": row.contact,
        "phone": row.phone_text,
        "region": row.region,
        "contacted": _date(row.contacted),
        "visited": _date(row.visited),
        "sampled": _date(row.sampled),
        "sample": row.sample,
        "notes": row.notes,
        "last_follow_up": _date(row.last_follow_up),
        "status": row.status.value if row.status else None,
        "won": _date(row.won),
    }


def filtered_json(
    answer: LookupAnswer, viewer: Viewer, settings: Settings, folder: bool
) -> dict[str, object]:
    """`who --json` for `viewer`: at most MAX_CUSTOMERS customers; every row reference
    carries `department`, `phone` (masked unless the viewer sees the row) and `full`; a row
    seen in full adds `details`; a row not seen in full loses its location (file, sheet,
    row)."""
    answer = capped(answer)
    out = answer_json(answer, viewer.name, folder)
    claims: list[Claim] = [c for hit in answer.same for c in hit.customer.decision.claims]
    matches = out["matches"]
    assert isinstance(matches, list) and len(matches) == len(claims)
    out["matches"] = [
        _ref(m, c.row, viewer, settings) for m, c in zip(matches, claims, strict=True)
    ]
    firsts = [h.customer.decision.owner or h.customer.decision.claims[0] for h in answer.maybe]
    maybe = out["maybe"]
    assert isinstance(maybe, list) and len(maybe) == len(firsts)
    out["maybe"] = [_ref(m, c.row, viewer, settings) for m, c in zip(maybe, firsts, strict=True)]
    for key in ("customers", "maybe_customers"):
        hits = answer.same if key == "customers" else answer.maybe
        listed = out[key]
        assert isinstance(listed, list)
        for entry, hit in zip(listed, hits, strict=True):
            owner = hit.customer.decision.owner
            entry["owner_department"] = department_of(owner.row, settings) if owner else None
    out["viewer"] = {"name": viewer.name, "department": viewer.department}
    return out


def _ref(ref: dict[str, object], row: Row, viewer: Viewer, settings: Settings) -> dict[str, object]:
    full = viewer.sees(row, settings)
    out = dict(ref)
    out["department"] = department_of(row, settings)
    out["full"] = full
    if full:
        out["phone"] = row.phone_text
        out["details"] = row_details(row)
    else:
        for key in ("file", "sheet", "row"):
            out.pop(key, None)
        out["phone"] = masked_phones(row.phones, row.phone_text) if row.phone_text else ""
    return out


# ------------------------------------------------------------------ the rep's own list


@dataclass(frozen=True, slots=True)
class MineLine:
    customer: str
    phone: str
    basis: str  # the protection's reason sentence
    until: dt.date | None  # None: no end (cooperating)
    note: str = ""
    quiet: int = 0  # days since the latest activity (follow-ups)


@dataclass(slots=True)
class MyList:
    protected: list[MineLine] = field(default_factory=list)
    follow_ups: list[MineLine] = field(default_factory=list)


def my_lists(index: LookupIndex, settings: Settings, as_of: dt.date) -> dict[str, MyList]:
    """Every rep's list: the customers their claims protect (earliest end first) and the
    ones gone quiet past 跟进提醒天数 that are still theirs to follow."""
    lists: dict[str, MyList] = {}
    days = settings.protection_days
    for customer in index.customers:
        decision = customer.decision
        owner = decision.owner
        for claim in decision.claims:
            row = claim.row
            if not row.rep:
                continue
            p = claim.protection
            mine = lists.setdefault(row.rep, MyList())
            name = row.customer or customer.name
            if owner is claim and p.protected:
                mine.protected.append(MineLine(name, row.phone_text, p.reason(), p.until))
            if row.cooperating or decision.agent or (owner is not None and owner.row is not row):
                continue
            dates = [d for d in (row.contacted, row.visited, row.sampled, row.last_follow_up) if d]
            active = max(dates, default=None)
            if active is None:
                continue
            quiet = (as_of - active).days
            live = p.protected or (not p.ever_protected and quiet <= days)
            if live and quiet > settings.follow_up_days:
                note = f"已 {quiet} 天没有跟进（最近 {active.isoformat()}）"
                mine.follow_ups.append(
                    MineLine(name, row.phone_text, p.reason(), p.until, note, quiet)
                )
    for mine in lists.values():
        mine.protected.sort(key=lambda m: (m.until or dt.date.max, m.customer))
        mine.follow_ups.sort(key=lambda m: (-m.quiet, m.customer))
    return lists
