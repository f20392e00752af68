"""Kill `sync` at random moments, many times, and check the register every time.

    python scripts/fault_kill.py [--rounds 2000] [--seed 1]

Prints how often the register was left as the old and as the new version; any damage is an
assertion error naming the round.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_kill import kill_rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="xlsync-kill-") as folder:
        tally = kill_rounds(Path(folder), args.rounds, args.seed)
    print(f"{args.rounds} kills in {time.perf_counter() - started:.0f} s: "
          f"register left old {tally['old']} times, new {tally['new']} times, damaged 0 times")  # fmt: skip


if __name__ == "__main__":
    main()
