"""How the interpreter's cyclic garbage collector is set for the kind of process running.

A register is read into hundreds of thousands of small objects that live until the
command ends, and CPython's default thresholds re-scan all of them in a full collection
every ~70,000 allocations: a fifth of a 20,000-row `check` went there. xlsync's own
values make few reference cycles, so a one-shot command collects its youngest objects
less often and the old ones almost never; a long-running process (the watcher, the
server) keeps collecting every generation, less eagerly than the default. The two batch
steps that build most of those objects (reading a register, grouping its rows) pause the
collector whatever the process.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

ONE_RUN = (20_000, 50, 1_000)  # gen0 allocations, gen0 runs per gen1, gen1 runs per gen2
LONG_RUN = (20_000, 10, 10)


def tune_for_one_run() -> None:
    gc.set_threshold(*ONE_RUN)


def tune_for_long_run() -> None:
    gc.set_threshold(*LONG_RUN)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while a batch of acyclic values is built (a register's rows,
    the matcher's items and links): every full collection would walk all of them again. They
    are freed by reference counting as usual; the collector resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
