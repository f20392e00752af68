"""The history in PostgreSQL: one database for every office of a company.

`PostgresHistory` implements `xlsync.history.HistoryStore` for one office (a register
folder): the same tables as the embedded SQLite store, each row naming its office, and the
same pure `diff_sync` between loading and saving. Ids come from one counter for every
office, so an id handed out by one office is never handed out by another.

The schema is made by numbered SQL files in `xlsync/stores/migrations/` (`001_*.sql`, …),
applied in order inside one transaction each, under an advisory lock, and recorded in
`schema_migrations`. `migrate` runs them (`xlsync db init`); opening a store runs the
missing ones too, and refuses a database that a newer xlsync migrated further.

`PostgresBackend` is the `xlsync.workspace.HistoryBackend` that hands these stores out; it
keeps one connection pool (psycopg-pool) for a workspace's whole life, and serialises syncs
of one register with a PostgreSQL advisory lock (`sync_lock`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

from xlsync.history import (
    DatabaseUnavailable,
    Event,
    EventKind,
    HistoryError,
    RowSnapshot,
    RowState,
    RulingRecord,
    _dumps,
    _values_json,
    check_rows,
    diff_sync,
    new_rulings,
    to_compare,
)
from xlsync.ids import format_id, id_number
from xlsync.records import OfficeRuling, Row

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

    from xlsync.agents import Listing
    from xlsync.stores.crossoffice import OtherOffices
    from xlsync.workspace import Workspace

# The pool's own warnings (every failed reconnection, with the server's words) are not for
# people: xlsync says once, in Chinese, that the database cannot be reached.
_POOL_LOG = logging.getLogger("psycopg.pool")
_POOL_LOG.addHandler(logging.NullHandler())
_POOL_LOG.propagate = False

_CONNECT_TIMEOUT_S = 5
_RETRY_AFTER_S = 3.0  # after a failed connection, calls fail at once for this long
_MIGRATION_LOCK = 0x786C73796E63  # "xlsync": the advisory lock taken while migrating
_MIGRATION_FILE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def is_database_url(value: str | None) -> bool:
    return bool(value) and str(value).startswith(("postgresql://", "postgres://"))


def shown_url(url: str) -> str:
    """The database URL as people may see it: without its password."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # the optional extra is not installed
        raise HistoryError(
            Path("."), "使用 PostgreSQL 需要安装 psycopg：pip install 'xlsync[pg]'"
        ) from exc
    return psycopg


# -- migrations ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The numbered SQL files shipped with xlsync, in order."""
    folder = resources.files("xlsync.stores").joinpath("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        matched = _MIGRATION_FILE.match(entry.name)
        if matched:
            found.append(Migration(int(matched[1]), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration files are not numbered 1..n: {[m.name for m in found]}")
    return found


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The newest migration applied to the database (0 for an empty database)."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection[Any], where: Path | str = ".") -> list[Migration]:
    """Apply the missing migrations (each in one transaction); the ones applied now."""
    known = migrations()
    latest = known[-1].version
    with conn.transaction():
        # one migrator at a time (two watchers starting on a new database)
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        current = schema_version(conn)
        if current > latest:
            raise HistoryError(
                Path(where),
                f"数据库的结构版本是 {current}，这个 xlsync 只认识到 {latest}，请升级 xlsync",
            )
        applied: list[Migration] = []
        for migration in known:
            if migration.version <= current:
                continue
            conn.execute(migration.sql.encode())  # several statements: simple query protocol
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration)
    return applied


# -- the store ----------------------------------------------------------------------------


class PostgresHistory:
    """One office's history in a PostgreSQL database; safe to share between threads.

    Every write is one transaction; `transaction()` makes several writes (the records of
    one sync) one transaction.
    """

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        office: str,
        *,
        where: Path | str = ".",
        release: Any = None,
    ) -> None:
        self._conn = conn
        self._release = release  # gives the connection back to its pool
        self._lock = threading.RLock()
        self._depth = 0
        self.office = office
        self.where = Path(where)
        try:
            migrate(conn, where)
            with conn.transaction():
                conn.execute(
                    "INSERT INTO offices (name) VALUES (%s) ON CONFLICT (name) DO NOTHING",
                    (office,),
                )
                row = conn.execute(
                    "SELECT office_id FROM offices WHERE name = %s", (office,)
                ).fetchone()
            assert row is not None
            self.office_id = int(row[0])
        except BaseException:
            self.close()
            raise

    # -- plumbing -----------------------------------------------------------------------

    @contextmanager
    def _link(self) -> Iterator[None]:
        """A connection lost on the way is DatabaseUnavailable (the watcher retries)."""
        pg = _psycopg()
        try:
            yield
        except pg.OperationalError as exc:
            raise DatabaseUnavailable(self.where, _unavailable("", exc, lost=True)) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every write inside is one transaction: all of them are kept, or none."""
        with self._lock, self._link(), self._conn.transaction():
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        with self._lock:
            if self._depth:
                yield self._conn  # part of the caller's transaction
                return
            with self._link(), self._conn.transaction():
                yield self._conn

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self._link():
            return self._conn.execute(sql, params).fetchall()

    # -- ids ----------------------------------------------------------------------------

    def reserve_ids(self, file: str, count: int, at_least: int) -> list[str]:
        """`count` new ids, greater than every id any office has handed out or recorded,
        and greater than `at_least`. Committed at once (also inside `transaction()`): a
        reservation that is not used only leaves a gap."""
        if count < 0:
            raise ValueError(f"count must be >= 0, not {count}")
        if count == 0:
            return []
        with self._lock:
            conn = self._conn
            if self._depth:
                raise RuntimeError("reserve_ids inside a history transaction")
            with self._link(), conn.transaction():
                row = conn.execute(
                    "UPDATE counters SET value = greatest(value, %s) + %s WHERE name = 'id'"
                    " RETURNING value",
                    (at_least, count),
                ).fetchone()
                assert row is not None
                last = int(row[0])
                first = last - count + 1
                conn.execute(
                    "INSERT INTO reservations (office_id, file, first, last, reserved_at)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (self.office_id, file, first, last,
                     dt.datetime.now().isoformat(timespec="seconds")),
                )  # fmt: skip
        return [format_id(n) for n in range(first, last + 1)]

    def high_water_mark(self) -> int:
        """The largest id number handed out or recorded so far, by any office (0 for none)."""
        return int(self._read("SELECT value FROM counters WHERE name = 'id'")[0][0])

    # -- syncs --------------------------------------------------------------------------

    def record_sync(
        self,
        file: str,
        at: dt.datetime,
        as_of: dt.date,
        plan: dict[str, object],
        rows: list[RowSnapshot],
        moved: dict[str, tuple[str, int]] | None = None,
        restored: set[str] | None = None,
        moved_from: dict[str, tuple[str, int]] | None = None,
        rulings: Sequence[RulingRecord] | None = None,
    ) -> tuple[int, list[Event]]:
        """Store one sync of `file`; see `SqliteHistory.record_sync`."""
        by_id = check_rows(file, rows)
        office = self.office_id
        with self._write() as conn:
            found = conn.execute(
                "INSERT INTO syncs (office_id, file, at, as_of, plan)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING sync_id",
                (office, file, at, as_of, _dumps(plan)),
            ).fetchone()
            assert found is not None
            sync_id = int(found[0])
            stored = conn.execute(
                "SELECT id, sheet, row, vals, state FROM snapshots"
                " WHERE office_id = %s AND file = %s",
                (office, file),
            )
            known, changed = to_compare(stored, by_id, moved, restored)
            diff = diff_sync(known, changed, moved, restored, moved_from)
            if rulings:
                recorded = conn.execute(
                    "SELECT detail FROM events WHERE office_id = %s AND file = %s AND kind = %s",
                    (office, file, EventKind.RULING.value),
                ).fetchall()
                diff.changes.extend(new_rulings((json.loads(d) for (d,) in recorded), rulings))
            events = [
                Event(sync_id, at, c.id, file, c.kind, c.sheet, c.row, c.detail)
                for c in diff.changes
            ]
            with conn.cursor() as cur:  # each row's JSON made as it is sent
                if events:
                    cur.executemany(
                        "INSERT INTO events (sync_id, office_id, file, id, kind, sheet, row,"
                        " detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                        ((sync_id, office, file, e.id, e.kind.value, e.sheet, e.row,
                          _dumps(e.detail)) for e in events),
                    )  # fmt: skip
                if diff.updates:
                    cur.executemany(
                        "INSERT INTO snapshots (office_id, file, id, sheet, row, vals, state,"
                        " sync_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                        " ON CONFLICT (office_id, file, id) DO UPDATE SET"
                        " sheet = excluded.sheet, row = excluded.row, vals = excluded.vals,"
                        " state = excluded.state, sync_id = excluded.sync_id",
                        ((office, file, id, k.sheet, k.row, _values_json(k.values),
                          k.state.value, sync_id) for id, k in diff.updates.items()),
                    )  # fmt: skip
            numbers = [n for n in map(id_number, by_id) if n is not None]
            if numbers:
                conn.execute(
                    "UPDATE counters SET value = greatest(value, %s) WHERE name = 'id'",
                    (max(numbers),),
                )
        return sync_id, events

    def publish(
        self,
        file: str,
        rows: Sequence[tuple[Row, str]],
        protection_days: int,
        as_of: dt.date,
        now: dt.datetime,
        limits: Mapping[tuple[str, int], str] | None = None,
    ) -> None:
        """Publish `file`'s rows (with their 编号) for the other offices' checks."""
        from xlsync.stores.crossoffice import publish

        with self._write() as conn:
            publish(conn, self.office_id, file, rows, protection_days, as_of, now, limits)

    def publish_rulings(self, rulings: Sequence[OfficeRuling], now: dt.datetime) -> None:
        """Publish the office's applied rulings (as resolved) for the other offices' checks."""
        from xlsync.stores.crossoffice import publish_rulings

        with self._write() as conn:
            publish_rulings(conn, self.office_id, rulings, now)

    def publish_agents(self, listings: Sequence[Listing], now: dt.datetime) -> None:
        """Publish the office's agent listings (代理商) for the other offices' checks."""
        from xlsync.stores.crossoffice import publish_agents

        with self._write() as conn:
            publish_agents(conn, self.office_id, listings, now)

    def retire(self, keep: Sequence[str]) -> None:
        """Withdraw the published rows of this office's files not in `keep`."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM office_rows WHERE office_id = %s AND NOT (file = ANY(%s))",
                (self.office_id, list(keep)),
            )

    # -- queries ------------------------------------------------------------------------

    def last_values(self, id: str) -> RowSnapshot | None:
        """The latest known location and values of a row of this office."""
        found = self._read(
            "SELECT file, sheet, row, vals FROM snapshots WHERE office_id = %s AND id = %s"
            " ORDER BY state = 'present' DESC, sync_id DESC LIMIT 1",
            (self.office_id, id),
        )
        if not found:
            return None
        file, sheet, row, vals = found[0]
        return RowSnapshot(id, file, sheet, row, json.loads(vals))

    def current(self, file: str) -> list[RowSnapshot]:
        return self._snapshots(file, RowState.PRESENT)

    def deleted(self, file: str) -> list[RowSnapshot]:
        return self._snapshots(file, RowState.DELETED)

    def _snapshots(self, file: str, state: RowState) -> list[RowSnapshot]:
        order = "sheet, row" if state is RowState.PRESENT else "sync_id DESC, sheet, row"
        found = self._read(
            f"SELECT id, sheet, row, vals FROM snapshots"
            f" WHERE office_id = %s AND file = %s AND state = %s ORDER BY {order}",
            (self.office_id, file, state.value),
        )
        return [
            RowSnapshot(id, file, sheet, row, json.loads(vals)) for id, sheet, row, vals in found
        ]

    def events(
        self,
        file: str | None = None,
        id: str | None = None,
        limit: int | None = None,
        *,
        kind: EventKind | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[Event]:
        """This office's events, newest first; see `SqliteHistory.events`."""
        where = ["e.office_id = %s"]
        params: list[object] = [self.office_id]
        for clause, value in (
            ("e.file = %s", file),
            ("e.id = %s", id),
            ("e.kind = %s", kind.value if kind is not None else None),
            ("s.at >= %s", since),
            ("s.at < %s", until),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        sql = (
            "SELECT e.sync_id, s.at, e.id, e.file, e.kind, e.sheet, e.row, e.detail"
            " FROM events e JOIN syncs s ON s.sync_id = e.sync_id"
            " WHERE " + " AND ".join(where) + " ORDER BY e.event_id DESC"
        )
        if limit is not None:
            sql += " LIMIT %s"
            params.append(max(limit, 0))
        return [
            Event(int(sync_id), at, id_, file_, EventKind(kind_), sheet, row, json.loads(detail))
            for sync_id, at, id_, file_, kind_, sheet, row, detail in self._read(sql, params)
        ]

    def count_events(self, file: str | None = None, id: str | None = None) -> int:
        where = ["office_id = %s"]
        params: list[object] = [self.office_id]
        if file is not None:
            where.append("file = %s")
            params.append(file)
        if id is not None:
            where.append("id = %s")
            params.append(id)
        sql = "SELECT count(*) FROM events WHERE " + " AND ".join(where)
        return int(self._read(sql, params)[0][0])

    def plans(
        self, file: str | None, since: dt.datetime, until: dt.datetime
    ) -> list[tuple[dt.datetime, dict[str, object]]]:
        sql = "SELECT at, plan FROM syncs WHERE office_id = %s AND at >= %s AND at < %s"
        params: list[object] = [self.office_id, since, until]
        if file is not None:
            sql += " AND file = %s"
            params.append(file)
        sql += " ORDER BY sync_id"
        return [(at, json.loads(plan)) for at, plan in self._read(sql, params)]

    # -- lifetime -----------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:  # (a pool takes back a broken connection and discards it)
            release, self._release = self._release, None
            if release is not None:
                release(self._conn)
            elif not self._conn.closed:
                self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# -- the backend --------------------------------------------------------------------------


def connect(url: str, where: Path | str = ".") -> psycopg.Connection[Any]:
    """One autocommit connection (transactions are explicit), or DatabaseUnavailable."""
    pg = _psycopg()
    try:
        conn = pg.connect(url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S)
    except pg.Error as exc:
        raise DatabaseUnavailable(Path(where), _unavailable(url, exc)) from exc
    return cast("psycopg.Connection[Any]", conn)


def _unavailable(url: str, exc: BaseException, *, lost: bool = False) -> str:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if lost:
        return f"与数据库的连接中断：{reason}"
    return f"无法连接数据库 {shown_url(url)}：{reason}"


class PostgresBackend:
    """Hands out `PostgresHistory` stores for the office of a workspace (its folder's name,
    unless `office` is given), from one pool of connections."""

    def __init__(self, url: str, office: str | None = None) -> None:
        self.url = url
        self.office = office
        self._pool: ConnectionPool | None = None
        self._pool_lock = threading.Lock()
        self._others: dict[Path, OtherOffices] = {}
        self._down: tuple[float, str] | None = None  # (until when to fail fast, why)

    def other_offices(self, workspace: Workspace) -> OtherOffices:
        """The other offices' rows for this workspace's checks (kept for the next check)."""
        from xlsync.stores.crossoffice import OtherOffices

        with self._pool_lock:
            key = workspace.folder.resolve()
            if key not in self._others:
                self._others[key] = OtherOffices(self, workspace)
            return self._others[key]

    def office_of(self, workspace: Workspace) -> str:
        return self.office or workspace.folder.resolve().name

    def watch_others(
        self, workspace: Workspace, on_change: Callable[[], None], stop: threading.Event
    ) -> threading.Thread:
        """A thread that calls `on_change` when another office published rows that share a
        block key with this office's rows (or when the database is back after an outage)."""
        from xlsync.stores.crossoffice import listen

        others = self.other_offices(workspace)

        def published() -> None:
            if others.changed():
                on_change()

        thread = threading.Thread(
            target=listen,
            args=(self.url, self.office_of(workspace), published, on_change, stop),
            name="xlsync-offices",
            daemon=True,
        )
        thread.start()
        return thread

    def _get_pool(self) -> ConnectionPool:
        with self._pool_lock:
            if self._pool is None:
                from psycopg_pool import ConnectionPool

                pool = ConnectionPool(
                    self.url,
                    min_size=0,
                    max_size=4,
                    kwargs={"autocommit": True, "connect_timeout": _CONNECT_TIMEOUT_S},
                    open=True,
                    check=ConnectionPool.check_connection,
                )
                weakref.finalize(self, pool.close)
                self._pool = pool
            return self._pool

    def connection(self, workspace: Workspace) -> tuple[psycopg.Connection[Any], Any]:
        """A connection from the pool and the function that gives it back."""
        psycopg = _psycopg()
        from psycopg_pool import PoolTimeout

        pool = self._get_pool()
        with self._pool_lock:
            down = self._down
        if down is not None and time.monotonic() < down[0]:  # failed a moment ago: fail fast
            raise DatabaseUnavailable(workspace.folder, down[1])
        try:
            conn = pool.getconn(timeout=_CONNECT_TIMEOUT_S)
        except (PoolTimeout, psycopg.Error) as exc:
            message = _unavailable(self.url, exc)
            with self._pool_lock:
                self._down = (time.monotonic() + _RETRY_AFTER_S, message)
            raise DatabaseUnavailable(workspace.folder, message) from exc
        return conn, pool.putconn

    def open(self, workspace: Workspace) -> PostgresHistory:
        psycopg = _psycopg()
        conn, release = self.connection(workspace)
        try:
            return PostgresHistory(
                conn, self.office_of(workspace), where=workspace.folder, release=release
            )
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(workspace.folder, _unavailable(self.url, exc)) from exc

    def exists(self, workspace: Workspace) -> bool:
        """Whether this office has recorded anything (reading commands create nothing)."""
        conn, release = self.connection(workspace)
        pg = _psycopg()
        try:
            if schema_version(conn) == 0:
                return False
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM syncs s JOIN offices o USING (office_id)"
                " WHERE o.name = %s)",
                (self.office_of(workspace),),
            ).fetchone()
            return bool(row and row[0])
        except pg.OperationalError as exc:
            raise DatabaseUnavailable(workspace.folder, _unavailable(self.url, exc)) from exc
        finally:
            release(conn)

    @contextmanager
    def sync_lock(self, workspace: Workspace, registers: Sequence[Path]) -> Iterator[None]:
        """Hold the advisory lock of each register of this office while syncing: a second
        watcher on the same share waits here, then reads the registers afresh."""
        conn, release = self.connection(workspace)
        office = self.office_of(workspace)
        keys = sorted(f"{office}/{path.name}" for path in registers)
        pg = _psycopg()
        try:
            try:
                for key in keys:  # always in the same order: no deadlock between two syncs
                    conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (key,))
            except pg.OperationalError as exc:
                raise DatabaseUnavailable(workspace.folder, _unavailable(self.url, exc)) from exc
            yield
        finally:
            try:
                if not conn.closed:
                    conn.execute("SELECT pg_advisory_unlock_all()")
            except pg.OperationalError:
                pass  # the connection is gone, and its locks with it
            finally:
                release(conn)
