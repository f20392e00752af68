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

import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from xlsync.records import Row


class Verdict(StrEnum):
    OWNER = "owner"
    MUST_STOP = "must_stop"
    EXPIRED = "expired"
    NOTICE = "notice"
    SAME_REP = "same_rep"
    AGENT = "agent"  # the customer is served by an agent (代理商): nobody may follow it


VERDICT_LABELS: dict[Verdict, str] = {
    Verdict.OWNER: "归属",
    Verdict.MUST_STOP: "须停止跟进",
    Verdict.EXPIRED: "保护已过期",
    Verdict.NOTICE: "提醒（仅电话）",
    Verdict.SAME_REP: "同一业务员",
    Verdict.AGENT: "代理商",
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
    # an office rule that took this protection away: "cap" (最多保护客户数) or "cool_down"
    # (冷却天数); `note` is then the sentence saying why (see apply_cap / apply_cool_down)
    limit: str = ""
    note: str = ""

    @property
    def ever_protected(self) -> bool:
        return self.cooperating or self.basis in (Basis.SAMPLE, Basis.VISIT) or self.assigned

    def reason(self) -> str:
        """A sentence the rep can read: 送样 2026-10-03，保护至 2027-01-01."""
        if self.note:
            return self.note
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


OFFICE_LIMIT_NOTES = {
    "cap": "{office} 的最多保护客户数已满，本条不受保护",
    "cool_down": "{office} 的冷却期内，本条不受保护",
}


def protection(row: Row, protection_days: int, as_of: dt.date) -> Protection:
    """The protection a single row gives its rep as of `as_of`. A row of another office
    is protected by that office's 保护天数 (`row.protection_days`), not `protection_days`,
    and not at all when that office's own cap or cool-down took it (`row.office_limit`)."""
    if row.protection_days is not None:
        protection_days = row.protection_days
    plain = _protection(row, protection_days, as_of)
    if row.office_limit in OFFICE_LIMIT_NOTES and plain.protected and not plain.cooperating:
        note = OFFICE_LIMIT_NOTES[row.office_limit].format(office=row.office)
        return dataclasses.replace(plain, protected=False, limit=row.office_limit, note=note)
    return plain


def _protection(row: Row, protection_days: int, as_of: dt.date) -> Protection:
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
    agent: str = ""  # the agent (代理商) serving the customer: every claim is `agent`

    @property
    def reps(self) -> set[str]:
        reps = {c.row.rep for c in self.claims if c.row.rep}
        if self.owner is not None and self.owner.row.rep:
            reps.add(self.owner.row.rep)  # a rep the manager assigned who has no row here
        return reps

    @property
    def is_conflict(self) -> bool:
        """Two or more different reps claim the customer, or a rep claims an agent's."""
        return len(self.reps) >= 2 or bool(self.agent and self.reps)

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
    return _decide_plain(rows, prots)


def call_verdict(
    owner: Claim | None, rep: str | None = None, agent: str = "", suggestion: str = ""
) -> str:
    """What a rep about to call this customer is told: 可以联系, or why not. `suggestion`:
    the 分配规则's next rep of a freed customer (销售二部 王芳)."""
    if agent:
        return agent_sentence(agent)
    if owner is None:
        return f"可以联系；按分配规则建议由 {suggestion} 跟进" if suggestion else "可以联系"
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
    office: str = ""  # a ruling of another office's 裁决 (shared database): its name

    @property
    def label(self) -> str:
        return f"{self.office} 的裁决第 {self.row} 行" if self.office else f"裁决第 {self.row} 行"

    @property
    def ruling_row(self) -> int:
        """The row of this office's 裁决 (0 for another office's ruling)."""
        return 0 if self.office else self.row

    def assigned_reason(self) -> str:
        until = f"保护至 {self.until.isoformat()}" if self.until else "长期保护"
        by = f"{self.label} " if self.office else ""  # another office's ruling
        return f"{by}经理指派 {self.date.isoformat()}，{until}"


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
        True,
        False,
        cut,
        Basis.NONE,
        cut,
        latest.until,
        latest.assigned_reason(),
        True,
        latest.ruling_row,
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
            office=latest.office,  # another office's 指派: its row of 裁决, its rep
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
    after = _after(row, cut)
    after.won = row.won if row.won is not None and row.won > cut else None
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
                      cut, text, ruling_row=event.ruling_row)  # fmt: skip


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
            verdict = Verdict.MUST_STOP  # a call to a customer someone else protects
        else:
            verdict = Verdict.NOTICE
        claims.append(Claim(row, prot, verdict))
    owner = claims[owner_index] if owner_index is not None else None
    return Decision(owner, tuple(claims))


# ------------------------------------------------------------------ the office rules


def apply_cool_down(
    decision: Decision,
    protection_days: int,
    cool_down_days: int | None,
    as_of: dt.date,
    *,
    earlier: Sequence[tuple[str, dt.date]] = (),
    events: Sequence[RuleEvent] = (),
) -> Decision:
    """`decision` with the 冷却天数 rule applied.

    After a rep's protection of the customer ended (the last day of an unbroken run of their
    visits and samples, over all their rows in the group), a visit or sample of that rep in
    the next `cool_down_days` days does not protect; one after the cool-down protects anew.

    - `earlier`: (rep, date) of visits and samples the rows no longer show (a rep overwrote
      the old 拜访日期 with a new one; the history store knows the old one). They take part
      in the runs as if they were still there, but never protect themselves.
    - `events`: the manager's 指派 / 释放 on this customer. A 释放 in force ends, on its date,
      the protection of every rep protected then, and starts their cool-down there. Under a
      指派 (running or not) the decision is left as it is.

    A rep with a cooperating row is never cooled. Off (the decision unchanged) when
    `cool_down_days` is None or 0.
    """
    if not cool_down_days or not decision.claims:
        return decision
    claims = decision.claims
    owner = decision.owner
    in_force = [e for e in events if e.date <= as_of]
    latest = max(in_force, key=lambda e: (e.date, -e.row)) if in_force else None
    if (latest is not None and latest.kind != "release") or (
        owner is not None and owner.protection.assigned
    ):
        return decision
    cut = latest.date if latest is not None else None
    days = dt.timedelta(days=protection_days)
    cool = dt.timedelta(days=cool_down_days)
    by_rep: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(claims):
        if c.row.rep:
            by_rep[c.row.rep].append(i)
    prots = [c.protection for c in claims]
    changed = False
    for rep, indexes in by_rep.items():
        rows = [claims[i].row for i in indexes]
        if any(r.cooperating for r in rows) or any(r.office for r in rows):
            continue  # never cooled; a rep of another office is cooled by their own office
        mine = {d for r in rows for d in (r.visited, r.sampled) if d and d <= as_of}
        mine |= {d for who, d in earlier if who == rep and d <= as_of}
        blocked = _cooled_dates(sorted(mine), days, cool, cut)
        for i, row in zip(indexes, rows, strict=True):
            if not any(d in blocked for d in (row.visited, row.sampled) if d):
                continue
            shown = row if cut is None else _after(row, cut)
            prots[i] = _cooled_protection(shown, protection_days, as_of, blocked)
            changed = True
    if not changed:
        return decision
    return _decide_plain([c.row for c in claims], prots)


def _with_dates(row: Row, visited: dt.date | None, sampled: dt.date | None) -> Row:
    """`row` as the rules see it, with other visit and sample dates (no 成交日期)."""
    return Row(
        row.file,
        row.sheet,
        row.kind,
        row.row,
        rep=row.rep,
        status=row.status,
        office=row.office,
        protection_days=row.protection_days,
        visited=visited,
        sampled=sampled,
        contacted=row.contacted,
    )


def _after(row: Row, cut: dt.date) -> Row:
    """`row` with only its visits and samples after `cut` (a 释放 on `cut`)."""
    return _with_dates(
        row,
        row.visited if row.visited is not None and row.visited > cut else None,
        row.sampled if row.sampled is not None and row.sampled > cut else None,
    )


def _cooled_dates(
    dates: Sequence[dt.date],
    days: dt.timedelta,
    cool: dt.timedelta,
    cut: dt.date | None = None,
) -> dict[dt.date, tuple[dt.date, dt.date, bool]]:
    """The dates (sorted) that fall in a cool-down: date -> (protection ended, cool-down end,
    ended by a 释放). `cut`: a 释放 on that day ends a protection running then."""
    blocked: dict[dt.date, tuple[dt.date, dt.date, bool]] = {}
    last: dt.date | None = None  # the latest date of the protection running now
    cooling: tuple[dt.date, dt.date, bool] | None = None
    for d in dates:
        if cut is not None and d > cut:
            if last is not None and cut <= last + days:
                cooling = (cut, cut + cool, True)  # the release ended this protection
                last = None
            cut = None
        if last is not None and d <= last + days:
            last = d  # the same unbroken protection
            continue
        if last is not None:
            ended = last + days
            cooling = (ended, ended + cool, False)
            last = None
        if cooling is not None and d <= cooling[1]:
            blocked[d] = cooling
            continue
        last = d
    return blocked


def _cooled_protection(
    row: Row,
    protection_days: int,
    as_of: dt.date,
    blocked: dict[dt.date, tuple[dt.date, dt.date, bool]],
) -> Protection:
    """A row's protection when its visits or samples in `blocked` do not count."""
    kept = _with_dates(
        row,
        row.visited if row.visited not in blocked else None,
        row.sampled if row.sampled not in blocked else None,
    )
    plain = protection(row, protection_days, as_of)
    latest = plain.basis_date
    if latest is None or latest not in blocked:
        return protection(kept, protection_days, as_of)  # the row's latest date counts
    ended, until, released = blocked[latest]
    how = "经理释放" if released else "到期"
    note = (
        f"冷却期内（原保护 {ended.isoformat()} {how}，冷却至 {until.isoformat()}），"
        f"本次{plain.basis.label}不受保护"
    )
    return dataclasses.replace(plain, protected=False, since=latest, limit="cool_down", note=note)


def _hold_key(claim: Claim) -> tuple[object, ...]:
    """The order in which a rep's holdings count against the cap: a manager's 指派 first,
    then by the start of the protection, the first date recorded and what was typed."""
    p = claim.protection
    return (not p.assigned, p.since or dt.date.min, _first_date(claim.row), claim.row.content_key())


def holdings(decisions: Sequence[Decision]) -> dict[str, int]:
    """How many customers each rep holds protected (what counts against 最多保护客户数):
    customers the rep owns, not cooperating ones (a deal frees a place)."""
    held: dict[str, int] = defaultdict(int)
    for d in decisions:
        o = d.owner
        if o is None or o.row.office:  # a rep of another office counts there
            continue
        if o.row.rep and o.protection.protected and not o.protection.cooperating:
            held[o.row.rep] += 1
    return dict(held)


def near_cap(held: int, cap: int | None) -> str:
    """The warning for a rep holding `held` protected customers, in the last 10% of `cap`
    (at least the last one): 接近上限 / 已达上限; "" otherwise or without a cap."""
    if not cap or held <= 0 or held < cap - max(1, cap // 10):
        return ""
    return "已达上限" if held >= cap else "接近上限"


def apply_cap(decisions: Sequence[Decision], cap: int | None) -> list[Decision]:
    """`decisions` (one per customer) with the 最多保护客户数 rule applied.

    A rep who owns more protected customers than `cap` keeps the first `cap` (a manager's
    指派 first, then by the start of their protection); on the others none of the rep's
    claims protects (hint: 【超限】…), and the customer goes to the next claim by the usual
    ranking, which may put that rep over the cap in turn: the pass repeats until no rep is
    over. Cooperating customers do not count, and a 指派 is never taken away. The answer does
    not depend on the order of `decisions` or of their rows. Off when `cap` is None or 0.
    """
    current = list(decisions)
    if not cap:
        return current
    capped: list[tuple[int, str]] = []
    while True:
        held: dict[str, list[tuple[tuple[object, ...], int, bool]]] = defaultdict(list)
        for k, d in enumerate(current):
            o = d.owner
            if o is None or not o.row.rep or not o.protection.protected:
                continue
            if o.protection.cooperating or o.row.office:  # another office's rep: its cap
                continue
            held[o.row.rep].append((_hold_key(o), k, o.protection.assigned))
        over: list[tuple[int, str]] = []
        for rep, items in held.items():
            items.sort(key=lambda item: item[0])
            over.extend((k, rep) for _, k, assigned in items[cap:] if not assigned)
        if not over:
            break
        for k, rep in over:
            capped.append((k, rep))
            current[k] = _without_rep(current[k], rep, "")
    if not capped:
        return current
    counts = holdings(current)
    for k, rep in capped:
        note = f"你已有 {counts.get(rep, 0)} 个保护中的客户（上限 {cap}），本条不受保护；请先释放或成交"
        current[k] = _without_rep(current[k], rep, note)
    return current


def _without_rep(decision: Decision, rep: str, note: str) -> Decision:
    """`decision` decided again with none of `rep`'s claims protecting (the cap)."""
    prots = [
        dataclasses.replace(c.protection, protected=False, limit="cap", note=note)
        if c.row.rep == rep and (c.protection.protected or c.protection.limit == "cap")
        else c.protection
        for c in decision.claims
    ]
    return _decide_plain([c.row for c in decision.claims], prots)


def agent_sentence(agent: str) -> str:
    return f"请勿联系：由代理商 {agent} 负责"


def apply_agent(decision: Decision, agent: str) -> Decision:
    """`decision` for a customer an agent (代理商) serves: no rep owns it, every claim is
    `agent`, and each claim's reason says who serves it."""
    note = agent_sentence(agent)
    claims = tuple(
        Claim(
            c.row,
            dataclasses.replace(c.protection, protected=False, limit="agent", note=note),
            Verdict.AGENT,
        )
        for c in decision.claims
    )
    return Decision(None, claims, agent)
