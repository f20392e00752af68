"""Visits and samples a register no longer shows: a rep who typed a new 拜访日期 over the
old one. The history store's `changed` events keep the old value; the cool-down
(`rules.apply_cool_down(earlier=...)`) needs it to know that the rep's earlier protection
ended and that the new date falls in the cool-down.

`overwritten_dates` reads them through the `HistoryStore` protocol only; the result is
plain typed data, by 编号.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence

from xlsync.history import EventKind, HistoryStore
from xlsync.register.cells import CellError, parse_date
from xlsync.register.schema import field_text, match_header

# 编号 -> (rep, date) of every visit or sample date the row once had and lost
EarlierDates = Mapping[str, tuple[tuple[str, dt.date], ...]]

_DATES = ("visited", "sampled")


def overwritten_dates(history: HistoryStore, files: Sequence[str]) -> EarlierDates:
    """Every 拜访日期 / 送样日期 a row of `files` had when a sync last saw it (the last
    snapshot: a date typed over since then is not an event yet) or before a sync saw it
    change, with the rep of the row at that time ("" for the rep the row has now)."""
    found: dict[str, list[tuple[str, dt.date]]] = defaultdict(list)
    for file in files:
        for snap in history.current(file):
            rep = field_text(snap.values, "rep")
            for key in _DATES:
                old = _date(field_text(snap.values, key))
                if old is not None:
                    found[snap.id].append((rep, old))
    events = [e for file in files for e in history.events(file, kind=EventKind.CHANGED)]
    by_id: dict[str, list[dict[str, list[str]]]] = defaultdict(list)
    for event in sorted(events, key=lambda e: (e.at, e.sync_id)):
        changed = event.detail.get("changed")
        if isinstance(changed, dict):
            by_id[event.id].append({str(k): list(map(str, v)) for k, v in changed.items()
                                    if isinstance(v, list) and len(v) == 2})  # fmt: skip
    for row_id, changes in by_id.items():
        rep = ""  # "": the rep the row has now (the caller knows it)
        for change in reversed(changes):  # newest first: follow the rep back in time
            keyed = {match_header(header): pair for header, pair in change.items()}
            if "rep" in keyed:
                rep = keyed["rep"][0]  # the dates this edit replaced were that rep's
            for key in _DATES:
                pair = keyed.get(key)
                old = _date(pair[0]) if pair is not None else None
                if old is not None:
                    found[row_id].append((rep, old))
    return {k: tuple(dict.fromkeys(v)) for k, v in found.items()}


def _date(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return parse_date(text)
    except CellError:
        return None
