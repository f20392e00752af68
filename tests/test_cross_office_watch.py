"""`xlsync watch` processes against a real PostgreSQL: a claim saved in one office shows as
a conflict in both offices' registers within seconds; the database stopped and started
under a watcher loses nothing and records nothing twice."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import psycopg

from xlsync.register.reader import read_register

from .helpers import customer, run_cli, write_register
from .test_watch import add_row, excel_save

REPO = Path(__file__).resolve().parents[1]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 90) -> float:
    """Seconds until `condition` held."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"timed out waiting for {what}"
        time.sleep(0.1)  # poll
    return time.monotonic() - start


@contextmanager
def watching(folder: Path, url: str) -> Iterator[subprocess.Popen[bytes]]:
    assert run_cli("db", "init", "--db", url).code == 0  # the tables the test looks at
    proc = subprocess.Popen(
        [sys.executable, "-m", "xlsync", "watch", str(folder), "--as-of", "2026-11-01",
         "--db", url, "--debounce", "0.2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120"},
    )  # fmt: skip
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err.decode(), err.decode()


def hints(path: Path) -> list[str]:
    try:
        sheet = openpyxl.load_workbook(path)["跟进中"]
    except Exception:  # being replaced this very moment: ask again
        return []
    return [
        str(c.value) for row in sheet.iter_rows() for c in row if c.value and "【" in str(c.value)
    ]


def published(url: str, office: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM office_rows JOIN offices USING (office_id) WHERE name = %s",
            (office,),
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_claim_saved_in_one_office_is_a_conflict_in_both_within_seconds(
    tmp_path: Path, pg_url: str
) -> None:
    shanghai, shenzhen = tmp_path / "上海办", tmp_path / "深圳办"
    shanghai.mkdir()
    shenzhen.mkdir()
    a = write_register(
        shanghai / "客户登记表.xlsx",
        [customer(customer="格林电子", rep="陈刚", phone="13800000001",
                  visited=dt.date(2026, 10, 20), status="拜访")],
        [],
    )  # fmt: skip
    b = write_register(
        shenzhen / "客户登记表.xlsx",
        [customer(customer="远大塑胶", rep="张伟", phone="13700000007")],
        [],
    )  # fmt: skip
    with watching(shanghai, pg_url), watching(shenzhen, pg_url):
        wait_for(lambda: published(pg_url, "上海办") == 1 and published(pg_url, "深圳办") == 1,
                 "both start-up syncs")  # fmt: skip
        excel_save(b, add_row(None, "深圳格林电子有限公司", None, "13800000001", None, "张伟"))
        here = wait_for(
            lambda: any(h.startswith("【冲突】与 上海办 的 陈刚 冲突") for h in hints(b)),
            "the conflict in the office that saved",
        )
        there = wait_for(
            lambda: any("深圳办 的 张伟 须停止跟进" in h for h in hints(a)),
            "the conflict in the other office",
        )
    print(f"conflict shown: {here:.1f} s in 深圳办, then {there:.1f} s more in 上海办")
    assert here + there < 60


def events(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return [(i, k) for i, k in conn.execute("SELECT id, kind FROM events ORDER BY event_id")]


def test_the_database_stopped_and_started_under_a_watcher_loses_nothing(
    tmp_path: Path, pg_url: str, pg_cluster
) -> None:  # type: ignore[no-untyped-def]
    office = tmp_path / "广州办"
    office.mkdir()
    path = write_register(
        office / "客户登记表.xlsx",
        [customer(customer="格林电子", rep="陈刚", phone="13800000001"),
         customer(customer="华强五金", rep="陈刚", phone="13800000002"),
         customer(customer="远大塑胶", rep="王芳", phone="13800000003")],
        [],
    )  # fmt: skip
    log = office / ".xlsync" / "watch.log"
    with watching(office, pg_url):
        wait_for(lambda: len(events(pg_url)) == 3, "the start-up sync's history")
        pg_cluster.stop()
        try:
            # while the database is down: a change, a deletion and a new row
            def edit(book: openpyxl.Workbook) -> None:
                sheet = book["跟进中"]
                sheet["D2"] = "13911112222"  # 格林电子's phone
                sheet.delete_rows(4)  # 远大塑胶
                sheet.append([None, "新客户贸易", None, "13800000009", None, "王芳"])

            excel_save(path, edit)
            wait_for(lambda: log.exists() and "数据库暂不可用" in log.read_text("utf-8"),
                     "the watcher to sync without the database")  # fmt: skip
            rows = read_register(path).rows
            wait_for(lambda: str(read_register(path).rows[0].phones) != "('13800000001',)",
                     "the offline sync")  # fmt: skip
            assert [r.id for r in read_register(path).rows][2] == ""  # no 编号 yet
        finally:
            pg_cluster.start()
        seconds = wait_for(lambda: all(r.id for r in read_register(path).rows),
                           "the new row's 编号 once the database is back")  # fmt: skip
        wait_for(lambda: len(events(pg_url)) >= 6, "the history written")
        assert "数据库已恢复" in log.read_text("utf-8")
    print(f"history written {seconds:.1f} s after the database came back")
    rows = read_register(path).rows
    new_id = rows[2].id
    assert sorted(events(pg_url)) == sorted([
        ("C000001", "new"), ("C000002", "new"), ("C000003", "new"),
        ("C000001", "changed"), ("C000003", "deleted"), (new_id, "new"),
    ])  # fmt: skip
    assert new_id == "C000004"


def test_two_watchers_on_one_share_write_each_change_once(tmp_path: Path, pg_url: str) -> None:
    office = tmp_path / "东莞办"
    office.mkdir()
    path = write_register(
        office / "客户登记表.xlsx",
        [customer(customer="格林电子", rep="陈刚", phone="13800000001")],
        [],
    )  # fmt: skip
    log = office / ".xlsync" / "watch.log"

    def lines(text: str) -> int:
        return log.read_text("utf-8").count(text) if log.exists() else 0

    with watching(office, pg_url), watching(office, pg_url):  # the same share on two PCs
        wait_for(lambda: lines("开始监视") == 2 and len(events(pg_url)) == 1, "both started")
        excel_save(path, add_row(None, "华强五金", None, "13800000002", None, "陈刚"))
        wait_for(lambda: all(r.id for r in read_register(path).rows), "the new row's 编号")
        wait_for(lambda: len(events(pg_url)) == 2, "its history")
    # stopped (each after the sync in progress): one write for the start, one for the save
    assert lines("已更新") == 2, log.read_text("utf-8")
    assert sorted(events(pg_url)) == [("C000001", "new"), ("C000002", "new")]
    assert [r.id for r in read_register(path).rows] == ["C000001", "C000002"]
