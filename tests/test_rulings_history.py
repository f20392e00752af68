"""Rulings in the history: recorded once when a sync first applies them, with 经办人 and the
rows by 编号; shown by `xlsync history` and logged by the watcher (new ones only)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import openpyxl
import pytest

from tests.helpers import ROSTER, customer, run_cli, write_register
from xlsync.history import EventKind
from xlsync.watch import WatchConfig, Watcher
from xlsync.workspace import Workspace

D = dt.date
AS_OF = "2026-11-01"
HEADER = ["日期", "裁决", "客户", "另一客户", "业务员", "保护天数", "经办人", "备注"]
ROWS = [
    customer(id="C000001", customer="格林电子", rep="张伟", visited=D(2026, 10, 1)),
    customer(customer="深圳格林电子有限公司", rep="刘洋", visited=D(2026, 10, 5)),
    customer(id="C000003", customer="雅玛西电子", rep="王芳", visited=D(2026, 10, 5)),
]


def _register(tmp_path: Path) -> Path:
    rulings = [HEADER, [D(2026, 10, 20), "指派", "深圳格林电子有限公司", None, "李娜", "长期",
                        "王经理", "老板交代"]]  # fmt: skip
    return write_register(tmp_path / "r.xlsx", ROWS, roster=ROSTER, extra_sheets={"裁决": rulings})


def _ruling_events(path: Path) -> list:
    with Workspace.of(path).history() as store:
        return store.events(kind=EventKind.RULING)


def test_a_sync_records_a_ruling_once_and_again_when_edited(tmp_path: Path) -> None:
    path = _register(tmp_path)
    assert run_cli("sync", path, "--as-of", AS_OF).code in (0, 1)
    (event,) = _ruling_events(path)
    assert (event.sheet, event.row, event.kind.value) == ("裁决", 2, "ruling")
    detail = event.detail
    assert detail["kind"] == "assign" and detail["by"] == "王经理" and detail["rep"] == "李娜"
    assert detail["days"] == "长期" and detail["note"] == "老板交代"
    new_id = next(r[0] for r in openpyxl.load_workbook(path)["跟进中"].iter_rows(values_only=True)
                  if r[1] == "深圳格林电子有限公司")  # fmt: skip
    # the customer's rows by 编号, the one given in this very sync included
    assert new_id and detail["ids"] == ["C000001", new_id] and event.id == "C000001"
    # a later sync that writes something records no second event for the same ruling
    wb = openpyxl.load_workbook(path)
    wb["跟进中"].append(customer(customer="华美涂料", rep="王芳", visited=D(2026, 10, 9)))
    wb.save(path)
    assert run_cli("sync", path, "--as-of", AS_OF).code in (0, 1)
    assert len(_ruling_events(path)) == 1
    # the manager edits the ruling: it is recorded again
    wb = openpyxl.load_workbook(path)
    wb["裁决"]["G2"] = "陈总"
    wb.save(path)
    assert run_cli("sync", path, "--as-of", AS_OF).code in (0, 1)
    assert [e.detail["by"] for e in _ruling_events(path)] == ["陈总", "王经理"]


def test_history_shows_the_ruling_with_who_decided(tmp_path: Path) -> None:
    path = _register(tmp_path)
    synced = run_cli("sync", path, "--as-of", AS_OF)
    assert "裁决第2行 指派 深圳格林电子有限公司 给 李娜，长期保护（经办人 王经理）" in synced.stdout
    shown = run_cli("history", path, env_columns=240)
    assert shown.code == 0, shown.stderr
    line = next(line for line in shown.stdout.splitlines() if "裁决" in line and "王经理" in line)
    assert "指派" in line and "李娜" in line and "裁决 第2行" in line
    data = run_cli("history", path, "--json").json()
    assert [e["kind"] for e in data].count("ruling") == 1


def test_a_bad_ruling_is_not_recorded(tmp_path: Path) -> None:
    rulings = [HEADER, [D(2026, 10, 20), "指派", "没有这个客户", None, "李娜"]]
    path = write_register(tmp_path / "r.xlsx", ROWS, roster=ROSTER,
                          extra_sheets={"裁决": rulings})  # fmt: skip
    assert run_cli("sync", path, "--as-of", AS_OF).code in (0, 1)
    assert _ruling_events(path) == []


def test_the_watcher_logs_new_rulings_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="xlsync.watch")
    path = _register(tmp_path)
    config = WatchConfig(scheduled=False)
    watcher = Watcher(tmp_path, config, today=lambda: D(2026, 11, 1))
    assert watcher.once() is not None
    wanted = "r.xlsx：裁决第 2 行：指派 深圳格林电子有限公司 给 李娜，长期保护（经办人 王经理）"
    assert [r.getMessage() for r in caplog.records].count(wanted) == 1
    caplog.clear()
    wb = openpyxl.load_workbook(path)
    wb["跟进中"].append(customer(customer="华美涂料", rep="王芳", visited=D(2026, 10, 9)))
    wb["裁决"].append([D(2026, 10, 28), "释放", "C000003", None, None, None, "王经理"])
    wb.save(path)
    assert watcher.once() is not None
    logged = [r.getMessage() for r in caplog.records if "裁决第" in r.getMessage()]
    assert logged == ["r.xlsx：裁决第 3 行：释放 雅玛西电子（经办人 王经理）"]
