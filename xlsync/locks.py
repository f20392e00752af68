"""Who has a register open: Excel/WPS owner files (~$name) and LibreOffice lock files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Lock:
    path: Path  # the lock file
    program: str  # "Excel/WPS" or "LibreOffice"
    user: str  # "" when the lock file does not say

    def describe(self) -> str:
        who = self.user or "某位同事"
        return f"{who} 正在用 {self.program} 打开这个文件"


# The one place that knows lock-file names: Excel/WPS "~$name", LibreOffice ".~lock.name#".
_EXCEL_PREFIX = "~$"
_LIBREOFFICE_PREFIX, _LIBREOFFICE_SUFFIX = ".~lock.", "#"
_REGISTER_SUFFIXES = (".xlsx", ".xlsm")


def excel_owner_names(name: str) -> list[str]:
    """Excel writes ~$ + the name, replacing the first one or two characters of long names."""
    prefix = _EXCEL_PREFIX
    return list(dict.fromkeys([prefix + name, prefix + name[1:], prefix + name[2:]]))


def libreoffice_lock_name(name: str) -> str:
    return f"{_LIBREOFFICE_PREFIX}{name}{_LIBREOFFICE_SUFFIX}"


def locked_register(lock_name: str, registers: list[str]) -> str | None:
    """The register name a lock file name stands for: the name inside a LibreOffice lock,
    or the one of `registers` (names in the same folder) an Excel owner file belongs to."""
    if lock_name.startswith(_LIBREOFFICE_PREFIX) and lock_name.endswith(_LIBREOFFICE_SUFFIX):
        inner = lock_name[len(_LIBREOFFICE_PREFIX) : -len(_LIBREOFFICE_SUFFIX)]
        return inner if inner.lower().endswith(_REGISTER_SUFFIXES) else None
    if lock_name.startswith(_EXCEL_PREFIX):
        return next((r for r in registers if lock_name in excel_owner_names(r)), None)
    return None


def find_lock(register: Path) -> Lock | None:
    folder, name = register.parent, register.name
    for candidate in excel_owner_names(name):
        path = folder / candidate
        if path.is_file():
            return Lock(path, "Excel/WPS", _excel_user(path))
    path = folder / libreoffice_lock_name(name)
    if path.is_file():
        return Lock(path, "LibreOffice", _libreoffice_user(path))
    return None


def _excel_user(path: Path) -> str:
    """The owner file holds the user name: one length byte and ANSI bytes, and at offset 54
    the same name in UTF-16 (one length byte, one zero byte, then the characters)."""
    try:
        data = path.read_bytes()[:512]
    except OSError:
        return ""
    if len(data) > 56 and data[54] and data[55] == 0:
        n = data[54]
        raw = data[56 : 56 + 2 * n]
        try:
            return raw.decode("utf-16-le").strip("\x00 ")
        except UnicodeDecodeError:
            pass
    if data:
        n = data[0]
        raw = data[1 : 1 + n]
        for encoding in ("utf-8", "gbk"):
            try:
                return raw.decode(encoding).strip("\x00 ")
            except UnicodeDecodeError:
                continue
    return ""


def _libreoffice_user(path: Path) -> str:
    """`.~lock.name#` is one CSV line: full name (often empty), system user, host, date,
    profile URL;"""
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return ""
    fields = [f.strip() for f in text.split(",")]
    return next((f for f in fields[:2] if f), "")
