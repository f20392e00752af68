"""The audit log of `xlsync serve` (访问控制、日志记录): every sign-in, success or failure,
every look-up (who, when, what, how many customers), and every refused request.

A SQLite file on the serving machine, beside the account store (never the shared folder).
WAL journal, so that `xlsync users log` reads while the server writes. `record` only queues
the entry; one writer thread commits the queue in one transaction (a commit per request
would cost more than the look-up itself): at once when a request waits for its entry
(`committed`, which a look-up awaits before its answer is sent: no answer leaves without
its line in the file), else every `FLUSH_SECONDS`. Every read, and `close`, commit first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import threading
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

log = logging.getLogger("xlsync.serve")


class Kind(StrEnum):
    LOGIN = "login"  # signed in
    LOGIN_FAILED = "login_failed"  # wrong name or password
    LOGIN_LIMITED = "login_limited"  # refused: too many failures (429)
    LOGOUT = "logout"
    LOOKUP = "lookup"  # answered: `count` customers
    LOOKUP_REFUSED = "lookup_refused"  # too short / too long / too many (detail says which)
    DENIED = "denied"  # no valid session: detail = why (none, expired, ended, ...)
    CSRF = "csrf"  # a form or POST without the right token
    NOT_FOUND = "not_found"  # a path that does not exist (traversal attempts land here)


KIND_LABELS = {
    Kind.LOGIN: "登录",
    Kind.LOGIN_FAILED: "登录失败",
    Kind.LOGIN_LIMITED: "登录被限制",
    Kind.LOGOUT: "退出",
    Kind.LOOKUP: "查询",
    Kind.LOOKUP_REFUSED: "查询被拒绝",
    Kind.DENIED: "未登录访问",
    Kind.CSRF: "缺少表单令牌",
    Kind.NOT_FOUND: "不存在的地址",
}


@dataclass(frozen=True, slots=True)
class Entry:
    at: dt.datetime
    kind: Kind
    name: str  # the account (or the name typed at sign-in); "" when unknown
    address: str
    path: str
    query: str
    count: int | None
    detail: str


_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    count INTEGER,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_name ON audit (name, at);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
"""


FLUSH_SECONDS = 0.25
_INSERT = (
    "INSERT INTO audit (at, kind, name, address, path, query, count, detail)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


class AuditLog:
    def __init__(self, path: Path, writer: bool = True) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # the connection
        self._queued: list[tuple[object, ...]] = []
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._queue_lock = threading.Lock()
        self._wake = threading.Event()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.executescript(_SCHEMA)
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        if writer:
            self._writer = threading.Thread(target=self._write_loop, daemon=True,
                                            name="xlsync-audit")  # fmt: skip
            self._writer.start()

    def _write_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except sqlite3.Error as exc:  # a full disk: the lines are lost, the server is not
                log.error("审计日志写入失败：%s", exc)

    def flush(self) -> None:
        """Commit every queued entry (one transaction), then release whoever waited."""
        failed: BaseException | None = None
        with self._lock:
            with self._queue_lock:
                rows, self._queued = self._queued, []
                waiting, self._waiting = self._waiting, []
            if rows:
                try:
                    self._conn.execute("BEGIN")
                    self._conn.executemany(_INSERT, rows)
                    self._conn.execute("COMMIT")
                except sqlite3.Error as exc:  # the waiting requests fail, not the writer
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    failed = exc
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = defaultdict(list)
        for loop, future in waiting:
            by_loop[loop].append(future)
        for loop, futures in by_loop.items():
            if not loop.is_closed():
                loop.call_soon_threadsafe(_settle, futures, failed)
        if failed is not None and not waiting:
            raise failed

    async def committed(self) -> None:
        """Wait until every entry recorded so far is in the file."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._queue_lock:
            self._waiting.append((loop, future))
        if self._writer is None or not self._writer.is_alive():
            self.flush()
        else:
            self._wake.set()
        await future

    def record(
        self,
        kind: Kind,
        *,
        name: str = "",
        address: str = "",
        path: str = "",
        query: str = "",
        count: int | None = None,
        detail: str = "",
        at: dt.datetime | None = None,
    ) -> None:
        when = (at or dt.datetime.now()).isoformat(timespec="seconds")
        row = (when, kind.value, name[:100], address, path[:300], query[:200], count, detail)
        with self._queue_lock:
            self._queued.append(row)

    def entries(
        self, name: str | None = None, since: dt.date | None = None, limit: int | None = None
    ) -> list[Entry]:
        sql = "SELECT at, kind, name, address, path, query, count, detail FROM audit"
        where: list[str] = []
        args: list[object] = []
        if name is not None:
            where.append("name = ?")
            args.append(name)
        if since is not None:
            where.append("at >= ?")
            args.append(since.isoformat())
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        self.flush()
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()[::-1]  # oldest first
        return [
            Entry(
                dt.datetime.fromisoformat(r[0]),
                Kind(r[1]),
                str(r[2]),
                str(r[3]),
                str(r[4]),
                str(r[5]),
                r[6],
                str(r[7]),
            )
            for r in rows
        ]

    def lookups_by_rep(self, first: dt.date, last: dt.date) -> dict[str, int]:
        """How many look-ups each account made from `first` to `last` (for the handout)."""
        self.flush()
        with self._lock:
            rows = self._conn.execute(
                "SELECT name, count(*) FROM audit WHERE kind = ? AND at >= ? AND at < ?"
                " GROUP BY name",
                (Kind.LOOKUP.value, first.isoformat(), (last + dt.timedelta(days=1)).isoformat()),
            ).fetchall()
        return {str(n): int(c) for n, c in rows}

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._writer is not None:
            self._writer.join(timeout=10)
        self.flush()
        with self._lock:
            self._conn.close()


def _settle(futures: list[asyncio.Future[None]], failed: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if failed is None:
            future.set_result(None)
        else:
            future.set_exception(failed)
