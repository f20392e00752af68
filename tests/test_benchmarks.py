"""The benchmarks run: `bench_vs.py --quick` (what CI runs of them) measures every pair
once at 1,000 rows and writes its table; the numbers are not judged here, only that each
comparison produced one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_benchmark_measures_every_comparison() -> None:
    (ROOT / "benchmarks" / "out" / "vs-quick.json").unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_vs.py"), "--quick"],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    table = json.loads((ROOT / "benchmarks" / "out" / "vs-quick.json").read_text("utf-8"))
    measured = {(r["rows"], r["what"]): r for r in table["results"]}
    for what in ("check --json", "first sync", "handout html+pdf", "watch --once", "grouping"):
        ours = measured[(1000, what)]["xlsync"]
        assert ours["cpu"] > 0 and ours["peak_mb"] > 0, what
    for what in ("check --json", "first sync"):  # side by side with the reference
        assert measured[(1000, what)]["reference"]["cpu"] > 0, what
    assert measured[(50, "check --json")]["reference"] is not None
    for what in ("save->synced, edit", "save->written, edit", "save, no change"):
        assert measured[(1000, what)]["xlsync"]["wall"] > 0, what
    assert "cores" in table["machine"] and table["when"]


def test_the_watcher_figures_are_the_medians_beyond_the_debounce() -> None:
    """`bench_watch.py` prints the median save->synced, that minus the debounce, then each
    save's time, and the same for the register written: the table takes the second figure
    of each (it once took the last save's total)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_vs import beyond_debounce
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    printed = (
        "   rows  save->synced  minus debounce  each save (s)\n"
        "  10000         2.60s           2.20s  2.35 2.65 2.60 2.35 2.76\n"
        "written         2.10s           1.70s  1.85 2.15 2.10 1.85 2.26\n"
    )
    assert beyond_debounce(printed) == {"synced": 2.20, "written": 1.70}
    assert beyond_debounce(printed.rsplit("written", 1)[0]) == {"synced": 2.20}
