"""The running watcher (real file events, in a thread) keeps its register warm: a save that
changes nothing xlsync reads is answered from the last sync without reading or judging, the
board follows a sync once the saves pause, and an edit is judged anew at once."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from xlsync.check import check_json
from xlsync.sync import SyncOutcome
from xlsync.watch import WatchConfig, Watcher

from .data_gen import make_register
from .test_warm_cold import _cold, _edit, _touch, blank_phone, collide
from .test_watch import FAST, wait_for

AS_OF = dt.date(2026, 11, 1)


class Boards:
    """Stands for the board: the outcomes `on_synced` was called with."""

    def __init__(self) -> None:
        self.seen: list[SyncOutcome] = []

    def __call__(self, outcome: SyncOutcome) -> None:
        self.seen.append(outcome)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Watcher, Boards, Path]]:
    path = tmp_path / "客户登记表.xlsx"
    make_register(path, rows=120, seed=13)
    boards = Boards()
    config = WatchConfig(**{**FAST, "board_quiet": 0.5})  # type: ignore[arg-type]
    watcher = Watcher(tmp_path, config, today=lambda: AS_OF, on_synced=boards)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(boards.seen) == 1 and watcher.idle)  # the start-up sync, its board
        yield watcher, boards, path
    finally:
        stop.set()
        thread.join(timeout=30)


def _save(watcher: Watcher, change: Callable[[], None]) -> SyncOutcome:
    """Make a save and wait until the watcher synced it."""
    before = len(watcher.syncs)
    change()
    wait_for(lambda: len(watcher.syncs) > before and watcher.idle, timeout=60)
    return watcher.syncs[-1]


def test_a_save_that_changes_nothing_is_answered_warm(
    running: tuple[Watcher, Boards, Path],
) -> None:
    watcher, boards, path = running
    warm = watcher.workspace.warm
    n = 0

    def touch() -> None:
        nonlocal n
        n += 1
        _touch(path, n)

    for _ in range(4):  # the register as the start-up sync wrote it settles
        _save(watcher, touch)
        if warm.remembered:
            break
    assert warm.remembered
    wait_for(lambda: boards.seen[-1] is watcher.syncs[-1])  # the board followed
    shown = len(boards.seen)
    repeats = warm.repeats
    again = _save(watcher, touch)
    assert warm.repeats == repeats + 1
    assert again.result is boards.seen[-1].result  # the same check, not judged again
    assert len(boards.seen) == shown  # nothing new to show

    cold = _cold(path.parent)
    assert _text(again) == cold

    edited = _save(watcher, lambda: _edit(path, [(collide, 4), (blank_phone, 9)]))
    assert warm.repeats == repeats + 1  # judged anew
    assert edited.result is not again.result and edited.written
    wait_for(lambda: boards.seen[-1] is edited)  # the board follows the edit


def test_the_board_follows_the_last_of_a_burst_of_saves(
    running: tuple[Watcher, Boards, Path],
) -> None:
    """Saves that come faster than `board_quiet` are each synced; the board is then drawn
    from the newest sync (it never shows an older one last)."""
    watcher, boards, path = running
    config = watcher.config
    config.board_quiet = 60.0  # no board while the saves come
    first = _save(watcher, lambda: _edit(path, [(collide, 2)]))
    second = _save(watcher, lambda: _edit(path, [(blank_phone, 5)]))
    assert first.written and second.result is not first.result
    assert len(boards.seen) == 1  # only the start-up sync's so far
    config.board_quiet = 0.2
    wait_for(lambda: len(boards.seen) == 2)
    assert boards.seen[-1] is second


def _text(outcome: SyncOutcome) -> str:
    return json.dumps(check_json(outcome.result), ensure_ascii=False, indent=2) + "\n"
