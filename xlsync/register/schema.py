"""The register's fixed outside: sheet names, column headers and their aliases.

Header and sheet matching ignores case, spaces, line breaks, underscores/hyphens and
full-width/half-width differences, so `客户 名称`, `ＣＵＳＴＯＭＥＲ` and `Last Follow-Up`
all match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class SheetKind(StrEnum):
    FOLLOWING = "following"
    COOPERATING = "cooperating"
    SETTINGS = "settings"
    CONFLICTS = "conflicts"
    PROBLEMS = "problems"
    RULINGS = "rulings"  # the manager's 裁决 (read, only ever appended to)
    REVIEW = "review"  # xlsync's 待确认 (the manager fills one column)
    AGENTS = "agents"  # the manager's 代理商 (read only)


SHEET_NAMES: dict[SheetKind, str] = {
    SheetKind.FOLLOWING: "跟进中",
    SheetKind.COOPERATING: "已合作",
    SheetKind.SETTINGS: "设置",
    SheetKind.CONFLICTS: "冲突",
    SheetKind.PROBLEMS: "问题",
    SheetKind.RULINGS: "裁决",
    SheetKind.REVIEW: "待确认",
    SheetKind.AGENTS: "代理商",
}


@dataclass(frozen=True, slots=True)
class Field:
    key: str  # the English alias, used as the attribute name everywhere in code
    header: str  # the Chinese header written by `init`
    kind: str  # "text", "date", "phone", "status", "id"
    width: int  # column width written by `init`


FIELDS: tuple[Field, ...] = (
    Field("id", "编号", "id", 10),
    Field("customer", "客户名称", "text", 30),
    Field("contact", "联系人", "text", 10),
    Field("phone", "电话", "phone", 18),
    Field("region", "地区", "text", 12),
    Field("rep", "业务员", "text", 10),
    Field("department", "部门", "text", 10),
    Field("contacted", "联系日期", "date", 12),
    Field("visited", "拜访日期", "date", 12),
    Field("sampled", "送样日期", "date", 12),
    Field("sample", "样品", "text", 12),
    Field("notes", "跟进情况", "text", 36),
    Field("last_follow_up", "最近跟进", "date", 12),
    Field("status", "状态", "status", 8),
    Field("won", "成交日期", "date", 12),
)
FIELD_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
DATE_FIELDS: tuple[str, ...] = tuple(f.key for f in FIELDS if f.kind == "date")
REQUIRED_HEADERS: tuple[str, ...] = ("customer", "rep")

_SQUEEZE = re.compile(r"[\s_\-\u3000*＊:：]+")


def norm_label(text: object) -> str:
    """Normalise a header or sheet name for comparison."""
    s = unicodedata.normalize("NFKC", str(text)).casefold()
    return _SQUEEZE.sub("", s)


_HEADER_INDEX: dict[str, str] = {}
for _f in FIELDS:
    _HEADER_INDEX[norm_label(_f.header)] = _f.key
    _HEADER_INDEX[norm_label(_f.key)] = _f.key
# A few spellings reps and other tools use for the same columns.
for _alt, _key in {
    "id": "id",
    "客户": "customer",
    "公司名称": "customer",
    "客户名": "customer",
    "电话号码": "phone",
    "联系电话": "phone",
    "手机": "phone",
    "区域": "region",
    "销售": "rep",
    "销售员": "rep",
    "跟进人": "rep",
    "lastfollowup": "last_follow_up",
}.items():
    _HEADER_INDEX.setdefault(norm_label(_alt), _key)


def match_header(text: object) -> str | None:
    """Return the field key a header cell names, or None."""
    if text is None:
        return None
    return _HEADER_INDEX.get(norm_label(text))


def field_text(values: Mapping[str, object], key: str) -> str:
    """The text of field `key` in a row's values keyed by the headers as the rep typed them
    (客户名称, 公司名称 or customer are all the customer): "" when no header names it."""
    return next((str(v) for header, v in values.items() if match_header(header) == key), "")


_SHEET_INDEX: dict[str, SheetKind] = {}
for _kind, _name in SHEET_NAMES.items():
    _SHEET_INDEX[norm_label(_name)] = _kind
    _SHEET_INDEX[norm_label(_kind.value)] = _kind


def match_sheet(name: str) -> SheetKind | None:
    """Return which contract sheet a workbook sheet name is, or None."""
    return _SHEET_INDEX.get(norm_label(name))


class Status(StrEnum):
    PHONE = "phone"
    VISITED = "visited"
    SAMPLED = "sampled"
    COOPERATING = "cooperating"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[Status, str] = {
    Status.PHONE: "电话",
    Status.VISITED: "拜访",
    Status.SAMPLED: "送样",
    Status.COOPERATING: "已合作",
}

# The one column xlsync owns on each data sheet (hints for the rep; cleared by xlsync).
HINT_HEADER = "xlsync提示"
