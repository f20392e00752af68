"""Time and peak memory of `sync` on a 10,000-row register with 3% duplicate claims
(first sync: ids, moves, hints, 冲突/问题), and of a second, no-op sync.

    python benchmarks/bench_sync.py [--rows 10000]

Target: a no-op sync costs about what `check` costs (it reads, plans, writes nothing).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from _common import OUT, measure  # also puts the repo root on sys.path

SYNC = """
import datetime as dt
from xlsync.sync import sync
def run():
    outcome = sync({path!r}, dt.date(2026, 11, 1))
    f = outcome.files[0]
    return {{"written": f.written, "new_ids": len(f.plan.new_ids), "moves": len(f.plan.moves),
             "hints": len(f.plan.hints), "conflict_rows": len(f.plan.conflicts) - 1}}
"""
CHECK = """
import datetime as dt
from xlsync.check import run_check
def run():
    return len(run_check({path!r}, dt.date(2026, 11, 1)).rows)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    from tests.data_gen import make_register

    source = OUT / f"register-{args.rows}-dup3.xlsx"
    if not source.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        make_register(source, rows=args.rows, seed=5, duplicates=0.03)
    work = Path(tempfile.mkdtemp(prefix="xlsync-bench-"))
    try:
        path = work / "register.xlsx"
        shutil.copy(source, path)
        check = measure(CHECK.format(path=str(path)), repeat=3)
        started = time.perf_counter()
        first = measure(SYNC.format(path=str(path)), repeat=1)
        print(
            f"first sync   {first['seconds']:7.3f} s  peak {first['peak_mb']:5.0f} MB  {first['value']}"
        )
        noop = measure(SYNC.format(path=str(path)), repeat=3)
        print(
            f"no-op sync   {noop['seconds']:7.3f} s  peak {noop['peak_mb']:5.0f} MB  {noop['value']}"
        )
        print(
            f"check        {check['seconds']:7.3f} s  peak {check['peak_mb']:5.0f} MB  rows {check['value']}"
        )
        print(
            f"(wall time of the first sync incl. process start: {time.perf_counter() - started:.1f} s)"
        )
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
