"""The search index behind `xlsync serve`, kept fresh without reading a workbook per request.

A `Snapshot` is built from one check of the register set (`xlsync.check.run_check`, the
same check `who` and the board use): the `LookupIndex`, the settings (roster, heads) and
every rep's own list. Requests read the current snapshot, never the workbook; a new one
replaces it whole (one reference swap), so a request sees one version or the other.

It is rebuilt when something synced the set: `LiveIndex.run` polls the history store of the
set (`.xlsync/history.sqlite`, read-only: the newest sync's id and time) and the date (the
rules' "today"), and checks the set again when either changed. A watcher in the same
process can hand its own check over instead (`LiveIndex.on_synced`), which costs nothing.

The check and the index are built in a child process (one spawned worker, kept for the
next rebuild), never in the serving process: a rebuild costs seconds of CPU, and in a
thread of the server it would hold the GIL the requests need. The child hands back the
pickled snapshot; the server only unpickles it (`_loads`: a fast path for the slotted
dataclasses, the cyclic GC paused meanwhile and kept off the snapshot afterwards), about a
tenth of the rebuild's CPU.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import logging
import multiprocessing
import os
import pickle
import signal
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from xlsync.check import CheckResult, run_check
from xlsync.lookup import LookupIndex
from xlsync.runtime import collector_paused
from xlsync.server.view import MyList, my_lists
from xlsync.settings import Settings
from xlsync.workspace import Workspace

log = logging.getLogger("xlsync.serve")

Marker = tuple[int, str, dt.date]
WORKER_NICENESS = 10  # the rebuild worker's priority, below the server's (POSIX)  # newest sync id, its time, the rules' today


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


def _restore(cls: type, names: tuple[str, ...], values: tuple[object, ...]) -> object:
    obj: object = object.__new__(cls)
    for name, value in zip(names, values, strict=True):
        object.__setattr__(obj, name, value)
    return obj


class _Pickler(pickle.Pickler):
    """Pickles slotted dataclasses as (class, field values): the default unpickles each
    through `dataclasses._dataclass_setstate`, which looks the fields up again for every
    object (most of the unpickling time at 10,000 rows)."""

    def __init__(self, file: io.BytesIO, protocol: int) -> None:
        super().__init__(file, protocol=protocol)
        self.slots: dict[type, tuple[str, ...]] = {}  # per class: pickled once, then by memo

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if cls not in self.slots:
            slotted = is_dataclass(cls) and "__slots__" in cls.__dict__
            if not slotted or isinstance(obj, type):
                return NotImplemented
            names = tuple(f.name for f in fields(cls))
            if set(names) != set(cls.__slots__):
                return NotImplemented
            self.slots[cls] = names
        names = self.slots[cls]
        try:
            values = tuple(getattr(obj, name) for name in names)
        except AttributeError:  # a field never set: the default way copes
            return NotImplemented
        return (_restore, (cls, names, values))


def _dumps(snapshot: Snapshot) -> bytes:
    out = io.BytesIO()
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(snapshot)
    return out.getvalue()


def _loads(data: bytes) -> Snapshot:
    """The snapshot a child built, unpickled with the cyclic GC paused (the million new
    objects would start it again and again) and then frozen (`gc.freeze`): a full
    collection would walk them all, a quarter of a second holding the GIL, and they hold
    no reference cycles, so the snapshot they replace is freed by reference counting alone
    (`tests/test_serve.py` checks both)."""
    with collector_paused():
        snapshot = pickle.loads(data)
        gc.freeze()
    assert isinstance(snapshot, Snapshot)
    return snapshot


def build_snapshot(
    target: Path, today: dt.date, built: dt.datetime, marker: Marker | None
) -> tuple[bytes | None, str]:
    """In the worker process: check the set and build the snapshot; (pickled, "") or
    (None, why not)."""
    try:
        result = run_check(target, today)
    except Exception as exc:  # an unreadable set: the server keeps the last snapshot
        return None, str(exc) or type(exc).__name__
    return _dumps(Snapshot.of(result, built, marker)), ""


def _quiet_worker() -> None:
    """Ctrl-C in the console reaches the whole process group: the server stops the worker.
    The worker runs at a lower priority (where the system has one): on a small machine a
    rebuild then takes the CPU the look-ups leave over, not the other way round."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)


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
        in_process: bool = False,
    ) -> None:
        self.target = target
        self.in_process = in_process  # build in this process (no worker): tests, tools
        self.workspace = Workspace.of(target)
        self.today = today
        self.now = now
        self.snapshot: Snapshot | None = None
        self.builds = 0  # how many snapshots were made (for tests and the log)
        self.error = ""  # why the last rebuild failed ("" when it did not)
        self._failed: Marker | None = None  # the marker a rebuild failed at: not retried
        self._changed = threading.Condition()
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def refresh(self) -> Snapshot | None:
        """Check the set (in the worker process) and replace the snapshot; on failure keep
        the old one."""
        today = self.today()
        marker = sync_marker(self.workspace, today)
        log.info("索引更新中（同步 %d）", marker[0])
        try:
            snapshot, why = self._build(today, marker)
        except Exception as exc:  # the worker died (killed, out of memory): a new one next time
            snapshot, why = None, f"{type(exc).__name__}: {exc}"
        if snapshot is None:  # an unreadable set: keep answering from the last one
            self.error = why
            self._failed = marker  # tried again at the next sync, not every poll
            log.error("索引未更新：%s", why)
            return self.snapshot
        self._install(snapshot)
        return self.snapshot

    def _build(self, today: dt.date, marker: Marker) -> tuple[Snapshot | None, str]:
        if self.in_process:
            try:
                result = run_check(self.target, today)
            except Exception as exc:
                return None, str(exc) or type(exc).__name__
            return Snapshot.of(result, self.now(), marker), ""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    1, multiprocessing.get_context("spawn"), initializer=_quiet_worker
                )
            pool = self._pool
        try:
            job = pool.submit(build_snapshot, self.target, today, self.now(), marker)
            data, why = job.result()
        except BrokenProcessPool:
            with self._pool_lock:
                if self._pool is pool:
                    self._pool = None
            raise
        return (_loads(data) if data is not None else None), why

    def close(self) -> None:
        """Stop the worker process (after the build it is doing, if any)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

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
