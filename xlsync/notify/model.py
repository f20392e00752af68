"""What delivery sends, as typed values: who it is for, what it is about, and the key that
makes it unique. Sentences are made from these in `xlsync.notify.compose`."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from pathlib import Path


class Kind(enum.StrEnum):
    """What a message is about; the values are what the outbox stores."""

    DAILY = "daily"  # the day's new registrations, to a department head
    MONTHLY = "monthly"  # the printed handout, to every rep
    CONFLICT = "conflict"  # a new conflict, to each rep involved
    RULING = "ruling"  # a manager's ruling, to the rep it names
    HANDOVER = "handover"  # a freed customer suggested to a rep
    TEST = "test"  # `xlsync notify test`


class Role(enum.StrEnum):
    """A rep's side of a conflict."""

    STOP = "stop"  # must stop following the customer
    OWNER = "owner"  # owns it; someone else claimed it


@dataclass(frozen=True, slots=True)
class Place:
    """Where a rep's row is: file, sheet, Excel row."""

    file: str
    sheet: str
    row: int


@dataclass(frozen=True, slots=True)
class ConflictNotice:
    customer: str  # as the rep wrote it
    group: str  # the matcher's key: the customer's identity (never shown)
    to: str  # the rep told
    role: Role
    owner: str  # the rep who owns the customer
    owner_reason: str  # 送样 2026-10-03，保护至 2027-01-01
    until: dt.date | None  # the owner's last protected day; None: no end
    other: str  # STOP: the owner; OWNER: the rep who must stop
    place: Place | None  # the recipient's own row


@dataclass(frozen=True, slots=True)
class RulingNotice:
    key: str  # the ruling's key in the history (what the manager wrote)
    to: str
    label: str  # 指派 / 释放 / 同一客户 / 不同客户
    customer: str
    date: str
    days: str = ""
    by: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class HandoverNotice:
    to: str
    customer: str
    previous: str  # the rep whose protection ended
    ended: dt.date | None
    region: str = ""


@dataclass(frozen=True, slots=True)
class DailyNotice:
    day: dt.date
    to: str  # a department head
    department: str  # "" = the whole office
    count: int  # rows in the list
    reps: tuple[tuple[str, int], ...]  # (rep, rows) in the list
    html: str  # the list as a page (the mail body)
    files: tuple[Path, ...]  # the list (.xlsx) attached
    published: tuple[Path, ...] = ()  # the office's list in reports/ (linked from robot posts)


@dataclass(frozen=True, slots=True)
class MonthlyNotice:
    month: str  # YYYY-MM
    to: tuple[str, ...]  # every rep with an address
    files: tuple[Path, ...]
    published: tuple[Path, ...] = ()  # everything written into reports/ (linked)


@dataclass(frozen=True, slots=True)
class TestNotice:
    to: tuple[str, ...]
    at: dt.datetime


Notice = ConflictNotice | RulingNotice | HandoverNotice | DailyNotice | MonthlyNotice | TestNotice


@dataclass(frozen=True, slots=True)
class Message:
    """One message, ready for every channel: a subject, markdown for the robots, HTML for
    mail, files to attach. `key` is unique per item and audience: the outbox sends a key
    once per channel and address, whatever restarts, re-syncs and catch-ups happen."""

    kind: Kind
    key: str
    reps: tuple[str, ...]  # who it is for (roster names)
    subject: str
    markdown: str
    html: str
    attachments: tuple[Path, ...] = field(default=())
    # files in reports/ that robot posts link when the reports are on a web server
    published: tuple[Path, ...] = field(default=())
