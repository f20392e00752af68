"""The collector pause is one switch shared by every thread of the process."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from xlsync.runtime import ONE_RUN, collector_paused, tune_for_long_run, tune_for_one_run


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.enable()
    yield
    gc.enable()
    tune_for_long_run()  # the pauses hand their objects back with a pass again
    gc.set_threshold(*thresholds)


class Record:
    """A tracked object of the kind a register is read into."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.values = {"n": str(n)}


def _generation_of(obj: object) -> int | None:
    for generation in range(3):
        if any(o is obj for o in gc.get_objects(generation=generation)):
            return generation
    return None


def test_a_one_shot_command_moves_what_a_pause_built_to_the_oldest_generation() -> None:
    """No pass over everything the pause built when it ends: its objects go to the oldest
    generation at once, and the count of new allocations starts again from nothing."""
    tune_for_one_run()
    assert gc.get_threshold() == ONE_RUN
    with collector_paused():
        records = [Record(n) for n in range(50_000)]
        assert gc.get_count()[0] > ONE_RUN[0]  # a pass over them all would be due
    assert gc.isenabled() and gc.get_count()[0] < 100
    assert _generation_of(records[-1]) == 2


def test_a_long_running_process_keeps_the_pass_after_a_pause() -> None:
    """The watcher and the server: a cycle made during a sync is found by the next young
    collection, so what the pause built stays young."""
    tune_for_long_run()
    with collector_paused():
        records = [Record(n) for n in range(50_000)]
    assert _generation_of(records[-1]) in (0, 1)


def test_objects_frozen_on_purpose_stay_frozen() -> None:
    """The server freezes each snapshot it loads; a pause that ends never unfreezes it."""
    tune_for_one_run()
    snapshot = [Record(n) for n in range(1_000)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused():
            records = [Record(n) for n in range(1_000)]
        assert gc.get_freeze_count() == frozen
        assert _generation_of(snapshot[0]) is None  # still in the permanent generation
        assert _generation_of(records[-1]) in (0, 1)
    finally:
        gc.unfreeze()


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
