"""Syncs against a real PostgreSQL from real processes: two syncs of one share take turns
on the register's advisory lock (exactly one writes each change), and a sync killed in the
middle of recording leaves no trace in the database; the next sync completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg

from xlsync.register.reader import read_register

from .helpers import customer, write_register

REPO = Path(__file__).resolve().parents[1]

# Runs one sync of a folder against the database; with "pause-locked" it stops once it
# holds the registers' lock, with "pause-recorded" once the first file of the sync is
# recorded (transaction still open), until a line arrives on stdin.
SYNC = textwrap.dedent(
    """
    import datetime as dt, json, sys
    from pathlib import Path
    from xlsync import sync as sync_module
    from xlsync.stores.postgres import PostgresHistory
    from xlsync.workspace import Workspace

    folder, url, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

    def pause(what):
        print(what, flush=True)
        sys.stdin.readline()

    if mode == "pause-locked":
        original = sync_module._sync_once
        def once(*args, **kwargs):
            pause("locked")
            return original(*args, **kwargs)
        sync_module._sync_once = once
    if mode == "pause-recorded":
        record = PostgresHistory.record_sync
        def recorded(self, *args, **kwargs):
            out = record(self, *args, **kwargs)
            pause("recorded")
            return out
        PostgresHistory.record_sync = recorded

    outcome = sync_module.sync(folder, dt.date(2026, 11, 1), workspace=Workspace.of(folder, url))
    print(json.dumps({f.path.name: f.written for f in outcome.files}), flush=True)
    """
)


def start(folder: Path, url: str, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SYNC, str(folder), url, mode],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def office(tmp_path: Path, name: str = "深圳办", files: int = 1) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for n in range(files):
        write_register(
            folder / f"登记表{n + 1}.xlsx",
            [customer(customer=f"格林电子{n}", rep="张伟", phone="13800000001"),
             customer(customer=f"华强五金{n}", rep="王芳", phone="13800000002")],
            [],
        )  # fmt: skip
    return folder


def wait_for(check: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)  # poll


def one(url: str, sql: str) -> object:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None


def test_two_syncs_of_one_share_take_turns_and_exactly_one_writes(
    tmp_path: Path, pg_url: str
) -> None:
    folder = office(tmp_path)
    first = start(folder, pg_url, "pause-locked")
    assert first.stdout is not None and first.stdin is not None
    assert first.stdout.readline().strip() == "locked"
    second = start(folder, pg_url, "plain")
    # the second sync waits on the register's advisory lock (seen in pg_locks)
    wait_for(
        lambda: one(pg_url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                            " AND NOT granted") == 1,
        "the second sync to wait on the lock",
    )  # fmt: skip
    first.stdin.write("go\n")
    first.stdin.flush()
    out_first, err_first = first.communicate(timeout=120)
    out_second, err_second = second.communicate(timeout=120)
    assert first.returncode == 0, err_first
    assert second.returncode == 0, err_second
    written = [json.loads(out_first.splitlines()[-1]), json.loads(out_second.splitlines()[-1])]
    assert written == [{"登记表1.xlsx": True}, {"登记表1.xlsx": False}]
    ids = [r.id for r in read_register(folder / "登记表1.xlsx").rows]
    assert ids == ["C000001", "C000002"]  # the second sync re-read the register
    with psycopg.connect(pg_url) as conn:
        news = conn.execute("SELECT id, count(*) FROM events GROUP BY id ORDER BY id").fetchall()
    assert news == [("C000001", 1), ("C000002", 1)]  # each change recorded once


def test_a_sync_killed_while_recording_leaves_nothing_and_the_next_completes(
    tmp_path: Path, pg_url: str
) -> None:
    folder = office(tmp_path, files=2)
    victim = start(folder, pg_url, "pause-recorded")
    assert victim.stdout is not None
    assert victim.stdout.readline().strip() == "recorded"  # one file recorded, one to go
    assert one(pg_url, "SELECT count(*) FROM syncs") == 0  # not visible: not committed
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    after = start(folder, pg_url, "plain")
    _out, err = after.communicate(timeout=120)
    assert after.returncode == 0, err
    # the killed sync's transaction left nothing: each row is new exactly once, in the
    # sync that completed, and both files are recorded by it
    with psycopg.connect(pg_url) as conn:
        syncs = conn.execute("SELECT file FROM syncs ORDER BY file").fetchall()
        events = conn.execute("SELECT id, kind FROM events ORDER BY id").fetchall()
    assert syncs == [("登记表1.xlsx",), ("登记表2.xlsx",)]
    assert events == [(f"C00000{n}", "new") for n in range(1, 5)]
