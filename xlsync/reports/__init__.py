"""Reports: the monthly handout, the daily list and the blackboard page.

`run_monthly` / `run_daily` are what the watcher's schedule calls. They return True when
the report was written; False leaves the job due, so it is caught up on a later run.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

_told: set[str] = set()


def run_monthly(target: Path, month: str, out: Path, log: logging.Logger) -> bool:
    """Render the printed handout of `month` (YYYY-MM) into `out`."""
    return _missing("monthly", f"{month} 的月度清单", log)


def run_daily(target: Path, day: dt.date, out: Path, log: logging.Logger) -> bool:
    """Write the list of customers newly registered on `day` into `out`."""
    return _missing("daily", f"{day.isoformat()} 的每日新登记清单", log)


def _missing(kind: str, what: str, log: logging.Logger) -> bool:
    # The report renderers are not part of this build yet: say so once, keep the job due.
    if kind not in _told:
        log.info("报表功能尚未提供，暂不生成%s（之后会自动补做）", what)
        _told.add(kind)
    return False
