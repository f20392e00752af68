"""The workspace: every caller gets its history store from it and uses only the protocol.

sync, history, restore and the reports run here on real registers, through a workspace
whose store is a small in-memory fake: no SQLite file is made, so nothing reached around
the workspace, and the fake's methods are all the callers used.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import openpyxl
import pytest

from xlsync.history import (
    Event,
    EventKind,
    HistoryStore,
    Known,
    RowSnapshot,
    RowState,
    RulingRecord,
    check_rows,
    diff_sync,
    new_rulings,
)
from xlsync.ids import format_id, id_number
from xlsync.locks import excel_owner_names, libreoffice_lock_name, locked_register
from xlsync.plan import next_id_number
from xlsync.register.reader import read_register
from xlsync.sync import restore_row, sync
from xlsync.workspace import Workspace

from .helpers import customer, write_register
from .test_history import assert_implements

AS_OF = dt.date(2026, 11, 1)
NOW = dt.datetime(2026, 11, 1, 10, 0)


class MemoryStore:
    """A history store in a few dicts, built on the same pure diff as SqliteHistory."""

    def __init__(self) -> None:
        self.mark = 0
        self.syncs: list[tuple[str, dt.datetime, dict[str, object]]] = []
        self.snapshots: dict[tuple[str, str], Known] = {}
        self.log: list[Event] = []
        self.calls: list[tuple[str, dict[str, object]]] = []

    def reserve_ids(self, file: str, count: int, at_least: int) -> list[str]:
        first = max(self.mark, at_least) + 1
        self.mark = first + count - 1
        return [format_id(n) for n in range(first, self.mark + 1)]

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
        self.calls.append(("record_sync", {"file": file}))
        by_id = check_rows(file, rows)
        known = {id: k for (f, id), k in self.snapshots.items() if f == file}
        diff = diff_sync(known, rows, moved, restored, moved_from)
        recorded = [e.detail for e in self.log if e.file == file and e.kind is EventKind.RULING]
        diff.changes.extend(new_rulings(recorded, rulings or ()))
        self.syncs.append((file, at, plan))
        sync_id = len(self.syncs)
        events = [Event(sync_id, at, c.id, file, c.kind, c.sheet, c.row, c.detail)
                  for c in diff.changes]  # fmt: skip
        self.log.extend(events)
        for id, entry in diff.updates.items():
            self.snapshots[file, id] = entry
        self.mark = max([self.mark, *(n for n in map(id_number, by_id) if n is not None)])
        return sync_id, events

    def last_values(self, id: str) -> RowSnapshot | None:
        for (file, found), k in self.snapshots.items():
            if found == id:
                return RowSnapshot(id, file, k.sheet, k.row, dict(k.values))
        return None

    def current(self, file: str) -> list[RowSnapshot]:
        return [RowSnapshot(id, f, k.sheet, k.row, k.values)
                for (f, id), k in self.snapshots.items()
                if f == file and k.state is RowState.PRESENT]  # fmt: skip

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
        self.calls.append(("events", {"kind": kind, "since": since, "until": until}))
        found = [
            e
            for e in reversed(self.log)
            if (file is None or e.file == file)
            and (id is None or e.id == id)
            and (kind is None or e.kind is kind)
            and (since is None or e.at >= since)
            and (until is None or e.at < until)
        ]
        return found if limit is None else found[:limit]

    def count_events(self, file: str | None = None, id: str | None = None) -> int:
        return len(self.events(file, id))

    def plans(
        self, file: str | None, since: dt.datetime, until: dt.datetime
    ) -> list[tuple[dt.datetime, dict[str, object]]]:
        self.calls.append(("plans", {}))
        return [(at, plan) for f, at, plan in self.syncs
                if (file is None or f == file) and since <= at < until]  # fmt: skip

    def deleted(self, file: str) -> list[RowSnapshot]:
        return [RowSnapshot(id, f, k.sheet, k.row, k.values)
                for (f, id), k in self.snapshots.items()
                if f == file and k.state is RowState.DELETED]  # fmt: skip

    def close(self) -> None:
        pass  # the store outlives each use, like a connection pool would

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()


@dataclasses.dataclass
class MemoryBackend:
    store: MemoryStore = dataclasses.field(default_factory=MemoryStore)
    opened: bool = False

    def open(self, workspace: Workspace) -> HistoryStore:
        self.opened = True
        return self.store

    def exists(self, workspace: Workspace) -> bool:
        return self.opened


def test_the_fake_implements_the_protocol() -> None:
    assert_implements(MemoryStore, HistoryStore)
    assert isinstance(MemoryStore(), HistoryStore)


@pytest.fixture
def register(tmp_path: Path) -> Path:
    return write_register(
        tmp_path / "客户登记表.xlsx",
        [customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 10, 3), status="送样"),
         customer(customer="华美涂料", rep="王芳", contacted=dt.date(2026, 11, 1), status="电话"),
         customer(customer="雅玛西电子", rep="李娜", visited=dt.date(2026, 10, 9), status="拜访")],
        [],
    )  # fmt: skip


def test_sync_history_restore_and_reports_through_a_workspace_store(
    register: Path, tmp_path: Path
) -> None:
    from xlsync.reports.build import daily, monthly

    backend = MemoryBackend()
    ws = Workspace(register, backend=backend)
    outcome = sync(register, AS_OF, now=NOW, workspace=ws)
    assert [e.kind for f in outcome.files for e in f.events] == [EventKind.NEW] * 3
    ids = [r.id for r in read_register(register).rows]
    assert ids == ["C000001", "C000002", "C000003"]

    book = openpyxl.load_workbook(register)
    book["跟进中"].delete_rows(3)  # 华美涂料, C000002
    book.save(register)
    later = NOW + dt.timedelta(hours=1)
    outcome = sync(register, AS_OF, now=later, workspace=ws)
    assert [(e.kind, e.id) for e in outcome.files[0].events] == [(EventKind.DELETED, "C000002")]

    shown = ws.recent_events("C000002", None)
    assert shown is not None
    assert [e.kind for e in shown[0]] == [EventKind.DELETED, EventKind.NEW] and shown[1] == 2

    done = restore_row(register, " c000002 ", AS_OF, now=later, workspace=ws)
    assert done.restored.written and done.after is not None
    assert "C000002" in {r.id for r in read_register(register).rows}
    shown = ws.recent_events("C000002", None)
    assert shown is not None and EventKind.RESTORED in [e.kind for e in shown[0]]

    out = tmp_path / "out"
    (xlsx, _html) = daily(register, AS_OF, out, now=later, workspace=ws)
    assert xlsx.exists()
    start = dt.datetime(2026, 11, 1)
    assert ("events", {"kind": EventKind.NEW, "since": start,
                       "until": start + dt.timedelta(days=1)}) in backend.store.calls  # fmt: skip
    paths = monthly(register, "2026-10", out, today=AS_OF, workspace=ws)
    assert [p.suffix for p in paths] == [".html", ".pdf"]
    assert ("plans", {}) in backend.store.calls

    assert not (register.parent / ".xlsync" / "history.sqlite").exists()


def test_what_was_recorded_belongs_to_the_workspace(register: Path) -> None:
    backend = MemoryBackend()
    watcher_ws = Workspace(register, backend=backend)
    sync(register, AS_OF, now=NOW, workspace=watcher_ws)  # writes the ids
    sync(register, AS_OF, now=NOW, workspace=watcher_ws)  # records the file as it is now
    recorded = len(backend.store.syncs)
    sync(register, AS_OF, now=NOW, workspace=watcher_ws)  # unchanged: nothing new to record
    assert len(backend.store.syncs) == recorded
    other = Workspace(register, backend=backend)  # another caller knows nothing of it
    sync(register, AS_OF, now=NOW, workspace=other)
    assert len(backend.store.syncs) == recorded + 1


def test_the_workspace_knows_where_things_are(tmp_path: Path) -> None:
    register = tmp_path / "r.xlsx"
    register.touch()
    for ws in (Workspace.of(register), Workspace.of(tmp_path)):
        assert ws.folder == tmp_path
        assert ws.history_path == tmp_path / ".xlsync" / "history.sqlite"
        assert ws.backups == tmp_path / ".xlsync" / "backups"
        assert ws.watch_log == tmp_path / ".xlsync" / "watch.log"
        assert ws.schedule_file == tmp_path / ".xlsync" / "schedule.json"
        assert ws.reports == tmp_path / "reports"
    assert Workspace.of(register).file_filter == "r.xlsx"
    assert Workspace.of(tmp_path).file_filter is None
    assert Workspace.of(tmp_path).registers() == [register]
    assert Workspace.of(tmp_path).register_of_lock("~$r.xlsx") == register


# -- ids ------------------------------------------------------------------------------


def test_a_hand_typed_id_that_is_not_a_c_number_does_not_raise_the_numbering(
    tmp_path: Path,
) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(id="C2026-0815", customer="格林电子", rep="张伟"),
         customer(id="C000007", customer="华美涂料", rep="王芳"),
         customer(customer="雅玛西电子", rep="李娜")],
        [],
    )  # fmt: skip
    assert next_id_number([read_register(path)]) == 7
    sync(path, AS_OF, now=NOW)
    assert [r.id for r in read_register(path).rows] == ["C2026-0815", "C000007", "C000008"]


@pytest.mark.parametrize(
    ("text", "number"),
    [("C000123", 123), (" C000123 ", 123), ("C1234567", 1234567), ("C2026-0815", None),
     ("c000123", None), ("X1", None), ("", None), ("C", None)],
)  # fmt: skip
def test_one_id_parser(text: str, number: int | None) -> None:
    assert id_number(text) == number


# -- lock files -----------------------------------------------------------------------


def test_lock_file_names_map_back_to_their_register() -> None:
    names = ["客户登记表.xlsx", "ABC客户.xlsx"]
    assert locked_register(libreoffice_lock_name("客户登记表.xlsx"), names) == "客户登记表.xlsx"
    assert locked_register(".~lock.notes.txt#", names) is None
    for owner in excel_owner_names("ABC客户.xlsx"):
        assert locked_register(owner, names) == "ABC客户.xlsx"
    assert locked_register("~$客户.xlsx", names) is None  # Excel cuts at most two characters
    assert locked_register("客户登记表.xlsx", names) is None


# -- the watcher's parts ----------------------------------------------------------------


def test_the_watcher_syncs_through_its_workspace_and_calls_its_part(register: Path) -> None:
    from xlsync.sync import SyncOutcome
    from xlsync.watch import WatchConfig, Watcher

    backend = MemoryBackend()
    ws = Workspace(register.resolve(), backend=backend)
    synced: list[SyncOutcome] = []
    watcher = Watcher(register, WatchConfig(scheduled=False), today=lambda: AS_OF,
                      on_synced=synced.append, workspace=ws)  # fmt: skip
    outcome = watcher.once()
    assert outcome is not None and synced == [outcome] == list(watcher.syncs)
    assert watcher.board is None  # the board part was replaced
    assert len(backend.store.syncs) == 1
    assert not (register.parent / ".xlsync" / "history.sqlite").exists()
