"""The search index behind `xlsync serve`, kept fresh without reading a workbook per request.

A `Snapshot` is built from one check of the register set (`xlsync.check.run_check`, the
same check `who` and the board use): the `LookupIndex`, the settings (roster, heads) and
every rep's own list. Requests read the current snapshot, never the workbook; a new one
replaces it whole (one reference swap), so a request sees one version or the other.

It is rebuilt when something synced the set: `LiveIndex.run` polls the history store of the
set (`.xlsync/history.sqlite`, read-only: the newest sync's id and time) and the date (the
rules' "today"), and checks the set again when either changed. A watcher in the same
process can hand its own check over instead (`LiveIndex.on_synced`), which costs nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xlsync.check import CheckResult, run_check
from xlsync.lookup import LookupIndex
from xlsync.server.view import MyList, my_lists
from xlsync.settings import Settings
from xlsync.workspace import Workspace

log = logging.getLogger("xlsync.serve")

Marker = tuple[int, str, dt.date]  # newest sync id, its time, the rules' today


@dataclass(frozen=True, slots=True)
class Snapshot:
    index: LookupIndex
    settings: Settings
    folder: bool
    as_of: dt.date
    built: dt.datetime  # when this snapshot was made
    synced: dt.datetime | None  # the newest sync the history knows of (None: none yet)
    mine: dict[str, MyList] = field(default_factory=dict)
    marker: Marker | None = None

    @classmethod
    def of(cls, result: CheckResult, built: dt.datetime, marker: Marker | None) -> Snapshot:
        index = LookupIndex.from_check(result).prepare()
        settings = result.registers.settings
        synced = dt.datetime.fromisoformat(marker[1]) if marker and marker[1] else None
        return cls(
            index, settings, result.is_folder, result.as_of, built, synced,
            my_lists(index, settings, result.as_of), marker,
        )  # fmt: skip


def sync_marker(workspace: Workspace, today: dt.date) -> Marker:
    """The newest sync recorded in the set's history (read-only; (0, "") when none)."""
    path = workspace.history_path
    if not path.exists():
        return (0, "", today)
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            found = conn.execute("SELECT max(sync_id), max(at) FROM syncs").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:  # being written, or not a history yet: try again later
        log.debug("history not readable now: %s", exc)
        return (-1, "", today)
    return (int(found[0] or 0), str(found[1] or ""), today)


class LiveIndex:
    """The current snapshot of a register set, and the loop that keeps it current."""

    def __init__(
        self,
        target: Path,
        *,
        today: Callable[[], dt.date] = dt.date.today,
        now: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        self.target = target
        self.workspace = Workspace.of(target)
        self.today = today
        self.now = now
        self.snapshot: Snapshot | None = None
        self.builds = 0  # how many snapshots were made (for tests and the log)
        self.error = ""  # why the last rebuild failed ("" when it did not)
        self._failed: Marker | None = None  # the marker a rebuild failed at: not retried
        self._changed = threading.Condition()

    def refresh(self) -> Snapshot | None:
        """Check the set and replace the snapshot; on failure keep the old one."""
        today = self.today()
        marker = sync_marker(self.workspace, today)
        log.info("索引更新中（同步 %d）", marker[0])
        try:
            result = run_check(self.target, today)
        except Exception as exc:  # an unreadable set: keep answering from the last one
            self.error = str(exc)
            self._failed = marker  # tried again at the next sync, not every poll
            log.error("索引未更新：%s", exc)
            return self.snapshot
        self._install(Snapshot.of(result, self.now(), marker))
        return self.snapshot

    def on_synced(self, outcome: object) -> None:
        """A watcher's `on_synced` part: take the check the sync just made."""
        result = getattr(outcome, "result", None)
        if isinstance(result, CheckResult):
            marker = sync_marker(self.workspace, result.as_of)
            self._install(Snapshot.of(result, self.now(), marker))

    def _install(self, snapshot: Snapshot) -> None:
        with self._changed:
            self.snapshot = snapshot
            self.builds += 1
            self.error = ""
            self._changed.notify_all()
        log.info("索引已更新：%d 个客户", len(snapshot.index.customers))

    def wait_for_build(self, count: int, timeout: float) -> bool:
        """Block until `builds` reaches `count` (for tests and benchmarks)."""
        with self._changed:
            return self._changed.wait_for(lambda: self.builds >= count, timeout)

    def due(self) -> bool:
        """Whether the history or the date moved since the current snapshot."""
        current = self.snapshot
        marker = sync_marker(self.workspace, self.today())
        if marker[0] < 0 or marker == self._failed:
            return False
        return current is None or current.marker != marker

    def run(self, stop: threading.Event, interval: float = 2.0) -> None:
        """Poll until `stop` is set; rebuild whenever `due`."""
        while not stop.is_set():
            if self.due():
                self.refresh()
            stop.wait(interval)
