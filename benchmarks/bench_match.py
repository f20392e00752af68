"""Time and peak memory of grouping (normalise, block, score, union) at 1k, 10k and 100k rows.

    python benchmarks/bench_match.py [--sizes 1000,10000,100000]

The names come from the generated registers (realistic names and phones, ~6% duplicates).
Target: 100,000 rows in a few seconds on one core, well under 1 GB.
"""

from __future__ import annotations

import argparse

from _common import measure, register_of

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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'rows':>8} {'seconds':>8} {'peak MB':>8}  items/groups")
    for size in (int(s) for s in args.sizes.split(",")):
        path = register_of(size)
        result = measure(CODE.format(path=str(path)), repeat=args.repeat)
        print(f"{size:>8} {result['seconds']:>8.3f} {result['peak_mb']:>8.0f}  {result['value']}")


if __name__ == "__main__":
    main()
