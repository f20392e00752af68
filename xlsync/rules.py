"""The protection rules: a pure function of a group of claims, the settings and `as_of`.

- A visit, a sample or cooperation protects a customer for its rep; a phone call does not.
- Protection runs `protection_days` from the latest visit or sample date; cooperation
  protects with no end.
- The earliest still-protected claim owns the customer; other reps' claims must stop
  (same rep: `same_rep`); expired claims are `expired`; phone-only overlaps are `notice`.

"Earliest" means the start of the claim's current unbroken protection: a visit in January
and a sample in October (more than `protection_days` apart) start a new protection in
October, so a rep who sampled in September while the customer was free comes first.
Ties on the same day go to a cooperating claim, then to the claim first recorded (its
earliest date), then by what was typed, so that the answer never depends on where a row
stands (a sync moves rows).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from xlsync.model import Row


class Verdict(StrEnum):
    OWNER = "owner"
    MUST_STOP = "must_stop"
    EXPIRED = "expired"
    NOTICE = "notice"
    SAME_REP = "same_rep"


VERDICT_LABELS: dict[Verdict, str] = {
    Verdict.OWNER: "归属",
    Verdict.MUST_STOP: "须停止跟进",
    Verdict.EXPIRED: "保护已过期",
    Verdict.NOTICE: "提醒（仅电话）",
    Verdict.SAME_REP: "同一业务员",
}


class Basis(StrEnum):
    """What a claim's protection rests on."""

    VISIT = "visit"
    SAMPLE = "sample"
    COOPERATING = "cooperating"
    PHONE = "phone"  # a phone call only: never protects
    NONE = "none"  # no visit, sample or call recorded

    @property
    def label(self) -> str:
        """The word people read: 拜访, 送样, 已合作, 电话 (NONE: "")."""
        return BASIS_LABELS[self]


BASIS_LABELS: dict[Basis, str] = {
    Basis.VISIT: "拜访",
    Basis.SAMPLE: "送样",
    Basis.COOPERATING: "已合作",
    Basis.PHONE: "电话",
    Basis.NONE: "",
}


@dataclass(frozen=True, slots=True)
class Protection:
    """What one claim (row) protects as of a date."""

    protected: bool
    cooperating: bool
    since: dt.date | None  # start of the current unbroken protection; None: since always
    basis: Basis
    basis_date: dt.date | None  # the latest visit/sample date, or the won date
    until: dt.date | None  # last protected day; None for cooperation (no end)
    ruling: str = ""  # when a manager's ruling decided this protection: the sentence saying so
    assigned: bool = False  # the protection is the manager's 指派
    ruling_row: int = 0  # the row of 裁决 behind `ruling`

    @property
    def ever_protected(self) -> bool:
        return self.cooperating or self.basis in (Basis.SAMPLE, Basis.VISIT) or self.assigned

    def reason(self) -> str:
        """A sentence the rep can read: 送样 2026-10-03，保护至 2027-01-01."""
        if self.ruling:
            return self.ruling
        if self.cooperating:
            when = f" {self.basis_date.isoformat()} 成交" if self.basis_date else ""
            return f"已合作{when}，长期保护"
        if self.basis_date is None or self.until is None:
            return (
                "仅电话联系，不受保护"
                if self.basis is Basis.PHONE
                else "未登记拜访或送样，不受保护"
            )
        word = "保护至" if self.protected else "保护已于"
        tail = "" if self.protected else " 到期"
        return (
            f"{self.basis.label} {self.basis_date.isoformat()}，"
            f"{word} {self.until.isoformat()}{tail}"
        )


def protection(row: Row, protection_days: int, as_of: dt.date) -> Protection:
    """The protection a single row gives its rep as of `as_of`."""
    days = dt.timedelta(days=protection_days)
    events: list[tuple[dt.date, Basis]] = []
    if row.visited is not None and row.visited <= as_of:
        events.append((row.visited, Basis.VISIT))
    if row.sampled is not None and row.sampled <= as_of:
        events.append((row.sampled, Basis.SAMPLE))
    events.sort(key=lambda e: e[0])  # stable: on the same day the sample is the basis
    cooperating = row.cooperating
    if cooperating:
        won = row.won if row.won is not None and row.won <= as_of else None
        dates = sorted([d for d, _ in events] + ([won] if won else []))
        since = _run_start(dates, days) if dates else None
        return Protection(True, True, since, Basis.COOPERATING, won, None)
    if not events:
        basis = Basis.PHONE if row.contacted is not None else Basis.NONE
        return Protection(False, False, None, basis, None, None)
    latest, basis = events[-1]
    until = latest + days
    since = _run_start([d for d, _ in events], days)
    return Protection(as_of <= until, False, since, basis, latest, until)


def _first_date(row: Row) -> dt.date:
    """When the rep first recorded this customer: breaks ties on the same protection day."""
    dates = [d for d in (row.contacted, row.visited, row.sampled, row.won) if d is not None]
    return min(dates, default=dt.date.max)


def _run_start(dates: Sequence[dt.date], days: dt.timedelta) -> dt.date:
    """Start of the unbroken protection run that ends with the last date."""
    start = dates[0]
    for previous, current in itertools.pairwise(dates):
        if current > previous + days:
            start = current
    return start


@dataclass(frozen=True, slots=True)
class Claim:
    row: Row
    protection: Protection
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class Decision:
    owner: Claim | None
    claims: tuple[Claim, ...]  # in the order of the rows given

    @property
    def reps(self) -> set[str]:
        reps = {c.row.rep for c in self.claims if c.row.rep}
        if self.owner is not None and self.owner.row.rep:
            reps.add(self.owner.row.rep)  # a rep the manager assigned who has no row here
        return reps

    @property
    def is_conflict(self) -> bool:
        """Two or more different reps claim the customer."""
        return len(self.reps) >= 2

    @property
    def is_one_rep(self) -> bool:
        """Every row names the same rep (a double entry, not a conflict), and nobody else
        (not even a rep the manager assigned) holds the customer."""
        return len({c.row.rep for c in self.claims}) == 1 and len(self.reps) == 1

    def one_rep_claims(self) -> tuple[Claim, ...]:
        """The claims of a one-rep group as its rep reads them: the leading row `owner`, the
        others `same_rep`. The leading row is the rules' owner when one is protected, else the
        claim that started first (its protection's start, else its first date, then the
        rules' tie-breaks); it is not protected then, and `owner` stays None."""
        if self.owner is not None:
            lead = next(i for i, c in enumerate(self.claims) if c is self.owner)
        else:
            lead = min(
                range(len(self.claims)),
                key=lambda i: (
                    self.claims[i].protection.since or _first_date(self.claims[i].row),
                    not self.claims[i].protection.cooperating,
                    _first_date(self.claims[i].row),
                    self.claims[i].row.content_key(),
                    i,
                ),
            )
        return tuple(
            Claim(c.row, c.protection, Verdict.OWNER if i == lead else Verdict.SAME_REP)
            for i, c in enumerate(self.claims)
        )


def decide(
    rows: Sequence[Row],
    protection_days: int,
    as_of: dt.date,
    events: Sequence[RuleEvent] = (),
) -> Decision:
    """Who owns a customer claimed by `rows` (given in register order), and every verdict.

    `events` are the manager's 指派 / 释放 rulings on this customer (see `RuleEvent`)."""
    if any(e.date <= as_of for e in events):
        return _decide_ruled(rows, protection_days, as_of, events)
    prots = [protection(r, protection_days, as_of) for r in rows]
    protected = [i for i, p in enumerate(prots) if p.protected]
    owner_index: int | None = None
    if protected:
        owner_index = min(
            protected,
            key=lambda i: (
                prots[i].since or dt.date.min,
                not prots[i].cooperating,
                _first_date(rows[i]),
                rows[i].content_key(),
                i,
            ),
        )
    owner_rep = rows[owner_index].rep if owner_index is not None else None
    claims: list[Claim] = []
    for i, (row, prot) in enumerate(zip(rows, prots, strict=True)):
        if i == owner_index:
            verdict = Verdict.OWNER
        elif owner_rep is not None and row.rep and row.rep == owner_rep:
            verdict = Verdict.SAME_REP
        elif prot.protected:
            verdict = Verdict.MUST_STOP
        elif prot.ever_protected:
            verdict = Verdict.EXPIRED
        elif owner_index is not None:
            verdict = Verdict.MUST_STOP  # a call to a customer someone else protects
        else:
            verdict = Verdict.NOTICE
        claims.append(Claim(row, prot, verdict))
    owner = claims[owner_index] if owner_index is not None else None
    return Decision(owner, tuple(claims))


def call_verdict(owner: Claim | None, rep: str | None = None) -> str:
    """What a rep about to call this customer is told: 可以联系, or why not."""
    if owner is None:
        return "可以联系"
    if rep is not None and owner.row.rep == rep:
        return f"可以联系：这是你自己的客户（{owner.protection.reason()}）"
    p = owner.protection
    if p.assigned:
        until = f"保护至 {p.until.isoformat()}" if p.until else "长期保护"
        return f"请勿联系：经理已指派给 {owner.row.rep}，{until}"
    if p.cooperating:
        return f"请勿联系：{owner.row.rep} 的合作客户（{p.reason()}）"
    until = p.until.isoformat() if p.until else ""
    return f"请勿联系：已由 {owner.row.rep} {p.basis.label}保护至 {until}"


# ------------------------------------------------------------------ the manager's rulings


@dataclass(frozen=True, slots=True)
class RuleEvent:
    """A 指派 or 释放 ruling of `裁决` on one customer, as the rules see it.

    - release: every protection of the customer that started on or before `date` ends on
      `date`; a later visit or sample protects anew.
    - assign: the same cut on `date`, then `rep` owns the customer from `date` to `until`
      (None: 长期, no end); every other rep's claim must stop meanwhile.
    Of several events, the latest (`date`, then the lower `row`) decides.
    """

    kind: str  # "assign" or "release"
    date: dt.date
    row: int  # the row of 裁决
    file: str
    sheet: str
    rep: str = ""
    until: dt.date | None = None

    @property
    def label(self) -> str:
        return f"裁决第 {self.row} 行"

    def assigned_reason(self) -> str:
        until = f"保护至 {self.until.isoformat()}" if self.until else "长期保护"
        return f"经理指派 {self.date.isoformat()}，{until}"


def _decide_ruled(
    rows: Sequence[Row], protection_days: int, as_of: dt.date, events: Sequence[RuleEvent]
) -> Decision:
    """`decide` under the latest 指派 / 释放 in force on `as_of`."""
    latest = max((e for e in events if e.date <= as_of), key=lambda e: (e.date, -e.row))
    cut = latest.date
    prots = [_cut_protection(r, protection_days, as_of, latest) for r in rows]
    active = latest.kind == "assign" and (latest.until is None or as_of <= latest.until)
    if not active:
        # the customer was freed on `cut`: claims decide again, from what followed the cut
        decision = _decide_plain(rows, prots)
        return decision
    assigned = Protection(
        True, False, cut, Basis.NONE, cut, latest.until, latest.assigned_reason(), True, latest.row
    )
    owner_index = next((i for i, r in enumerate(rows) if r.rep == latest.rep), None)
    if owner_index is not None:
        prots[owner_index] = assigned
        owner_row = rows[owner_index]
    else:
        # the assigned rep has no row of this customer: the ruling's own row stands for them
        names = [r.customer for r in rows if r.customer]
        owner_row = Row(
            file=latest.file,
            sheet=latest.sheet,
            kind=rows[0].kind,
            row=latest.row,
            customer=max(names, key=lambda n: (len(n), n)) if names else "",
            rep=latest.rep,
        )
    claims: list[Claim] = []
    for i, (row, prot) in enumerate(zip(rows, prots, strict=True)):
        if i == owner_index:
            verdict = Verdict.OWNER
        elif row.rep and row.rep == latest.rep:
            verdict = Verdict.SAME_REP
        else:
            verdict = Verdict.MUST_STOP  # the manager assigned the customer to another rep
        claims.append(Claim(row, prot, verdict))
    owner = (
        claims[owner_index]
        if owner_index is not None
        else Claim(owner_row, assigned, Verdict.OWNER)
    )
    return Decision(owner, tuple(claims))


def _cut_protection(row: Row, protection_days: int, as_of: dt.date, event: RuleEvent) -> Protection:
    """A row's protection when every protection started on or before `event.date` ends then."""
    cut = event.date
    mine = protection(row, protection_days, as_of)
    after = Row(row.file, row.sheet, row.kind, row.row, rep=row.rep, status=row.status)
    after.visited = row.visited if row.visited is not None and row.visited > cut else None
    after.sampled = row.sampled if row.sampled is not None and row.sampled > cut else None
    after.won = row.won if row.won is not None and row.won > cut else None
    after.contacted = row.contacted
    if not row.cooperating and (after.visited or after.sampled):
        return protection(after, protection_days, as_of)  # protected anew after the cut
    if not mine.ever_protected or (mine.since is not None and mine.since > cut):
        return mine
    if mine.until is not None and mine.until < cut:
        return mine  # had ended before the ruling anyway
    word = "经理释放" if event.kind == "release" else f"经理指派给 {event.rep}"
    what = mine.basis.label if not mine.cooperating else "已合作"
    when = f" {mine.basis_date.isoformat()}" if mine.basis_date else ""
    text = f"{what}{when}，{word} {cut.isoformat()}（{event.label}），保护于当日结束"
    return Protection(as_of <= cut, mine.cooperating, mine.since, mine.basis, mine.basis_date,
                      cut, text, ruling_row=event.row)  # fmt: skip


def _decide_plain(rows: Sequence[Row], prots: Sequence[Protection]) -> Decision:
    """The ranking of `decide`, over protections already computed."""
    protected = [i for i, p in enumerate(prots) if p.protected]
    owner_index: int | None = None
    if protected:
        owner_index = min(
            protected,
            key=lambda i: (
                prots[i].since or dt.date.min,
                not prots[i].cooperating,
                _first_date(rows[i]),
                rows[i].content_key(),
                i,
            ),
        )
    owner_rep = rows[owner_index].rep if owner_index is not None else None
    claims: list[Claim] = []
    for i, (row, prot) in enumerate(zip(rows, prots, strict=True)):
        if i == owner_index:
            verdict = Verdict.OWNER
        elif owner_rep is not None and row.rep and row.rep == owner_rep:
            verdict = Verdict.SAME_REP
        elif prot.protected:
            verdict = Verdict.MUST_STOP
        elif prot.ever_protected:
            verdict = Verdict.EXPIRED
        elif owner_index is not None:
            verdict = Verdict.MUST_STOP
        else:
            verdict = Verdict.NOTICE
        claims.append(Claim(row, prot, verdict))
    owner = claims[owner_index] if owner_index is not None else None
    return Decision(owner, tuple(claims))
