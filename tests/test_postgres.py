"""The PostgreSQL history on a real throwaway server: migrations, `xlsync db init` and
`db import`, `--db` / `XLSYNC_DB` through the commands, rollback of a failing write."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import openpyxl
import psycopg
import pytest

from xlsync.history import HistoryError, RowSnapshot
from xlsync.stores import postgres
from xlsync.stores.postgres import PostgresBackend, PostgresHistory, connect, migrations
from xlsync.workspace import Workspace

from .helpers import run_cli
from .test_history import A1, AS_OF, B1, C1, FILE, at, kinds

SAMPLE = Path(__file__).parent.parent / "sample_registers" / "demo.xlsx"


def tables(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in ("syncs", "events", "snapshots", "reservations", "offices")
        }


def test_db_init_applies_the_numbered_migrations_once(pg_url: str) -> None:
    first = run_cli("db", "init", "--db", pg_url)
    assert first.code == 0, first.stderr
    names = [m.name for m in migrations()]
    assert all(f"已执行迁移：{n}" in first.stdout for n in names)
    again = run_cli("db", "init", "--db", pg_url)
    assert again.code == 0 and "已执行迁移" not in again.stdout and "已是最新" in again.stdout
    with psycopg.connect(pg_url) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == list(range(1, len(names) + 1))


def test_a_database_migrated_by_a_newer_xlsync_is_refused(pg_url: str) -> None:
    with connect(pg_url) as conn:
        postgres.migrate(conn)
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (999, '999_x.sql')")
    with pytest.raises(HistoryError, match="999"):
        PostgresHistory(connect(pg_url), "深圳办")


def test_no_database_named_is_a_clear_error() -> None:
    run = run_cli("db", "init")
    assert run.code == 2 and "--db" in run.stderr and "Traceback" not in run.stderr
    run = run_cli("db", "init", "--db", "mysql://x")
    assert run.code == 2 and "postgresql://" in run.stderr


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    shutil.copy(SAMPLE, path)
    from tests.pg import free_port

    url = f"postgresql://rep:secret@127.0.0.1:{free_port()}/none"
    run = run_cli("sync", path, "--as-of", "2026-11-01", "--db", url)
    assert run.code == 2, run.stdout
    assert "无法连接数据库" in run.stderr and "secret" not in run.stderr
    assert "Traceback" not in run.stderr


def test_a_failing_write_leaves_the_database_as_it_was(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with PostgresHistory(connect(pg_url), "深圳办") as store:
        store.record_sync(FILE, at(1), AS_OF, {}, [A1, B1, C1])
        before = tables(pg_url)
        calls = 0

        def fail_on_second_row(values: object) -> str:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise RuntimeError("disk on fire")
            return "{}"

        monkeypatch.setattr(postgres, "_values_json", fail_on_second_row)
        changed = RowSnapshot("C000001", FILE, "跟进中", 2, {"客户名称": "格林电子(改)"})
        with pytest.raises(RuntimeError, match="disk on fire"):
            store.record_sync(FILE, at(2), AS_OF, {}, [changed])
        assert tables(pg_url) == before
        monkeypatch.undo()
        _, events = store.record_sync(FILE, at(3), AS_OF, {}, [changed])
        assert kinds(events) == {
            "C000001": ["changed"],
            "C000002": ["deleted"],
            "C000003": ["deleted"],
        }


def test_offices_share_one_id_counter_but_keep_their_own_rows(pg_url: str) -> None:
    with (
        PostgresHistory(connect(pg_url), "深圳办") as shenzhen,
        PostgresHistory(connect(pg_url), "上海办") as shanghai,
    ):
        assert shenzhen.reserve_ids(FILE, 2, 0) == ["C000001", "C000002"]
        assert shanghai.reserve_ids(FILE, 1, 0) == ["C000003"]
        shenzhen.record_sync(FILE, at(1), AS_OF, {}, [A1])
        _, events = shanghai.record_sync(FILE, at(1), AS_OF, {}, [C1])  # same file name
        assert kinds(events) == {"C000003": ["new"]}
        assert [r.id for r in shenzhen.current(FILE)] == ["C000001"]
        assert [e.id for e in shanghai.events()] == ["C000003"]
        assert shanghai.last_values("C000001") is None


def edit_and_sync(path: Path, *args: str) -> None:
    """Three real syncs of a real register: the first, a deletion, an edit."""
    assert run_cli("sync", path, "--as-of", "2026-11-01", *args).code == 0
    book = openpyxl.load_workbook(path)
    book["跟进中"].delete_rows(5)
    book.save(path)
    assert run_cli("sync", path, "--as-of", "2026-11-01", *args).code == 0
    book = openpyxl.load_workbook(path)
    book["跟进中"]["B3"] = "改过名字的客户有限公司"
    book.save(path)
    assert run_cli("sync", path, "--as-of", "2026-11-02", *args).code == 0


def test_db_import_moves_a_real_sqlite_history_with_nothing_lost(
    tmp_path: Path, pg_url: str
) -> None:
    office = tmp_path / "广州办"
    office.mkdir()
    path = office / "demo.xlsx"
    shutil.copy(SAMPLE, path)
    edit_and_sync(path)
    sqlite_history = run_cli("history", office, "--all", "--json").json()
    source = office / ".xlsync" / "history.sqlite"
    conn = sqlite3.connect(source)
    counts = {
        t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("syncs", "events", "snapshots")
    }
    conn.close()
    assert counts["events"] > 20

    run = run_cli("db", "import", office, "--db", pg_url)
    assert run.code == 0, run.stderr
    assert "已导入 广州办 的历史记录" in run.stdout
    assert f"事件：SQLite {counts['events']} 行，数据库 {counts['events']} 行，逐行核对 一致" in (
        run.stdout
    )
    assert f"行快照：SQLite {counts['snapshots']} 行" in run.stdout
    # the same history through the command, now from PostgreSQL
    assert run_cli("history", office, "--all", "--json", "--db", pg_url).json() == sqlite_history
    # deleted rows can be restored from the imported history
    deleted = next(e["id"] for e in sqlite_history if e["kind"] == "deleted")
    restored = run_cli("restore", path, deleted, "--as-of", "2026-11-02", "--db", pg_url)
    assert restored.code == 0, restored.stderr
    # a second import would record everything twice: refused, nothing written
    before = tables(pg_url)
    again = run_cli("db", "import", office, "--db", pg_url)
    assert again.code == 2 and "不能重复导入" in again.stderr
    assert tables(pg_url) == before


def test_commands_use_the_database_given_by_db_or_xlsync_db(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    office = tmp_path / "深圳办"
    office.mkdir()
    path = office / "demo.xlsx"
    shutil.copy(SAMPLE, path)
    edit_and_sync(path, "--db", pg_url)
    assert not (office / ".xlsync" / "history.sqlite").exists()  # nothing beside the register
    listed = run_cli("history", path, "--all", "--json", "--db", pg_url).json()
    assert {e["kind"] for e in listed} >= {"new", "deleted", "changed"}
    monkeypatch.setenv("XLSYNC_DB", pg_url)
    assert run_cli("history", path, "--all", "--json").json() == listed
    ws = Workspace.of(path)
    assert isinstance(ws.backend, PostgresBackend)
    with ws.history() as store:
        assert isinstance(store, PostgresHistory) and store.office == "深圳办"
        assert store.count_events() == len(listed)
