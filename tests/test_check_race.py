"""Checks running at the same time (the watcher's sync and its report thread) each get the
groups of their own register, never another call's group indexes."""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from xlsync.check import CheckResult, GroupingCache, check_registers
from xlsync.matching.group import Group, Item
from xlsync.register_set import RegisterSet, load_set

from .data_gen import make_register

AS_OF = dt.date(2026, 11, 1)


def signature(result: CheckResult) -> list[tuple[str, str, list[tuple[str, int]]]]:
    return [(g.key, g.reason.text(), [(r.sheet, r.row) for r in g.rows]) for g in result.groups]


@pytest.fixture(scope="module")
def two_registers(tmp_path_factory: pytest.TempPathFactory) -> tuple[RegisterSet, RegisterSet]:
    folder = tmp_path_factory.mktemp("race")
    make_register(folder / "a.xlsx", rows=60, seed=3, duplicates=0.2, cooperating_rows=4)
    make_register(folder / "b.xlsx", rows=45, seed=4, duplicates=0.2, cooperating_rows=4)
    return load_set(folder / "a.xlsx"), load_set(folder / "b.xlsx")


def run(registers: RegisterSet, grouping: GroupingCache | None = None) -> CheckResult:
    if grouping is None:  # the path every caller without its own cache takes
        return check_registers(str(registers.target), registers, AS_OF)
    return check_registers(str(registers.target), registers, AS_OF, grouping=grouping)


class _Interleaving(str):
    """A customer name that, when the grouping cache compares it with the cached names, lets
    another thread run a whole check and waits until that check is done."""

    __slots__ = ()
    __hash__ = str.__hash__
    hook: threading.Event | None = None  # set by the test: "run the other check now"
    done: threading.Event | None = None

    def __eq__(self, other: object) -> bool:
        caller = sys._getframe(1).f_code.co_name
        go, done = type(self).hook, type(self).done
        if go is not None and done is not None and caller in ("groups", "_grouped"):
            type(self).hook = None  # once
            go.set()
            assert done.wait(timeout=60), "the other check did not finish"
        return str.__eq__(self, other)


@pytest.mark.parametrize("own_cache", [False, True])
def test_a_check_that_lands_between_compare_and_read_does_not_swap_groups(
    two_registers: tuple[RegisterSet, RegisterSet], own_cache: bool
) -> None:
    reg_a, reg_b = two_registers
    grouping = GroupingCache() if own_cache else None
    expected_a, expected_b = (
        signature(run(reg_a)),
        signature(run(reg_b)),
    )
    assert expected_a != expected_b and expected_a and expected_b
    run(reg_a, grouping)  # the cache now holds A's names
    # A again, with one name that hands over to B in the middle of the cache look-up
    row = next(r for r in reg_a.registers[0].rows if r.customer)
    original = row.customer
    go, done = threading.Event(), threading.Event()
    _Interleaving.hook, _Interleaving.done = go, done
    results: dict[str, CheckResult] = {}

    def other() -> None:
        assert go.wait(timeout=60)
        try:
            results["b"] = run(reg_b, grouping)
        finally:
            done.set()

    thread = threading.Thread(target=other)
    thread.start()
    row.customer = _Interleaving(original)
    try:
        results["a"] = run(reg_a, grouping)
    finally:
        row.customer = original
        _Interleaving.hook = None
        go.set()
        thread.join()
    assert done.is_set(), "the interleaving did not happen: the test no longer tests the race"
    assert signature(results["b"]) == expected_b
    assert signature(results["a"]) == expected_a


def test_two_threads_checking_different_registers_each_get_their_own_groups(
    two_registers: tuple[RegisterSet, RegisterSet],
) -> None:
    """Many concurrent checks through the shared cache, switching threads as often as Python
    allows: every result is its own register's."""
    reg_a, reg_b = two_registers
    expected = {
        id(reg_a): signature(run(reg_a)),
        id(reg_b): signature(run(reg_b)),
    }
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    start = threading.Barrier(2)
    wrong: list[str] = []

    def checker(registers: RegisterSet) -> None:
        start.wait(timeout=60)
        for i in range(150):
            if signature(run(registers)) != expected[id(registers)]:
                wrong.append(f"{registers.target.name} run {i}")

    threads = [threading.Thread(target=checker, args=(r,)) for r in (reg_a, reg_b)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []


def test_the_cache_is_reused_for_unchanged_names(
    two_registers: tuple[RegisterSet, RegisterSet], monkeypatch: pytest.MonkeyPatch
) -> None:
    reg_a, _ = two_registers
    calls: list[int] = []
    from xlsync.matching.group import group_items as real

    def counting(prepared: Sequence[Item], **rulings: Any) -> list[Group]:
        calls.append(len(prepared))
        return real(prepared, **rulings)

    monkeypatch.setattr("xlsync.check.group_items", counting)
    grouping = GroupingCache()
    first = signature(run(reg_a, grouping))
    assert signature(run(reg_a, grouping)) == first
    assert len(calls) == 1
