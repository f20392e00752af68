"""Build the reports' data from a check: the monthly handout, the daily list, the board."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from xlsync.check import CheckResult, DuplicateGroup

if TYPE_CHECKING:
    from xlsync.reports.content import (
        Board,
        ConflictLine,
        CustomerLine,
        DailyReport,
        MonthlyReport,
        RulingLine,
        Score,
    )
from xlsync.history import EventKind, HistoryStore
from xlsync.plan import ConflictRecord
from xlsync.records import Row
from xlsync.register.schema import SheetKind, Status
from xlsync.rules import (
    VERDICT_LABELS,
    Claim,
    Decision,
    Protection,
    Verdict,
    agent_sentence,
    call_verdict,
    holdings,
    near_cap,
    protection,
)

ENDING_SOON_DAYS = 14


@lru_cache(maxsize=1 << 16)
def pinyin(text: str) -> str:
    """Sort key for Chinese names in the order a person expects (李 before 张): the same
    string as `" ".join(pypinyin.lazy_pinyin(text))`, computed once per distinct text.

    pypinyin converts each word of its segmentation on its own, so the key is the words'
    sounds joined, and a word's sound is computed once per run (company names share most
    of their words: 有限公司, 电子, 东莞): five times faster than a call per name."""
    return " ".join(sound for word in _segment(text) for sound in _word_pinyin(word))


@cache
def _segmenter() -> Callable[[str], list[str]]:
    """pypinyin's own segmentation (its public `Pinyin.seg`), imported at first use."""
    from pypinyin.core import Pinyin  # 0.3 s to import

    return Pinyin().seg


def _segment(text: str) -> list[str]:
    return _segmenter()(text)


@lru_cache(maxsize=1 << 16)
def _word_pinyin(word: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(word))


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of YYYY-MM; ValueError for anything else."""
    year, number = (int(part) for part in month.split("-"))
    last = calendar.monthrange(year, number)[1]
    return dt.date(year, number, 1), dt.date(year, number, last)


PHONE_SEPARATOR = " / "  # between the numbers of one cell, where a line may break
_AREA3 = re.compile(r"^0(?:10|2\d)")  # Beijing and the 02x cities: three-digit area codes


def mask_number(number: str) -> str:
    """A canonical phone number (see `register.cells.parse_phones`), masked for print.

    Mobile `13812345678` -> `138****5678`; landline `075523456789` -> `0755-****6789`
    (the area code stays: it identifies nobody); `01012345678` -> `010-****5678`;
    a local number or anything else keeps only its last four digits.
    """
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) == 11 and digits[0] == "1":
        return f"{digits[:3]}****{digits[-4:]}"
    if digits.startswith("0") and len(digits) >= 10:
        area = 3 if _AREA3.match(digits) else 4
        local = digits[area:]
        return f"{digits[:area]}-{'*' * (len(local) - 4)}{local[-4:]}"
    prefix = "+" if number.startswith("+") else ""
    if len(digits) <= 4:
        return prefix + "*" * len(digits)
    return prefix + "*" * (len(digits) - 4) + digits[-4:]


def masked_phones(phones: Iterable[str], phone_text: str) -> str:
    """What the handout prints for a phone cell when phones are masked: each parsed number
    masked, then any part of the cell that did not read as a number with its digits
    masked. The raw text is never printed, so no way of writing a number leaks it."""
    from xlsync.register.cells import parse_phones

    parts = [mask_number(p) for p in phones]
    if phone_text:
        _good, bad = parse_phones(phone_text)
        for chunk in bad:
            digits = sum(ch.isdigit() for ch in chunk)
            if digits >= 5:  # could identify someone: keep the last four digits only
                seen = 0
                chars = []
                for ch in chunk:
                    if ch.isdigit():
                        seen += 1
                        chars.append(ch if seen > digits - 4 else "*")
                    else:
                        chars.append(ch)
                chunk = "".join(chars)
            parts.append(chunk)
    return PHONE_SEPARATOR.join(dict.fromkeys(parts))


def line_of(
    row: Row, prot: Protection, *, mask: bool, note: str = "", marked: bool = False
) -> CustomerLine:
    from xlsync.reports.content import CustomerLine

    return CustomerLine(
        customer=row.customer,
        rep=row.rep,
        department=row.department,
        phone=masked_phones(row.phones, row.phone_text) if mask else row.phone_text,
        region=row.region,
        status=row.status.label if row.status else ("已合作" if row.cooperating else ""),
        contacted=row.contacted,
        visited=row.visited,
        sampled=row.sampled,
        sample=row.sample,
        last_follow_up=row.last_follow_up,
        won=row.won,
        protected_until=None if prot.cooperating else prot.until,
        protection=prot.reason(),
        id=row.id,
        sheet=row.sheet,
        row=row.row,
        file=row.file,
        marked=marked,
        note=note,
    )


_DATED = ("contacted", "visited", "sampled", "last_follow_up", "won")


def as_it_stood(row: Row, cutoff: dt.date) -> Row:
    """The row as it stood on `cutoff`: every date after it left out, and a customer won
    after it not yet cooperating. The same row when nothing is dated after `cutoff`."""
    later = [name for name in _DATED if (d := getattr(row, name)) is not None and d > cutoff]
    if not later:
        return row

    def kept(day: dt.date | None) -> dt.date | None:
        return day if day is not None and day <= cutoff else None

    then = replace(row, contacted=kept(row.contacted), visited=kept(row.visited),
                   sampled=kept(row.sampled), last_follow_up=kept(row.last_follow_up),
                   won=kept(row.won))  # fmt: skip
    if "won" in later and row.cooperating:
        then.kind = SheetKind.FOLLOWING
        then.status = (
            Status.SAMPLED if then.sampled is not None
            else Status.VISITED if then.visited is not None
            else Status.PHONE if then.contacted is not None
            else None
        )  # fmt: skip
    return then


def _in(day: dt.date | None, first: dt.date, last: dt.date) -> bool:
    return day is not None and first <= day <= last


def _decisions(result: CheckResult) -> dict[int, Decision]:
    """The decision of each row's duplicate group (or of the single row a ruling or an
    office rule decided), by id(row)."""
    out: dict[int, Decision] = {}
    for group in result.groups + result.ruled + result.limited:
        for row in group.rows:
            out[id(row)] = group.decision
    return out


def _last_activity(row: Row) -> dt.date | None:
    dates = [d for d in (row.contacted, row.visited, row.sampled, row.last_follow_up) if d]
    return max(dates, default=None)


def opening_line(row: Row, company: str, as_of: dt.date) -> str:
    """A suggested first sentence for the rep who takes over a customer, from its history."""
    who = row.contact or ""
    hello = f"您好，{who}" if who else "您好"
    me = f"我是{company}的" if company else "我是我们公司的"
    if row.sampled is not None:
        what = f"{row.sample} 的样品" if row.sample else "样品"
        return (
            f"{hello}，{me}，我了解到我公司之前有业务员{row.rep}联系过您，"
            f"并在{_ago(row.sampled, as_of)}给您送过{what}，不知您试用后效果如何？"
        )
    if row.visited is not None:
        return (
            f"{hello}，{me}，我了解到我公司之前有业务员{row.rep}在{_ago(row.visited, as_of)}"
            f"拜访过贵公司，想了解一下您最近在这方面有没有新的需求？"
        )
    return f"{hello}，{me}，我公司之前有业务员{row.rep}和您联系过，想了解一下您最近的需求。"


def _ago(day: dt.date, as_of: dt.date) -> str:
    days = (as_of - day).days
    if days < 14:
        return "前几天"
    if days < 30:
        return f"{days // 7}周前"
    months = round(days / 30)
    words = "一两三四五六七八九十"
    if months <= 10:
        return f"{words[months - 1]}个月前"
    return f"{months}个月前" if months < 12 else "一年多前"


def build_monthly(result: CheckResult, month: str, *, company: str, mask: bool,
                  now: dt.datetime, history: HistoryStore | None = None) -> MonthlyReport:  # fmt: skip
    from xlsync.reports.content import MonthlyReport

    first, last = month_bounds(month)
    as_of = result.as_of
    settings = result.registers.settings
    days = settings.protection_days
    report = MonthlyReport(
        company=company, month=month, as_of=as_of, generated=now,
        register=result.registers.target.name, masked_phones=mask,
    )  # fmt: skip
    decisions = _decisions(result)
    # The month's sections hold the month's events only: a date typed after the month
    # (or after today, for the current month) is not part of it.
    rows = [as_it_stood(r, as_of) for r in result.rows]
    for original, row in zip(result.rows, rows, strict=True):
        p = protection(row, days, as_of)
        if row.cooperating:
            report.zone2.append(line_of(row, p, mask=mask, marked=_in(row.won, first, last)))
            continue
        if _in(row.visited, first, last) or _in(row.sampled, first, last):
            report.zone1.append(line_of(row, p, mask=mask))
        decision = decisions.get(id(original))
        owned_by_other = decision is not None and decision.owner is not None and (
            decision.owner.row is not original)  # fmt: skip
        active = _last_activity(row)
        quiet = (as_of - active).days if active is not None else 0
        # due: still this rep's customer (protected, or a recent call) and gone quiet; an
        # expired customer is in the hand-over list instead, an old call is a dead lead
        live = p.protected or (not p.ever_protected and active is not None and quiet <= days)
        if live and active and quiet > settings.follow_up_days and not owned_by_other:
            note = f"已 {quiet} 天没有跟进（最近 {active.isoformat()}）"
            report.follow_ups_due.append(line_of(row, p, mask=mask, note=note))
        if p.protected and p.until and (p.until - as_of).days <= ENDING_SOON_DAYS:
            note = f"还剩 {(p.until - as_of).days} 天"
            report.ending_soon.append(line_of(row, p, mask=mask, note=note))
        recently_freed = p.until is not None and (as_of - p.until).days <= days
        expired = p.ever_protected and not p.protected and recently_freed
        # freed by a rule: a 释放, the cap or the cool-down took this row's protection
        mine = _claim_of(decision, original)
        ruled_free = (
            mine is not None and decision is not None and decision.owner is None
            and not decision.agent and not mine.protection.protected
            and bool(mine.protection.limit or mine.protection.ruling)
        )  # fmt: skip
        if (expired or ruled_free) and not owned_by_other:
            shown = mine.protection if ruled_free and mine is not None else p
            note = opening_line(row, company, as_of)
            line = line_of(row, shown, mask=mask, note=note)
            found = result.suggestion_for([original])
            line.suggested = found.text() if found is not None else ""
            report.free.append(line)
    report.zone1.sort(key=lambda c: (pinyin(c.rep), c.sampled or c.visited or dt.date.min))
    report.zone2.sort(
        key=lambda c: (not c.marked, -(c.won or dt.date.min).toordinal(), pinyin(c.customer))
    )
    report.follow_ups_due.sort(key=lambda c: (pinyin(c.rep), c.note))
    report.ending_soon.sort(key=lambda c: c.protected_until or dt.date.max)
    report.free.sort(key=lambda c: (pinyin(c.rep), pinyin(c.customer)))
    report.reps, report.departments = _scores(rows, first, last, as_of, settings.roster)
    report.cap = settings.max_protected
    report.office_rules = bool(
        settings.max_protected or settings.cool_down_days or settings.allocation
    )
    _office_scores(report.reps, result, first, last, settings.max_protected)
    report.conflicts = _conflicts(result, first, last, history)
    report.rulings = _rulings(result, first, last)
    report.open_reviews = len(result.possible)
    report.has_rulings = result.has_rulings_sheet or bool(result.possible)
    return report


def _rulings(result: CheckResult, first: dt.date, last: dt.date) -> list[RulingLine]:
    """The month's rulings of 裁决 (those that could be used), by date then row."""
    from xlsync.lookup import display_name
    from xlsync.reports.content import RulingLine
    from xlsync.rulings import RulingKind

    lines = []
    good = [r for r in result.rulings.rulings if not r.bad and r.kind and _in(r.date, first, last)]
    for ruling in sorted(good, key=lambda r: (r.date, r.file, r.row)):
        assert ruling.kind is not None and ruling.date is not None
        name = display_name(ruling.rows) if ruling.rows else ruling.customer
        if ruling.kind in (RulingKind.SAME, RulingKind.DIFFERENT):
            other = display_name(ruling.other_rows) if ruling.other_rows else ruling.other
            name = f"{name} 与 {other}"
        note = ruling.note
        if ruling.superseded_by is not None:
            note = "；".join(filter(None, [note, f"已被第 {ruling.superseded_by} 行取代"]))
        rep = ruling.rep if ruling.kind is RulingKind.ASSIGN else ""
        lines.append(RulingLine(ruling.date, ruling.kind.label, name, rep, ruling.by, note))
    return lines


def _scores(rows: Iterable[Row], first: dt.date, last: dt.date, as_of: dt.date,
            roster: dict[str, str]) -> tuple[list[Score], list[Score]]:  # fmt: skip
    from xlsync.reports.content import Score

    reps: dict[str, Score] = {}
    for row in rows:
        if not row.rep:
            continue
        dept = roster.get(row.rep) or row.department
        score = reps.setdefault(row.rep, Score(row.rep, dept, 0, 0, 0, 0, 0, 0))
        score.department = score.department or dept
        score.calls += _in(row.contacted, first, last)
        score.visits += _in(row.visited, first, last)
        score.samples += _in(row.sampled, first, last)
        score.won += _in(row.won, first, last)
        if row.sampled is not None and row.sampled <= as_of:
            score.sampled_total += 1
            score.sampled_won += row.cooperating
    by_dept: dict[str, Score] = {}
    for score in reps.values():
        name = score.department or "（未分部门）"
        d = by_dept.setdefault(name, Score(name, "", 0, 0, 0, 0, 0, 0))
        for attr in ("calls", "visits", "samples", "won", "sampled_total", "sampled_won"):
            setattr(d, attr, getattr(d, attr) + getattr(score, attr))

    def rank(s: Score) -> tuple[int, int, int, str]:
        return (-s.won, -s.samples, -s.visits, pinyin(s.name))

    return sorted(reps.values(), key=rank), sorted(by_dept.values(), key=rank)


def _claim_of(decision: Decision | None, row: Row) -> Claim | None:
    if decision is None:
        return None
    return next((c for c in decision.claims if c.row is row), None)


def rep_holdings(result: CheckResult) -> dict[str, int]:
    """How many protected customers each rep holds (what counts against the cap)."""
    return holdings([d for _, d in result.customers()])


def _office_scores(
    scores: list[Score], result: CheckResult, first: dt.date, last: dt.date, cap: int | None
) -> None:
    """The office rules at work on each rep's line: customers held now, customers whose
    protection by the rep ended in the period (expired, 释放, the cap, the cool-down), and
    of those the ones another rep's protection took over in the period."""
    held: dict[str, int] = {}
    released: dict[str, set[int]] = {}
    handed: dict[str, set[int]] = {}
    for k, (_rows, decision) in enumerate(result.customers()):
        owner = decision.owner
        if owner is not None and owner.row.rep and owner.protection.protected and (
                not owner.protection.cooperating):  # fmt: skip
            held[owner.row.rep] = held.get(owner.row.rep, 0) + 1
        for claim in decision.claims:
            p, rep = claim.protection, claim.row.rep
            if not rep or p.protected or not p.ever_protected or p.cooperating:
                continue
            if owner is not None and owner.row.rep == rep:
                continue  # the rep still holds the customer through another row
            if p.limit in ("cool_down", "agent"):
                continue  # not a protection that ended: one that never started
            ended = result.as_of if p.limit == "cap" else p.until
            if ended is None or not first <= ended <= last:
                continue
            released.setdefault(rep, set()).add(k)
            if owner is not None and owner.row.rep:
                handed.setdefault(rep, set()).add(k)  # another rep holds it now
    for score in scores:
        score.held = held.get(score.name, 0)
        score.released = len(released.get(score.name, ()))
        score.handed_over = len(handed.get(score.name, ()))
        score.near_cap = near_cap(score.held, cap)


def conflict_line(group: DuplicateGroup) -> ConflictLine:
    """A conflict as the reports show it: the owner, why, and what the others must do."""
    from xlsync.reports.content import ConflictLine

    decision = group.decision
    owner = decision.owner
    if decision.agent:  # an agent's customer: the agent holds it, every rep stops
        return ConflictLine(
            customer=group.name, owner=f"代理商 {decision.agent}",
            reason=agent_sentence(decision.agent),
            others="、".join(dict.fromkeys(f"{c.row.rep}（{VERDICT_LABELS[c.verdict]}）"
                                           for c in decision.claims if c.row.rep)),
            settled=False,
        )  # fmt: skip
    return ConflictLine(
        customer=group.name,
        owner=owner.row.rep if owner else "",
        reason=owner.protection.reason() if owner else "所有登记都不受保护",
        others="、".join(f"{c.row.rep}（{VERDICT_LABELS[c.verdict]}）" for c in decision.claims
                        if c.verdict is not Verdict.OWNER and c.row.rep),
        settled=False,
    )  # fmt: skip


def _conflicts(result: CheckResult, first: dt.date, last: dt.date,
               history: HistoryStore | None) -> list[ConflictLine]:  # fmt: skip
    from xlsync.reports.content import ConflictLine

    lines: list[ConflictLine] = []
    current = {group.key for group in result.conflicts}  # still a conflict at the end
    for group in result.conflicts:
        decision = group.decision
        dates = [d for c in decision.claims for d in (c.row.contacted, c.row.visited,
                 c.row.sampled, c.row.won) if d]  # fmt: skip
        if not any(first <= d <= last for d in dates):
            continue
        lines.append(conflict_line(group))
    if history is not None:
        since = dt.datetime.combine(first, dt.time())
        until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
        seen: dict[str, ConflictRecord] = {}
        for _at, plan in history.plans(None, since, until):
            kept = plan.get("conflicts")
            for raw in kept if isinstance(kept, list) else []:
                record = ConflictRecord.parse(raw)
                if record is not None:
                    seen[record.key] = record
        for key, record in seen.items():
            if key not in current:
                lines.append(ConflictLine(record.customer, record.owner, "",
                                          "、".join(record.reps), settled=True))  # fmt: skip
    return lines


def build_daily(result: CheckResult, day: dt.date, *, company: str, mask: bool, now: dt.datetime,
                history: HistoryStore | None = None) -> DailyReport:  # fmt: skip
    """Customers newly registered on `day`: first recorded that day, or new in the history."""
    from xlsync.reports.content import DailyReport

    new_ids: set[str] = set()
    if history is not None:
        start = dt.datetime.combine(day, dt.time())
        end = start + dt.timedelta(days=1)
        new_ids = {e.id for e in history.events(kind=EventKind.NEW, since=start, until=end)}
    days = result.registers.settings.protection_days
    report = DailyReport(company=company, day=day, generated=now,
                         register=result.registers.target.name)  # fmt: skip
    for row in result.rows:
        dates = [d for d in (row.contacted, row.visited, row.sampled) if d]
        first_day = min(dates, default=None)
        if first_day == day or (row.id and row.id in new_ids):
            report.lines.append(line_of(row, protection(row, days, result.as_of), mask=mask))
    report.lines.sort(key=lambda c: (pinyin(c.department), pinyin(c.rep), pinyin(c.customer)))
    cap = result.registers.settings.max_protected
    if cap:
        held = rep_holdings(result)
        for rep in sorted(held, key=pinyin):
            word = near_cap(held[rep], cap)
            if word:
                report.warnings.append(
                    f"{rep}：已有 {held[rep]} 个保护中的客户（上限 {cap}），{word}；请先释放或成交"
                )
    return report


def build_board(result: CheckResult, *, company: str, now: dt.datetime) -> Board:
    from xlsync.lookup import LookupIndex
    from xlsync.reports.content import Board, BoardCustomer, BoardEntry

    days = result.registers.settings.protection_days
    index = LookupIndex.from_check(result)
    customer_of: dict[int, int] = {}  # id(row) -> customer index
    for c in index.customers:
        for claim in c.decision.claims:
            customer_of[id(claim.row)] = c.index
    board = Board(company=company, as_of=result.as_of, generated=now,
                  register=result.registers.target.name)  # fmt: skip
    entry_row: dict[int, Row] = {}
    for row in result.rows:
        if not (row.customer or row.phones):
            continue
        p = protection(row, days, result.as_of)
        found = index.customers[customer_of[id(row)]] if id(row) in customer_of else None
        owner = found.decision.owner if found else None
        verdict = found.verdict() if found else call_verdict(None)
        who = owner.row.rep if owner else ""
        keys = [*(found.keys if found else ()), *row.phones]
        entry = BoardEntry(line_of(row, p, mask=False), keys, who, verdict)
        entry.suggested = found.suggestion if found else ""
        entry_row[id(entry)] = row
        if row.cooperating:
            board.zone2.append(entry)
        elif p.protected:
            board.zone1.append(entry)
        elif p.ever_protected:
            board.expired.append(entry)
        else:
            board.others.append(entry)
    for zone in (board.zone1, board.zone2, board.expired):
        zone.sort(key=lambda e: (pinyin(e.line.rep), pinyin(e.line.customer)))
    entries = board.zone1 + board.zone2 + board.expired + board.others
    at: dict[int, list[int]] = {}
    for i, entry in enumerate(entries):
        row = entry_row[id(entry)]
        if id(row) in customer_of:
            at.setdefault(customer_of[id(row)], []).append(i)
    for c in index.customers:
        board.customers.append(BoardCustomer(c.name, c.verdict(), c.stops(), list(c.keys),
                                             list(c.phones), at.get(c.index, [])))  # fmt: skip
    for group in result.conflicts:
        line = conflict_line(group)
        stops = group.decision.owner or group.decision.agent
        (board.conflicts if stops else board.notices).append(line)
    payload = json.dumps([[e.line.customer, e.verdict] for e in entries]
                         + [[c.customer, c.owner] for c in board.conflicts + board.notices],
                         ensure_ascii=False)  # fmt: skip
    board.fingerprint = hashlib.sha256(payload.encode()).hexdigest()[:16]
    return board
