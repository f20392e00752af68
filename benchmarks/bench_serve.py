"""`xlsync serve` under load: 50 concurrent clients searching a 10,000-row register while a
watcher syncs it.

    python benchmarks/bench_serve.py [--rows 10000] [--clients 50] [--seconds 40]

Three processes, as in an office: `xlsync serve` (the command line, uvicorn), a watcher
(`xlsync.watch.Watcher`, scheduled reports off) syncing the register, and an editor that
changes one cell of the register, saves it, and waits for the watcher's sync to reach the
history before the next edit; each such sync makes the server rebuild its index. This
process runs the clients (asyncio + httpx): each signs in as one of the roster's reps,
then asks `GET /api/who?q=` in a loop, with names as reps type them (variants, fragments),
phones in other formats and look-alikes. The per-account look-up limit is off for the run.

Reported: requests, errors, requests per second, p50 / p95 / p99 latency over the whole run
and over the seconds the server was rebuilding its index. Goal: p95 under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

from _common import ROOT, register_of  # also puts the repo root on sys.path

AS_OF = "2026-11-01"
PASSWORD = "bench password"

WATCHER = r"""
import datetime as dt, signal, sys, threading
from pathlib import Path
from xlsync.watch import WatchConfig, Watcher
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
config = WatchConfig(debounce=0.4, rescan=3600, scheduled=False)
Watcher(Path(sys.argv[1]), config, today=lambda: dt.date(2026, 11, 1)).run(stop)
"""

EDITOR = r"""
import os, sqlite3, sys, time
from pathlib import Path
import openpyxl
path, history, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
def last_sync():
    con = sqlite3.connect(f"file:{history}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT max(sync_id) FROM syncs").fetchone()[0] or 0
    finally:
        con.close()
for n in range(count):
    before = last_sync()
    wb = openpyxl.load_workbook(path)
    ws = wb["跟进中"]
    header = next(r for r in ws.iter_rows(min_row=1, max_row=10) if any(c.value == "跟进情况" for c in r))
    col = next(c.column for c in header if c.value == "跟进情况")
    ws.cell(header[0].row + 5 + n, col).value = f"bench edit {n}"
    temp = path.with_name(f"~bench{n}.tmp")
    wb.save(temp)
    os.replace(temp, path)
    print(f"edit {n} saved", flush=True)
    while last_sync() == before:
        time.sleep(0.2)  # poll: the watcher's sync reached the history
    print(f"edit {n} synced", flush=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def queries(register: Path, n: int, seed: int = 5) -> list[str]:
    from xlsync.register_set import load_set

    rng = random.Random(seed)
    rows = [r for reg in load_set(register).registers for r in reg.rows]
    out: list[str] = []
    while len(out) < n:
        r = rng.choice(rows)
        kind = rng.random()
        if r.phones and kind < 0.3:
            p = r.phones[0]
            out.append(f"+86 {p[1:]}" if p.startswith("0") else f"{p[:3]}-{p[3:7]}-{p[7:]}")
        elif r.customer and kind < 0.6:
            out.append(r.customer)
        elif r.customer and kind < 0.85:
            name = re.sub(r"(有限公司|有限责任公司|厂|公司)$", "", r.customer)
            out.append(name[-4:] if len(name) > 4 else name)
        elif r.customer:
            out.append(r.customer[:-2] + "电子")  # a look-alike
    return out


async def client(
    base: str, name: str, work: list[str], until: float, out: list[tuple[float, float, int]]
) -> None:
    """Sign in with httpx, then ask over one kept-alive connection with a bare HTTP/1.1
    client: httpx costs the load generator more CPU per request than the server spends,
    and on a 2-core machine that CPU is taken from the server being measured."""
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        page = await c.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = await c.post("/login", data={"name": name, "password": PASSWORD, "csrf": token})
        assert r.status_code == 303, (r.status_code, r.text[:200])
        cookie = f"xlsync_session={c.cookies['xlsync_session']}"
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    i = 0
    while time.monotonic() < until:
        q = quote(work[i % len(work)])
        i += 1
        started = time.monotonic()
        writer.write(
            f"GET /api/who?q={q} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        await reader.readexactly(length)
        out.append((started, time.monotonic() - started, status))
    writer.close()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--edits", type=int, default=3, help="0: no watcher, no edits")
    args = parser.parse_args()

    from argon2 import PasswordHasher

    from xlsync.server.accounts import AccountStore
    from xlsync.sync import sync

    work = Path(tempfile.mkdtemp(prefix="xlsync-serve-"))
    procs: list[subprocess.Popen[str]] = []
    try:
        folder = work / "shared"
        folder.mkdir()
        register = folder / "register.xlsx"
        shutil.copy(register_of(args.rows), register)
        outcome = sync(register, dt.date.fromisoformat(AS_OF))  # ids in place, history made
        roster = list(outcome.result.registers.settings.roster)
        store = AccountStore(work / "local" / "accounts.json",
                             PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))  # fmt: skip
        for rep in roster:
            store.add(rep, PASSWORD, False)
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(
            [sys.executable, "-m", "xlsync", "serve", str(folder), "--port", str(port),
             "--accounts", str(store.path), "--as-of", AS_OF, "--lookups-per-minute", "0"],
            env=env, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        procs.append(server)
        base = f"http://127.0.0.1:{port}"
        import httpx

        started = time.monotonic()
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                if httpx.get(base + "/login", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)  # poll: the server answers once its index is built
        print(f"server ready in {time.monotonic() - started:.1f} s ({args.rows} rows)")
        lines: list[tuple[float, str]] = []  # the server's log lines, timed as they come
        reader = threading.Thread(target=_read_lines, args=(server, lines), daemon=True)
        reader.start()
        # the first edits syncs serve's history poll picks up ~every 2 s
        history = folder / ".xlsync" / "history.sqlite"
        editor: subprocess.Popen[str] | None = None
        if args.edits:
            watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(folder)], env=env,
                                       text=True)  # fmt: skip
            procs.append(watcher)
            editor = subprocess.Popen(
                [sys.executable, "-c", EDITOR, str(register), str(history), str(args.edits)],
                env=env, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            procs.append(editor)
        asks = queries(register, 400)
        samples: list[tuple[float, float, int]] = []

        async def run() -> None:
            until = time.monotonic() + args.seconds
            await asyncio.gather(*(
                client(base, roster[i % len(roster)], asks[i * 7:] + asks[: i * 7], until, samples)
                for i in range(args.clients)
            ))  # fmt: skip

        cpu0, mine0 = _cpu_seconds(server.pid), time.process_time()
        t0 = time.monotonic()
        asyncio.run(run())
        elapsed = time.monotonic() - t0
        cpu, mine = _cpu_seconds(server.pid) - cpu0, time.process_time() - mine0
        edits_done = editor is not None and editor.poll() is not None
        syncs = _syncs(history)
        latencies = [s[1] * 1000 for s in samples]
        windows = _rebuilds(lines)
        during = [s[1] * 1000 for s in samples if any(a <= s[0] <= b for a, b in windows)]
        errors = sum(1 for s in samples if s[2] != 200)
        print(f"clients {args.clients}, {len(samples)} requests in {elapsed:.1f} s, "
              f"{errors} not 200")  # fmt: skip
        print(f"  rps {len(samples) / elapsed:.0f}")
        if cpu > 0 and samples:
            per = cpu / len(samples) * 1000
            print(f"  server CPU {cpu:.1f} s = {per:.1f} ms a request (index rebuilds included);"
                  f" it had {cpu / elapsed:.0%} of a core; the clients"
                  f" {mine / len(samples) * 1000:.1f} ms a request")  # fmt: skip
        print(f"  p50 {statistics.median(latencies):.0f} ms, p95 {pct(latencies, 95):.0f} ms, "
              f"p99 {pct(latencies, 99):.0f} ms, max {max(latencies):.0f} ms")  # fmt: skip
        if during:
            print(f"  while the index was rebuilt ({len(windows)} times, "
                  f"{sum(b - a for a, b in windows):.1f} s in all): {len(during)} requests, "
                  f"p50 {statistics.median(during):.0f} ms, p95 {pct(during, 95):.0f} ms")  # fmt: skip
        print(f"  syncs recorded during the run: {syncs - 1} (editor finished: {edits_done})")
        goal = "met" if pct(latencies, 95) < 200 else "NOT met"
        print(f"  goal p95 < 200 ms: {goal} (a shared machine: load {os.getloadavg()[0]:.1f})")
    finally:
        for p in reversed(procs):  # our own children, by their handles
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read_lines(proc: subprocess.Popen[str], lines: list[tuple[float, str]]) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append((time.monotonic(), line.strip()))


def _rebuilds(lines: list[tuple[float, str]]) -> list[tuple[float, float]]:
    """(start, end) of every index rebuild the server logged."""
    windows: list[tuple[float, float]] = []
    start: float | None = None
    for at, text in list(lines):
        if text.startswith("索引更新中"):
            start = at
        elif text.startswith("索引已更新") and start is not None:
            windows.append((start, at))
            start = None
    return windows


def _syncs(history: Path) -> int:
    con = sqlite3.connect(f"file:{history}?mode=ro", uri=True, timeout=30)
    try:
        return int(con.execute("SELECT count(*) FROM syncs").fetchone()[0])
    finally:
        con.close()


if __name__ == "__main__":
    main()
