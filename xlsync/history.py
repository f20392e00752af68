"""The history store: what every sync did to the rows of a register, kept outside the workbook.

Rows are tracked by their stable id (`编号`). Each sync stores its plan and compares the rows
of the file after the sync with the file's last snapshot, which yields events:

- `new`: an id this file has never had;
- `changed`: the row's values differ from the snapshot (detail `changed`: header -> [old, new]);
- `moved`: the row went to another sheet (listed in `moved`, or found on another sheet than
  in the snapshot); the event is located where the row was, detail `to_sheet` / `to_row`;
- `deleted`: an id of the snapshot is missing (detail `values`: its last values);
- `restored`: a deleted id is back (listed in `restored`, or simply present again);
- `ruling`: a ruling of the manager's 裁决 that this sync applied for the first time (or
  after it was edited), located at its row of 裁决; its `id` is the first 编号 it names,
  its detail says what was decided, by whom (经办人) and which rows (see `RulingRecord`).

Row-number shifts alone (a rep inserting rows above) are not events; the snapshot just
follows them.

The snapshot keeps one row per id per file, deleted rows included, so the last values of a
deleted row stay available for `restore`. Ids handed out by `reserve_ids` come from a
high-water mark kept per history database (that is, per folder), so an id is never reused,
not even after its row has been deleted.

The comparison itself is a pure function (`diff_sync`: the last snapshot and the new rows
in, typed events and snapshot updates out); the store only loads and saves around it.

`HistoryStore` is the protocol the rest of xlsync codes against; callers get their store
from `xlsync.workspace.Workspace`, never by building one. `SqliteHistory` is the embedded
implementation (standard library `sqlite3`, one transaction per write). It keeps SQLite's
rollback journal, not WAL: the database lives beside the registers, usually on an SMB
share, and WAL needs shared memory between the processes that open it, which network file
systems do not provide reliably.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

from xlsync.errors import UnusableInput
from xlsync.ids import format_id as format_id  # re-exported for older imports
from xlsync.ids import id_number as id_number
from xlsync.records import OfficeRuling, Row

if TYPE_CHECKING:
    from xlsync.agents import Listing

SCHEMA_VERSION = 1
HISTORY_DIR = ".xlsync"
HISTORY_FILE = "history.sqlite"
_BUSY_TIMEOUT_S = 30.0


class EventKind(enum.StrEnum):
    """What happened to a row; the values are what the database stores."""

    NEW = "new"
    CHANGED = "changed"
    MOVED = "moved"
    DELETED = "deleted"
    RESTORED = "restored"
    RULING = "ruling"  # a ruling of 裁决 applied (not a row event: located on 裁决)


EVENT_KINDS = tuple(kind.value for kind in EventKind)


class RowState(enum.StrEnum):
    """A snapshot row: in the file, deleted, or moved out of the file (stored values)."""

    PRESENT = "present"
    DELETED = "deleted"
    MOVED_OUT = "moved_out"


class HistoryError(UnusableInput):
    """The history database cannot be used (unreadable, or written by a newer xlsync)."""


class DatabaseUnavailable(HistoryError):
    """A shared history database cannot be reached now (down, network): retry later."""


@dataclass(frozen=True, slots=True)
class RowSnapshot:
    """One register row as the history sees it."""

    id: str  # 编号
    file: str  # register file name, e.g. "客户登记表.xlsx"
    sheet: str  # sheet name as in the workbook, e.g. "跟进中"
    row: int  # 1-based Excel row
    values: dict[str, str]  # header text -> cell text, every non-empty cell of the row


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to one row in one sync."""

    sync_id: int
    at: dt.datetime  # local time of the sync
    id: str
    file: str
    kind: EventKind
    sheet: str
    row: int
    detail: dict[str, object]


@dataclass(frozen=True, slots=True)
class RulingRecord:
    """A ruling of 裁决 that a sync applied, as the history keeps it.

    `key` identifies what the manager wrote (not where): a ruling is recorded once, when a
    sync first applies it, and again only if the manager edits it. `id` is the first 编号
    it names ("" when its rows have none yet). `detail` holds stable keys: `kind` (same,
    different, assign, release), `label` (同一客户 …), `date`, `customer`, `other`, `rep`,
    `days`, `by` (经办人), `note`, `ids` and `other_ids` (the 编号 of the rows it named).
    """

    key: str
    sheet: str
    row: int
    id: str
    detail: dict[str, object]


@runtime_checkable
class HistoryStore(Protocol):
    """What xlsync needs from a history store; SQLite now, a server database later.

    Callers get a store from `Workspace.history()` and use only these methods.
    """

    def reserve_ids(self, file: str, count: int, at_least: int) -> list[str]: ...

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
    ) -> tuple[int, list[Event]]: ...

    def last_values(self, id: str) -> RowSnapshot | None: ...

    def current(self, file: str) -> list[RowSnapshot]: ...

    def events(
        self,
        file: str | None = None,
        id: str | None = None,
        limit: int | None = None,
        *,
        kind: EventKind | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[Event]: ...

    def count_events(self, file: str | None = None, id: str | None = None) -> int: ...

    def plans(
        self, file: str | None, since: dt.datetime, until: dt.datetime
    ) -> list[tuple[dt.datetime, dict[str, object]]]: ...

    def deleted(self, file: str) -> list[RowSnapshot]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class TransactionalStore(Protocol):
    """A store that can make several writes one transaction (a sync of several files)."""

    def transaction(self) -> AbstractContextManager[None]: ...


@runtime_checkable
class PublishingStore(Protocol):
    """A store shared by several offices: a sync publishes its rows' match keys there (see
    `xlsync.stores.crossoffice`), in the sync's transaction."""

    def publish(
        self,
        file: str,
        rows: Sequence[tuple[Row, str]],
        protection_days: int,
        as_of: dt.date,
        now: dt.datetime,
        limits: Mapping[tuple[str, int], str] | None = None,
    ) -> None: ...

    def publish_rulings(self, rulings: Sequence[OfficeRuling], now: dt.datetime) -> None:
        """Replace the office's published rulings (applied, as resolved, rows by 编号)."""
        ...

    def publish_agents(self, listings: Sequence[Listing], now: dt.datetime) -> None:
        """Replace the office's published agent listings (代理商)."""
        ...

    def retire(self, keep: Sequence[str]) -> None:
        """Withdraw what the office published for files not in `keep` (gone from its folder)."""
        ...


def event_json(event: Event) -> dict[str, object]:
    """What `xlsync history --json` prints for one event."""
    return {"at": event.at.isoformat(), "id": event.id, "file": event.file,
            "kind": event.kind.value, "sheet": event.sheet, "row": event.row,
            "detail": event.detail}  # fmt: skip


# One statement per item (sqlite3 runs one statement per execute).
_SCHEMA = (
    """CREATE TABLE schema_version (
    version INTEGER NOT NULL
)""",
    # Named counters; "id" is the high-water mark of the numbers behind C000123-style ids.
    """CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID""",
    # Every block of ids handed out, for audits.
    """CREATE TABLE reservations (
    reservation_id INTEGER PRIMARY KEY AUTOINCREMENT,
    file TEXT NOT NULL,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    reserved_at TEXT NOT NULL
)""",
    """CREATE TABLE syncs (
    sync_id INTEGER PRIMARY KEY AUTOINCREMENT,
    file TEXT NOT NULL,
    at TEXT NOT NULL,
    as_of TEXT NOT NULL,
    plan TEXT NOT NULL
)""",
    "CREATE INDEX syncs_file ON syncs (file, sync_id)",
    # One row per id per file: the latest known location and values (JSON object).
    """CREATE TABLE snapshots (
    file TEXT NOT NULL,
    id TEXT NOT NULL,
    sheet TEXT NOT NULL,
    row INTEGER NOT NULL,
    vals TEXT NOT NULL,
    state TEXT NOT NULL,
    sync_id INTEGER NOT NULL REFERENCES syncs (sync_id),
    PRIMARY KEY (file, id)
) WITHOUT ROWID""",
    "CREATE INDEX snapshots_id ON snapshots (id, sync_id)",
    "CREATE INDEX snapshots_state ON snapshots (file, state)",
    """CREATE TABLE events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_id INTEGER NOT NULL REFERENCES syncs (sync_id),
    file TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    sheet TEXT NOT NULL,
    row INTEGER NOT NULL,
    detail TEXT NOT NULL
)""",
    "CREATE INDEX events_file_id ON events (file, id, event_id)",
    "CREATE INDEX events_id ON events (id, event_id)",
)


def _json_default(value: object) -> object:
    """JSON for the odd values a plan may carry: dates, paths, enums, sets, dataclasses."""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, tuple):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


# one encoder for every record (json.dumps with options builds a new one each call: a
# first sync encodes two records a row)
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=_json_default)


def _dumps(value: object) -> str:
    return _ENCODER.encode(value)


def _values_json(values: Mapping[str, str]) -> str:
    """The stored form of a row's values."""
    return _dumps(dict(values))


def _changes(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, list[str]]:
    """Header -> [old, new] for every cell that differs; an absent cell counts as ""."""
    changed: dict[str, list[str]] = {}
    for header in [*old, *(h for h in new if h not in old)]:
        before, after = old.get(header, ""), new.get(header, "")
        if before != after:
            changed[header] = [before, after]
    return changed


@dataclass(frozen=True, slots=True)
class Known:
    """A row as the snapshot holds it: where it was last, its values, and its state."""

    sheet: str
    row: int
    values: dict[str, str]
    state: RowState


@dataclass(frozen=True, slots=True)
class Change:
    """An event before it is stored (no sync id, no time yet)."""

    id: str
    kind: EventKind
    sheet: str
    row: int
    detail: dict[str, object]


@dataclass(slots=True)
class SyncDiff:
    """What one sync did: the events, and the snapshot rows to write (id -> new entry)."""

    changes: list[Change] = dataclasses.field(default_factory=list)
    updates: dict[str, Known] = dataclasses.field(default_factory=dict)


def check_rows(file: str, rows: list[RowSnapshot]) -> dict[str, RowSnapshot]:
    """`rows` by id; ValueError if a row belongs to another file or an id appears twice."""
    by_id: dict[str, RowSnapshot] = {}
    for snap in rows:
        if snap.file != file:
            raise ValueError(f"row {snap.id} belongs to {snap.file!r}, not {file!r}")
        if snap.id in by_id:
            raise ValueError(f"id {snap.id} appears twice in {file}")
        by_id[snap.id] = snap
    return by_id


def to_compare(
    stored: Iterable[tuple[str, str, int, str, str]],
    by_id: Mapping[str, RowSnapshot],
    moved: Mapping[str, tuple[str, int]] | None = None,
    restored: set[str] | frozenset[str] | None = None,
) -> tuple[dict[str, Known], list[RowSnapshot]]:
    """The stored snapshot (id, sheet, row, values as stored, state) a sync's rows
    (`by_id`) are compared with, parsed, and those rows: both without the rows the sync
    left exactly as stored (present, in the same place, their values stored the same,
    neither moved nor restored), which give `diff_sync` no event and no update. Parsing the
    values of all 100,000 rows raised an edit's peak by some 140 MB; it parses what differs."""
    moved = moved or {}
    restored = restored or frozenset()
    known: dict[str, Known] = {}
    same: set[str] = set()
    for id, sheet, row, vals, state in stored:
        snap = by_id.get(id)
        if (
            snap is not None
            and snap.row == row
            and snap.sheet == sheet
            and state == RowState.PRESENT
            and id not in moved
            and id not in restored
            and vals == _values_json(snap.values)
        ):
            same.add(id)
            continue
        known[id] = Known(sheet, row, json.loads(vals), RowState(state))
    rows = [snap for id, snap in by_id.items() if id not in same]
    return known, rows


def diff_sync(
    known: Mapping[str, Known],
    rows: list[RowSnapshot],
    moved: Mapping[str, tuple[str, int]] | None = None,
    restored: set[str] | frozenset[str] | None = None,
    moved_from: Mapping[str, tuple[str, int]] | None = None,
) -> SyncDiff:
    """Compare a file's snapshot (`known`, by id) with its rows after a sync: the events
    and the snapshot updates. A pure function; see `SqliteHistory.record_sync` for the
    meaning of the arguments."""
    moved = moved or {}
    moved_from = moved_from or {}
    restored = restored or set()
    present = {snap.id for snap in rows}
    diff = SyncDiff()

    def emit(id: str, kind: EventKind, sheet: str, row: int, detail: dict[str, object]) -> None:
        diff.changes.append(Change(id, kind, sheet, row, detail))

    for snap in rows:
        before = known.get(snap.id)
        if snap.id in restored or (before is not None and before.state is not RowState.PRESENT):
            detail: dict[str, object] = {"requested": snap.id in restored}
            if before is not None:
                changed = _changes(before.values, snap.values)
                if changed:
                    detail["changed"] = changed
            emit(snap.id, EventKind.RESTORED, snap.sheet, snap.row, detail)
        elif before is None:
            origin = moved_from.get(snap.id)
            values: dict[str, object] = {"values": snap.values}  # shared: read only
            if origin is not None and snap.id in moved:
                emit(snap.id, EventKind.NEW, origin[0], origin[1], values)
                emit(snap.id, EventKind.MOVED, origin[0], origin[1],
                     {"to_sheet": snap.sheet, "to_row": snap.row})  # fmt: skip
            else:
                emit(snap.id, EventKind.NEW, snap.sheet, snap.row, values)
        else:
            changed = _changes(before.values, snap.values)
            if changed:
                emit(snap.id, EventKind.CHANGED, snap.sheet, snap.row, {"changed": changed})
            if snap.id in moved or snap.sheet != before.sheet:
                emit(snap.id, EventKind.MOVED, before.sheet, before.row,
                     {"to_sheet": snap.sheet, "to_row": snap.row})  # fmt: skip
        after = Known(snap.sheet, snap.row, snap.values, RowState.PRESENT)
        if before != after:
            diff.updates[snap.id] = after

    for id, before in known.items():
        if id in present or before.state is not RowState.PRESENT:
            continue
        if id in moved:
            to_sheet, to_row = moved[id]
            emit(id, EventKind.MOVED, before.sheet, before.row,
                 {"to_sheet": to_sheet, "to_row": to_row, "left_file": True})  # fmt: skip
            diff.updates[id] = dataclasses.replace(before, state=RowState.MOVED_OUT)
        else:
            emit(id, EventKind.DELETED, before.sheet, before.row, {"values": dict(before.values)})
            diff.updates[id] = dataclasses.replace(before, state=RowState.DELETED)
    return diff


def new_rulings(
    recorded: Iterable[Mapping[str, object]], rulings: Sequence[RulingRecord]
) -> list[Change]:
    """The rulings no earlier sync recorded (`recorded`: the details of the file's earlier
    `ruling` events), as `ruling` events. A pure function, like `diff_sync`."""
    seen = {detail.get("key") for detail in recorded}
    changes: list[Change] = []
    for record in rulings:
        if record.key in seen:
            continue
        seen.add(record.key)
        detail = {**record.detail, "key": record.key}
        changes.append(Change(record.id, EventKind.RULING, record.sheet, record.row, detail))
    return changes


class SqliteHistory:
    """The history in a SQLite file; safe to share between threads and processes.

    Every write runs in one `BEGIN IMMEDIATE` transaction: writers queue on the database
    lock (up to 30 s) instead of failing, and a write that raises leaves nothing behind.
    """

    def __init__(self, path: Path) -> None:
        # The default rollback journal ("delete"), never WAL: see the module docstring.
        self.path = Path(path)
        self._lock = threading.RLock()
        self._depth = 0  # > 0 inside transaction(): writes join its transaction
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path,
                timeout=_BUSY_TIMEOUT_S,
                isolation_level=None,  # transactions are explicit, see _write
                check_same_thread=False,  # guarded by self._lock
            )
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(self.path, f"cannot open the history database: {exc}") from exc
        try:
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._ensure_schema()
        except HistoryError:
            self._conn.close()
            raise
        except sqlite3.Error as exc:
            self._conn.close()
            raise HistoryError(self.path, f"not a usable history database: {exc}") from exc

    # -- plumbing -----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every write inside is one transaction: all of them are kept, or none."""
        with self._write():
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the database write lock up front."""
        with self._lock:
            conn = self._conn
            if self._depth:
                yield conn  # part of the caller's transaction()
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # SQLite may already have rolled back by itself (e.g. disk full).
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _ensure_schema(self) -> None:
        with self._write() as conn:
            has_table = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            if not has_table:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                conn.execute("INSERT INTO counters (name, value) VALUES ('id', 0)")
                return
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            version = row[0] if row else None
            if version is None or version > SCHEMA_VERSION:
                raise HistoryError(
                    self.path,
                    f"history database has schema version {version}; "
                    f"this xlsync knows up to {SCHEMA_VERSION}",
                )
            # Migrations from older versions go here, one step per version.

    @staticmethod
    def _raise_mark(conn: sqlite3.Connection, number: int) -> None:
        conn.execute(
            "UPDATE counters SET value = max(value, ?) WHERE name = 'id'",
            (number,),
        )

    # -- ids ----------------------------------------------------------------------------

    def reserve_ids(self, file: str, count: int, at_least: int) -> list[str]:
        """`count` new ids, each greater than every id this folder has ever handed out or
        recorded, and greater than `at_least` (e.g. the largest id number in the register).
        """
        if count < 0:
            raise ValueError(f"count must be >= 0, not {count}")
        if count == 0:
            return []
        with self._write() as conn:
            (mark,) = conn.execute("SELECT value FROM counters WHERE name = 'id'").fetchone()
            first = max(int(mark), at_least) + 1
            last = first + count - 1
            conn.execute("UPDATE counters SET value = ? WHERE name = 'id'", (last,))
            conn.execute(
                "INSERT INTO reservations (file, first, last, reserved_at) VALUES (?, ?, ?, ?)",
                (file, first, last, dt.datetime.now().isoformat(timespec="seconds")),
            )
        return [format_id(n) for n in range(first, last + 1)]

    def high_water_mark(self) -> int:
        """The largest id number handed out or recorded so far (0 for none)."""
        with self._lock:
            (mark,) = self._conn.execute("SELECT value FROM counters WHERE name = 'id'").fetchone()
        return int(mark)

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
        """Store one sync of `file` and the events it made; `rows` become the snapshot.

        `rows` are all rows of `file` after the sync (ids unique). `moved` maps the ids the
        sync moved to their destination (sheet, row); for ids also in `rows`, the location
        in `rows` wins. An id in `moved` but not in `rows` left the file: "moved", not
        "deleted". `restored` lists the ids the sync put back. `moved_from` gives where a
        moved row stood before (sheet, row): a row new in this sync that moved at once is
        recorded as new where the rep typed it, then moved. `rulings` are the rulings of
        `file`'s 裁决 the sync applied; those not recorded before (by `RulingRecord.key`)
        become `ruling` events.
        """
        by_id = check_rows(file, rows)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO syncs (file, at, as_of, plan) VALUES (?, ?, ?, ?)",
                (file, at.isoformat(), as_of.isoformat(), _dumps(plan)),
            )
            sync_id = cursor.lastrowid
            assert sync_id is not None
            stored = conn.execute(
                "SELECT id, sheet, row, vals, state FROM snapshots WHERE file = ?", (file,)
            )
            known, changed = to_compare(stored, by_id, moved, restored)
            diff = diff_sync(known, changed, moved, restored, moved_from)
            if rulings:
                recorded = conn.execute(
                    "SELECT detail FROM events WHERE file = ? AND kind = ?",
                    (file, EventKind.RULING.value),
                )
                diff.changes.extend(new_rulings((json.loads(d) for (d,) in recorded), rulings))
            events = [
                Event(sync_id, at, c.id, file, c.kind, c.sheet, c.row, c.detail)
                for c in diff.changes
            ]
            # the rows' JSON is made as sqlite3 takes each row (a first sync of 100,000
            # rows would otherwise hold two lists of 100,000 JSON texts at its peak)
            conn.executemany(
                "INSERT INTO events (sync_id, file, id, kind, sheet, row, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                ((sync_id, file, e.id, e.kind.value, e.sheet, e.row, _dumps(e.detail))
                 for e in events),
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO snapshots (file, id, sheet, row, vals, state, sync_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (file, id) DO UPDATE SET sheet = excluded.sheet,"
                " row = excluded.row, vals = excluded.vals, state = excluded.state,"
                " sync_id = excluded.sync_id",
                ((file, id, k.sheet, k.row, _values_json(k.values), k.state.value, sync_id)
                 for id, k in diff.updates.items()),
            )  # fmt: skip
            # Ids written by hand or by an older tool must not be handed out again either.
            numbers = [n for n in map(id_number, by_id) if n is not None]
            if numbers:
                self._raise_mark(conn, max(numbers))
        return sync_id, events

    # -- queries ------------------------------------------------------------------------

    def last_values(self, id: str) -> RowSnapshot | None:
        """The latest known location and values of a row, also when it has been deleted."""
        with self._lock:
            found = self._conn.execute(
                "SELECT file, sheet, row, vals FROM snapshots WHERE id = ?"
                " ORDER BY state = 'present' DESC, sync_id DESC LIMIT 1",
                (id,),
            ).fetchone()
        if found is None:
            return None
        file, sheet, row, vals = found
        return RowSnapshot(id, file, sheet, row, json.loads(vals))

    def current(self, file: str) -> list[RowSnapshot]:
        """The rows of `file` as of its last sync, in sheet and row order."""
        return self._snapshots(file, RowState.PRESENT)

    def deleted(self, file: str) -> list[RowSnapshot]:
        """Rows of `file` deleted and not restored since, most recently deleted first."""
        return self._snapshots(file, RowState.DELETED)

    def _snapshots(self, file: str, state: RowState) -> list[RowSnapshot]:
        order = "sheet, row" if state is RowState.PRESENT else "sync_id DESC, sheet, row"
        with self._lock:
            found = self._conn.execute(
                f"SELECT id, sheet, row, vals FROM snapshots WHERE file = ? AND state = ?"
                f" ORDER BY {order}",
                (file, state.value),
            ).fetchall()
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
        """Events, newest first, optionally of one file, one id, one kind, and of the syncs
        from `since` (inclusive) to `until` (exclusive)."""
        where: list[str] = []
        params: list[object] = []
        if file is not None:
            where.append("e.file = ?")
            params.append(file)
        if id is not None:
            where.append("e.id = ?")
            params.append(id)
        if kind is not None:
            where.append("e.kind = ?")
            params.append(kind.value)
        if since is not None:
            where.append("s.at >= ?")
            params.append(since.isoformat())
        if until is not None:
            where.append("s.at < ?")
            params.append(until.isoformat())
        sql = (
            "SELECT e.sync_id, s.at, e.id, e.file, e.kind, e.sheet, e.row, e.detail"
            " FROM events e JOIN syncs s ON s.sync_id = e.sync_id"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY e.event_id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(limit, 0))
        with self._lock:
            found = self._conn.execute(sql, params).fetchall()
        return [
            Event(
                sync_id,
                dt.datetime.fromisoformat(at),
                id_,
                file_,
                EventKind(kind),
                sheet,
                row,
                json.loads(detail),
            )
            for sync_id, at, id_, file_, kind, sheet, row, detail in found
        ]

    def count_events(self, file: str | None = None, id: str | None = None) -> int:
        """How many events there are (of one file and/or one id)."""
        where: list[str] = []
        params: list[object] = []
        if file is not None:
            where.append("file = ?")
            params.append(file)
        if id is not None:
            where.append("id = ?")
            params.append(id)
        sql = "SELECT COUNT(*) FROM events" + (" WHERE " + " AND ".join(where) if where else "")
        with self._lock:
            return int(self._conn.execute(sql, params).fetchone()[0])

    def plans(
        self, file: str | None, since: dt.datetime, until: dt.datetime
    ) -> list[tuple[dt.datetime, dict[str, object]]]:
        """The recorded plans of the syncs between `since` and `until` (oldest first)."""
        sql = "SELECT at, plan FROM syncs WHERE at >= ? AND at < ?"
        params: list[object] = [since.isoformat(), until.isoformat()]
        if file is not None:
            sql += " AND file = ?"
            params.append(file)
        sql += " ORDER BY sync_id"
        with self._lock:
            found = self._conn.execute(sql, params).fetchall()
        return [(dt.datetime.fromisoformat(at), json.loads(plan)) for at, plan in found]

    # -- lifetime -----------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
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
