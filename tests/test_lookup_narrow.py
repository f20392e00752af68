"""The narrowed look-up (`LookupIndex.find`) gives exactly the answer of the full scan
(`find_all`): same customers, same tiers, reasons, scores and order, for names, name
fragments, look-alikes, whole phones and landlines typed without their area code."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from xlsync import lookup
from xlsync.check import run_check
from xlsync.lookup import LookupAnswer, LookupIndex

from .data_gen import make_register


def _shape(a: LookupAnswer) -> list[tuple[int, str, str, float]]:
    return [(h.customer.index, h.tier.value, h.why.value, h.score) for h in a.same + a.maybe]


@pytest.mark.parametrize("shared", [True, False], ids=["numpy", "without-numpy"])
def test_the_narrowed_search_answers_like_the_full_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: bool
) -> None:
    if not shared:  # the look-alikes scored over every key, as without numpy installed
        monkeypatch.setattr(lookup, "_numpy", lambda: None)
    path = tmp_path / "r.xlsx"
    make_register(path, rows=1200, seed=5)
    index = LookupIndex.from_check(run_check(path, dt.date(2026, 11, 1))).prepare()
    assert index._narrow is not None and (index._narrow.shared is not None) == shared
    rng = random.Random(3)
    queries = ["电子", "科技", "模具", "有限公司", "深圳", "ab", "0755"]
    for c in rng.sample(index.customers, 120):
        name = c.name
        queries += [name, name[1:-1], name[: len(name) // 2], name.replace(name[-2], "X")]
        queries += [name[0] * 2 + name[1:], name[:3] + name[1:3], name[::-1]]  # repeats
        if c.phones:
            number = c.phones[0]
            queries += [number, number[-8:], number[-7:], f"+86 {number[1:]}"]
    found = 0
    for q in queries:
        fast, full = index.find(q), index.find_all(q)
        assert _shape(fast) == _shape(full), q
        found += bool(full.same or full.maybe)
    assert found > len(queries) // 2  # the queries do find customers
