"""The scheduled report jobs the watcher's schedule calls: each returns the files written;
an empty list leaves the job due, so it is caught up on a later run.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xlsync.workspace import Workspace


def run_monthly(
    target: Path,
    month: str,
    out: Path,
    log: logging.Logger,
    *,
    today: dt.date | None = None,
    workspace: Workspace | None = None,
) -> list[Path]:
    """Render the printed handout of `month` (YYYY-MM) into `out`, as of `today`; with the
    watcher's `workspace` (its history and its grouping cache)."""
    from xlsync.errors import UnusableInput
    from xlsync.reports.build import monthly

    try:
        paths = monthly(target, month, out, today=today, workspace=workspace)
    except (UnusableInput, OSError) as exc:
        log.error("月度清单 %s 未生成：%s", month, exc)
        return []
    log.info("已生成 %s 月度清单：%s", month, "、".join(p.name for p in paths))
    return paths


def run_daily(
    target: Path,
    day: dt.date,
    out: Path,
    log: logging.Logger,
    *,
    workspace: Workspace | None = None,
) -> list[Path]:
    """Write the list of customers newly registered on `day` into `out`."""
    from xlsync.errors import UnusableInput
    from xlsync.reports.build import daily

    try:
        paths = daily(target, day, out, workspace=workspace)
    except (UnusableInput, OSError) as exc:
        log.error("每日清单 %s 未生成：%s", day.isoformat(), exc)
        return []
    log.info("已生成 %s 每日新登记清单：%s", day.isoformat(), "、".join(p.name for p in paths))
    return paths
