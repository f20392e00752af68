"""`xlsync sync`: check, plan, and write the plan back safely.

For each register whose plan is not empty: refuse if a person has it open (lock file) or
if a part could not be written back safely; otherwise write the patched package to a
temporary file beside it, read that back to verify it, copy the current file into the
backup folder, make sure the register did not change since it was read (else start over),
and replace it atomically. Every sync is recorded in the history store of the register
set's `Workspace`.

`restore_row` puts a deleted row back and syncs again so that the row's conflicts and
problems are shown at once; `sync_json` is the `--json` form of an outcome.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from xlsync.agents import read_agents
from xlsync.check import CheckResult, GroupingCache, check_registers, deleted_lookup
from xlsync.errors import UnusableInput
from xlsync.history import (
    DatabaseUnavailable,
    Event,
    EventKind,
    HistoryStore,
    PublishingStore,
    RowSnapshot,
    RulingRecord,
    TransactionalStore,
)
from xlsync.locks import Lock
from xlsync.plan import Plan, Restore, build_plans, first_free_row, make_room, next_id_number
from xlsync.records import OfficeRuling, OtherOffices, Register, Row
from xlsync.register.reader import read_register
from xlsync.register.schema import SHEET_NAMES, SheetKind
from xlsync.register.writer import apply_plan, free_sheet_name
from xlsync.register_set import load_set
from xlsync.rulings import RulingKind, ruling_record
from xlsync.runtime import collector_paused
from xlsync.sidecar import write_sidecar
from xlsync.workspace import Workspace
from xlsync.xlsx.package import PackageError, verify_written

log = logging.getLogger(__name__)

DEFAULT_BACKUPS = 20
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a file was when it was read: size, modification time and content hash."""

    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> Stamp:
        stat = path.stat()
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return cls(stat.st_size, stat.st_mtime_ns, digest.hexdigest())


class ChangedMeanwhile(Exception):
    """The register changed between reading and writing: the sync starts over."""


@dataclass(slots=True)
class FileOutcome:
    path: Path
    plan: Plan
    written: bool = False
    backup: Path | None = None
    deferred: Lock | None = None
    refused: str | None = None
    sidecar: Path | None = None
    notes: list[str] = field(default_factory=list)  # e.g. 问题 written under another name
    events: list[Event] = field(default_factory=list)


@dataclass(slots=True)
class SyncOutcome:
    result: CheckResult
    files: list[FileOutcome]
    attempts: int
    # a shared database was down: this sync's history (and new 编号) wait for it
    history_pending: bool = False

    @property
    def deferred(self) -> list[FileOutcome]:
        return [f for f in self.files if f.deferred is not None]

    @property
    def refused(self) -> list[FileOutcome]:
        return [f for f in self.files if f.refused is not None]

    @property
    def written(self) -> bool:
        return any(f.written for f in self.files)


@dataclass(frozen=True, slots=True)
class RestoreOutcome:
    """`restore_row`: the sync that put the row back, and the sync after it that shows the
    row's conflicts and problems (None when the row could not be written back now)."""

    restored: SyncOutcome
    after: SyncOutcome | None


def sync_json(outcome: SyncOutcome) -> dict[str, object]:
    """What `xlsync sync --json` prints."""
    return {
        "as_of": outcome.result.as_of.isoformat(),
        "files": [
            {
                "file": f.path.name,
                "written": f.written,
                "backup": str(f.backup) if f.backup else None,
                "deferred": f.deferred.describe() if f.deferred else None,
                "refused": f.refused,
                "sidecar": str(f.sidecar) if f.sidecar else None,
                "plan": f.plan.summary(),
                "events": [
                    {"id": e.id, "kind": e.kind.value, "sheet": e.sheet, "row": e.row}
                    for e in f.events
                ],
            }
            for f in outcome.files
        ],
    }


def sync(
    target: Path | str,
    as_of: dt.date,
    *,
    backups: int = DEFAULT_BACKUPS,
    now: dt.datetime | None = None,
    restore: str | None = None,
    workspace: Workspace | None = None,
) -> SyncOutcome:
    """Sync a register or every register of a folder. Raises UnusableInput (exit 2).

    With `restore`, the deleted row with that 编号 is first put back at the end of its sheet.
    `workspace` (default: the target's own) gives the history store and the backups, and
    keeps what was recorded between the syncs of one caller.
    """
    target = Path(target)
    ws = workspace or Workspace.of(target)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with ws.sync_lock(_register_paths(target)):  # another watcher of the set waits
                return _sync_once(target, ws, as_of, backups, now or dt.datetime.now(),
                                  attempt, restore)  # fmt: skip
        except ChangedMeanwhile:
            continue
    raise UnusableInput(target, f"登记表在同步过程中被反复修改（{MAX_ATTEMPTS} 次），请稍后再试")


def _sync_once(
    target: Path,
    ws: Workspace,
    as_of: dt.date,
    backups: int,
    now: dt.datetime,
    attempt: int,
    restore: str | None = None,
) -> SyncOutcome:
    """One attempt, with the cyclic collector paused (xlsync.runtime): the register and the
    check, built once and kept to the end, would otherwise be walked again and again by its
    full passes while the sync writes and records (a second of a 20,000-row first sync)."""
    with collector_paused():
        return _sync_settled(target, ws, as_of, backups, now, attempt, restore)


def _sync_settled(
    target: Path,
    ws: Workspace,
    as_of: dt.date,
    backups: int,
    now: dt.datetime,
    attempt: int,
    restore: str | None,
) -> SyncOutcome:
    _remove_stale_temps(ws.folder)
    files = _register_paths(target)
    stamps = {path: Stamp.of(path) for path in files}
    registers = load_set(target, keep_values=True)
    for register in registers.registers:
        if Stamp.of(register.path) != stamps.get(register.path):
            raise ChangedMeanwhile
    others = ws.other_offices()  # a shared database: the other offices' rows
    deleted = deleted_lookup(ws)  # from this workspace's own history store
    result = check_registers(
        str(target), registers, as_of, deleted, grouping=ws.grouping, others=others
    )
    missing = sum(1 for r in result.rows if not r.id)
    with ExitStack() as stack:
        history = _open_history(ws, stack)  # None: the shared database is down (watcher)
        at_least = next_id_number(registers.registers)
        ids = _reserve(ws, history, missing, at_least) if missing and history else []
        plans = build_plans(result, ids)
        if any(plan.ruling_appends for plan in plans):
            result, plans = _count_decisions(str(target), result, plans, ids, ws.grouping, others)
        if restore is not None:
            if history is None:
                raise UnusableInput(target, "数据库暂不可用，无法从历史记录中恢复")
            _plan_restore(restore, plans, history, result)
        outcomes = [FileOutcome(plan.register.path, plan) for plan in plans]
        for outcome in outcomes:
            _apply(outcome, ws, stamps[outcome.path], backups, now)
        if history is None:
            return SyncOutcome(result, outcomes, attempt, history_pending=True)
        ruled = _ruling_records(result, outcomes)
        recorded: list[tuple[str, str]] = []
        try:
            with _one_transaction(history):  # the sync's history is kept whole, or not at all
                _record(history, ws, outcomes, ruled, now, as_of, recorded)
                if isinstance(history, PublishingStore):
                    _publish(history, result, outcomes, [name for name, _ in recorded], now)
        except DatabaseUnavailable as exc:
            if not ws.offline:
                raise
            log.warning("%s；历史记录待数据库恢复后写入", exc.message)
            return SyncOutcome(result, outcomes, attempt, history_pending=True)
        for name, digest in recorded:  # only once committed
            ws.recorded.remember(name, digest)
    return SyncOutcome(result, outcomes, attempt)


def _open_history(ws: Workspace, stack: ExitStack) -> HistoryStore | None:
    """The history store, or None when a shared database is down and `ws.offline`: this
    office syncs on without new 编号, and its history is written when the database is back
    (the next sync compares with the last snapshot recorded: nothing lost or doubled)."""
    try:
        return stack.enter_context(ws.history())
    except DatabaseUnavailable as exc:
        if not ws.offline:
            raise
        log.warning("%s；本办事处照常同步，新编号和历史记录待数据库恢复后补上", exc.message)
        return None


def _reserve(ws: Workspace, history: HistoryStore, count: int, at_least: int) -> list[str]:
    try:
        return history.reserve_ids(ws.folder.name, count, at_least)
    except DatabaseUnavailable:
        if not ws.offline:
            raise
        return []  # the rows get their 编号 at the first sync after the database is back


def _publish(
    store: PublishingStore,
    result: CheckResult,
    outcomes: list[FileOutcome],
    files: list[str],
    now: dt.datetime,
) -> None:
    """Publish the rows of the files just recorded, with their 编号, for other offices;
    with each the office rule (cap, cool-down) that took its protection here, if one did."""
    limits: dict[tuple[str, str, int], str] = {
        (c.row.file, c.row.sheet, c.row.row): c.protection.limit
        for g in result.groups + result.ruled + result.limited
        for c in g.decision.claims
        if c.protection.limit in ("cap", "cool_down") and not c.row.office
    }
    for outcome in outcomes:
        name = outcome.path.name
        if name not in files:
            continue
        new_ids = outcome.plan.new_ids if outcome.written else {}
        rows = [
            (row, row.id or new_ids.get((row.kind, row.row), ""))
            for row in result.rows
            if row.file == name
        ]
        days = result.registers.settings.protection_days
        mine = {(sheet, row): why for (file, sheet, row), why in limits.items() if file == name}
        store.publish(name, rows, days, result.as_of, now, mine)
    if files:  # the rulings as they resolved, rows by 编号, for the other offices' checks
        store.publish_rulings(_office_rulings(result, outcomes), now)
        store.publish_agents(read_agents(result.registers.registers, []), now)
    if result.is_folder:  # a register gone from the folder is no longer anyone's claim
        registers = result.registers
        store.retire(
            [r.name for r in registers.registers] + [u.path.name for u in registers.unusable]
        )


def _one_transaction(history: HistoryStore) -> AbstractContextManager[None]:
    return history.transaction() if isinstance(history, TransactionalStore) else nullcontext()


def _record(
    history: HistoryStore,
    ws: Workspace,
    outcomes: list[FileOutcome],
    ruled: dict[str, list[RulingRecord]],
    now: dt.datetime,
    as_of: dt.date,
    recorded: list[tuple[str, str]],
) -> None:
    """Record each file's snapshot and events (`recorded`: the digests recorded)."""
    for outcome in outcomes:
        snapshot, moved, moved_from = _snapshot(outcome)
        rulings = ruled.get(outcome.path.name, [])
        digest = _digest(snapshot, rulings)
        if outcome.plan.empty and ws.recorded.is_same(outcome.path.name, digest):
            continue  # this workspace recorded exactly this snapshot last time: nothing new
        recorded.append((outcome.path.name, digest))
        _sync_id, events = history.record_sync(
            outcome.path.name,
            now,
            as_of,
            outcome.plan.summary() | {"written": outcome.written},
            snapshot,
            moved=moved,
            restored={r.id for r in outcome.plan.restores} if outcome.written else None,
            moved_from=moved_from,
            rulings=rulings,
        )
        # the history holds each new row's values; the outcome keeps the event without
        # them (after a first sync of 100,000 rows it would carry every row a second time)
        outcome.events = [
            dataclasses.replace(e, detail={}) if e.kind is EventKind.NEW else e for e in events
        ]


def _digest(snapshot: list[RowSnapshot], rulings: list[RulingRecord]) -> str:
    """sha256 of `repr((snapshot, rulings))`, fed a row at a time: the text of 100,000
    rows' values is never one string (it was some 40 MB at the peak of a first sync)."""
    digest = hashlib.sha256(b"([")
    for i, row in enumerate(snapshot):
        digest.update(b", %s" % repr(row).encode() if i else repr(row).encode())
    digest.update(b"], %s)" % repr(rulings).encode())
    return digest.hexdigest()


def _id_of(outcomes: list[FileOutcome]) -> Callable[[Row], str]:
    """A row's 编号, including the 编号 this sync wrote into new rows."""
    new_ids = {
        (f.plan.register.name, kind, number): row_id
        for f in outcomes
        if f.written
        for (kind, number), row_id in f.plan.new_ids.items()
    }

    def id_of(row: Row) -> str:
        return row.id or new_ids.get((row.file, row.kind, row.row), "")

    return id_of


def _office_rulings(result: CheckResult, outcomes: list[FileOutcome]) -> list[OfficeRuling]:
    """The applied rulings of the set as they resolved, for the other offices."""
    id_of = _id_of(outcomes)
    days = result.registers.settings.protection_days
    out: list[OfficeRuling] = []
    for r in result.rulings.rulings:
        if not r.applied or r.bad or r.kind is None or r.date is None:
            continue
        timed = r.kind in (RulingKind.ASSIGN, RulingKind.RELEASE)
        until = r.event(days).until if timed else None
        ids = tuple(dict.fromkeys(i for x in r.rows if (i := id_of(x))))
        other = tuple(dict.fromkeys(i for x in r.other_rows if (i := id_of(x))))
        if ids:
            out.append(OfficeRuling(r.file, r.sheet, r.row, r.kind.value, r.date, r.rep, until,
                                    ids, other))  # fmt: skip
    return out


def _ruling_records(
    result: CheckResult, outcomes: list[FileOutcome]
) -> dict[str, list[RulingRecord]]:
    """The applied rulings of each file's 裁决, for the history (which keeps the new ones).
    Rows are named by 编号, including the 编号 this sync wrote into new rows."""
    id_of = _id_of(outcomes)
    out: dict[str, list[RulingRecord]] = {}
    for ruling in result.rulings.rulings:
        if ruling.applied and not ruling.bad:
            out.setdefault(ruling.file, []).append(ruling_record(ruling, id_of))
    return out


def _count_decisions(
    target: str,
    result: CheckResult,
    plans: list[Plan],
    ids: list[str],
    grouping: GroupingCache,
    others: OtherOffices | None = None,
) -> tuple[CheckResult, list[Plan]]:
    """Plan again as if the decisions this sync appends to 裁决 (from 待确认) were already
    there, so that this sync's hints, conflicts and 待确认 show their effect and the next
    sync has nothing left to do. The registers are read once: the second pass sees them
    with the appended rows added to their 裁决 grid, in the rows the writer will use."""
    from xlsync.plan_render import ruling_cells
    from xlsync.rulings import RULING_COLUMNS, find_ruling_header

    registers: list[Register] = []
    for plan in plans:
        reg = plan.register
        if plan.ruling_appends:
            found = reg.manager_grids.get(SheetKind.RULINGS)
            header = find_ruling_header(found[1]) if found is not None else None
            if found is None or header is None:
                # the writer adds a new sheet: the contract's headers, then the decisions
                names = [*reg.sheet_names, *(n for n, _ in reg.manager_grids.values())]
                name = free_sheet_name(names, SheetKind.RULINGS)
                grid: list[list[object]] = [[c.header for c in RULING_COLUMNS]]
                columns = {c.key: i for i, c in enumerate(RULING_COLUMNS)}
            else:
                name, grid = found[0], list(found[1])
                columns = header[1]
            width = max(columns.values()) + 1
            for append in plan.ruling_appends:
                cells: list[object] = [None] * width
                for column, value in zip(RULING_COLUMNS, ruling_cells(append), strict=True):
                    if column.key in columns and value not in ("", None):
                        # as the reader will give them back: a date cell as a date
                        keep = isinstance(value, dt.date)
                        cells[columns[column.key]] = value if keep else str(value)
                grid.append(cells)
            grids = {**reg.manager_grids, SheetKind.RULINGS: (name, grid)}
            reg = dataclasses.replace(reg, manager_grids=grids)
        registers.append(reg)
    counted = dataclasses.replace(result.registers, registers=registers)
    again = check_registers(target, counted, result.as_of, grouping=grouping, others=others)
    replanned = build_plans(again, ids)
    for first, second in zip(plans, replanned, strict=True):
        # write against the registers as read, and append each decision once
        second.register = first.register
        second.ruling_appends = first.ruling_appends
    return again, replanned


def restore_row(
    target: Path | str,
    row_id: str,
    as_of: dt.date,
    *,
    backups: int = DEFAULT_BACKUPS,
    now: dt.datetime | None = None,
    workspace: Workspace | None = None,
) -> RestoreOutcome:
    """Put the deleted row `row_id` back, then sync again: the row takes part in the checks
    only once it is in the register, so its hints, conflicts and problems come from the
    second pass. Raises UnusableInput (exit 2) for an id that is present or unknown."""
    ws = workspace or Workspace.of(target)
    row_id = row_id.strip().upper()
    first = sync(target, as_of, backups=backups, now=now, restore=row_id, workspace=ws)
    if first.deferred or first.refused:
        return RestoreOutcome(first, None)
    return RestoreOutcome(first, sync(target, as_of, backups=backups, now=now, workspace=ws))


def _plan_restore(
    row_id: str, plans: list[Plan], history: HistoryStore, result: CheckResult
) -> None:
    existing = next((r for r in result.rows if r.id == row_id), None)
    if existing is not None:
        raise UnusableInput(
            existing.file, f"编号 {row_id} 还在「{existing.sheet}」第 {existing.row} 行，无需恢复"
        )
    last = history.last_values(row_id)
    if last is None:
        raise UnusableInput(result.target, f"历史记录中没有编号 {row_id}")
    plan = next((p for p in plans if p.register.name == last.file), None)
    if plan is None:
        raise UnusableInput(result.target, f"编号 {row_id} 原在 {last.file}，该文件不在这里")
    reg = plan.register
    coop = reg.sheets.get(SheetKind.COOPERATING)
    kind = SheetKind.COOPERATING if coop is not None and last.sheet == coop.name else (
        SheetKind.FOLLOWING)  # fmt: skip
    sheet = reg.sheets[kind]
    row = first_free_row(sheet)
    if kind is SheetKind.COOPERATING:
        row = max([row, *(m.target + 1 for m in plan.moves)])
    plan.restores.append(Restore(kind, row, row_id, dict(last.values)))
    make_room(plan, kind)


def _register_paths(target: Path) -> list[Path]:
    if target.is_dir():
        from xlsync.register_set import register_files

        return register_files(target)
    return [target]


def _apply(
    outcome: FileOutcome, ws: Workspace, stamp: Stamp, backups: int, now: dt.datetime
) -> None:
    plan = outcome.plan
    if plan.empty:
        return
    path = outcome.path
    lock = ws.lock_of(path)
    if lock is not None:
        outcome.deferred = lock
        outcome.sidecar = write_sidecar(plan, now)
        return
    try:
        tmp = _temp_beside(path)
    except OSError as exc:
        raise UnusableInput(path, _os_message(exc, "无法在登记表所在文件夹写临时文件")) from None
    try:
        try:
            written = apply_plan(plan, path, tmp)
            _fsync(tmp)
            _verify(plan, tmp)
            faults = verify_written(path, tmp, written.changed)
            if faults:
                raise PackageError(
                    "写出的文件未通过检查（" + "；".join(faults[:3]) + "），已放弃写入，"
                    "这是 xlsync 的缺陷，请把登记表发给维护者"
                )
        except PackageError as exc:
            outcome.refused = str(exc)
            outcome.sidecar = write_sidecar(plan, now)
            return
        except OSError as exc:
            raise UnusableInput(path, _os_message(exc, "写入失败")) from None
        except Exception as exc:  # a bug in the patcher: never damage, report it as one
            log.exception("internal error while writing %s", path)
            outcome.refused = (
                f"内部错误 {type(exc).__name__}: {exc}（xlsync 的缺陷，登记表没有改动；"
                "请把登记表发给维护者）"
            )
            outcome.sidecar = write_sidecar(plan, now)
            return
        outcome.notes = written.notes
        shutil.copymode(path, tmp)
        if Stamp.of(path) != stamp:
            raise ChangedMeanwhile
        try:
            outcome.backup = _backup(path, ws.backups, backups, now)
        except OSError as exc:
            raise UnusableInput(path, _os_message(exc, "无法备份登记表，未写入")) from None
        if ws.lock_of(path) is not None or Stamp.of(path) != stamp:
            raise ChangedMeanwhile
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise UnusableInput(path, _os_message(exc, "无法替换登记表")) from None
        _fsync_dir(path.parent)
        outcome.written = True
    finally:
        if tmp.exists():
            tmp.unlink()


def _os_message(exc: OSError, what: str) -> str:
    """A Chinese sentence for a failed write; the register itself is untouched."""
    if exc.errno == errno.ENOSPC:
        reason = "磁盘空间不足"
    elif isinstance(exc, PermissionError):
        reason = "没有写入权限（文件或文件夹只读，或被其他程序锁定）"
    else:
        reason = exc.strerror or str(exc)
    return f"{what}：{reason}；登记表没有改动"


def _remove_stale_temps(folder: Path, older_than: float = 600) -> None:
    """Temp files a killed sync left behind (the register itself was never touched)."""
    limit = dt.datetime.now().timestamp() - older_than
    for stale in folder.glob(".~xlsync-*.tmp"):
        try:
            if stale.stat().st_mtime < limit:
                stale.unlink()
        except OSError:
            pass


def _temp_beside(path: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=".~xlsync-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


def _fsync(path: Path) -> None:
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform (Windows): os.replace is atomic anyway
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _verify(plan: Plan, written: Path) -> None:
    """Read the written file back: every customer row must still be there."""
    try:
        after = read_register(written, rows_only=True)
    except UnusableInput as exc:
        raise PackageError(f"写出的文件无法读回（{exc.message}），已放弃写入") from None
    before = plan.register
    count_before = len(before.rows) + len(plan.restores)
    count_after = len(after.rows)
    if count_before != count_after:
        raise PackageError(
            f"写出的文件行数不对（原 {count_before} 行，写出 {count_after} 行），已放弃写入"
        )
    coop = after.sheets.get(SheetKind.COOPERATING)
    moved = {m.target for m in plan.moves}
    if moved and (coop is None or not moved <= {r.row for r in coop.rows}):
        raise PackageError("已成交的行没有出现在「已合作」中，已放弃写入")


def _backup(path: Path, folder: Path, keep: int, now: dt.datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{path.stem}.{now:%Y%m%d-%H%M%S-%f}{path.suffix}"
    for leftover in folder.glob(f".{path.stem}.*.partial"):  # from a sync killed mid-copy
        leftover.unlink(missing_ok=True)
    partial = folder / f".{dest.name}.partial"
    shutil.copy2(path, partial)
    _fsync(partial)
    os.replace(partial, dest)  # a backup is whole or absent, even if we are killed here
    old = sorted(folder.glob(f"{path.stem}.*{path.suffix}"))
    for stale in old[: max(len(old) - keep, 0)]:
        stale.unlink(missing_ok=True)
    return dest


Place = tuple[str, int]  # sheet name, Excel row


def _snapshot(outcome: FileOutcome) -> tuple[list[RowSnapshot], dict[str, Place], dict[str, Place]]:
    """The rows of the register as they are after this sync (by 编号), for the history."""
    plan = outcome.plan
    reg = plan.register
    moves = {m.source: m for m in plan.moves} if outcome.written else {}
    moved_to = {source: m.target for source, m in moves.items()}
    coop_name = (
        reg.sheets[SheetKind.COOPERATING].name
        if SheetKind.COOPERATING in reg.sheets
        else SHEET_NAMES[SheetKind.COOPERATING]
    )
    rows: list[RowSnapshot] = []
    moved: dict[str, Place] = {}
    moved_from: dict[str, Place] = {}
    seen: set[str] = set()
    for restore in plan.restores if outcome.written else []:
        sheet_name = reg.sheets[restore.kind].name
        rows.append(RowSnapshot(restore.id, reg.name, sheet_name, restore.row, restore.values))
        seen.add(restore.id)
    for row in reg.rows:
        new_id = plan.new_ids.get((row.kind, row.row)) if outcome.written else None
        row_id = row.id or new_id
        if not row_id or row_id in seen:
            continue  # a duplicate 编号 is a problem for the rep; the first row keeps it
        seen.add(row_id)
        values = dict(row.values)
        if new_id:
            values["编号"] = new_id
        sheet, number = row.sheet, row.row
        if row.kind is SheetKind.FOLLOWING and row.row in moved_to:
            sheet, number = coop_name, moved_to[row.row]
            moved[row_id] = (sheet, number)
            if moves[row.row].status_header:
                values[moves[row.row].status_header] = "已合作"
            moved_from[row_id] = (row.sheet, row.row)
        rows.append(RowSnapshot(row_id, reg.name, sheet, number, values))
    return rows, moved, moved_from
