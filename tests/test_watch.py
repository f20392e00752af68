"""`xlsync watch` with real filesystem events, the watcher running in a background thread."""

import datetime as dt
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest

from xlsync.register.reader import read_register
from xlsync.register.schema import SheetKind
from xlsync.watch import WatchConfig, Watcher

from .helpers import customer, write_register

AS_OF = dt.date(2026, 11, 1)
FAST = dict(debounce=0.25, settle=0.05, retry=0.3, lock_check=0.2, rescan=3600, scheduled=False)


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)  # poll
    raise AssertionError("timed out waiting")


class Running:
    def __init__(self, target: Path, **config: object) -> None:
        self.watcher = Watcher(target, WatchConfig(**{**FAST, **config}), today=lambda: AS_OF)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.watcher.run, args=(self.stop,), daemon=True)

    @property
    def syncs(self) -> int:
        return len(self.watcher.syncs)

    def __enter__(self) -> "Running":
        self.thread.start()
        wait_for(lambda: self.syncs >= 1)  # the start-up sync
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)

    def settled(self) -> None:
        """Wait until the watcher has received every event made so far and handled it: a
        marker file is written last, and file events arrive in order."""
        self.marks = getattr(self, "marks", 0) + 1
        marker = Path(self.watcher.folder) / f"marker-{self.marks}.txt"
        marker.write_text("x")
        wait_for(lambda: self.watcher.last_seen == marker.name)
        wait_for(lambda: self.watcher.idle)


def register(folder: Path, name: str = "客户登记表.xlsx", rows: list | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_register(
        folder / name,
        rows
        or [customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 10, 3), status="送样")],
        [],
    )


def excel_save(path: Path, edit: Callable[[openpyxl.Workbook], None]) -> None:
    """Save the way Excel does on Windows: write a temp file with a random name, then rename."""
    book = openpyxl.load_workbook(path)
    edit(book)
    temp = path.parent / "8F3A1C20"
    book.save(temp)
    os.replace(temp, path)


def add_row(*values: object) -> Callable[[openpyxl.Workbook], None]:
    return lambda book: book["跟进中"].append(list(values))


@pytest.fixture()
def folder(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "share"


def test_an_excel_style_save_is_synced(folder: Path) -> None:
    path = register(folder)
    with Running(folder) as w:
        assert read_register(path).rows[0].id  # the start-up sync gave it an 编号
        excel_save(path, add_row(None, "华美涂料", None, None, None, "王芳"))
        wait_for(lambda: w.syncs >= 2)
        wait_for(lambda: all(r.id for r in read_register(path).rows))
        assert {r.customer for r in read_register(path).rows} == {"格林电子", "华美涂料"}


def test_a_burst_of_saves_gives_one_sync_of_the_last_version(folder: Path) -> None:
    path = register(folder)
    with Running(folder, debounce=0.6) as w:
        for i in range(5):
            excel_save(path, add_row(None, f"客户{i}", None, None, None, "王芳"))
        wait_for(lambda: w.syncs >= 2)
        w.settled()
        assert w.syncs == 2
        names = [r.customer for r in read_register(path).rows]
        assert names == ["格林电子", "客户0", "客户1", "客户2", "客户3", "客户4"]


def test_its_own_write_does_not_start_another_sync(folder: Path) -> None:
    register(folder)
    with Running(folder) as w:
        assert w.watcher.syncs[0].files[0].written
        w.settled()
        assert w.syncs == 1


def test_an_open_register_is_deferred_then_written_when_closed(folder: Path) -> None:
    path = register(folder)
    with Running(folder) as w:
        lock = folder / f"~${path.name}"
        lock.write_bytes(bytes([6]) + "王芳".encode() + b"\x00" * 60)
        excel_save(path, add_row(None, "华美涂料", None, None, None, "王芳"))
        wait_for(lambda: w.syncs >= 2)
        assert w.watcher.syncs[-1].deferred
        assert not all(r.id for r in read_register(path).rows)
        lock.unlink()
        wait_for(lambda: w.syncs >= 3)  # the sync after the lock went (the file first, then us)
        assert w.watcher.syncs[-1].files[0].written
        assert all(r.id for r in read_register(path).rows)


def test_a_half_written_file_is_retried_then_synced(folder: Path, caplog) -> None:
    path = register(folder)
    caplog.set_level(logging.INFO, logger="xlsync.watch")
    with Running(folder):
        book = openpyxl.load_workbook(path)
        book["跟进中"].append([None, "华美涂料", None, None, None, "王芳"])
        full = folder / "full.tmp"
        book.save(full)
        data = full.read_bytes()
        full.unlink()
        path.write_bytes(data[: len(data) // 2])  # a save caught half way
        wait_for(lambda: "重试" in caplog.text)
        path.write_bytes(data)
        wait_for(lambda: len(read_register(path).rows) == 2 and all(
            r.id for r in read_register(path).rows))  # fmt: skip
        assert "重试" in caplog.text


def test_two_registers_show_a_cross_file_conflict(folder: Path) -> None:
    one = register(folder, "业务一部.xlsx")
    two = register(folder, "业务二部.xlsx", [customer(customer="深圳市格林电子有限公司", rep="李娜",
                   visited=dt.date(2026, 10, 20), status="拜访")])  # fmt: skip
    with Running(folder):
        hints_two = read_register(two).sheets[SheetKind.FOLLOWING].hints
        assert any("业务一部.xlsx" in h and "张伟" in h for h in hints_two.values())
        hints_one = read_register(one).sheets[SheetKind.FOLLOWING].hints
        assert any(h.startswith("【归属】") for h in hints_one.values())
        book = openpyxl.load_workbook(two)
        sheet_cells = [row[5] for row in book["冲突"].iter_rows(min_row=2, values_only=True)]
        assert "业务一部.xlsx 跟进中" in sheet_cells  # the other register's row names its file


def test_polling_and_the_rescan_find_changes_events_miss(folder: Path) -> None:
    path = register(folder)
    with Running(folder, poll=True, poll_interval=3600, rescan=0.5) as w:
        book = openpyxl.load_workbook(path)
        book["跟进中"].append([None, "华美涂料", None, None, None, "王芳"])
        book.save(path)
        wait_for(lambda: w.syncs >= 2)
        wait_for(lambda: all(r.id for r in read_register(path).rows))


def test_a_cloud_conflict_copy_is_reported_not_merged(folder: Path, caplog) -> None:
    path = register(folder)
    shutil.copy(path, folder / "客户登记表-PC-ZHANG.xlsx")
    caplog.set_level(logging.INFO, logger="xlsync.watch")
    with Running(folder) as w:
        outcome = w.watcher.syncs[0]
        assert outcome.result.registers.copies == {"客户登记表-PC-ZHANG.xlsx": "客户登记表.xlsx"}
        assert outcome.result.conflicts == []
        assert "同步冲突副本" in caplog.text


def test_missed_reports_are_caught_up_once(folder: Path, monkeypatch) -> None:
    from xlsync.reports import jobs

    calls: list[tuple[str, object]] = []
    monkeypatch.setattr(
        jobs,
        "run_monthly",
        lambda t, m, o, log, today=None, workspace=None: calls.append(("m", m)) or [o],
    )
    monkeypatch.setattr(
        jobs, "run_daily", lambda t, d, o, log, workspace=None: calls.append(("d", d)) or [o]
    )
    register(folder)
    clock = dt.datetime(2026, 12, 3, 19, 0)
    watcher = Watcher(folder, WatchConfig(**FAST), today=lambda: clock.date(), now=lambda: clock)
    watcher._scheduled()
    assert ("m", "2026-11") in calls and ("d", dt.date(2026, 12, 3)) in calls
    calls.clear()
    watcher._scheduled()
    assert calls == []
    clock = dt.datetime(2026, 12, 6, 8, 0)  # stopped for two days, started before 18:00
    watcher._scheduled()
    assert calls == [("d", dt.date(2026, 12, 4)), ("d", dt.date(2026, 12, 5))]


def test_sigterm_during_a_sync_leaves_the_register_whole(tmp_path: Path) -> None:
    from .data_gen import make_register

    folder = tmp_path / "big"
    folder.mkdir()
    path = folder / "登记表.xlsx"
    make_register(path, rows=6000, seed=3)
    before = path.read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-m", "xlsync", "watch", str(folder), "--as-of", "2026-11-01"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "120"},
    )  # fmt: skip
    log = folder / ".xlsync" / "watch.log"
    # the start-up sync has begun (its log line is written when it starts)
    wait_for(lambda: log.exists() and "同步中" in log.read_text("utf-8"), timeout=120)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    after = read_register(path)  # whole: readable, every row there
    assert len(after.rows) == len(read_register_bytes(before, tmp_path).rows)
    assert not list(folder.glob(".~xlsync-*"))  # no temp file left behind


def read_register_bytes(data: bytes, tmp: Path):  # type: ignore[no-untyped-def]
    copy = tmp / "before.xlsx"
    copy.write_bytes(data)
    return read_register(copy)


def test_the_watcher_keeps_only_its_last_few_syncs() -> None:
    """Each outcome holds a whole check: a watcher running for weeks keeps the count of its
    syncs and the last few, not every one."""
    from xlsync.watch import SyncLog

    log = SyncLog()
    outcomes = [object() for _ in range(SyncLog.KEEP + 5)]
    for n, outcome in enumerate(outcomes, 1):
        log.append(outcome)  # type: ignore[arg-type]
        assert len(log) == n and log[-1] is outcome
    assert log[len(log) - 1] is outcomes[-1] and log[-SyncLog.KEEP] is outcomes[-SyncLog.KEEP]
    assert list(log[-SyncLog.KEEP :]) == outcomes[-SyncLog.KEEP :]
    with pytest.raises(IndexError, match="no longer kept"):
        log[0]
    with pytest.raises(IndexError):
        log[len(log)]
    assert len(log._recent) == SyncLog.KEEP
