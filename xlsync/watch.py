"""`xlsync watch`: keep every register of a folder in sync, within a second of each save.

File events come from watchdog (native, or polling with `poll=True`). Office programs save
through temporary files and renames and fire several events per save, so the watcher waits
for a quiet period, then for the files' size and time to settle, then syncs the whole set
once. A half-written file is retried, an open register is deferred until its lock file goes,
the watcher's own writes do not wake it up again, and a periodic rescan (size, time, then
hash) is the truth where events are unreliable (SMB shares, cloud folders).

The watcher keeps its register set warm between saves (`xlsync.warm`, owned by its
`Workspace`): a save that changes nothing xlsync reads (the document properties every save
rewrites, a save without an edit) repeats the last sync that changed nothing, without reading
or judging; an edit is judged with the grouping cache's prepared rows. Under `run` the board
follows a sync once neither an event nor a sync came for `board_quiet` seconds (a burst of
saves is synced at once and drawn once, from the newest sync); the notices go out at once.

The watcher itself only turns change sets into syncs. What it does after a sync is a part
it calls (`on_synced`, by default the blackboard page, `xlsync.board`); the scheduled
reports are `xlsync.schedule.Schedule`; where things are is the `Workspace`; and the log
file is set up at the edge (`file_logging`, used by the command line).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING, overload

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from xlsync.board import BoardPart
from xlsync.check import others_note
from xlsync.errors import IncompleteFile, UnusableInput
from xlsync.history import EventKind
from xlsync.register_set import is_register_name
from xlsync.rulings import ruling_sentence
from xlsync.schedule import Schedule
from xlsync.sidecar import SIDECAR_FOLDER
from xlsync.sync import Stamp, SyncOutcome, sync
from xlsync.warm import sync_key
from xlsync.workspace import Workspace

if TYPE_CHECKING:
    from xlsync.notify.notifier import Notifier

log = logging.getLogger("xlsync.watch")


@contextmanager
def file_logging(path: Path) -> Iterator[logging.Handler]:
    """The watcher's lines (and its parts') also go to `path`, rotated, while in the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=1 << 20, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        handler.close()


@dataclass(slots=True)
class WatchConfig:
    debounce: float = 0.4  # quiet time after the last event before a sync
    settle: float = 0.1  # size and time must stay the same this long
    retry: float = 1.0  # wait before reading a half-written file again
    db_retry: float = 5.0  # while a shared database is down: how often to try again
    max_retries: int = 20
    rescan: float = 30.0  # seconds between rescans of the folder (size, time, hash)
    poll: bool = False  # polling observer instead of native events
    poll_interval: float = 1.0
    lock_check: float = 1.0  # how often deferred registers are looked at again
    backups: int = 20
    monthly_day: int = 1  # day of the month the last month's handout is made
    daily_hour: int = 18  # hour of the day the day's list is made
    schedule_check: float = 30.0
    scheduled: bool = True  # run the monthly and daily reports (off in some tests)
    # `run`: the board follows once no event came for this long after a sync, so a burst
    # of saves is synced at once and the board (seconds for a large register) rendered once
    board_quiet: float = 2.0


@dataclass(slots=True)
class _State:
    dirty: set[Path] = field(default_factory=set)
    last_event: float = 0.0
    not_before: float = 0.0
    retries: int = 0
    deferred: set[Path] = field(default_factory=set)
    own: dict[Path, tuple[int, int]] = field(default_factory=dict)  # what our writes left
    known: dict[Path, Stamp] = field(default_factory=dict)  # for the rescan
    history_pending: bool = False  # a shared database was down: sync again when it is back
    synced_at: float = 0.0  # when the last sync that ran ended (the board waits after it)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    # Reading a file (ours, a rep's, an antivirus scan) fires opened / closed_no_write:
    # only writes and renames can change a register.
    CHANGES = frozenset({"created", "modified", "moved", "deleted", "closed"})

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in self.CHANGES:
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self.watcher.notice(Path(str(raw)))


class SyncLog(Sequence[SyncOutcome]):
    """The watcher's syncs: how many there were (its length) and the newest outcome (index
    -1). Older outcomes are let go: each holds a whole check of the registers, and a
    watcher of a 100,000-row register keeping three grew past 1.5 GB after two edits."""

    KEEP = 1

    def __init__(self) -> None:
        self._count = 0
        self._recent: deque[SyncOutcome] = deque(maxlen=self.KEEP)

    def append(self, outcome: SyncOutcome) -> None:
        self._recent.append(outcome)
        self._count += 1

    def let_go(self) -> None:
        """Keep the count, no outcome."""
        self._recent.clear()

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> SyncOutcome: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[SyncOutcome]: ...

    def __getitem__(self, index: int | slice) -> SyncOutcome | Sequence[SyncOutcome]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        position = index + self._count if index < 0 else index
        kept = position - (self._count - len(self._recent))
        if not 0 <= position < self._count:
            raise IndexError("no such sync")
        if kept < 0:
            raise IndexError(f"sync {position} is no longer kept (the last {self.KEEP} are)")
        return self._recent[kept]


class Watcher:
    """Watches a register or a folder of registers; `run` until `stop` is set."""

    def __init__(
        self,
        target: Path,
        config: WatchConfig | None = None,
        *,
        today: Callable[[], dt.date] = dt.date.today,
        now: Callable[[], dt.datetime] = dt.datetime.now,
        on_status: Callable[[str], None] | None = None,
        on_synced: Callable[[SyncOutcome], None] | None = None,
        workspace: Workspace | None = None,
        schedule: Schedule | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.target = target.resolve()
        self.workspace = workspace or Workspace.of(self.target)
        self.workspace.offline = True  # a shared database down: keep syncing this office
        self.folder = self.workspace.folder
        self.config = config or WatchConfig()
        self.today = today
        self.now = now
        self.on_status = on_status or (lambda text: None)
        self._board = BoardPart(self.workspace, now)
        self.on_synced = on_synced or self._board  # called after every sync that ran
        self.notifier = notifier  # delivery (xlsync.notify): told of every sync and report
        self.schedule = schedule or Schedule(
            self.workspace,
            monthly_day=self.config.monthly_day,
            daily_hour=self.config.daily_hour,
            today=today,
            now=now,
            on_report=notifier.reported if notifier is not None else None,
        )
        self.schedule.before_reports = self._before_reports
        self.syncs = SyncLog()
        self.events = 0
        self.last_seen = ""  # the name of the last file event received (for tests and status)
        self._busy = False  # a sync is under way
        self._board_due: SyncOutcome | None = None  # `run`: the sync whose board is to follow
        self._background = False  # under `run` (the board waits for a quiet moment)
        self._state = _State()
        self._lock = threading.Lock()

    @property
    def board(self) -> Path | None:
        """The blackboard page, once rendered."""
        return self._board.path

    @property
    def reports(self) -> list[tuple[str, Path]]:
        """The scheduled reports written: ("monthly" | "daily", file)."""
        return self.schedule.written

    # ------------------------------------------------------------------ events

    def _registers(self) -> list[Path]:
        return self.workspace.registers()

    @property
    def idle(self) -> bool:
        """Nothing to sync and no sync under way: every event received so far is handled."""
        with self._lock:
            return not self._busy and not self._state.dirty

    def notice(self, path: Path) -> None:
        """A file event: mark the register it concerns as changed."""
        self.last_seen = path.name
        if path.parent.resolve() != self.folder:
            return  # .xlsync/ (backups, history, log), xlsync报告/, subfolders
        name = path.name
        register: Path | None = None
        if is_register_name(name):
            register = self.folder / name
        else:
            register = self.workspace.register_of_lock(name)
            if register is not None and register not in self._state.deferred:
                register = None  # somebody opened a register: nothing to do until they save
        if register is None:
            return
        if not self.target.is_dir() and register != self.target:
            return
        with self._lock:
            self.events += 1
            self._state.dirty.add(register)
            self._state.last_event = time.monotonic()

    # ------------------------------------------------------------------ the loop

    def once(self) -> SyncOutcome | None:
        """One pass: sync every register, render the board and the reports that are due
        (as of `today`), then return the sync's outcome. None when nothing could be read
        at all (the reason is logged). It holds that outcome while the reports run;
        `xlsync watch --once` runs the halves itself (`sync_pass`, `reports_due`) and does
        not."""
        outcome = self.sync_pass()
        self.reports_due()
        return outcome

    def sync_pass(self) -> SyncOutcome | None:
        """The first half of `once`: sync every register and render the board."""
        log.info("同步一次 %s", self.target)
        before = len(self.syncs)
        with self._lock:
            self._state.dirty.update(self._registers())
        if self._state.dirty:
            self._sync_now()
        return self.syncs[-1] if len(self.syncs) > before else None

    def reports_due(self) -> None:
        """The second half of `once`: the reports that are due, as of `today`."""
        if self.config.scheduled:
            self._scheduled()

    def let_go(self, *, board: bool = True) -> None:
        """Keep no sync outcome (each holds a whole check of the registers): before a sync
        that is not a repeat builds its own, so that a watcher of a 100,000-row register
        never holds two, and before the due reports. With `board=False`, a board still
        waiting for the saves to pause keeps its outcome (see `_before_reports`)."""
        with self._lock:
            self.syncs.let_go()
            if board:
                self._board_due = None
        self.workspace.warm.forget()

    def _before_reports(self) -> None:
        """`Schedule.before_reports` (in the report thread under `run`): each due report
        reads and checks the registers again, not on top of the last sync's check."""
        self.let_go(board=False)

    def run(self, stop: threading.Event) -> None:
        observer = (
            PollingObserver(timeout=self.config.poll_interval) if self.config.poll else Observer()
        )
        observer.schedule(_Handler(self), str(self.folder), recursive=False)
        observer.start()
        log.info("开始监视 %s（%s）", self.target, "轮询" if self.config.poll else "文件事件")
        with self._lock:
            self._state.dirty.update(self._registers())  # the start-up sync
            self._state.last_event = 0.0
        next_rescan = time.monotonic() + self.config.rescan
        next_lock_check = 0.0
        next_schedule = 0.0
        next_db_retry = 0.0
        self.workspace.watch_others(self.recheck, stop)  # a shared database: other offices
        self._background = True
        try:
            while not stop.is_set():
                moment = time.monotonic()
                if self._due(moment):
                    self._sync_now()
                elif self._board_due is not None and self._quiet(moment):
                    self._render_board()
                if self._state.history_pending and moment >= next_db_retry:
                    self.recheck()  # write the history once the database is back
                    next_db_retry = moment + self.config.db_retry
                if self._state.deferred and moment >= next_lock_check:
                    self._check_deferred()
                    next_lock_check = moment + self.config.lock_check
                if moment >= next_rescan:
                    self._rescan()
                    next_rescan = moment + self.config.rescan
                if self.config.scheduled and moment >= next_schedule:
                    self.schedule.start()
                    next_schedule = moment + self.config.schedule_check
                stop.wait(0.05)
        finally:
            observer.stop()
            observer.join(timeout=5)
            self._background = False
            self._render_board()  # the board shows the last sync
            self.schedule.join()  # a report half written is not left behind
            log.info("停止监视 %s", self.target)

    def recheck(self) -> None:
        """Sync every register again although none changed (another office's rows that
        share a customer changed, or the database is back); safe from any thread."""
        self.workspace.warm.forget()
        with self._lock:
            for path in self._registers():
                path = path.resolve()
                self._state.dirty.add(path)
                self._state.own.pop(path, None)

    def _due(self, moment: float) -> bool:
        state = self._state
        with self._lock:
            if not state.dirty or moment < state.not_before:
                return False
            if moment - state.last_event < self.config.debounce:
                return False
            dirty = set(state.dirty)
        # our own write, seen by the observer: nothing changed since we wrote it
        changed = {p for p in dirty if not p.exists() or _quick(p) != state.own.get(p)}
        if not changed:
            with self._lock:
                state.dirty -= dirty
            return False
        before = {p: _quick(p) for p in changed if p.exists()}
        time.sleep(self.config.settle)
        after = {p: _quick(p) for p in changed if p.exists()}
        if before != after:  # still being written
            with self._lock:
                state.last_event = time.monotonic()
            return False
        return True

    def _sync_now(self) -> None:
        state = self._state
        with self._lock:
            handled = set(state.dirty)
            state.dirty.clear()
            self._busy = True
        try:
            self._sync(handled)
        finally:
            with self._lock:
                self._busy = False

    def _sync(self, handled: set[Path]) -> None:
        state = self._state
        names = ", ".join(sorted(p.name for p in handled))
        log.info("同步中：%s", names)
        self.on_status(f"同步中：{names}")
        warm = self.workspace.warm
        as_of = self.today()
        before = sync_key(self.workspace, as_of)
        repeated = warm.repeat(before)
        if repeated is None:
            # this sync builds a whole new check of the set, and its board replaces any
            # board still waiting: the last check is let go first
            self.let_go()
        try:
            outcome = repeated or sync(
                self.target,
                as_of,
                backups=self.config.backups,
                now=self.now(),
                workspace=self.workspace,
            )
        except IncompleteFile as exc:
            self._retry(handled, exc.line())
            return
        except UnusableInput as exc:
            log.error("%s", exc.line())
            self.on_status(f"无法同步：{exc.message}")
            return
        except OSError as exc:  # permission denied, disk full: keep watching
            log.error("xlsync: %s: 写入失败：%s", self.target, exc)
            self.on_status(f"写入失败：{exc}")
            return
        if repeated is None:
            warm.remember(before, sync_key(self.workspace, as_of), outcome)
        self.syncs.append(outcome)
        if outcome.history_pending and not state.history_pending:
            log.warning("数据库暂不可用：本办事处照常同步，历史记录和新编号待数据库恢复后补上")
        elif state.history_pending and not outcome.history_pending:
            log.info("数据库已恢复：历史记录已补上")
        state.history_pending = outcome.history_pending
        if outcome.result.others_stale is not None:
            log.warning("%s", others_note(outcome.result))
        incomplete = [u for u in outcome.result.registers.unusable if isinstance(u, IncompleteFile)]
        for bad in outcome.result.registers.unusable:
            if not isinstance(bad, IncompleteFile):
                log.warning("%s", bad.line())
        if incomplete:
            self._retry({u.path.resolve() for u in incomplete}, incomplete[0].line())
        else:
            state.retries = 0
        state.deferred = {f.path.resolve() for f in outcome.deferred}
        for f in outcome.files:
            path = f.path.resolve()
            if path.exists():
                state.known[path] = Stamp.of(path)
                if f.written:
                    state.own[path] = _quick(path)  # events for this version are our own
                elif f.deferred is not None:
                    state.own.pop(path, None)  # must be synced again when it is closed
            if f.written:
                plan = f.plan
                log.info(
                    "已更新 %s：新编号 %d，移动 %d 行，提示 %d 行，冲突 %d 条，问题 %d 条",
                    path.name, len(plan.new_ids), len(plan.moves), len(plan.hints),
                    len(plan.conflicts), len(plan.problems),
                )  # fmt: skip
            elif f.deferred is not None:
                log.info("暂缓 %s：%s", path.name, f.deferred.describe())
            elif f.refused is not None:
                log.warning("不能写入 %s：%s（结果见 %s）", path.name, f.refused, f.sidecar)
            for e in f.events:
                if e.kind is EventKind.DELETED:
                    log.warning(
                        "%s：编号 %s 的行已被删除（可用 xlsync restore 恢复）", path.name, e.id
                    )
                elif e.kind is EventKind.RULING:  # recorded once: only new rulings show
                    log.info("%s：裁决第 %d 行：%s", path.name, e.row, ruling_sentence(e.detail))
        if repeated is not None:
            # the same result as the last sync's: the board and the notices already have it
            log.info("无变化：%s 与上次同步时相同，未重新检查", names)
        else:
            if self.notifier is not None:
                self.notifier.synced(outcome)
            with self._lock:
                self._board_due = outcome
                self._state.synced_at = time.monotonic()
            if not self._background:
                self._render_board()
        for copy, original in outcome.result.registers.copies.items():
            log.warning("%s 是 %s 的同步冲突副本，未合并，请人工处理", copy, original)
        stamp = self.now().strftime("%H:%M:%S")
        waiting = f"，{len(state.deferred)} 个被打开，关闭后写入" if state.deferred else ""
        self.on_status(f"监视中 {self.target.name}：上次同步 {stamp}{waiting}")

    def _quiet(self, moment: float) -> bool:
        """Nothing to sync, and neither an event nor a sync for `board_quiet` seconds."""
        with self._lock:
            state = self._state
            last = max(state.last_event, state.synced_at)
            return not state.dirty and moment - last >= self.config.board_quiet

    def _render_board(self) -> None:
        """`on_synced` (the board) with the newest sync whose board has not followed yet."""
        with self._lock:
            outcome, self._board_due = self._board_due, None
        if outcome is not None:
            self.on_synced(outcome)

    def _retry(self, paths: set[Path], why: str) -> None:
        state = self._state
        state.retries += 1
        if state.retries > self.config.max_retries:
            log.error("%s（已重试 %d 次，等待下一次保存）", why, self.config.max_retries)
            state.retries = 0
            return
        log.info("%s；%.1f 秒后重试", why, self.config.retry)
        with self._lock:
            state.dirty |= paths
            state.not_before = time.monotonic() + self.config.retry

    def _check_deferred(self) -> None:
        free = {p for p in self._state.deferred if self.workspace.lock_of(p) is None}
        if free:
            with self._lock:
                self._state.dirty |= free
                self._state.deferred -= free

    def _rescan(self) -> None:
        """Size and time first, then the hash: events from other machines may never come."""
        state = self._state
        for path in self._registers():
            path = path.resolve()
            quick = _quick(path)
            known = state.known.get(path)
            if known is not None and (known.size, known.mtime_ns) == quick:
                continue
            stamp = Stamp.of(path)
            if known is None or stamp.sha256 != known.sha256:
                with self._lock:
                    state.dirty.add(path)
            state.known[path] = stamp

    # ------------------------------------------------------------------ scheduled reports

    def _scheduled(self) -> None:
        """The reports that are due, now, in this thread (see `Schedule.run_due`)."""
        self.schedule.run_due()


def _quick(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1)
    return (stat.st_size, stat.st_mtime_ns)


__all__ = ["SIDECAR_FOLDER", "WatchConfig", "Watcher", "file_logging"]
