"""Writing files that people on a shared folder read: whole or not at all, readable by all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def shared_mode() -> int:
    """The mode a normally created file gets (mkstemp's files are private: 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, data: str | bytes | bytearray) -> Path:
    """Write through a temp file in the same folder, then replace: a reader (a browser, the
    watcher) never sees half a file."""
    return atomic_write_parts(path, [data])


def atomic_write_parts(path: Path, parts: Iterable[str | bytes | bytearray]) -> Path:
    """`atomic_write` of the concatenation of `parts` (text as UTF-8), written as they come:
    a page of a 100,000-row register is never one string in memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for part in parts:
                fh.write(part.encode("utf-8") if isinstance(part, str) else part)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, shared_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
