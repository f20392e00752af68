"""Shared by the benchmark scripts: cached generated registers and a measured child process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))


def register_of(rows: int, seed: int = 11) -> Path:
    """A generated register with `rows` customer rows, cached under benchmarks/out/."""
    from tests.data_gen import make_register

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"register-{rows}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        make_register(path, rows=rows, seed=seed, write_only=rows > 20_000)
        print(
            f"  (generated {path.name} in {time.perf_counter() - started:.1f} s)", file=sys.stderr
        )
    return path


_CHILD = r"""
import json, resource, sys, time
code = sys.argv[1]
scope = {}
exec(compile(code, "<bench-setup>", "exec"), scope)
started = time.perf_counter()
value = scope["run"]()
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "peak_mb": peak, "value": value}))
"""


def measure(code: str, repeat: int = 3) -> dict[str, float]:
    """Run `code` (which defines run()) in fresh processes; best time, its peak RSS in MB.

    Imports happen before the clock starts, so the numbers are the work itself.
    """
    best: dict[str, float] | None = None
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, code],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    assert best is not None
    return best


def run_sizes(doc: str | None, code: str, value_label: str) -> None:
    """The command line shared by the per-size benchmarks: `--sizes`, `--repeat`; one line
    of time, peak memory and the measured code's own result per register size."""
    import argparse

    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'rows':>8} {'seconds':>8} {'peak MB':>8}  {value_label}")
    for size in (int(s) for s in args.sizes.split(",")):
        path = register_of(size)
        result = measure(code.format(path=str(path)), repeat=args.repeat)
        print(f"{size:>8} {result['seconds']:>8.3f} {result['peak_mb']:>8.0f}  {result['value']}")
