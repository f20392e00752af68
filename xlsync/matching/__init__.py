"""Find rows that name the same customer, however the reps wrote it."""

from xlsync.matching.group import (
    Group,
    GroupReason,
    MatchKind,
    MatchReason,
    describe_reason,
    find_groups,
)
from xlsync.matching.normalize import NameKey, analyse

__all__ = [
    "Group",
    "GroupReason",
    "MatchKind",
    "MatchReason",
    "NameKey",
    "analyse",
    "describe_reason",
    "find_groups",
]
