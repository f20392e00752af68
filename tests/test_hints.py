"""Every hint sentence against the rules: for each combination of two claims (and the same
claims by one rep), the words in each row's hint are true of both rows' verdicts."""

import datetime as dt
import itertools
import re

import pytest

from xlsync.plan import _hint
from xlsync.register.schema import SheetKind, Status
from xlsync.rules import Verdict, decide

from .test_rules import AS_OF, DAYS, D, claim

# One claim's state as of AS_OF, and how to make it
STATES = {
    "none": {},
    "phone": {"contacted": D(2026, 10, 20)},
    "visit_protected": {"visited": D(2026, 10, 1)},
    "sample_protected": {"sampled": D(2026, 9, 15)},
    "visit_expired": {"visited": D(2026, 3, 1)},
    "sample_expired": {"sampled": D(2026, 4, 1), "contacted": D(2026, 3, 20)},
    "cooperating": {"won": D(2025, 6, 1), "status": Status.COOPERATING},
}
TAGS = {
    Verdict.OWNER: "【归属】",
    Verdict.MUST_STOP: "【冲突】",
    Verdict.EXPIRED: "【提醒】",
    Verdict.NOTICE: "【提醒】",
    Verdict.SAME_REP: "【重复】",
}
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _where(row) -> str:  # type: ignore[no-untyped-def]
    return f"{row.sheet} 第 {row.row} 行"


def _pairs():  # type: ignore[no-untyped-def]
    for a, b in itertools.product(STATES, repeat=2):
        for same_rep in (False, True):
            yield a, b, same_rep


@pytest.mark.parametrize(("a", "b", "same_rep"), list(_pairs()))
def test_each_hint_says_what_is_true_of_both_claims(a: str, b: str, same_rep: bool) -> None:
    rows = [
        claim("杜雪梅", row=2, **STATES[a]),  # type: ignore[arg-type]
        claim("杜雪梅" if same_rep else "王静", row=3, **STATES[b]),  # type: ignore[arg-type]
    ]
    for r in rows:
        if r.won is not None:
            r.kind, r.sheet = SheetKind.COOPERATING, "已合作"
    decision = decide(rows, DAYS, AS_OF)
    owner = decision.owner
    claims = decision.claims
    known_dates = {
        d.isoformat()
        for c in claims
        for d in (c.row.visited, c.row.sampled, c.row.won, c.row.contacted, c.protection.until)
        if d is not None
    }
    for me, other in ((claims[0], claims[1]), (claims[1], claims[0])):
        text = _hint(me, owner, claims, _where)
        tag = TAGS[Verdict.SAME_REP] if same_rep and me.verdict is not Verdict.MUST_STOP else None
        assert text.startswith(tag or TAGS[me.verdict]), (a, b, me.verdict, text)
        # every date in a hint is a date of one of the rows, or a protection end
        assert set(DATE.findall(text)) <= known_dates, text
        if me.verdict is Verdict.MUST_STOP:
            assert owner is not None and owner.row.rep in text and "请停止跟进" in text
            assert owner.protection.reason() in text
        else:
            assert "请停止跟进" not in text
        if owner is None:
            assert "归你" not in text and "现归" not in text
        if "你的保护已过期" in text:
            assert me.protection.ever_protected and not me.protection.protected
        if me.verdict is Verdict.SAME_REP or same_rep:
            assert _where(other.row) in text
            continue
        if other.row.rep != me.row.rep and other.row.rep in text:
            # whatever the hint says about the other rep is their own claim's truth
            said = text.split(other.row.rep, 1)[1]
            if said.startswith("（"):
                assert said[1:].startswith(other.protection.reason()), (a, b, text)
            if other.protection.cooperating is False and not other.protection.ever_protected:
                assert f"{other.row.rep} 拜访" not in text and f"{other.row.rep} 送样" not in text
        if me.verdict in (Verdict.EXPIRED, Verdict.NOTICE) and owner is None:
            assert "无人受保护" in text
            assert other.row.rep in text


def test_a_phone_only_row_is_told_the_truth_about_a_rep_who_visited() -> None:
    """The reported case: 王静 phoned, 杜雪梅 visited (long expired): the hint must not call
    杜雪梅's claim phone-only."""
    rows = [
        claim("杜雪梅", row=2, visited=D(2026, 2, 1)),
        claim("王静", row=3, contacted=D(2026, 10, 20)),
    ]
    decision = decide(rows, DAYS, AS_OF)
    text = _hint(decision.claims[1], decision.owner, decision.claims, _where)
    assert "杜雪梅（拜访 2026-02-01，保护已于 2026-05-02 到期）" in text
    assert "仅电话" not in text


def test_every_verdict_has_a_hint() -> None:
    rows = [claim("A", row=2, visited=dt.date(2026, 10, 1)), claim("B", row=3)]
    decision = decide(rows, DAYS, AS_OF)
    for c in decision.claims:
        assert _hint(c, decision.owner, decision.claims, _where)
