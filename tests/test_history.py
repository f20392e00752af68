"""The history store on real SQLite files and a real PostgreSQL (the behaviour tests run
against both stores): events across syncs, ids, deleted rows, atomicity."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlsync import history
from xlsync.history import (
    Change,
    Event,
    EventKind,
    HistoryError,
    HistoryStore,
    Known,
    RowSnapshot,
    RowState,
    SqliteHistory,
    diff_sync,
    format_id,
    id_number,
)
from xlsync.workspace import Workspace

FILE = "客户登记表.xlsx"
AS_OF = dt.date(2026, 11, 1)
REPO = Path(__file__).resolve().parents[1]


def snap(id: str, sheet: str, row: int, **values: str) -> RowSnapshot:
    return RowSnapshot(id=id, file=FILE, sheet=sheet, row=row, values={"编号": id, **values})


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, 0)


def kinds(events: list[Event]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for event in events:
        out.setdefault(event.id, []).append(event.kind)
    return out


def table_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("syncs", "events", "snapshots", "reservations")
        }
    finally:
        conn.close()


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


A1 = snap(
    "C000001", "跟进中", 2, 客户名称="格林电子", 电话="13800000001", 业务员="张伟", 状态="电话"
)
B1 = snap("C000002", "跟进中", 3, 客户名称="雅玛西电子", 电话="0755-1234567", 业务员="李娜")
C1 = snap("C000003", "跟进中", 4, 客户名称="华强五金", 业务员="王芳", 备注列="extra column")


def three_syncs(store: HistoryStore) -> tuple[list[Event], list[Event], list[Event]]:
    """Sync 1: three new rows. Sync 2: A changes and moves, B changes, C is deleted.
    Sync 3: C is restored, B is deleted, A shifts down a row (no event)."""
    _, first = store.record_sync(FILE, at(1), AS_OF, {"assign": 3}, [A1, B1, C1])
    a2 = snap(
        "C000001",
        "已合作",
        5,
        客户名称="格林电子",
        电话="13800000001",
        业务员="张伟",
        状态="已合作",
        成交日期="2026-11-02",
    )
    b2 = snap(
        "C000002",
        "跟进中",
        2,
        客户名称="雅玛西电子",
        电话="0755-7654321",
        业务员="李娜",
        地区="深圳",
    )
    _, second = store.record_sync(
        FILE,
        at(2),
        AS_OF,
        {"moves": [{"sheet": "跟进中", "row": 2}]},
        [a2, b2],
        moved={"C000001": ("已合作", 5)},
    )
    a3 = snap("C000001", "已合作", 6, **{k: v for k, v in a2.values.items() if k != "编号"})
    c3 = snap("C000003", "跟进中", 2, 客户名称="华强五金", 业务员="王芳", 备注列="extra column")
    _, third = store.record_sync(
        FILE, at(3), AS_OF, {"restore": ["C000003"]}, [a3, c3], restored={"C000003"}
    )
    return first, second, third


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "share" / ".xlsync" / "history.sqlite"


@pytest.fixture
def sqlite_store(db: Path) -> Iterator[SqliteHistory]:
    with SqliteHistory(db) as opened:
        yield opened


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, db: Path) -> Iterator[HistoryStore]:
    """The same behaviour, against each store: the embedded SQLite file and PostgreSQL."""
    if request.param == "sqlite":
        with SqliteHistory(db) as opened:
            yield opened
        return
    from xlsync.stores.postgres import PostgresHistory, connect

    url = request.getfixturevalue("pg_url")
    with PostgresHistory(connect(url), "深圳办") as opened:
        yield opened


# -- opening --------------------------------------------------------------------------


def assert_implements(cls: type, protocol: type) -> None:
    """Every member of the protocol exists on the class with the same parameters (a
    runtime_checkable isinstance only looks for the names)."""
    import inspect

    members = [
        m for m in vars(protocol) if not m.startswith("_") and callable(getattr(protocol, m))
    ]
    assert members
    for name in members:
        want = inspect.signature(getattr(protocol, name))
        have = inspect.signature(getattr(cls, name))
        assert list(have.parameters) == list(want.parameters), name


def test_the_workspace_store_is_beside_the_register_with_a_rollback_journal(
    tmp_path: Path,
) -> None:
    register = tmp_path / "销售部" / FILE
    register.parent.mkdir()
    register.touch()
    assert Workspace.of(register).existing_history() is None  # reading creates nothing
    with Workspace.of(register).history() as store:
        assert isinstance(store, SqliteHistory)
        assert_implements(SqliteHistory, HistoryStore)
        assert store.path == tmp_path / "销售部" / ".xlsync" / "history.sqlite"
        assert store.path.exists()
    conn = sqlite3.connect(tmp_path / "销售部" / ".xlsync" / "history.sqlite")
    try:
        # not WAL: the folder is usually an SMB share, and WAL needs shared memory
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [
            (history.SCHEMA_VERSION,)
        ]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert "events_file_id" in indexes
    finally:
        conn.close()


def test_newer_schema_is_refused_with_a_one_line_error(db: Path) -> None:
    SqliteHistory(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(HistoryError) as caught:
        SqliteHistory(db)
    assert str(db) in caught.value.line() and "99" in caught.value.line()


def test_a_file_that_is_not_a_database_is_unusable_input(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(HistoryError) as caught:
        SqliteHistory(db)
    assert str(db) in caught.value.line()


def test_event_kinds_are_stored_as_the_old_strings(sqlite_store: SqliteHistory, db: Path) -> None:
    three_syncs(sqlite_store)
    conn = sqlite3.connect(db)
    try:
        stored = {kind for (kind,) in conn.execute("SELECT DISTINCT kind FROM events")}
    finally:
        conn.close()
    assert stored == {"new", "changed", "moved", "deleted", "restored"}
    assert all(type(e.kind) is EventKind for e in sqlite_store.events())


# -- events -------------------------------------------------------------------------


def test_first_sync_makes_every_row_new(store: HistoryStore) -> None:
    sync_id, events = store.record_sync(FILE, at(1), AS_OF, {"assign": 3}, [A1, B1, C1])
    assert sync_id >= 1
    assert [(e.id, e.kind, e.sheet, e.row) for e in events] == [
        ("C000001", "new", "跟进中", 2),
        ("C000002", "new", "跟进中", 3),
        ("C000003", "new", "跟进中", 4),
    ]
    assert all(e.sync_id == sync_id and e.at == at(1) and e.file == FILE for e in events)
    assert events[2].detail == {"values": C1.values}  # extra columns kept


def test_events_across_three_syncs(store: HistoryStore) -> None:
    first, second, third = three_syncs(store)
    assert kinds(first) == {"C000001": ["new"], "C000002": ["new"], "C000003": ["new"]}
    assert kinds(second) == {
        "C000001": ["changed", "moved"],
        "C000002": ["changed"],
        "C000003": ["deleted"],
    }
    by_kind = {(e.id, e.kind): e for e in second}
    a_changed = by_kind["C000001", "changed"]
    assert a_changed.detail == {
        "changed": {"状态": ["电话", "已合作"], "成交日期": ["", "2026-11-02"]}
    }
    assert (a_changed.sheet, a_changed.row) == ("已合作", 5)
    a_moved = by_kind["C000001", "moved"]
    assert (a_moved.sheet, a_moved.row) == ("跟进中", 2)  # where it was
    assert a_moved.detail == {"to_sheet": "已合作", "to_row": 5}
    assert by_kind["C000002", "changed"].detail == {
        "changed": {"电话": ["0755-1234567", "0755-7654321"], "地区": ["", "深圳"]}
    }
    c_deleted = by_kind["C000003", "deleted"]
    assert (c_deleted.sheet, c_deleted.row) == ("跟进中", 4)
    assert c_deleted.detail == {"values": C1.values}

    # A only shifted a row: no event. B deleted, C restored.
    assert kinds(third) == {"C000003": ["restored"], "C000002": ["deleted"]}
    restored = next(e for e in third if e.kind == "restored")
    assert (restored.sheet, restored.row) == ("跟进中", 2)
    assert restored.detail == {"requested": True}

    assert [r.id for r in store.current(FILE)] == ["C000001", "C000003"]
    assert store.current(FILE)[0].row == 6  # the snapshot follows row shifts


def test_events_query_is_newest_first_and_filters(store: HistoryStore) -> None:
    three_syncs(store)
    every = store.events()
    assert [e.sync_id for e in every] == sorted((e.sync_id for e in every), reverse=True)
    assert [e.kind for e in store.events(FILE, "C000003")] == ["restored", "deleted", "new"]
    assert [e.kind for e in store.events(id="C000001")] == ["moved", "changed", "new"]
    assert [e.kind for e in store.events(id="C000001", limit=1)] == ["moved"]
    assert store.events(file="其他.xlsx") == []
    assert store.events(FILE, limit=0) == []
    assert len(store.events(FILE)) == len(every) == 3 + 4 + 2


def test_an_unchanged_sync_makes_no_events(store: HistoryStore) -> None:
    store.record_sync(FILE, at(1), AS_OF, {}, [A1, B1])
    sync_id, events = store.record_sync(FILE, at(2), AS_OF, {}, [A1, B1])
    assert events == []
    assert sync_id == 2


def test_a_rep_moving_a_row_by_hand_is_a_move(store: HistoryStore) -> None:
    store.record_sync(FILE, at(1), AS_OF, {}, [A1])
    by_hand = RowSnapshot(A1.id, FILE, "已合作", 9, A1.values)
    _, events = store.record_sync(FILE, at(2), AS_OF, {}, [by_hand])
    assert [(e.kind, e.sheet, e.row, e.detail) for e in events] == [
        ("moved", "跟进中", 2, {"to_sheet": "已合作", "to_row": 9})
    ]


def test_a_deleted_row_that_comes_back_by_itself_is_restored(store: HistoryStore) -> None:
    store.record_sync(FILE, at(1), AS_OF, {}, [A1, B1])
    store.record_sync(FILE, at(2), AS_OF, {}, [A1])
    b_back = snap("C000002", "跟进中", 3, 客户名称="雅玛西电子", 电话="0755-1234567")
    _, events = store.record_sync(FILE, at(3), AS_OF, {}, [A1, b_back])
    assert [(e.id, e.kind, e.detail) for e in events] == [
        ("C000002", "restored", {"requested": False, "changed": {"业务员": ["李娜", ""]}})
    ]
    assert store.deleted(FILE) == []


def test_a_row_moved_out_of_the_file_is_not_deleted(store: HistoryStore) -> None:
    store.record_sync(FILE, at(1), AS_OF, {}, [A1, B1])
    _, events = store.record_sync(FILE, at(2), AS_OF, {}, [A1], moved={"C000002": ("已合作", 7)})
    assert [(e.id, e.kind, e.detail) for e in events] == [
        ("C000002", "moved", {"to_sheet": "已合作", "to_row": 7, "left_file": True})
    ]
    assert store.deleted(FILE) == []
    _, later = store.record_sync(FILE, at(3), AS_OF, {}, [A1])
    assert later == []  # not reported deleted afterwards either


def test_files_have_separate_snapshots(store: HistoryStore) -> None:
    store.record_sync(FILE, at(1), AS_OF, {}, [A1])
    other = RowSnapshot("C000009", "二部.xlsx", "跟进中", 2, {"客户名称": "远大"})
    _, events = store.record_sync("二部.xlsx", at(1), AS_OF, {}, [other])
    assert kinds(events) == {"C000009": ["new"]}  # and A1 is not deleted by it
    assert [r.id for r in store.current(FILE)] == ["C000001"]


def test_bad_rows_are_refused_before_anything_is_written(
    sqlite_store: SqliteHistory, db: Path
) -> None:
    before = table_counts(db)
    with pytest.raises(ValueError, match="twice"):
        sqlite_store.record_sync(FILE, at(1), AS_OF, {}, [A1, A1])
    with pytest.raises(ValueError, match="belongs to"):
        sqlite_store.record_sync(
            FILE, at(1), AS_OF, {}, [RowSnapshot("C1", "x.xlsx", "跟进中", 2, {})]
        )
    assert table_counts(db) == before


def test_plan_is_stored_as_json_with_dates_paths_and_sets(
    sqlite_store: SqliteHistory, db: Path
) -> None:
    plan: dict[str, object] = {
        "as_of": AS_OF,
        "register": Path("客户登记表.xlsx"),
        "ids": {"C000002", "C000001"},
        "moves": [("跟进中", 12)],
    }
    sync_id, _ = sqlite_store.record_sync(FILE, at(1), AS_OF, plan, [A1])
    conn = sqlite3.connect(db)
    stored = conn.execute(
        "SELECT at, as_of, plan FROM syncs WHERE sync_id = ?", (sync_id,)
    ).fetchone()
    conn.close()
    assert stored[0] == "2026-11-01T09:00:00" and stored[1] == "2026-11-01"
    assert '"ids": ["C000001", "C000002"]' in stored[2]
    assert '"register": "客户登记表.xlsx"' in stored[2]


# -- deleted rows ---------------------------------------------------------------------


def test_last_values_of_a_deleted_row(store: HistoryStore) -> None:
    three_syncs(store)
    last = store.last_values("C000002")  # deleted in the third sync
    assert last == snap(
        "C000002",
        "跟进中",
        2,
        客户名称="雅玛西电子",
        电话="0755-7654321",
        业务员="李娜",
        地区="深圳",
    )
    a_last = store.last_values("C000001")
    assert a_last is not None and (a_last.sheet, a_last.row) == ("已合作", 6)
    assert store.last_values("C999999") is None


def test_deleted_lists_rows_deleted_and_not_restored(store: HistoryStore) -> None:
    store.record_sync(FILE, at(1), AS_OF, {}, [A1, B1, C1])
    store.record_sync(FILE, at(2), AS_OF, {}, [A1])
    assert [r.id for r in store.deleted(FILE)] == ["C000002", "C000003"]
    assert store.deleted(FILE)[0].values == B1.values
    assert store.deleted("其他.xlsx") == []
    store.record_sync(FILE, at(3), AS_OF, {}, [A1, C1], restored={"C000003"})
    assert [r.id for r in store.deleted(FILE)] == ["C000002"]
    store.record_sync(FILE, at(4), AS_OF, {}, [C1])
    # most recently deleted first
    assert [r.id for r in store.deleted(FILE)] == ["C000001", "C000002"]


# -- ids ------------------------------------------------------------------------------


def test_id_helpers() -> None:
    assert format_id(123) == "C000123"
    assert format_id(1234567) == "C1234567"
    assert id_number("C000123") == 123
    assert id_number(" C000123 ") == 123
    assert id_number("c000123") is None
    assert id_number("X1") is None


def test_reserve_ids_counts_up_from_the_mark_and_at_least(store: HistoryStore) -> None:
    assert store.reserve_ids(FILE, 3, 0) == ["C000001", "C000002", "C000003"]
    assert store.reserve_ids(FILE, 2, 0) == ["C000004", "C000005"]
    assert store.reserve_ids(FILE, 1, 100) == ["C000101"]
    assert store.reserve_ids(FILE, 1, 50) == ["C000102"]
    assert store.reserve_ids(FILE, 0, 500) == []
    assert store.high_water_mark() == 102
    with pytest.raises(ValueError):
        store.reserve_ids(FILE, -1, 0)


def test_ids_are_never_reused_after_a_deletion(store: HistoryStore) -> None:
    ids = store.reserve_ids(FILE, 3, 0)
    rows = [snap(id, "跟进中", n + 2, 客户名称=f"客户{n}") for n, id in enumerate(ids)]
    store.record_sync(FILE, at(1), AS_OF, {}, rows)
    store.record_sync(FILE, at(2), AS_OF, {}, rows[:1])  # the two newest rows are deleted
    # the register's own largest id is now C000001, yet C000002/3 stay taken
    assert store.reserve_ids(FILE, 2, id_number(ids[0]) or 0) == ["C000004", "C000005"]


def test_ids_recorded_without_reservation_raise_the_mark(store: HistoryStore) -> None:
    typed = snap("C000500", "跟进中", 2, 客户名称="手填编号")
    store.record_sync(FILE, at(1), AS_OF, {}, [typed, snap("X-7", "跟进中", 3)])
    store.record_sync(FILE, at(2), AS_OF, {}, [])  # both deleted
    assert store.reserve_ids(FILE, 1, 0) == ["C000501"]


def test_ids_persist_across_instances_and_reopening(db: Path) -> None:
    with SqliteHistory(db) as first:
        assert first.reserve_ids(FILE, 5, 0)[-1] == "C000005"
    with SqliteHistory(db) as second, SqliteHistory(db) as third:
        assert second.reserve_ids(FILE, 1, 0) == ["C000006"]
        assert third.reserve_ids("二部.xlsx", 1, 0) == ["C000007"]  # one mark per folder


def test_two_threads_with_two_stores_get_disjoint_ids(db: Path) -> None:
    SqliteHistory(db).close()
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(n: int) -> None:
        try:
            with SqliteHistory(db) as store:
                start.wait()
                got: list[str] = []
                for _ in range(200):
                    got += store.reserve_ids(FILE, 1, 0)
                results[n] = got
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results[0]) == len(results[1]) == 200
    assert not set(results[0]) & set(results[1])
    assert sorted(results[0] + results[1]) == [format_id(n) for n in range(1, 401)]


def test_one_store_shared_by_threads_gives_disjoint_ids(store: HistoryStore) -> None:
    results: list[list[str]] = [[], [], [], []]

    def worker(n: int) -> None:
        for _ in range(50):
            results[n] += store.reserve_ids(FILE, 2, 0)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [id for got in results for id in got]
    assert len(every) == len(set(every)) == 400


def test_two_processes_opening_a_new_file_get_disjoint_ids(tmp_path: Path) -> None:
    db = tmp_path / ".xlsync" / "history.sqlite"  # does not exist yet: both create it
    code = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from xlsync.history import SqliteHistory
        with SqliteHistory(Path(sys.argv[1])) as store:
            ids = []
            for _ in range(100):
                ids += store.reserve_ids("a.xlsx", 2, 0)
        print(" ".join(ids))
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(db)], cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=120)[0].split() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    assert len(outputs[0]) == len(outputs[1]) == 200
    assert sorted(outputs[0] + outputs[1]) == [format_id(n) for n in range(1, 401)]


# -- atomicity and persistence --------------------------------------------------------


def test_a_failing_sync_leaves_the_store_as_it_was(
    sqlite_store: SqliteHistory, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_store.record_sync(FILE, at(1), AS_OF, {}, [A1, B1, C1])
    before = dump(db)
    calls = 0

    def fail_on_second_row(values: object) -> str:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk on fire")
        return "{}"

    # The sync row and the events are already inserted when the snapshot writes fail.
    monkeypatch.setattr(history, "_values_json", fail_on_second_row)
    new_row = snap("C000777", "跟进中", 5, 客户名称="新客户")
    changed = snap("C000001", "跟进中", 2, 客户名称="格林电子(改)")
    with pytest.raises(RuntimeError, match="disk on fire"):
        sqlite_store.record_sync(FILE, at(2), AS_OF, {}, [changed, new_row])
    assert calls == 2
    assert dump(db) == before  # no sync, no events, no snapshot change, same id mark
    assert sqlite_store.high_water_mark() == 3

    # The store is still usable and the next sync sees the old snapshot.
    monkeypatch.undo()
    _, events = sqlite_store.record_sync(FILE, at(3), AS_OF, {}, [changed, new_row])
    assert kinds(events) == {
        "C000001": ["changed"],
        "C000777": ["new"],
        "C000002": ["deleted"],
        "C000003": ["deleted"],
    }
    assert [e.sync_id for e in sqlite_store.events(limit=1)] == [2]  # the failed sync took no id


def test_a_failure_while_writing_events_rolls_back_too(
    sqlite_store: SqliteHistory, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_store.record_sync(FILE, at(1), AS_OF, {}, [A1])
    before = dump(db)

    def boom(value: object) -> str:
        raise TypeError("cannot encode")

    monkeypatch.setattr(history, "_dumps", boom)
    with pytest.raises(TypeError):
        sqlite_store.record_sync(FILE, at(2), AS_OF, {"x": 1}, [A1, B1])
    assert dump(db) == before


def test_reopening_keeps_everything(db: Path) -> None:
    with SqliteHistory(db) as store:
        first, second, third = three_syncs(store)
        store.reserve_ids(FILE, 4, 0)
        events = store.events()
        current = store.current(FILE)
    with SqliteHistory(db) as reopened:
        assert reopened.events() == events
        assert reopened.current(FILE) == current
        assert [r.id for r in reopened.deleted(FILE)] == ["C000002"]
        assert reopened.last_values("C000002") is not None
        assert reopened.high_water_mark() == 7
        _, more = reopened.record_sync(FILE, at(4), AS_OF, {}, [])
        assert kinds(more) == {"C000001": ["deleted"], "C000003": ["deleted"]}
        assert [e.sync_id for e in more] == [4, 4]
    assert len(first) + len(second) + len(third) == 9


# -- the diff as a pure function ------------------------------------------------------


def known(*rows: RowSnapshot, state: RowState = RowState.PRESENT) -> dict[str, Known]:
    return {r.id: Known(r.sheet, r.row, dict(r.values), state) for r in rows}


def test_diff_of_an_empty_snapshot_is_all_new() -> None:
    diff = diff_sync({}, [A1, B1])
    assert diff.changes == [
        Change("C000001", EventKind.NEW, "跟进中", 2, {"values": A1.values}),
        Change("C000002", EventKind.NEW, "跟进中", 3, {"values": B1.values}),
    ]
    assert set(diff.updates) == {"C000001", "C000002"}
    assert all(k.state is RowState.PRESENT for k in diff.updates.values())


def test_diff_of_a_row_shift_is_no_event_but_a_snapshot_update() -> None:
    shifted = snap("C000001", "跟进中", 7, **{k: v for k, v in A1.values.items() if k != "编号"})
    diff = diff_sync(known(A1, B1), [shifted, B1])
    assert diff.changes == []
    assert list(diff.updates) == ["C000001"] and diff.updates["C000001"].row == 7


def test_diff_change_move_delete_and_restore() -> None:
    a2 = snap("C000001", "已合作", 5, 客户名称="格林电子", 业务员="张伟")
    diff = diff_sync(known(A1, B1) | known(C1, state=RowState.DELETED), [a2, C1],
                     moved={"C000001": ("已合作", 5)}, restored={"C000003"})  # fmt: skip
    got = {(c.id, c.kind): c for c in diff.changes}
    assert set(got) == {
        ("C000001", EventKind.CHANGED),
        ("C000001", EventKind.MOVED),
        ("C000002", EventKind.DELETED),
        ("C000003", EventKind.RESTORED),
    }
    assert got["C000001", EventKind.CHANGED].detail["changed"] == {
        "电话": ["13800000001", ""], "状态": ["电话", ""]
    }  # fmt: skip
    moved = got["C000001", EventKind.MOVED]
    assert (moved.sheet, moved.row) == ("跟进中", 2)
    assert moved.detail == {"to_sheet": "已合作", "to_row": 5}
    assert got["C000002", EventKind.DELETED].detail == {"values": B1.values}
    assert got["C000003", EventKind.RESTORED].detail == {"requested": True}
    assert diff.updates["C000002"].state is RowState.DELETED
    assert diff.updates["C000003"].state is RowState.PRESENT


def test_diff_of_a_new_row_that_moved_at_once_is_new_where_typed_then_moved() -> None:
    moved = snap("C000009", "已合作", 4, 客户名称="新客户")
    diff = diff_sync({}, [moved], moved={"C000009": ("已合作", 4)},
                     moved_from={"C000009": ("跟进中", 8)})  # fmt: skip
    assert [(c.kind, c.sheet, c.row) for c in diff.changes] == [
        (EventKind.NEW, "跟进中", 8),
        (EventKind.MOVED, "跟进中", 8),
    ]


def test_diff_of_a_row_that_left_the_file_is_a_move_not_a_deletion() -> None:
    diff = diff_sync(known(A1), [], moved={"C000001": ("已合作", 3)})
    assert [(c.kind, c.detail.get("left_file")) for c in diff.changes] == [(EventKind.MOVED, True)]
    assert diff.updates["C000001"].state is RowState.MOVED_OUT


_IDS = [format_id(n) for n in range(1, 7)]
_ROW = st.tuples(st.sampled_from(["跟进中", "已合作"]), st.integers(2, 4),
                 st.sampled_from(["", "格林电子", "华强"]), st.sampled_from(["", "张伟"]))  # fmt: skip


@given(
    stored=st.dictionaries(st.sampled_from(_IDS), st.tuples(_ROW, st.sampled_from(RowState))),
    now=st.dictionaries(st.sampled_from(_IDS), _ROW),
    moved=st.sets(st.sampled_from(_IDS)),
    restored=st.sets(st.sampled_from(_IDS)),
)
@settings(max_examples=300, deadline=None)
def test_only_what_differs_from_the_snapshot_is_compared(
    stored: dict[str, tuple[tuple[str, int, str, str], RowState]],
    now: dict[str, tuple[str, int, str, str]],
    moved: set[str],
    restored: set[str],
) -> None:
    """A sync compares only the rows that differ from the stored snapshot (`to_compare`),
    and gets the events and snapshot updates the whole comparison gives."""

    def row(id: str, place: tuple[str, int, str, str]) -> RowSnapshot:
        sheet, number, name, rep = place
        return snap(id, sheet, number, 客户名称=name, 业务员=rep)

    rows = [row(id, place) for id, place in now.items()]
    saved = {id: (row(id, place), state) for id, (place, state) in stored.items()}
    table = [(id, r.sheet, r.row, history._values_json(r.values), state.value)
             for id, (r, state) in saved.items()]  # fmt: skip
    everything = {
        id: Known(r.sheet, r.row, dict(r.values), state) for id, (r, state) in saved.items()
    }
    to = {id: ("已合作", 9) for id in moved}
    whole = diff_sync(everything, rows, to, restored)
    known, changed = history.to_compare(table, history.check_rows(FILE, rows), to, restored)
    part = diff_sync(known, changed, to, restored)
    assert part.changes == whole.changes
    assert part.updates == whole.updates


# -- events by kind and time ----------------------------------------------------------


def test_events_filtered_by_kind_and_sync_time(store: HistoryStore) -> None:
    three_syncs(store)
    day2 = dt.datetime(2026, 11, 2)
    assert [e.id for e in store.events(kind=EventKind.NEW)] == ["C000003", "C000002", "C000001"]
    assert store.events(kind=EventKind.NEW, since=day2) == []
    in_day2 = store.events(since=day2, until=day2 + dt.timedelta(days=1))
    assert {e.at for e in in_day2} == {at(2)} and len(in_day2) == 4
    assert [e.kind for e in store.events(kind=EventKind.RESTORED, until=day2)] == []
