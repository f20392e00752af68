"""`xlsync who`: the check a rep makes before calling a customer.

The answer comes from :mod:`xlsync.lookup` over a full check of the register set, so it is
the same answer the blackboard and the web look-up give, with the same owners the 冲突
sheet shows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from xlsync.check import CheckResult, check_registers
from xlsync.lookup import WHY_LABELS, Hit, LookupAnswer, LookupIndex, is_phone_query
from xlsync.records import OtherOffices, OtherRows, Row
from xlsync.register.cells import parse_phones
from xlsync.register.schema import SheetKind
from xlsync.register_set import load_set
from xlsync.workspace import Workspace


def who(
    target: Path | str, name: str, phone: str | None, as_of: dt.date
) -> tuple[CheckResult, LookupAnswer]:
    """Check the register set at `target`, then ask it about `name` (and `phone`). With a
    shared database, the other offices' rows that may be this customer are asked too."""
    registers = load_set(target)
    others = Workspace.of(registers.target).other_offices()
    if others is not None:
        others = _Asking(others, name, phone)
    result = check_registers(str(target), registers, as_of, others=others)
    return result, ask(result, name, phone)


def ask(result: CheckResult, name: str, phone: str | None) -> LookupAnswer:
    return LookupIndex.from_check(result, others=True).find(name, phone)


class _Asking:
    """The other offices' rows that may be this office's customers or the one asked for."""

    def __init__(self, inner: OtherOffices, name: str, phone: str | None) -> None:
        phones = [n for text in (name, phone or "") for n in parse_phones(text)[0]]
        asked = "" if is_phone_query(name) else name
        self.probe = Row("", "", SheetKind.FOLLOWING, 0, customer=asked, phones=tuple(phones))
        self.inner = inner

    def candidates(self, rows: list[Row]) -> OtherRows:
        return self.inner.candidates([*rows, self.probe])


def answer_json(answer: LookupAnswer, rep: str | None, folder: bool) -> dict[str, object]:
    """What `who --json` prints (and the web look-up returns)."""

    def ref(row: Row, **extra: object) -> dict[str, object]:
        out: dict[str, object] = {"file": row.file} if folder else {}
        out.update({"sheet": row.sheet, "row": row.row, "customer": row.customer, "rep": row.rep})
        out.update(extra)
        return out

    def customer(hit: Hit) -> dict[str, object]:
        c = hit.customer
        owner = c.decision.owner
        return {
            "customer": c.name,
            "tier": hit.tier.value,
            "match": hit.why.value,
            "match_text": WHY_LABELS[hit.why],
            "score": round(hit.score / 100, 2),
            "may_call": not c.stops(rep),
            "verdict": c.verdict(rep),
            "owner": owner.row.rep if owner else None,
            "suggested": c.suggestion or None,  # the 分配规则's next rep of a freed customer
            "protected_until": owner.protection.until.isoformat()
            if owner and owner.protection.until
            else None,
        }

    matches = [
        ref(
            c.row,
            verdict=c.verdict.value,
            protected_until=c.protection.until.isoformat() if c.protection.until else None,
            reason=c.protection.reason(),
        )
        for hit in answer.same
        for c in hit.customer.decision.claims
    ]
    maybe = []
    for hit in answer.maybe:
        claims = hit.customer.decision.claims
        owner = hit.customer.decision.owner
        first = owner or claims[0]
        maybe.append(ref(first.row, score=round(hit.score / 100, 2), match=hit.why.value))
    return {
        "name": answer.query,
        "phone": answer.phone,
        "answer": answer.answer(rep).value,
        "may_call": answer.may_call(rep),
        "verdict": answer.verdict(rep),
        "customers": [customer(h) for h in answer.same],
        "matches": matches,
        "maybe": maybe,
        "maybe_customers": [customer(h) for h in answer.maybe],
    }
