"""Find and read the registers that form one set: a single file or every register in a folder."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from xlsync.errors import IncompleteFile, UnusableInput
from xlsync.records import Register
from xlsync.register.reader import read_register
from xlsync.settings import RepContact, Settings

REGISTER_SUFFIXES = (".xlsx", ".xlsm")
_OFFICE_TEMP = re.compile(r"^(~\$|\.~lock\.|~|\.)|\.tmp$|\.osl-tmp$", re.IGNORECASE)


def is_register_name(name: str) -> bool:
    """A file name that can be a register (not a lock, temp or hidden file)."""
    return name.lower().endswith(REGISTER_SUFFIXES) and not _OFFICE_TEMP.search(name)


def register_files(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and is_register_name(p.name)),
        key=lambda p: p.name,
    )


# What sync clients add to a file name when two machines changed it at once:
# OneDrive `name-PC-ZHANG.xlsx`, `name (1).xlsx`, Dropbox `name (PC's conflicted copy
# 2026-11-23).xlsx`, WPS/Nutstore `name(冲突副本).xlsx` / `name_冲突文件_...`.
_COPY_TAIL = re.compile(
    r"^(?:\s*[(（]\d+[)）]"
    r"|-[A-Za-z0-9][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*"
    r"|\s*[(（][^()（）]*(?:conflicted copy|冲突)[^()（）]*[)）]"
    r"|[ _-]*(?:冲突副本|冲突文件|副本|copy)\b.*)$",
    re.IGNORECASE,
)


def conflict_copy_of(path: Path, names: set[str]) -> str | None:
    """The register `path` is a cloud-sync conflict copy of (a name in `names`), or None."""
    stem = path.stem
    for other in names:
        other_stem = Path(other).stem
        longer = stem.startswith(other_stem) and len(stem) > len(other_stem)
        if other != path.name and longer and _COPY_TAIL.match(stem[len(other_stem) :]):
            return other
    return None


@dataclass(slots=True)
class RegisterSet:
    """The registers of one file or one folder, read together."""

    target: Path
    is_folder: bool
    registers: list[Register] = field(default_factory=list)
    unusable: list[UnusableInput] = field(default_factory=list)
    copies: dict[str, str] = field(default_factory=dict)  # conflict copy -> its original

    @property
    def settings(self) -> Settings:
        """The first register's settings, with the rosters of all registers joined."""
        if not self.registers:
            return Settings()
        first = self.registers[0].settings
        if len(self.registers) == 1:
            return first
        roster: dict[str, str] = {}
        contacts: dict[str, RepContact] = {}
        for register in self.registers:
            for rep, dept in register.settings.roster.items():
                roster.setdefault(rep, dept)
            for rep, contact in register.settings.contacts.items():
                contacts.setdefault(rep, contact)
        return Settings(
            protection_days=first.protection_days,
            follow_up_days=first.follow_up_days,
            company=first.company,
            mask_phones=first.mask_phones,
            roster=roster,
            contacts=contacts,
            max_protected=first.max_protected,
            cool_down_days=first.cool_down_days,
            allocation=first.allocation,
        )


def load_set(target: Path | str, *, keep_values: bool = False) -> RegisterSet:
    """Read a register, or every register in a folder.

    A single unusable file raises UnusableInput. In a folder, unusable files are collected
    and the rest are read; an empty folder raises.
    """
    target = Path(target)
    if not target.is_dir():
        return RegisterSet(target, False, [read_register(target, keep_values=keep_values)])
    files = register_files(target)
    if not files:
        raise UnusableInput(target, "文件夹里没有 .xlsx 登记表")
    result = RegisterSet(target, True)
    names = {p.name for p in files}
    for path in files:
        original = conflict_copy_of(path, names)
        if original is not None:
            # two machines saved at once: not merged silently, reported for a person to settle
            result.copies[path.name] = original
            result.unusable.append(
                UnusableInput(
                    path, f"这是「{original}」的同步冲突副本，未参与检查；请核对后合并或删除"
                )
            )
            continue
        try:
            result.registers.append(read_register(path, keep_values=keep_values))
        except UnusableInput as exc:
            result.unusable.append(exc)
    if not result.registers:
        first = result.unusable[0]
        error = IncompleteFile if all(isinstance(u, IncompleteFile) for u in result.unusable) else (
            UnusableInput)  # fmt: skip
        raise error(target, f"没有可用的登记表（{first.path.name}：{first.message}）")
    return result
