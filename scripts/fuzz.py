"""A longer fuzz run of the property tests: parsers, the whole check, and no data lost on sync.

    python scripts/fuzz.py [--examples 2000]

Runs the hypothesis tests with more examples than CI affords and prints how many ran.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = [
    "tests/test_cells.py",
    "tests/test_check_fuzz.py",
    "tests/test_sync_property.py",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=2000)
    args = parser.parse_args()
    env = {**os.environ, "XLSYNC_FUZZ_EXAMPLES": str(args.examples)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "--hypothesis-show-statistics", *TESTS]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    runs = [line.strip() for line in result.stdout.splitlines() if "passing examples" in line]
    total = sum(int(line.split()[1]) for line in runs if line.split()[1].isdigit())
    summary = [
        line for line in result.stdout.splitlines() if " passed" in line or " failed" in line
    ]
    print(summary[-1] if summary else result.stdout[-2000:] + result.stderr[-2000:])
    print(f"{total} generated examples passed across {len(runs)} property tests")
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
