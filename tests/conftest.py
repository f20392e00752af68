"""Test-wide settings: `XLSYNC_FUZZ_EXAMPLES` turns every property test into a long fuzz run
(see scripts/fuzz.py)."""

import os

from hypothesis import settings

FUZZ_EXAMPLES = int(os.environ.get("XLSYNC_FUZZ_EXAMPLES", "0"))
if FUZZ_EXAMPLES:
    settings.register_profile("fuzz", max_examples=FUZZ_EXAMPLES, deadline=None)
    settings.load_profile("fuzz")


def examples(default: int) -> int:
    """How many examples a slow property test runs: few in CI, many in a fuzz run."""
    return FUZZ_EXAMPLES or default
