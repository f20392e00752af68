"""Time and peak memory of the monthly handout (HTML and PDF) for a 10,000-row register.

    python benchmarks/bench_reports.py [--rows 10000] [--month 2026-10]

Target: a few seconds.
"""

from __future__ import annotations

import argparse
import tempfile

from _common import measure, register_of

CODE = """
import datetime as dt
from pathlib import Path
from xlsync.reports.build import monthly
def run():
    paths = monthly(Path({path!r}), {month!r}, Path({out!r}), today=dt.date(2026, 11, 1))
    return [p.name for p in paths] + [p.stat().st_size for p in paths]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--month", default="2026-10")
    args = parser.parse_args()
    path = register_of(args.rows)
    with tempfile.TemporaryDirectory(prefix="xlsync-reports-") as out:
        result = measure(CODE.format(path=str(path), month=args.month, out=out), repeat=2)
    print(f"monthly handout, {args.rows} rows: {result['seconds']:.2f} s, "
          f"peak {result['peak_mb']:.0f} MB, {result['value']}")  # fmt: skip


if __name__ == "__main__":
    main()
