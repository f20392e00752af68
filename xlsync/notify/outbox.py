"""The outbox: `.xlsync/outbox.sqlite`, one row per delivery (a message on one channel to
one address), written before anything is sent.

A delivery's key (message key, channel, address) is its primary key: putting the same item
in again does nothing, so a restart, a re-sync or a catch-up never sends it twice. Pending
rows carry their attempts and the time of the next one (backoff survives restarts); sent
and failed rows keep their text for `keep_days`, then only their key (still blocking a
second send). A failed row is reported once (`reported`).
"""

from __future__ import annotations

import enum
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery (
    key TEXT PRIMARY KEY,
    message TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    rep TEXT NOT NULL,
    address TEXT NOT NULL,
    mentions TEXT NOT NULL,
    subject TEXT NOT NULL,
    markdown TEXT NOT NULL,
    html TEXT NOT NULL,
    attachments TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    next_at REAL NOT NULL,
    done_at REAL,
    error TEXT NOT NULL DEFAULT '',
    reported INTEGER NOT NULL DEFAULT 0,
    form TEXT NOT NULL DEFAULT 'post'
);
CREATE INDEX IF NOT EXISTS delivery_due ON delivery (status, next_at);
CREATE INDEX IF NOT EXISTS delivery_message ON delivery (message, channel);
CREATE TABLE IF NOT EXISTS send_time (
    channel TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS send_time_at ON send_time (channel, at);
"""
# an outbox written before `form` existed gets the column (every row then is a post)
_MIGRATE = "ALTER TABLE delivery ADD COLUMN form TEXT NOT NULL DEFAULT 'post'"
# a file is sent after its message's summary post on the same channel: not while that waits
_READY = (
    "NOT (form = 'file' AND EXISTS (SELECT 1 FROM delivery p WHERE p.message = delivery.message"
    " AND p.channel = delivery.channel AND p.form = 'post' AND p.status = 'pending'))"
)


class Form(enum.StrEnum):
    """What a delivery sends: the message itself, or one of its files on its own (WeCom's
    robot takes a file as a message of its own, after the summary post)."""

    POST = "post"
    FILE = "file"


class Status(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    key: str
    message: str  # the message's key
    kind: str
    channel: str  # smtp, wecom, dingtalk, feishu
    rep: str  # "" for a group post to several reps
    address: str  # the e-mail address; "" for a robot
    mentions: tuple[str, ...]  # mobiles to @-mention (robots)
    subject: str
    markdown: str
    html: str
    attachments: tuple[Path, ...]
    status: Status
    attempts: int
    created: float
    next_at: float
    done_at: float | None
    error: str
    form: Form = Form.POST


_COLUMNS = (
    "key, message, kind, channel, rep, address, mentions, subject, markdown, html, attachments,"
    " status, attempts, created, next_at, done_at, error, form"
)


def _delivery(row: Sequence[object]) -> Delivery:
    (key, message, kind, channel, rep, address, mentions, subject, markdown, html, files,
     status, attempts, created, next_at, done_at, error, form) = row  # fmt: skip
    return Delivery(
        str(key), str(message), str(kind), str(channel), str(rep), str(address),
        tuple(json.loads(str(mentions))), str(subject), str(markdown), str(html),
        tuple(Path(p) for p in json.loads(str(files))), Status(str(status)), int(str(attempts)),
        float(str(created)), float(str(next_at)),
        None if done_at is None else float(str(done_at)), str(error), Form(str(form)),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class NewDelivery:
    key: str
    message: str
    kind: str
    channel: str
    rep: str
    address: str
    mentions: tuple[str, ...]
    subject: str
    markdown: str
    html: str
    attachments: tuple[Path, ...]
    form: Form = Form.POST


class Outbox:
    """The SQLite outbox. Safe to share between the watcher's threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        with self._lock, self._conn:
            # WAL with NORMAL sync: a commit is durable across a crash of xlsync, and cheap
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            columns = {r[1] for r in self._conn.execute("PRAGMA table_info(delivery)")}
            if columns and "form" not in columns:
                self._conn.execute(_MIGRATE)
            self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._conn:
            yield self._conn

    def add(self, items: Sequence[NewDelivery], now: float) -> int:
        """Put deliveries in (those whose key is there already are left alone); how many
        were new."""
        with self._tx() as conn:
            before = conn.total_changes
            conn.executemany(
                f"INSERT OR IGNORE INTO delivery ({_COLUMNS}) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, NULL, '', ?)",
                [
                    (d.key, d.message, d.kind, d.channel, d.rep, d.address,
                     json.dumps(list(d.mentions)), d.subject, d.markdown, d.html,
                     json.dumps([str(p) for p in d.attachments], ensure_ascii=False), now, now,
                     d.form.value)
                    for d in items
                ],
            )  # fmt: skip
            return conn.total_changes - before

    def due(self, now: float, channel: str | None = None, limit: int = 1000) -> list[Delivery]:
        """Pending deliveries whose time has come, oldest first."""
        where = f"status = 'pending' AND next_at <= ? AND {_READY}"
        args: list[object] = [now]
        if channel is not None:
            where += " AND channel = ?"
            args.append(channel)
        with self._tx() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM delivery WHERE {where} ORDER BY created, rowid LIMIT ?",
                [*args, limit],
            ).fetchall()
        return [_delivery(r) for r in rows]

    def next_due(self) -> float | None:
        with self._tx() as conn:
            (value,) = conn.execute(
                f"SELECT MIN(next_at) FROM delivery WHERE status = 'pending' AND {_READY}"
            ).fetchone()
        return None if value is None else float(value)

    def sent(self, keys: Sequence[str], now: float) -> None:
        with self._tx() as conn:
            conn.executemany(
                "UPDATE delivery SET status = 'sent', done_at = ?, error = '',"
                " attempts = attempts + 1 WHERE key = ?",
                [(now, k) for k in keys],
            )

    def retry(self, keys: Sequence[str], error: str, at: float, *, count: bool = True) -> None:
        """Try again at `at`; `count` False for an answer that is no fault of the message
        (a rate limit)."""
        with self._tx() as conn:
            conn.executemany(
                "UPDATE delivery SET next_at = ?, error = ?, attempts = attempts + ? WHERE key = ?",
                [(at, error, 1 if count else 0, k) for k in keys],
            )

    def hold(self, channel: str, until: float) -> None:
        """No delivery of `channel` before `until` (a rate limit's window)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE delivery SET next_at = ? WHERE status = 'pending' AND channel = ?"
                " AND next_at < ?",
                (until, channel, until),
            )

    def fail(self, keys: Sequence[str], error: str, now: float) -> None:
        with self._tx() as conn:
            conn.executemany(
                "UPDATE delivery SET status = 'failed', done_at = ?, error = ?,"
                " attempts = attempts + 1 WHERE key = ?",
                [(now, error, k) for k in keys],
            )

    def give_up(self, created_before: float, now: float) -> int:
        """Pending deliveries older than `created_before` fail with their last error."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE delivery SET status = 'failed', done_at = ?,"
                " error = '多次重试仍未送达：' || error"
                " WHERE status = 'pending' AND created < ?",
                (now, created_before),
            )
            return cur.rowcount

    def unreported(self) -> list[Delivery]:
        """Failed deliveries not yet reported; they are marked reported."""
        with self._tx() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM delivery WHERE status = 'failed' AND reported = 0"
                " ORDER BY done_at"
            ).fetchall()
            conn.execute("UPDATE delivery SET reported = 1 WHERE status = 'failed'")
        return [_delivery(r) for r in rows]

    def purge(self, done_before: float) -> int:
        """Forget the text of deliveries done before `done_before`; the key stays."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE delivery SET markdown = '', html = '', attachments = '[]'"
                " WHERE status != 'pending' AND done_at < ? AND (markdown != '' OR html != '')",
                (done_before,),
            )
            return cur.rowcount

    def send_times(self, channel: str, since: float) -> list[float]:
        """When `channel` sent after `since`, oldest first (its rate window)."""
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT at FROM send_time WHERE channel = ? AND at > ? ORDER BY at",
                (channel, since),
            ).fetchall()
        return [float(at) for (at,) in rows]

    def note_send(self, channel: str, at: float) -> None:
        """`channel` sent at `at`; times older than an hour are forgotten."""
        with self._tx() as conn:
            conn.execute("INSERT INTO send_time (channel, at) VALUES (?, ?)", (channel, at))
            conn.execute("DELETE FROM send_time WHERE channel = ? AND at < ?", (channel, at - 3600))

    def listing(
        self, statuses: Sequence[Status] = tuple(Status), limit: int | None = None
    ) -> list[Delivery]:
        marks = ", ".join("?" for _ in statuses)
        sql = (
            f"SELECT {_COLUMNS} FROM delivery WHERE status IN ({marks})"
            " ORDER BY created DESC, rowid DESC"
        )
        args: list[object] = [s.value for s in statuses]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._tx() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [_delivery(r) for r in rows]

    def counts(self) -> dict[Status, int]:
        with self._tx() as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM delivery GROUP BY status").fetchall()
        found = {Status(str(s)): int(n) for s, n in rows}
        return {s: found.get(s, 0) for s in Status}

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def failure_lines(path: Path, limit: int = 20) -> list[str]:
    """The failed deliveries of an outbox, newest first, as lines for the board's footer
    (read only; [] when there is no outbox)."""
    if not path.exists():
        return []
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute(
                "SELECT channel, rep, subject, error FROM delivery WHERE status = 'failed'"
                " ORDER BY done_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []
    from xlsync.notify.compose import CHANNEL_NAMES

    return [
        f"未送达（{CHANNEL_NAMES.get(str(ch), str(ch))}{'→' + str(rep) if rep else ''}）：{subject}：{error}"
        for ch, rep, subject, error in rows
    ]
