"""The collector pause is one switch shared by every thread of the process."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from xlsync.runtime import collector_paused


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def _pause_in_thread(begun: threading.Event, end: threading.Event) -> threading.Thread:
    def run() -> None:
        with collector_paused():
            begun.set()
            end.wait(timeout=30)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_overlapping_pauses_in_two_threads_leave_the_collector_on() -> None:
    """The watcher syncs while its reports thread makes a handout: A begins, B begins,
    A ends, B ends. Each pause remembering only what it saw left the collector off for the
    rest of the process (B saw it off)."""
    a_begun, a_end, b_begun, b_end = (threading.Event() for _ in range(4))
    a = _pause_in_thread(a_begun, a_end)
    assert a_begun.wait(timeout=30)
    b = _pause_in_thread(b_begun, b_end)
    assert b_begun.wait(timeout=30)
    assert not gc.isenabled()
    a_end.set()
    a.join(timeout=30)
    assert not gc.isenabled()  # B is still building its values
    b_end.set()
    b.join(timeout=30)
    assert gc.isenabled()


def test_a_pause_begun_with_the_collector_off_leaves_it_off() -> None:
    gc.disable()
    with collector_paused(), collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_failing_pause_gives_the_collector_back() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
