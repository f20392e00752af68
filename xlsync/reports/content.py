"""What the reports show, as plain data: built from a check, rendered as HTML, PDF, xlsx."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(slots=True)
class CustomerLine:
    """One customer row as the reports show it."""

    customer: str
    rep: str
    department: str
    phone: str  # already masked when the report masks phones (138****5678)
    region: str
    status: str  # 电话 / 拜访 / 送样 / 已合作
    contacted: dt.date | None
    visited: dt.date | None
    sampled: dt.date | None
    sample: str
    last_follow_up: dt.date | None
    won: dt.date | None
    protected_until: dt.date | None  # None: not protected, or cooperating (no end)
    protection: str  # the reason text: 送样 2026-10-03，保护至 2027-01-01
    id: str = ""
    sheet: str = ""
    row: int = 0
    file: str = ""
    marked: bool = False  # e.g. won this month (zone 2)
    note: str = ""  # e.g. the suggested opening line, or why a follow-up is due
    suggested: str = ""  # a freed customer's next rep by the 分配规则: 销售二部 王芳


@dataclass(slots=True)
class Score:
    """One line of the leaderboard (a rep or a department)."""

    name: str
    department: str  # "" for department lines
    calls: int  # first calls (联系日期) in the period
    visits: int
    samples: int
    won: int  # new cooperations in the period
    sampled_total: int  # customers this rep ever sampled
    sampled_won: int  # of those, cooperating now
    # the office rules at work (reps only): protected customers held now, customers whose
    # protection by this rep ended in the period, and of those the ones another rep took
    held: int = 0
    released: int = 0
    handed_over: int = 0
    near_cap: str = ""  # a warning when the rep is in the last 10% of 最多保护客户数

    @property
    def rate(self) -> float | None:
        return self.sampled_won / self.sampled_total if self.sampled_total else None

    def rate_text(self) -> str:
        """65%（13/20）, or — for a rep who sent no samples."""
        rate = self.rate
        if rate is None:
            return "—"
        return f"{rate:.0%}（{self.sampled_won}/{self.sampled_total}）"


@dataclass(slots=True)
class ConflictLine:
    customer: str
    owner: str  # rep who owns it, "" if nobody is protected
    reason: str
    others: str  # 李娜（须停止跟进）、王芳（保护已过期）
    settled: bool  # no longer a conflict at the end of the period


@dataclass(slots=True)
class RulingLine:
    """A ruling of 裁决 dated in the month, as the handout lists it."""

    date: dt.date
    kind: str  # 同一客户 / 不同客户 / 指派 / 释放
    customer: str  # the customer's name; "A 与 B" for 同一客户 / 不同客户
    rep: str  # the rep assigned (指派), else ""
    by: str  # 经办人
    note: str  # 备注, and "已被第 N 行取代" when a later ruling overrides it


@dataclass(slots=True)
class MonthlyReport:
    company: str
    month: str  # YYYY-MM
    as_of: dt.date  # the date the rules were applied at (month end, or today if earlier)
    generated: dt.datetime
    register: str  # register file or folder name
    zone1: list[CustomerLine] = field(default_factory=list)  # visited/sampled this month
    zone2: list[CustomerLine] = field(default_factory=list)  # cooperating; marked: won this month
    reps: list[Score] = field(default_factory=list)
    departments: list[Score] = field(default_factory=list)
    follow_ups_due: list[CustomerLine] = field(default_factory=list)
    ending_soon: list[CustomerLine] = field(default_factory=list)  # protection ends in 14 days
    free: list[CustomerLine] = field(default_factory=list)  # expired, no order: can be handed over
    conflicts: list[ConflictLine] = field(default_factory=list)
    masked_phones: bool = True
    # the manager's rulings dated in the month and the look-alike pairs still awaiting a
    # decision in 待确认; the handout shows them when the set has a 裁决 sheet or such pairs
    rulings: list[RulingLine] = field(default_factory=list)
    open_reviews: int = 0
    has_rulings: bool = False
    cap: int | None = None  # 最多保护客户数, when set
    office_rules: bool = (
        False  # 最多保护客户数, 冷却天数 or 分配规则 set: the leaderboard shows them
    )


@dataclass(slots=True)
class DailyReport:
    company: str
    day: dt.date
    generated: dt.datetime
    register: str
    lines: list[CustomerLine] = field(default_factory=list)  # registered (first dated) that day
    warnings: list[str] = field(default_factory=list)  # reps near 最多保护客户数


@dataclass(slots=True)
class BoardEntry:
    """A customer on the blackboard, with the keys its search box matches."""

    line: CustomerLine
    keys: list[str]  # normalised name keys (core, trade name) and canonical phones
    owner: str  # who may call it now ("" = free)
    verdict: str  # 可以联系 / 请勿联系：已由 张伟 送样保护至 2027-01-01
    suggested: str = ""  # a freed customer's next rep by the 分配规则: 销售二部 王芳


@dataclass(slots=True)
class BoardCustomer:
    """One customer as the search box finds it (see xlsync.lookup): same keys, same verdict."""

    name: str
    verdict: str
    stop: bool
    keys: list[str]
    phones: list[str]
    entries: list[int]  # indexes into the board's entries (zone1 + zone2 + expired + others)


@dataclass(slots=True)
class Board:
    company: str
    as_of: dt.date
    generated: dt.datetime
    register: str
    zone1: list[BoardEntry] = field(default_factory=list)  # protected now (visit/sample), not won
    zone2: list[BoardEntry] = field(default_factory=list)  # cooperating
    expired: list[BoardEntry] = field(default_factory=list)  # protection ended, not won
    others: list[BoardEntry] = field(default_factory=list)  # phone-only (searchable)
    conflicts: list[ConflictLine] = field(default_factory=list)  # someone owns, others stop
    notices: list[ConflictLine] = field(default_factory=list)  # several reps, nobody protected
    customers: list[BoardCustomer] = field(default_factory=list)  # what the search box asks
    fingerprint: str = ""  # changes whenever the register changes: the page reloads itself
    footer: list[str] = field(default_factory=list)  # e.g. messages delivery could not send
