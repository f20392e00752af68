"""A register set's workspace: the one place that knows where xlsync keeps its things.

A register set is one register file, or every register in a folder. Beside the registers
xlsync keeps (all under the folder):

- `.xlsync/history.sqlite`: the history store (see `xlsync.history`);
- `.xlsync/outbox.sqlite`: the messages delivery sends and has sent (see `xlsync.notify`);
- `.xlsync/backups/`: copies of each register from before each write;
- `.xlsync/watch.log` and `.xlsync/schedule.json`: the watcher's log and its record of the
  scheduled reports already made;
- `reports/`: the reports the watcher makes (board, handouts, daily lists);
- `xlsync报告/`: side-car files for registers that could not be written.

Callers get their history store from `Workspace.history()` and use it only through the
`HistoryStore` protocol. Another store (a server database) plugs in as another
`HistoryBackend`, chosen here, without touching the callers: `Workspace.of` takes a
PostgreSQL URL (`--db`, or the `XLSYNC_DB` environment variable) and then hands out
`xlsync.stores.postgres.PostgresHistory` stores of one shared database, the office being the
folder's name. A backend that can (`LockingBackend`) also serialises syncs of one register
between processes (`Workspace.sync_lock`).

A workspace also owns the state a long-lived caller keeps between syncs (`recorded`, the
grouping cache, the last sync that changed nothing in `warm`): the watcher keeps one
workspace for its whole run; every `xlsync sync` starts with a new one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from xlsync.history import DatabaseUnavailable, Event, HistoryStore, SqliteHistory
from xlsync.locks import Lock, find_lock, locked_register
from xlsync.records import OtherOffices
from xlsync.register_set import register_files
from xlsync.sidecar import SIDECAR_FOLDER
from xlsync.stores import DB_ENV
from xlsync.warm import WarmSync

if TYPE_CHECKING:
    from xlsync.check import GroupingCache

HIDDEN = ".xlsync"
HISTORY_FILE = "history.sqlite"
REPORTS = "reports"


class HistoryBackend(Protocol):
    """Where a workspace's history lives."""

    def open(self, workspace: Workspace) -> HistoryStore:
        """The store, created when there is none yet."""
        ...

    def exists(self, workspace: Workspace) -> bool:
        """Whether anything has been recorded yet (reading commands do not create one)."""
        ...


@runtime_checkable
class LockingBackend(Protocol):
    """A backend that serialises the syncs of one register between processes."""

    def sync_lock(
        self, workspace: Workspace, registers: Sequence[Path]
    ) -> AbstractContextManager[None]: ...


@runtime_checkable
class CrossOfficeBackend(Protocol):
    """A backend shared by several offices: it finds the other offices' candidate rows."""

    def other_offices(self, workspace: Workspace) -> OtherOffices: ...

    def watch_others(
        self, workspace: Workspace, on_change: Callable[[], None], stop: threading.Event
    ) -> threading.Thread: ...


def backend_for(db: str | None) -> HistoryBackend:
    """The backend a database URL names: PostgreSQL for `postgresql://…`, else SQLite."""
    if db:
        from xlsync.stores.postgres import PostgresBackend, is_database_url

        if not is_database_url(db):
            from xlsync.history import HistoryError

            raise HistoryError(Path("."), f"--db 只接受 postgresql://… 形式的地址，而不是 {db!r}")
        return PostgresBackend(db)
    return SqliteBackend()


class SqliteBackend:
    """The embedded store: `.xlsync/history.sqlite` beside the registers."""

    def open(self, workspace: Workspace) -> HistoryStore:
        return SqliteHistory(workspace.history_path)

    def exists(self, workspace: Workspace) -> bool:
        return workspace.history_path.exists()


class RecordedSnapshots:
    """The digest of the snapshot last recorded for each register file by one owner: a
    watcher re-syncing an unchanged register need not record the same snapshot again."""

    def __init__(self) -> None:
        self._digests: dict[str, str] = {}
        self._lock = threading.Lock()

    def is_same(self, file: str, digest: str) -> bool:
        with self._lock:
            return self._digests.get(file) == digest

    def remember(self, file: str, digest: str) -> None:
        with self._lock:
            self._digests[file] = digest


@dataclass(slots=True)
class Workspace:
    """The folder of a register set and everything xlsync keeps beside it."""

    target: Path  # the register file or the folder, as given
    backend: HistoryBackend = field(default_factory=SqliteBackend)
    recorded: RecordedSnapshots = field(default_factory=RecordedSnapshots)
    # the last grouping of this set's names: a watcher re-syncing unchanged names reuses it
    grouping: GroupingCache = field(default_factory=lambda: _grouping_cache())
    # the last sync that changed nothing and what it read: the same save again is not
    # read and judged again (the watcher; see xlsync.warm)
    warm: WarmSync = field(default_factory=WarmSync)
    # keep syncing this office while a shared database is down (the watcher): no new ids,
    # no history until it is back; a one-off command fails instead
    offline: bool = False

    @classmethod
    def of(cls, target: Path | str, db: str | None = None) -> Workspace:
        """The workspace of a register or a folder of registers: its history in the
        database `db` (default: `XLSYNC_DB`), else in the embedded SQLite store."""
        return cls(Path(target), backend_for(db or os.environ.get(DB_ENV) or None))

    # -- where things are ------------------------------------------------------------

    @property
    def folder(self) -> Path:
        return self.target if self.target.is_dir() else self.target.parent

    @property
    def hidden(self) -> Path:
        return self.folder / HIDDEN

    @property
    def history_path(self) -> Path:
        return self.hidden / HISTORY_FILE

    @property
    def outbox_path(self) -> Path:
        """The delivery outbox (see `xlsync.notify.outbox`)."""
        return self.hidden / "outbox.sqlite"

    @property
    def backups(self) -> Path:
        return self.hidden / "backups"

    @property
    def watch_log(self) -> Path:
        return self.hidden / "watch.log"

    @property
    def schedule_file(self) -> Path:
        return self.hidden / "schedule.json"

    @property
    def reports(self) -> Path:
        return self.folder / REPORTS

    @property
    def sidecars(self) -> Path:
        return self.folder / SIDECAR_FOLDER

    @property
    def file_filter(self) -> str | None:
        """The register file the history is read for; None for a whole folder."""
        return None if self.target.is_dir() else self.target.name

    def registers(self) -> list[Path]:
        """The register files of the set, as they are on disk now."""
        if self.target.is_dir():
            return register_files(self.target)
        return [self.target] if self.target.exists() else []

    # -- locks -----------------------------------------------------------------------

    def lock_of(self, register: Path) -> Lock | None:
        """Who has `register` open (Excel/WPS or LibreOffice), None when nobody."""
        return find_lock(register)

    def register_of_lock(self, name: str) -> Path | None:
        """The register of the set a lock file name in the folder belongs to."""
        found = locked_register(name, [p.name for p in self.registers()])
        return self.folder / found if found is not None else None

    @contextmanager
    def sync_lock(self, registers: Sequence[Path]) -> Iterator[None]:
        """Held while syncing `registers`: another process syncing them waits (a
        PostgreSQL advisory lock; nothing for the embedded store, whose writes the
        file's own checks guard)."""
        with ExitStack() as stack:
            if isinstance(self.backend, LockingBackend):
                try:
                    stack.enter_context(self.backend.sync_lock(self, registers))
                except DatabaseUnavailable:
                    if not self.offline:
                        raise
            yield

    def other_offices(self) -> OtherOffices | None:
        """Where a check finds the other offices' rows (None: this office is alone)."""
        if isinstance(self.backend, CrossOfficeBackend):
            return self.backend.other_offices(self)
        return None

    def watch_others(
        self, on_change: Callable[[], None], stop: threading.Event
    ) -> threading.Thread | None:
        """A thread calling `on_change` when the other offices' rows that matter here
        change, or a shared database is back after an outage (None: no shared database)."""
        if isinstance(self.backend, CrossOfficeBackend):
            return self.backend.watch_others(self, on_change, stop)
        return None

    # -- history ---------------------------------------------------------------------

    def history(self) -> HistoryStore:
        """The history store, created when there is none yet (use it in a `with`)."""
        return self.backend.open(self)

    def existing_history(self) -> HistoryStore | None:
        """The history store, or None when nothing has been recorded yet."""
        return self.backend.open(self) if self.backend.exists(self) else None

    def recent_events(self, id: str | None, limit: int | None) -> tuple[list[Event], int] | None:
        """The newest events of the set (of one row when `id` is given), at most `limit`,
        and how many there are in all; None when nothing has been recorded yet."""
        store = self.existing_history()
        if store is None:
            return None
        with store:
            file = self.file_filter
            return store.events(file, id, limit), store.count_events(file, id)


def _grouping_cache() -> GroupingCache:
    """A new grouping cache (the matcher is imported when a workspace is made, not when
    the command line starts)."""
    from xlsync.check import GroupingCache

    return GroupingCache()
