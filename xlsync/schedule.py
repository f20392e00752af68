"""The watcher's scheduled reports: last month's handout on the monthly day, the day's list
of new registrations at the daily hour.

Jobs missed while the watcher was stopped are caught up (the daily list for at most 31
days back); what was made is kept in `.xlsync/schedule.json`, written atomically. Reports
render in a thread of their own: a monthly handout takes seconds, and saves must not wait
for it. A report that fails is logged and stays due.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from xlsync.fileio import atomic_write
from xlsync.workspace import Workspace

log = logging.getLogger("xlsync.watch.schedule")


class Schedule:
    """The monthly and daily report jobs of one workspace."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        monthly_day: int = 1,
        daily_hour: int = 18,
        today: Callable[[], dt.date] = dt.date.today,
        now: Callable[[], dt.datetime] = dt.datetime.now,
        on_report: Callable[[str, str, list[Path]], object] | None = None,
    ) -> None:
        self.workspace = workspace
        # called after each report made: ("monthly", "YYYY-MM" | "daily", "YYYY-MM-DD", files)
        self.on_report = on_report or (lambda kind, period, files: None)
        self.monthly_day = monthly_day
        self.daily_hour = daily_hour
        self.today = today
        self.now = now
        self.written: list[tuple[str, Path]] = []  # ("monthly" | "daily", file) so far
        # called once before the first report of a run that has one due (the watcher lets go
        # of its last sync's check: each report reads and checks the registers again)
        self.before_reports: Callable[[], object] = lambda: None
        self._thread: threading.Thread | None = None

    # -- state -----------------------------------------------------------------------

    def _load(self) -> dict[str, str]:
        try:
            done = json.loads(self.workspace.schedule_file.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return (
            {k: v for k, v in done.items() if isinstance(v, str)} if isinstance(done, dict) else {}
        )

    def _save(self, done: dict[str, str]) -> None:
        atomic_write(self.workspace.schedule_file, json.dumps(done))

    # -- the jobs --------------------------------------------------------------------

    def run_due(self) -> None:
        """Make every report that is due now. The date is `today` (the --as-of date when
        one is given), the hour the clock's."""
        from xlsync.reports import jobs  # looked up at call time: tests replace the jobs

        done = self._load()
        now, today = self.now(), self.today()
        target, out = self.workspace.target, self.workspace.reports
        changed = False
        last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        prepared = False
        if today.day >= self.monthly_day and done.get("monthly") != last_month:
            self.before_reports()
            prepared = True
            written = jobs.run_monthly(
                target, last_month, out, log, today=today, workspace=self.workspace
            )
            if written:
                done["monthly"] = last_month
                changed = True
                self.written.extend(("monthly", p) for p in written)
                self.on_report("monthly", last_month, written)
        due = today if now.hour >= self.daily_hour else today - dt.timedelta(days=1)
        last = done.get("daily")
        start = dt.date.fromisoformat(last) + dt.timedelta(days=1) if last else due
        day = max(start, due - dt.timedelta(days=31))
        while day <= due:
            if not prepared:
                self.before_reports()
                prepared = True
            written = jobs.run_daily(target, day, out, log, workspace=self.workspace)
            if not written:
                break
            self.written.extend(("daily", p) for p in written)
            self.on_report("daily", day.isoformat(), written)
            done["daily"] = day.isoformat()
            changed = True
            day += dt.timedelta(days=1)
        if changed:
            self._save(done)

    # -- in the background -----------------------------------------------------------

    def start(self) -> None:
        """Run the due jobs in a thread of their own; one run at a time."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run_safely, name="xlsync-reports")
        self._thread.start()

    def join(self) -> None:
        """Wait for a run under way: a report half written is not left behind."""
        if self._thread is not None:
            self._thread.join()

    def _run_safely(self) -> None:
        try:
            self.run_due()
        except Exception as exc:  # a report must never stop the watcher
            log.error("定时报表出错：%s", exc)
