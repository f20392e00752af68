"""Find rows that name the same customer, however the reps wrote it."""

from xlsync.matching.group import Group, find_groups
from xlsync.matching.normalize import NameKey, analyse

__all__ = ["Group", "NameKey", "analyse", "find_groups"]
