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
`HistoryBackend`, chosen here, without touching the callers.

A workspace also owns the state a long-lived caller keeps between syncs (`recorded`): the
watcher keeps one workspace for its whole run; every `xlsync sync` starts with a new one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from xlsync.check import GroupingCache
from xlsync.history import Event, HistoryStore, SqliteHistory
from xlsync.locks import Lock, find_lock, locked_register
from xlsync.registers import register_files
from xlsync.sidecar import SIDECAR_FOLDER

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
    grouping: GroupingCache = field(default_factory=GroupingCache)

    @classmethod
    def of(cls, target: Path | str) -> Workspace:
        """The workspace of a register or a folder of registers (the embedded store)."""
        return cls(Path(target))

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
