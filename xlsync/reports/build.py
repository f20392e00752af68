"""Produce the reports for a register or a folder: what the `report` commands and the
watcher's schedule call."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from xlsync.check import CheckResult, run_check
from xlsync.reports.data import build_board, build_daily, build_monthly, month_bounds
from xlsync.runtime import collector_paused
from xlsync.workspace import Workspace

if TYPE_CHECKING:
    from xlsync.reports.content import DailyReport, MonthlyReport
    from xlsync.settings import Settings

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')


def safe_name(text: str) -> str:
    """A file name part from data: nothing a file system or a shell could trip on."""
    cleaned = _UNSAFE.sub("_", text).strip(" .") or "register"
    return cleaned[:80]


def _base(target: Path) -> str:
    return safe_name(target.stem if target.is_file() else target.resolve().name)


def _company(result: CheckResult) -> str:
    return result.registers.settings.company


def monthly(target: Path, month: str, out: Path, *, today: dt.date | None = None,
            now: dt.datetime | None = None, mask: bool | None = None,
            workspace: Workspace | None = None) -> list[Path]:  # fmt: skip
    """The printed handout of `month`: `out/<name>-<month>.html` and `.pdf`."""
    # a handout builds millions of objects (rows, groups, cells): see xlsync.runtime
    with collector_paused():
        return _monthly(target, month, out, today=today, now=now, mask=mask,
                        workspace=workspace)  # fmt: skip


def _monthly(target: Path, month: str, out: Path, *, today: dt.date | None,
             now: dt.datetime | None, mask: bool | None,
             workspace: Workspace | None) -> list[Path]:  # fmt: skip
    from xlsync.reports.handout import build_handout
    from xlsync.reports.html import render_monthly_html
    from xlsync.reports.pdf import render_monthly_pdf

    report = _monthly_report(target, month, today=today, now=now, mask=mask,
                             workspace=workspace)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{_base(target)}-{month}"
    handout = build_handout(report)  # built once, drawn twice
    return [render_monthly_html(report, out / f"{stem}.html", handout),
            render_monthly_pdf(report, out / f"{stem}.pdf", handout)]  # fmt: skip


def _monthly_report(target: Path, month: str, *, today: dt.date | None,
                    now: dt.datetime | None, mask: bool | None,
                    workspace: Workspace | None) -> MonthlyReport:  # fmt: skip
    """The handout's data. The check it is made from is let go on return, before the
    pages are drawn (at 100,000 rows, some 50 MB less at the peak)."""
    first, last = month_bounds(month)
    as_of = min(last, today or dt.date.today())
    if as_of < first:
        as_of = last  # a month still to come: apply the rules at its end
    # the watcher's jobs group with its workspace's cache: the rows it synced a moment ago
    # are not prepared and grouped again for each report
    result = run_check(target, as_of, grouping=workspace.grouping if workspace else None)
    settings = result.registers.settings
    history = (workspace or Workspace.of(target)).existing_history()
    try:
        return build_monthly(
            result, month, company=_company(result),
            mask=settings.mask_phones if mask is None else mask,
            now=now or dt.datetime.now(), history=history,
        )  # fmt: skip
    finally:
        if history is not None:
            history.close()


def daily(target: Path, day: dt.date, out: Path, *, now: dt.datetime | None = None,
          mask: bool = False, as_of: dt.date | None = None,
          workspace: Workspace | None = None) -> list[Path]:  # fmt: skip
    """The day's new registrations: `out/<name>-<date>.xlsx` and `.html`."""
    from xlsync.reports.daily_xlsx import write_daily_xlsx
    from xlsync.reports.html import render_daily_html

    report, _settings = daily_report(target, day, now=now, mask=mask, as_of=as_of,
                                     workspace=workspace)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{_base(target)}-{day.isoformat()}"
    return [write_daily_xlsx(report, out / f"{stem}.xlsx"),
            render_daily_html(report, out / f"{stem}.html")]  # fmt: skip


def daily_report(target: Path, day: dt.date, *, now: dt.datetime | None = None,
                 mask: bool = False, as_of: dt.date | None = None,
                 workspace: Workspace | None = None) -> tuple[DailyReport, Settings]:  # fmt: skip
    """The day's new registrations as data, and the register's settings (its roster)."""
    result = run_check(target, as_of or day, grouping=workspace.grouping if workspace else None)
    history = (workspace or Workspace.of(target)).existing_history()
    try:
        report = build_daily(result, day, company=_company(result), mask=mask,
                             now=now or dt.datetime.now(), history=history)  # fmt: skip
    finally:
        if history is not None:
            history.close()
    return report, result.registers.settings


def report_base(target: Path) -> str:
    """The file name stem the reports of `target` start with."""
    return _base(target)


def board_from(result: CheckResult, target: Path, out: Path,
               now: dt.datetime | None = None, footer: Sequence[str] = ()) -> Path:  # fmt: skip
    """The blackboard page from a check already made (the watcher's, after a sync), with
    `footer` lines under it (what delivery could not send)."""
    import hashlib

    from xlsync.reports.html import render_board

    board = build_board(result, company=_company(result), now=now or dt.datetime.now())
    if footer:
        board.footer = list(footer)
        mixed = board.fingerprint + "\n".join(footer)
        board.fingerprint = hashlib.sha256(mixed.encode()).hexdigest()[:16]
    out.mkdir(parents=True, exist_ok=True)
    return render_board(board, out / f"{_base(target)}-看板.html")


def board(target: Path, out: Path, *, today: dt.date | None = None,
          now: dt.datetime | None = None) -> Path:  # fmt: skip
    return board_from(run_check(target, today or dt.date.today()), target, out, now)
