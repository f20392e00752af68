"""Test-wide settings: `XLSYNC_FUZZ_EXAMPLES` turns every property test into a long fuzz run
(see scripts/fuzz.py). The handout's font cache is a folder of this test run, not the
user's cache directory (subprocesses inherit it)."""

import gc
import os
import tempfile
import threading
from collections.abc import Iterator

import pytest
from hypothesis import settings

FUZZ_EXAMPLES = int(os.environ.get("XLSYNC_FUZZ_EXAMPLES", "0"))
if FUZZ_EXAMPLES:
    settings.register_profile("fuzz", max_examples=FUZZ_EXAMPLES, deadline=None)
    settings.load_profile("fuzz")


os.environ.setdefault("XLSYNC_CACHE_DIR", tempfile.mkdtemp(prefix="xlsync-test-cache-"))


def examples(default: int) -> int:
    """How many examples a slow property test runs: few in CI, many in a fuzz run."""
    return FUZZ_EXAMPLES or default


@pytest.fixture(autouse=True)
def _collector_left_on() -> Iterator[None]:
    """A test that leaves the cycle collector off (a pause never ended, a background thread
    still inside one) fails itself, instead of a later test that checks the collector."""
    yield
    if not gc.isenabled():
        gc.enable()
        alive = sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())
        pytest.fail(f"the cycle collector was left off (threads still running: {alive})",
                    pytrace=False)  # fmt: skip


# -- PostgreSQL (see tests/pg.py) ---------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster():  # type: ignore[no-untyped-def]
    """A throwaway PostgreSQL server and database for the test session; skipped (with the
    reason) only where no PostgreSQL is installed."""
    from tests.pg import Cluster, why_unavailable

    reason = why_unavailable()
    if reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    cluster = Cluster()
    yield cluster
    cluster.close()


@pytest.fixture
def pg_url(pg_cluster) -> str:  # type: ignore[no-untyped-def]
    """The URL of an empty database of one test's own (a fresh schema)."""
    return str(pg_cluster.new_schema())
