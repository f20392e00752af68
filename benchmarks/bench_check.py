"""Time and peak memory of `check` (read, validate, match, rules) at 1k, 10k and 100k rows.

    python benchmarks/bench_check.py [--sizes 1000,10000,100000]

Target: 10,000 rows in well under a second.
"""

from __future__ import annotations

import argparse

from _common import measure, register_of

CODE = """
import datetime as dt
from xlsync.check import run_check
def run():
    result = run_check({path!r}, dt.date(2026, 11, 1))
    return [len(result.rows), len(result.groups), len(result.problems), len(result.moves)]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'rows':>8} {'seconds':>8} {'peak MB':>8}  rows/groups/problems/moves")
    for size in (int(s) for s in args.sizes.split(",")):
        path = register_of(size)
        result = measure(CODE.format(path=str(path)), repeat=args.repeat)
        print(f"{size:>8} {result['seconds']:>8.3f} {result['peak_mb']:>8.0f}  {result['value']}")


if __name__ == "__main__":
    main()
