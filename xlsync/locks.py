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


def excel_owner_names(name: str) -> list[str]:
    """Excel writes ~$ + the name, replacing the first one or two characters of long names."""
    return list(dict.fromkeys(["~$" + name, "~$" + name[1:], "~$" + name[2:]]))


def find_lock(register: Path) -> Lock | None:
    folder, name = register.parent, register.name
    for candidate in excel_owner_names(name):
        path = folder / candidate
        if path.is_file():
            return Lock(path, "Excel/WPS", _excel_user(path))
    path = folder / f".~lock.{name}#"
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
