"""How the interpreter's cyclic garbage collector is set for the kind of process running.

A register is read into hundreds of thousands of small objects that live until the
command ends, and CPython's default thresholds re-scan all of them in a full collection
every ~70,000 allocations: a fifth of a 20,000-row `check` went there. xlsync's own
values make few reference cycles, so a one-shot command collects its youngest objects
less often and the old ones almost never; a long-running process (the watcher, the
server) keeps collecting every generation, less eagerly than the default. The batch
steps that build most of those objects (reading a register, grouping its rows, a sync, a
handout, the server loading a snapshot) pause the collector whatever the process, the
pauses counted across threads.

When a pause ends, everything it built is still "young" to the collector, and the first
allocation after it starts a pass over all of it (0.18 s for a million small records). A
one-shot command moves those objects straight to the oldest generation instead
(`gc.freeze` then `gc.unfreeze`, two list splices): they live until the command ends, and
the rare full collection still sees them. A long-running process keeps the pass, so that a
reference cycle made during a sync is found at once and not at the next full collection.
Objects someone froze on purpose (the server's snapshots) are never unfrozen: with any
frozen, the pass is kept.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

ONE_RUN = (20_000, 50, 1_000)  # gen0 allocations, gen0 runs per gen1, gen1 runs per gen2
LONG_RUN = (20_000, 10, 10)


def tune_for_one_run() -> None:
    gc.set_threshold(*ONE_RUN)
    _PAUSES.settle(promote=True)


def tune_for_long_run() -> None:
    gc.set_threshold(*LONG_RUN)
    _PAUSES.settle(promote=False)


class _Pauses:
    """The pauses under way in this process. The collector is one switch for every
    thread: the watcher syncs while its reports thread makes a handout, the server loads a
    snapshot while another is built. So the first pause to begin turns it off, remembering
    how it was, and the last to end puts it back. A pause that restored only its own view
    could leave it off for good (A begins, B begins and sees it off, A ends and turns it
    on, B ends and turns it off again). The count is process state because the switch it
    guards is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._resume = False  # whether it was on before the first of them
        self._promote = False  # move what the pauses built to the oldest generation

    def settle(self, *, promote: bool) -> None:
        """How the last pause to end hands its objects back (see the module doc)."""
        with self._lock:
            self._promote = promote

    def begin(self) -> None:
        with self._lock:
            if self._count == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._count += 1

    def end(self) -> None:
        with self._lock:
            self._count -= 1
            if self._count == 0 and self._resume:
                if self._promote and gc.get_freeze_count() == 0:
                    gc.freeze()  # every tracked object out of the generations, counts reset
                    gc.unfreeze()  # and back, into the oldest
                gc.enable()


_PAUSES = _Pauses()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while a batch of acyclic values is built (a register's rows,
    the matcher's items and links): every full collection would walk all of them again. They
    are freed by reference counting as usual; the collector resumes when the last pause in
    the process ends, if it was on before the first began."""
    _PAUSES.begin()
    try:
        yield
    finally:
        _PAUSES.end()
