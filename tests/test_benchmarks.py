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
    for what in ("save->hint, edit", "save, no change"):
        assert measured[(1000, what)]["xlsync"]["wall"] > 0, what
    assert "cores" in table["machine"] and table["when"]


def test_the_watcher_figure_is_the_median_beyond_the_debounce() -> None:
    """`bench_watch.py` prints the median save->synced, that minus the debounce, then each
    save's time: the table takes the second figure (it once took the last save's total)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_vs import beyond_debounce
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    printed = (
        "   rows  save->synced  minus debounce  each save (s)\n"
        "  10000         2.60s           2.20s  2.35 2.65 2.60 2.35 2.76\n"
    )
    assert beyond_debounce(printed) == 2.20
