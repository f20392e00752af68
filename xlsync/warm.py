"""What a long-running watcher keeps warm between the saves of its registers.

The watcher syncs the whole register set after every save. Most saves of a shared register
change nothing xlsync reads: Excel and WPS rewrite the document properties (who saved,
when) on every save, a rep presses Ctrl+S out of habit, a sync service touches the file.
`WarmSync` remembers the last sync that found nothing to do, together with a fingerprint of
everything that sync read; when the next sync would read exactly the same, its outcome is
the remembered one and the register is neither read nor judged again.

What a sync reads, and so what the fingerprint covers (`sync_key`):

- every register file of the set, each by its package parts: the name, the compression
  and a SHA-256 of the stored (compressed) bytes of every part except the document
  properties (`docProps/core.xml`, `docProps/app.xml`), which no reader looks at. Equal
  stored bytes under an equal compression are equal content; anything else (a part
  recompressed differently) is only a miss. A file that is not a readable zip is never
  fingerprinted (its sync runs in full);
- the date judged (`as_of`);
- the history store (deleted rows for rulings, lost dates for the cool-down, the snapshot a
  sync compares with): the size, the time and the change counter of the SQLite file (no
  fingerprint while a journal shows a write under way). A shared
  PostgreSQL (other offices' rows, listings, rulings that change elsewhere) is never
  fingerprinted: every sync against it runs in full.

A sync is remembered only when it changed nothing: no file written, deferred or refused,
no event recorded, the history not pending, every file of the set readable, and the
fingerprint taken after it equal to the one taken before (nobody wrote meanwhile). A sync
that changed nothing on inputs that have not changed since is deterministic, so repeating
its outcome is what a cold sync would give (`tests/test_warm_cold.py` keeps that true).
One relaxation: a sync that wrote nothing but recorded the registers in the history (the
first sync of a watcher, the first after a write that moved rows) is remembered under the
history as it left it when its check read nothing from the history (no 裁决 rows, no
冷却天数): the next sync would judge the same and, finding that snapshot already recorded
by this workspace, record nothing; the repeated outcome carries no events.

Only the last such sync is kept: the memory does not grow with the saves. The matcher's
per-name work is kept warm separately, by the workspace's `GroupingCache`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import struct
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xlsync.sync import SyncOutcome
    from xlsync.workspace import Workspace

# parts every save rewrites (last saved by, when, the application's version) and no
# reader of xlsync looks at
VOLATILE_PARTS = frozenset({"docprops/core.xml", "docprops/app.xml"})
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip local file header (30 bytes)

Part = tuple[str, int, str]  # name, compression, SHA-256 of the stored bytes
FileKey = tuple[str, tuple[Part, ...]]
StoreKey = tuple[tuple[int, int, bytes], ...]  # the history: size, mtime_ns, change counter


@dataclass(frozen=True, slots=True)
class SyncKey:
    """Everything a sync of the set reads, fingerprinted."""

    as_of: dt.date
    files: tuple[FileKey, ...]
    store: StoreKey


def package_parts(path: Path) -> tuple[Part, ...] | None:
    """The fingerprint of a register's package (see the module doc), or None when the file
    is not a zip that can be fingerprinted."""
    try:
        with path.open("rb") as fh, zipfile.ZipFile(fh) as package:
            parts: list[Part] = []
            for info in package.infolist():
                if info.filename.lower() in VOLATILE_PARTS or info.is_dir():
                    continue
                fh.seek(info.header_offset)
                header = fh.read(_LOCAL_HEADER.size)
                if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
                    return None
                fields = _LOCAL_HEADER.unpack(header)
                fh.seek(fields[-2] + fields[-1], 1)  # past the name and the extra field
                stored = fh.read(info.compress_size)
                if len(stored) != info.compress_size:
                    return None
                parts.append(
                    (info.filename, info.compress_type, hashlib.sha256(stored).hexdigest())
                )
    except (OSError, zipfile.BadZipFile, ValueError, struct.error):
        return None
    return tuple(sorted(parts))


def _store_key(workspace: Workspace) -> StoreKey | None:
    """The SQLite history as it is now: its size, time and the header's change counter
    (which every committed write transaction increments); () when there is none yet.
    None for another backend, or while a write is under way (a journal beside it)."""
    from xlsync.workspace import SqliteBackend

    if type(workspace.backend) is not SqliteBackend:
        return None
    base = workspace.history_path
    for side in ("-journal", "-wal"):
        if base.with_name(base.name + side).exists():
            return None
    try:
        with base.open("rb") as fh:
            header = fh.read(100)
            stat = os.fstat(fh.fileno())
    except FileNotFoundError:
        return ()
    except OSError:
        return None
    return ((stat.st_size, stat.st_mtime_ns, header[24:28]),)


def sync_key(workspace: Workspace, as_of: dt.date) -> SyncKey | None:
    """The fingerprint of what a sync of the workspace's set would read now, or None when
    it cannot be taken (a file that is not a zip, a shared database)."""
    store = _store_key(workspace)
    if store is None:
        return None
    files: list[FileKey] = []
    for path in workspace.registers():
        parts = package_parts(path)
        if parts is None:
            return None
        files.append((path.name, parts))
    if not files:
        return None
    return SyncKey(as_of, tuple(files), store)


def changed_nothing(outcome: SyncOutcome, *, recording: bool = False) -> bool:
    """Whether a sync left the registers as it found them (and read every file of the
    set); with `recording`, it may have recorded them in the history (events included)."""
    result = outcome.result
    return (
        not outcome.history_pending
        and not result.registers.unusable
        and not result.registers.copies
        and not result.others
        and result.others_stale is None
        and all(
            f.plan.empty
            and not f.written
            and f.deferred is None
            and f.refused is None
            and (recording or not f.events)
            for f in outcome.files
        )
    )


def reads_no_history(outcome: SyncOutcome) -> bool:
    """Whether the sync's check read nothing from the history: no 裁决 row (a ruling may
    name a deleted row, looked up there) and no 冷却天数 (the dates rows lost are read
    there). Such a sync, run again on the same files after it recorded them, finds what
    it judged before, and its own record (the workspace's `recorded`) says there is
    nothing new to record."""
    result = outcome.result
    return not result.rulings and not result.registers.settings.cool_down_days


class WarmSync:
    """The last sync that changed nothing, and the fingerprint of what it read. Owned by a
    `Workspace` (the watcher's); safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[SyncKey, SyncOutcome] | None = None
        self.repeats = 0  # syncs answered from the remembered one (for logs and tests)

    @property
    def remembered(self) -> bool:
        """Whether a sync is kept (the last one changed nothing on unchanged inputs)."""
        with self._lock:
            return self._last is not None

    def repeat(self, key: SyncKey | None) -> SyncOutcome | None:
        """A sync's outcome when it would read exactly what the remembered one read: the
        same result, the same (empty) plans, nothing written or recorded; else None."""
        if key is None:
            return None
        with self._lock:
            last = self._last
            if last is None or last[0] != key:
                return None
            self.repeats += 1
        from xlsync.sync import FileOutcome, SyncOutcome

        before = last[1]
        files = [FileOutcome(f.path, f.plan) for f in before.files]
        return SyncOutcome(before.result, files, attempts=1)

    def remember(self, before: SyncKey | None, after: SyncKey | None, outcome: SyncOutcome) -> None:
        """Keep `outcome` when the sync changed nothing and read what `before` fingerprints
        (`after`, taken when it was done, is the same). A sync that only recorded the files
        in the history is kept under `after` when its check read nothing from the history
        (`reads_no_history`): the same files again give the same outcome. Otherwise the
        last one is forgotten."""
        key: SyncKey | None = None
        if before is not None and before == after and changed_nothing(outcome):
            key = before
        elif (
            before is not None
            and after is not None
            and (before.as_of, before.files) == (after.as_of, after.files)
            and changed_nothing(outcome, recording=True)
            and reads_no_history(outcome)
        ):
            key = after
        with self._lock:
            self._last = (key, outcome) if key is not None else None

    def forget(self) -> None:
        with self._lock:
            self._last = None


__all__ = [
    "SyncKey",
    "WarmSync",
    "changed_nothing",
    "package_parts",
    "reads_no_history",
    "sync_key",
]
