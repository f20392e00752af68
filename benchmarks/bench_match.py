"""Time and peak memory of grouping (normalise, block, score, union) at 1k, 10k and 100k rows.

    python benchmarks/bench_match.py [--sizes 1000,10000,100000]

The names come from the generated registers (realistic names and phones, ~6% duplicates).
Target: 100,000 rows in a few seconds on one core, well under 1 GB.
"""

from __future__ import annotations

from _common import run_sizes

CODE = """
from xlsync.register.reader import read_register
from xlsync.matching import find_groups
rows = read_register({path!r}).rows
items = [(r.customer, r.phones) for r in rows]
def run():
    groups = find_groups(items)
    return [len(items), len(groups)]
"""


def main() -> None:
    run_sizes(__doc__, CODE, "items/groups")


if __name__ == "__main__":
    main()
