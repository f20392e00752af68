"""Time and peak memory of `check` (read, validate, match, rules) at 1k, 10k and 100k rows.

    python benchmarks/bench_check.py [--sizes 1000,10000,100000]

Target: 10,000 rows in well under a second.
"""

from __future__ import annotations

from _common import run_sizes

CODE = """
import datetime as dt
from xlsync.check import run_check
def run():
    result = run_check({path!r}, dt.date(2026, 11, 1))
    return [len(result.rows), len(result.groups), len(result.problems), len(result.moves)]
"""


def main() -> None:
    run_sizes(__doc__, CODE, "rows/groups/problems/moves")


if __name__ == "__main__":
    main()
