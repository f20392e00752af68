"""The office rules' invariants, over generated registers: the cool-down (with dates only
the history knows, and with a manager's 释放) and the cap applied together.

- no rep ever holds more than the cap;
- a rep in cool-down never owns (checked against an independent model of the runs);
- without both settings every verdict is exactly today's, whatever the history holds;
- the answer does not depend on the order of the customers or of their rows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.test_rules import AS_OF, DAYS, claim
from xlsync.records import Row
from xlsync.rules import Decision, RuleEvent, Verdict, apply_cap, apply_cool_down, decide, holdings

D = dt.date
DATES = [D(2026, 1, 10), D(2026, 4, 1), D(2026, 6, 20), D(2026, 8, 1), D(2026, 9, 10),
         D(2026, 10, 1), D(2026, 10, 25)]  # fmt: skip
REPS = "ABCD"

date_or_none = st.one_of(st.none(), st.sampled_from(DATES))
a_claim = st.tuples(st.sampled_from(REPS), date_or_none, date_or_none)
a_customer = st.tuples(
    st.lists(a_claim, min_size=1, max_size=3),
    st.lists(st.tuples(st.sampled_from(REPS), st.sampled_from(DATES)), max_size=2),  # history
    st.one_of(st.none(), st.sampled_from(DATES)),  # a 释放 on that day
)


class Customer:
    def __init__(self, k: int, raw: tuple) -> None:  # type: ignore[type-arg]
        claims, earlier, release = raw
        self.rows: list[Row] = []
        for i, (rep, visited, sampled) in enumerate(claims):
            row = claim(rep, visited=visited, sampled=sampled, row=i + 2)
            row.customer = f"客户{k:03d}"
            self.rows.append(row)
        self.earlier = list(earlier)
        self.events = (
            [RuleEvent("release", release, 2, "r.xlsx", "裁决")] if release is not None else []
        )

    def decide(self, rows: list[Row] | None = None) -> Decision:
        return decide(rows or self.rows, DAYS, AS_OF, self.events)

    def cool(self, decision: Decision, cool: int | None) -> Decision:
        return apply_cool_down(decision, DAYS, cool, AS_OF, earlier=self.earlier,
                               events=self.events)  # fmt: skip


def _verdicts(decisions: list[Decision]) -> Counter[tuple[object, ...]]:
    """Each claim's verdict by what the rep typed (two identical rows are interchangeable)."""
    return Counter((c.row.content_key(), c.verdict.value) for d in decisions for c in d.claims)


def _in_cool_down(rep: str, customer: Customer, since: dt.date, cool: int) -> bool:
    """The independent model: `since` (the owner's protection start) falls within `cool`
    days after the end of an earlier protection of `rep` (from their dates, row or history,
    or cut by the 释放)."""
    dates = sorted({d for r in customer.rows if r.rep == rep for d in (r.visited, r.sampled)
                    if d and d <= AS_OF} | {d for who, d in customer.earlier
                                            if who == rep and d <= AS_OF})  # fmt: skip
    release = customer.events[0].date if customer.events else None
    last: dt.date | None = None
    ended: dt.date | None = None
    for d in dates:
        if release is not None and d > release:
            if last is not None and release <= last + dt.timedelta(days=DAYS):
                ended, last = release, None
            release = None
        if last is not None and d <= last + dt.timedelta(days=DAYS):
            last = d
            continue
        if last is not None:
            ended, last = last + dt.timedelta(days=DAYS), None
        if ended is not None and d <= ended + dt.timedelta(days=cool):
            if d == since:
                return True
            continue
        last = d
    return False


@settings(max_examples=200, deadline=None)
@example(  # a 释放 on 2026-08-01 cut C's protection: C's sample of 2026-09-10 is cooled
    raw=[([("C", None, D(2026, 6, 20)), ("C", None, D(2026, 9, 10))], [], D(2026, 8, 1))],
    cap=None, cool=60, seed=0,
)  # fmt: skip
@example(  # C typed 2026-10-01 over 2026-04-01 (protected to 2026-06-30): cooled to 2026-10-28
    raw=[([("C", D(2026, 10, 1), None), ("A", D(2026, 10, 25), None)], [("C", D(2026, 4, 1))], None)],
    cap=None, cool=120, seed=0,
)  # fmt: skip
@given(
    raw=st.lists(a_customer, min_size=1, max_size=14),
    cap=st.one_of(st.none(), st.integers(1, 4)),
    cool=st.one_of(st.none(), st.sampled_from([20, 60, 120])),
    seed=st.integers(0, 1000),
)
def test_the_office_rules_together(raw: list, cap: int | None, cool: int | None, seed: int) -> None:  # type: ignore[type-arg]
    customers = [Customer(k, r) for k, r in enumerate(raw)]
    plain = [c.decide() for c in customers]
    ruled = apply_cap([c.cool(d, cool) for c, d in zip(customers, plain, strict=True)], cap)
    if cap is None and cool is None:  # off: exactly today's verdicts, whatever is known
        assert _verdicts(ruled) == _verdicts(plain)
        assert all(a.owner is b.owner for a, b in zip(ruled, plain, strict=True))
    if cap:
        assert all(n <= cap for n in holdings(ruled).values()), holdings(ruled)
    for customer, decision in zip(customers, ruled, strict=True):
        owner = decision.owner
        assert sum(c.verdict is Verdict.OWNER for c in decision.claims) == (owner is not None)
        if owner is None or not cool:
            continue
        since = owner.protection.since
        assert since is not None
        # the owner's protection started on a date of its own rows, never in a cool-down
        assert not _in_cool_down(owner.row.rep, customer, owner.protection.basis_date or since,
                                 cool), (customer.rows, customer.earlier, customer.events, decision)  # fmt: skip
    # the same answer whatever the order of the customers and of their rows
    rnd = random.Random(seed)
    order = list(range(len(customers)))
    rnd.shuffle(order)
    again: list[Decision] = []
    for k in order:
        rows = list(customers[k].rows)
        rnd.shuffle(rows)
        again.append(customers[k].cool(customers[k].decide(rows), cool))
    assert _verdicts(apply_cap(again, cap)) == _verdicts(ruled)
