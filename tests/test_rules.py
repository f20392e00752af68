"""The protection rules, case by case: a table of claims, `as_of` and the verdicts."""

import datetime as dt
import itertools

import pytest

from xlsync.records import Row
from xlsync.register.schema import SheetKind, Status
from xlsync.rules import Basis, RuleEvent, Verdict, call_verdict, decide, protection

D = dt.date
AS_OF = D(2026, 11, 1)
DAYS = 90


def claim(
    rep: str,
    *,
    visited: dt.date | None = None,
    sampled: dt.date | None = None,
    contacted: dt.date | None = None,
    won: dt.date | None = None,
    status: Status | None = None,
    sheet: SheetKind = SheetKind.FOLLOWING,
    row: int = 0,
) -> Row:
    name = "已合作" if sheet is SheetKind.COOPERATING else "跟进中"
    return Row(
        file="r.xlsx", sheet=name, kind=sheet, row=row, customer="格林电子", rep=rep,
        visited=visited, sampled=sampled, contacted=contacted, won=won, status=status,
    )  # fmt: skip


def verdicts(*rows: Row, as_of: dt.date = AS_OF) -> list[str]:
    for i, r in enumerate(rows):
        r.row = r.row or i + 2
    return [c.verdict.value for c in decide(rows, DAYS, as_of).claims]


CASES = [
    # (description, claims, expected verdicts)
    ("visit protects, later visit by another rep must stop",
     [claim("A", visited=D(2026, 9, 1)), claim("B", visited=D(2026, 10, 1))],
     ["owner", "must_stop"]),
    ("order of rows does not matter: the earlier claim owns",
     [claim("B", visited=D(2026, 10, 1)), claim("A", visited=D(2026, 9, 1))],
     ["must_stop", "owner"]),
    ("sample protects like a visit",
     [claim("A", sampled=D(2026, 10, 3)), claim("B", visited=D(2026, 10, 20))],
     ["owner", "must_stop"]),
    ("a phone call alone does not protect: the later visit owns",
     [claim("A", contacted=D(2026, 8, 1)), claim("B", visited=D(2026, 10, 1))],
     ["must_stop", "owner"]),
    ("phone-only overlap is a notice",
     [claim("A", contacted=D(2026, 8, 1)), claim("B", contacted=D(2026, 10, 1))],
     ["notice", "notice"]),
    ("phone-only claims with no dates at all are notices too",
     [claim("A"), claim("B")],
     ["notice", "notice"]),
    ("expired claim frees the customer for the newer claim",
     [claim("A", visited=D(2026, 7, 1)), claim("B", sampled=D(2026, 10, 1))],
     ["expired", "owner"]),
    ("protection lasts exactly protection_days: day 90 is still protected",
     [claim("A", visited=D(2026, 8, 3)), claim("B", visited=D(2026, 10, 1))],
     ["owner", "must_stop"]),
    ("day 91 is free",
     [claim("A", visited=D(2026, 8, 2)), claim("B", visited=D(2026, 10, 1))],
     ["expired", "owner"]),
    ("all claims expired: nobody owns",
     [claim("A", visited=D(2026, 1, 1)), claim("B", sampled=D(2026, 2, 1))],
     ["expired", "expired"]),
    ("expired and phone-only: expired and notice, no owner",
     [claim("A", visited=D(2026, 1, 1)), claim("B", contacted=D(2026, 10, 1))],
     ["expired", "notice"]),
    ("cooperation protects with no end",
     [claim("A", won=D(2024, 1, 1), status=Status.COOPERATING, sheet=SheetKind.COOPERATING),
      claim("B", visited=D(2026, 10, 1))],
     ["owner", "must_stop"]),
    ("a cooperating row with no dates at all still owns",
     [claim("B", visited=D(2026, 10, 1)), claim("A", sheet=SheetKind.COOPERATING)],
     ["must_stop", "owner"]),
    ("same rep twice is same_rep",
     [claim("A", visited=D(2026, 9, 1)), claim("A", sampled=D(2026, 10, 1))],
     ["owner", "same_rep"]),
    ("same rep's expired claim is same_rep, not expired",
     [claim("A", visited=D(2026, 1, 1)), claim("A", sampled=D(2026, 10, 1)),
      claim("B", visited=D(2026, 10, 5))],
     ["same_rep", "owner", "must_stop"]),
    ("tie on the same day: the row registered first owns",
     [claim("A", visited=D(2026, 10, 1)), claim("B", sampled=D(2026, 10, 1))],
     ["owner", "must_stop"]),
    ("tie on the same day across sheets: the cooperating claim owns",
     [claim("A", visited=D(2026, 10, 1)),
      claim("B", won=D(2026, 10, 1), sheet=SheetKind.COOPERATING, status=Status.COOPERATING)],
     ["must_stop", "owner"]),
    ("won row still on 跟进中 (a pending move) protects like cooperation",
     [claim("A", won=D(2026, 3, 1)), claim("B", visited=D(2026, 10, 1))],
     ["owner", "must_stop"]),
    ("status 已合作 without a date protects",
     [claim("A", status=Status.COOPERATING), claim("B", visited=D(2026, 10, 1))],
     ["owner", "must_stop"]),
    ("protection runs from the latest visit or sample",
     [claim("A", visited=D(2026, 5, 1), sampled=D(2026, 8, 20)), claim("B", visited=D(2026, 10, 1))],
     ["owner", "must_stop"]),
    ("a lapse restarts the run: B claimed while the customer was free",
     [claim("A", visited=D(2026, 1, 5), sampled=D(2026, 10, 10)), claim("B", sampled=D(2026, 9, 1))],
     ["must_stop", "owner"]),
    ("dates after as_of do not protect yet",
     [claim("A", visited=D(2026, 12, 1)), claim("B", visited=D(2026, 10, 1))],
     ["must_stop", "owner"]),
    ("three reps: earliest protected owns, the others stop or are expired",
     [claim("C", visited=D(2026, 10, 20)), claim("A", visited=D(2026, 6, 1)),
      claim("B", sampled=D(2026, 9, 15)), claim("D", contacted=D(2026, 10, 30))],
     ["must_stop", "expired", "owner", "must_stop"]),
]  # fmt: skip


@pytest.mark.parametrize(("rows", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_table(rows: list[Row], expected: list[str]) -> None:
    assert verdicts(*rows) == expected


def test_owner_reason_is_readable() -> None:
    rows = [claim("A", sampled=D(2026, 10, 3), row=5), claim("B", visited=D(2026, 10, 9), row=6)]
    decision = decide(rows, DAYS, AS_OF)
    assert decision.owner is not None
    assert decision.owner.protection.reason() == "送样 2026-10-03，保护至 2027-01-01"
    assert decision.is_conflict


def test_reasons_for_cooperation_and_expiry() -> None:
    won = protection(claim("A", won=D(2026, 5, 1), sheet=SheetKind.COOPERATING), DAYS, AS_OF)
    assert won.reason() == "已合作 2026-05-01 成交，长期保护"
    old = protection(claim("A", visited=D(2026, 1, 1)), DAYS, AS_OF)
    assert old.reason() == "拜访 2026-01-01，保护已于 2026-04-01 到期"


def test_basis_is_typed_and_read_in_chinese() -> None:
    same_day = protection(claim("A", visited=D(2026, 10, 3), sampled=D(2026, 10, 3)), DAYS, AS_OF)
    assert same_day.basis is Basis.SAMPLE  # a visit and a sample on one day: the sample
    assert same_day.reason() == "送样 2026-10-03，保护至 2027-01-01"
    visit = protection(claim("A", visited=D(2026, 10, 9), sampled=D(2026, 10, 3)), DAYS, AS_OF)
    assert (visit.basis, visit.basis.label) == (Basis.VISIT, "拜访")
    phone = protection(claim("A", contacted=D(2026, 10, 1)), DAYS, AS_OF)
    assert (phone.basis, phone.reason()) == (Basis.PHONE, "仅电话联系，不受保护")
    nothing = protection(claim("A"), DAYS, AS_OF)
    assert (nothing.basis, nothing.reason()) == (Basis.NONE, "未登记拜访或送样，不受保护")
    assert not phone.ever_protected and visit.ever_protected
    owner = decide([claim("A", visited=D(2026, 10, 9))], DAYS, AS_OF).owner
    assert call_verdict(owner, "B") == "请勿联系：已由 A 拜访保护至 2027-01-07"


def test_same_rep_only_is_not_a_conflict() -> None:
    rows = [claim("A", visited=D(2026, 10, 1), row=2), claim("A", row=3)]
    assert not decide(rows, DAYS, AS_OF).is_conflict


DATES = [None, D(2026, 1, 1), D(2026, 8, 1), D(2026, 10, 1), D(2026, 12, 1)]


@pytest.mark.parametrize("reps", ["AB", "AA", "ABC"])
def test_invariants_over_every_combination_of_dates(reps: str) -> None:
    """Exhaustive over visit x sample x won for each claim: the rules' invariants hold."""
    options = list(itertools.product(DATES, DATES, [None, D(2026, 2, 1)]))
    for combo in itertools.product(options, repeat=len(reps)):
        rows = [
            claim(rep, visited=v, sampled=s, won=w, row=i + 2)
            for i, (rep, (v, s, w)) in enumerate(zip(reps, combo, strict=True))
        ]
        decision = decide(rows, DAYS, AS_OF)
        prots = [c.protection for c in decision.claims]
        owners = [c for c in decision.claims if c.verdict is Verdict.OWNER]
        # exactly one owner iff someone is protected, and the owner is protected
        assert len(owners) == (1 if any(p.protected for p in prots) else 0)
        if owners:
            owner = owners[0]
            assert owner.protection.protected
            # nobody protected started earlier than the owner
            for c in decision.claims:
                if c.protection.protected and c.row.rep != owner.row.rep:
                    assert (c.protection.since or D.min) >= (owner.protection.since or D.min)
                    assert c.verdict is Verdict.MUST_STOP
        for c in decision.claims:
            if c.verdict is Verdict.EXPIRED:
                assert not c.protection.protected and c.protection.ever_protected
            if c.verdict is Verdict.NOTICE:
                assert not owners and not c.protection.ever_protected


# ------------------------------------------------------------------ the manager's rulings


def assign(rep: str, on: dt.date, until: dt.date | None = None, row: int = 5) -> RuleEvent:
    return RuleEvent("assign", on, row, "r.xlsx", "裁决", rep, until)


def release(on: dt.date, row: int = 6) -> RuleEvent:
    return RuleEvent("release", on, row, "r.xlsx", "裁决")


def ruled(*rows: Row, events: list[RuleEvent], as_of: dt.date = AS_OF) -> list[str]:
    for i, r in enumerate(rows):
        r.row = r.row or i + 2
    return [c.verdict.value for c in decide(rows, DAYS, as_of, events).claims]


RULED_CASES = [
    # (description, claims, events, expected verdicts)
    ("指派 ranks above an earlier visit: the assigned rep owns",
     [claim("A", visited=D(2026, 9, 1)), claim("B", visited=D(2026, 10, 1))],
     [assign("B", D(2026, 10, 15))], ["must_stop", "owner"]),
    ("指派 to a rep with no row: every claim must stop",
     [claim("A", visited=D(2026, 9, 1)), claim("B", contacted=D(2026, 10, 1))],
     [assign("C", D(2026, 10, 15))], ["must_stop", "must_stop"]),
    ("a visit after the 指派 does not win it back",
     [claim("A", visited=D(2026, 10, 20)), claim("B")],
     [assign("B", D(2026, 10, 15))], ["must_stop", "owner"]),
    ("an expired 指派 frees the customer; claims before it stay ended",
     [claim("A", visited=D(2026, 9, 1)), claim("B")],
     [assign("B", D(2026, 9, 10), until=D(2026, 10, 10))], ["expired", "notice"]),
    ("a 指派 in the future changes nothing yet",
     [claim("A", visited=D(2026, 9, 1)), claim("B", visited=D(2026, 10, 1))],
     [assign("B", D(2026, 12, 1))], ["owner", "must_stop"]),
    ("释放 ends every protection started before it",
     [claim("A", visited=D(2026, 9, 1)), claim("B", visited=D(2026, 10, 1))],
     [release(D(2026, 10, 20))], ["expired", "expired"]),
    ("释放 ends cooperation too",
     [claim("A", won=D(2026, 5, 1), sheet=SheetKind.COOPERATING), claim("B")],
     [release(D(2026, 10, 20))], ["expired", "notice"]),
    ("after a 释放 a new visit protects anew",
     [claim("A", visited=D(2026, 9, 1)), claim("B", visited=D(2026, 10, 25))],
     [release(D(2026, 10, 20))], ["expired", "owner"]),
    ("a visit before and after the 释放: protected anew from the later one",
     [claim("A", visited=D(2026, 9, 1), sampled=D(2026, 10, 28)), claim("B", visited=D(2026, 10, 25))],
     [release(D(2026, 10, 20))], ["must_stop", "owner"]),
    ("the later ruling wins: 释放 after 指派",
     [claim("A", visited=D(2026, 9, 1)), claim("B")],
     [assign("B", D(2026, 10, 1)), release(D(2026, 10, 10))], ["expired", "notice"]),
    ("the later ruling wins: 指派 after 释放",
     [claim("A", visited=D(2026, 9, 1)), claim("B")],
     [release(D(2026, 10, 1)), assign("A", D(2026, 10, 10))], ["owner", "must_stop"]),
    ("the same day: the lower row wins",
     [claim("A"), claim("B")],
     [assign("A", D(2026, 10, 10), row=9), assign("B", D(2026, 10, 10), row=4)],
     ["must_stop", "owner"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "events", "expected"), [c[1:] for c in RULED_CASES], ids=[c[0] for c in RULED_CASES]
)
def test_ruled_table(rows: list[Row], events: list[RuleEvent], expected: list[str]) -> None:
    assert ruled(*rows, events=events) == expected


def test_assigned_owner_reason_and_call_verdict() -> None:
    rows = [claim("A", visited=D(2026, 10, 1), row=2), claim("B", row=3)]
    decision = decide(rows, DAYS, AS_OF, [assign("B", D(2026, 10, 15), D(2027, 1, 13))])
    assert decision.owner is not None and decision.owner.row.rep == "B"
    assert decision.owner.protection.reason() == "经理指派 2026-10-15，保护至 2027-01-13"
    assert call_verdict(decision.owner) == "请勿联系：经理已指派给 B，保护至 2027-01-13"
    forever = decide(rows, DAYS, AS_OF, [assign("C", D(2026, 10, 15))])
    assert forever.owner is not None and forever.owner.row.sheet == "裁决"
    assert forever.owner.row.row == 5 and forever.is_conflict
    assert call_verdict(forever.owner, "A") == "请勿联系：经理已指派给 C，长期保护"


def test_no_events_is_exactly_today() -> None:
    rows = [claim("A", visited=D(2026, 9, 1), row=2), claim("B", visited=D(2026, 10, 1), row=3)]
    assert decide(rows, DAYS, AS_OF, []) == decide(rows, DAYS, AS_OF)


EVENT_OPTIONS: list[list[RuleEvent]] = [
    [],
    [assign("A", D(2026, 8, 15))],
    [assign("B", D(2026, 10, 15), D(2026, 10, 25))],
    [assign("C", D(2026, 9, 1))],
    [release(D(2026, 9, 15))],
    [assign("A", D(2026, 8, 1)), release(D(2026, 10, 1))],
]


@pytest.mark.parametrize("reps", ["AB", "ABC"])
def test_ruled_invariants_over_every_combination(reps: str) -> None:
    """Exhaustive over visit x sample x won x rulings: the invariants hold under rulings."""
    options = list(itertools.product(DATES, DATES, [None, D(2026, 2, 1)]))
    for events in EVENT_OPTIONS:
        in_force = [e for e in events if e.date <= AS_OF]
        latest = max(in_force, key=lambda e: (e.date, -e.row)) if in_force else None
        active = (
            latest is not None
            and latest.kind == "assign"
            and (latest.until is None or latest.until >= AS_OF)
        )
        for combo in itertools.product(options, repeat=len(reps)):
            rows = [
                claim(rep, visited=v, sampled=s, won=w, row=i + 2)
                for i, (rep, (v, s, w)) in enumerate(zip(reps, combo, strict=True))
            ]
            decision = decide(rows, DAYS, AS_OF, events)
            owners = [c for c in decision.claims if c.verdict is Verdict.OWNER]
            assert len(owners) <= 1
            if active:
                assert latest is not None and decision.owner is not None
                assert decision.owner.row.rep == latest.rep
                assert decision.owner.protection.assigned
                for c in decision.claims:  # every other rep must stop while it is in force
                    if c.row.rep != latest.rep:
                        assert c.verdict is Verdict.MUST_STOP
                continue
            if owners:
                owner = owners[0]
                assert owner.protection.protected
                for c in decision.claims:
                    if c.protection.protected and c.row.rep != owner.row.rep:
                        assert c.verdict is Verdict.MUST_STOP
            else:
                assert not any(c.protection.protected for c in decision.claims)
            if latest is not None:  # nothing started on or before the cut protects past it
                for c in decision.claims:
                    p = c.protection
                    if p.protected and p.since is not None and p.since <= latest.date:
                        raise AssertionError(f"protection from {p.since} outlived {latest}")


# ------------------------------------------------------------------ the office rules

from xlsync.rules import apply_cap, apply_cool_down, holdings  # noqa: E402


def customer(name: str, *claims: Row) -> list[Row]:
    for i, r in enumerate(claims):
        r.customer = name
        r.row = r.row or i + 2
    return list(claims)


def test_cool_down_blocks_a_visit_after_the_same_reps_protection_ended() -> None:
    rows = customer(
        "格林电子",
        claim("A", visited=D(2026, 5, 1), row=2),  # protected to 2026-07-30
        claim("A", visited=D(2026, 9, 1), row=3),  # in the 60-day cool-down
        claim("B", visited=D(2026, 9, 10), row=4),
    )
    plain = decide(rows, DAYS, AS_OF)
    assert [c.verdict.value for c in plain.claims] == ["same_rep", "owner", "must_stop"]
    cooled = apply_cool_down(plain, DAYS, 60, AS_OF)
    assert [c.verdict.value for c in cooled.claims] == ["expired", "expired", "owner"]
    assert cooled.claims[1].protection.reason() == (
        "冷却期内（原保护 2026-07-30 到期，冷却至 2026-09-28），本次拜访不受保护"
    )
    assert cooled.claims[1].protection.limit == "cool_down"


def test_cool_down_within_one_row_and_after_it_ends() -> None:
    # one row: a visit whose protection ended, then a sample in the cool-down
    row = claim("A", visited=D(2026, 5, 1), sampled=D(2026, 9, 1), row=2)
    cooled = apply_cool_down(decide([row], DAYS, AS_OF), DAYS, 60, AS_OF)
    assert cooled.owner is None
    assert "本次送样不受保护" in cooled.claims[0].protection.reason()
    # a visit after the cool-down protects anew
    later = claim("A", visited=D(2026, 5, 1), sampled=D(2026, 10, 1), row=2)
    cooled = apply_cool_down(decide([later], DAYS, AS_OF), DAYS, 60, AS_OF)
    assert cooled.owner is not None and cooled.owner.protection.since == D(2026, 10, 1)


def test_cool_down_spares_cooperating_reps_and_other_reps() -> None:
    rows = customer(
        "格林电子",
        claim("A", visited=D(2026, 5, 1), row=2),
        claim("B", visited=D(2026, 9, 1), row=3),  # another rep: no cool-down
    )
    plain = decide(rows, DAYS, AS_OF)
    assert apply_cool_down(plain, DAYS, 60, AS_OF) is plain


@pytest.mark.parametrize("reps", ["AAB", "AAA"])
def test_a_rep_in_cool_down_never_owns(reps: str) -> None:
    """Exhaustive over visit x sample: a rep whose latest visit or sample came after their
    protection ended and within the cool-down never owns; off, the verdicts are today's."""
    cool = 60
    dates = [None, D(2026, 1, 1), D(2026, 5, 1), D(2026, 8, 15), D(2026, 9, 1), D(2026, 10, 20)]
    options = list(itertools.product(dates, dates))
    for combo in itertools.product(options, repeat=len(reps)):
        rows = [
            claim(rep, visited=v, sampled=s, row=i + 2)
            for i, (rep, (v, s)) in enumerate(zip(reps, combo, strict=True))
        ]
        plain = decide(rows, DAYS, AS_OF)
        assert apply_cool_down(plain, DAYS, None, AS_OF) is plain
        assert apply_cool_down(plain, DAYS, 0, AS_OF) is plain
        cooled = apply_cool_down(plain, DAYS, cool, AS_OF)
        owners = [c for c in cooled.claims if c.verdict is Verdict.OWNER]
        assert len(owners) == (1 if any(c.protection.protected for c in cooled.claims) else 0)
        if not owners:
            continue
        rep = owners[0].row.rep
        mine = sorted({d for r in rows if r.rep == rep for d in (r.visited, r.sampled) if d})
        # a date protects when it is the first, continues a protection, or comes after the
        # cool-down that followed the last protecting date; the owner's latest date protects
        last: dt.date | None = None
        for d in mine:
            span = (d - last).days if last else 0
            if last is None or span <= DAYS or span > DAYS + cool:
                last = d
        assert last == mine[-1], (combo, cooled)


def _customers(n: int, seed: int) -> list[list[Row]]:
    """`n` customers, each claimed by one to three of reps A..D on random dates."""
    import random

    rnd = random.Random(seed)
    out = []
    for k in range(n):
        claims = []
        for rep in rnd.sample("ABCD", rnd.randint(1, 3)):
            day = D(2026, 8, 1) + dt.timedelta(days=rnd.randint(0, 90))
            kind = rnd.choice(["visited", "sampled", "contacted"])
            claims.append(claim(rep, **{kind: day}))
        out.append(customer(f"客户{k:03d}", *claims))
    return out


def _verdicts(decisions: list) -> dict[tuple[str, str], str]:  # type: ignore[type-arg]
    return {(c.row.customer, c.row.rep): c.verdict.value for d in decisions for c in d.claims}


@pytest.mark.parametrize("seed", range(6))
def test_no_rep_ever_holds_more_than_the_cap(seed: int) -> None:
    import random

    customers = _customers(40, seed)
    plain = [decide(rows, DAYS, AS_OF) for rows in customers]
    assert apply_cap(plain, None) == plain and apply_cap(plain, 0) == plain
    for cap in (1, 3, 5, 8):
        capped = apply_cap(plain, cap)
        assert all(n <= cap for n in holdings(capped).values())
        # whoever was not over the cap keeps exactly today's verdicts
        over = {rep for rep, n in holdings(plain).items() if n > cap}
        if not over:
            assert _verdicts(capped) == _verdicts(plain)
        # the same answer whatever the order of customers and of their rows
        shuffled = [list(rows) for rows in customers]
        random.Random(seed + 100).shuffle(shuffled)
        for rows in shuffled:
            random.Random(seed).shuffle(rows)
        again = apply_cap([decide(rows, DAYS, AS_OF) for rows in shuffled], cap)
        assert _verdicts(again) == _verdicts(capped)


def test_the_latest_protection_past_the_cap_does_not_protect() -> None:
    decisions = [
        decide(customer("甲公司", claim("A", visited=D(2026, 9, 1))), DAYS, AS_OF),
        decide(customer("乙公司", claim("A", visited=D(2026, 10, 1))), DAYS, AS_OF),
        decide(
            customer(
                "丙公司", claim("A", visited=D(2026, 9, 15)), claim("B", sampled=D(2026, 10, 5))
            ),
            DAYS,
            AS_OF,
        ),
        decide(
            customer("丁公司", claim("A", won=D(2026, 1, 1), status=Status.COOPERATING)),
            DAYS,
            AS_OF,
        ),
    ]
    capped = apply_cap(decisions, 2)
    assert _verdicts(capped) == {
        ("甲公司", "A"): "owner",
        ("乙公司", "A"): "expired",  # the latest start: past the cap
        ("丙公司", "A"): "owner",  # started 2026-09-15: within the first two
        ("丙公司", "B"): "must_stop",
        ("丁公司", "A"): "owner",  # cooperating customers do not count
    }
    assert capped[1].claims[0].protection.reason() == (
        "你已有 2 个保护中的客户（上限 2），本条不受保护；请先释放或成交"
    )
    assert holdings(capped) == {"A": 2}
