"""The blackboard page the watcher renders after every sync it makes."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from xlsync.sync import SyncOutcome
from xlsync.workspace import Workspace

log = logging.getLogger("xlsync.watch.board")


class BoardPart:
    """Renders `reports/<name>-看板.html` from a sync's check. Called with each outcome;
    the board is a view: a failure is logged and never stops the caller."""

    def __init__(
        self, workspace: Workspace, now: Callable[[], dt.datetime] = dt.datetime.now
    ) -> None:
        self.workspace = workspace
        self.now = now
        self.path: Path | None = None  # the page, once rendered

    def __call__(self, outcome: SyncOutcome) -> None:
        from xlsync.notify.outbox import failure_lines
        from xlsync.reports.build import board_from

        try:
            self.path = board_from(
                outcome.result, self.workspace.target, self.workspace.reports, self.now(),
                failure_lines(self.workspace.outbox_path),
            )  # fmt: skip
        except Exception as exc:  # the board is a view: never let it stop the watcher
            log.error("看板未更新：%s", exc)
