"""Typed rows, located problems and the register they come from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from xlsync.problems import ProblemCode
from xlsync.register.schema import SheetKind, Status
from xlsync.settings import Settings


@dataclass(slots=True)
class Problem:
    """One validation problem, located as the rep sees it: file, sheet, row, column, with
    its stable `code` (required, by name) and its Chinese `message`.

    A problem about a whole file (a register of a folder that cannot be read) has sheet ""
    and row 0: build it with `Problem.whole_file`, test it with `is_whole_file`.
    """

    file: str
    sheet: str
    row: int
    column: str
    value: str
    message: str
    code: ProblemCode = field(kw_only=True)

    @classmethod
    def whole_file(cls, file: str, code: ProblemCode, message: str) -> Problem:
        return cls(file, "", 0, "", "", message, code=code)

    @property
    def is_whole_file(self) -> bool:
        return not self.sheet and self.row == 0

    def ref(self) -> dict[str, object]:
        return {"file": self.file, "sheet": self.sheet, "row": self.row}


@dataclass(slots=True, eq=False)
class Row:
    """One customer row of 跟进中 or 已合作, parsed; unreadable cells are None (and a Problem)."""

    file: str
    sheet: str
    kind: SheetKind
    row: int  # 1-based Excel row number
    id: str = ""
    customer: str = ""
    contact: str = ""
    phone_text: str = ""
    phones: tuple[str, ...] = ()
    region: str = ""
    rep: str = ""
    department: str = ""
    contacted: dt.date | None = None
    visited: dt.date | None = None
    sampled: dt.date | None = None
    sample: str = ""
    notes: str = ""
    last_follow_up: dt.date | None = None
    status: Status | None = None
    won: dt.date | None = None
    unreadable: frozenset[str] = frozenset()  # field keys whose cell did not parse
    values: dict[str, str] = field(default_factory=dict)  # header -> text (only when kept)
    # a row of another office (shared database): its office's name and 保护天数, which
    # decide its protection there and here ("" / None: a row of the office checked)
    office: str = ""
    protection_days: int | None = None
    # the rule of its own office that took its protection there: "cap" / "cool_down"
    office_limit: str = ""

    @property
    def cooperating(self) -> bool:
        """Won: on the 已合作 sheet, status 已合作, or a 成交日期."""
        return (
            self.kind is SheetKind.COOPERATING
            or self.status is Status.COOPERATING
            or self.won is not None
        )

    @property
    def is_move(self) -> bool:
        """A 跟进中 row that has been won and belongs on 已合作."""
        return self.kind is SheetKind.FOLLOWING and (
            self.status is Status.COOPERATING or self.won is not None
        )

    def ref(self) -> dict[str, object]:
        return {"file": self.file, "sheet": self.sheet, "row": self.row}

    def content_key(self) -> tuple[str, ...]:
        """What the rep typed, as a sort key that does not change when a sync moves the row
        or gives it an 编号: results must not depend on where a row stands. A won row's 状态
        counts as 已合作, which a sync writes when it moves the row to 已合作 (else the
        next sync could rank two equal claims the other way, and write again)."""
        c, v, s, w, f = self.contacted, self.visited, self.sampled, self.won, self.last_follow_up
        status = Status.COOPERATING if self.cooperating else self.status
        return (
            self.customer, self.phone_text, self.rep, self.department,
            c.isoformat() if c else "", v.isoformat() if v else "", s.isoformat() if s else "",
            w.isoformat() if w else "", f.isoformat() if f else "",
            status.value if status else "", self.contact, self.file,
        )  # fmt: skip


@dataclass(slots=True)
class SheetData:
    """A data sheet as read: where its header is, which column holds which field."""

    name: str
    kind: SheetKind
    header_row: int  # 1-based; 0 when the sheet is empty
    columns: dict[str, int]  # field key -> 0-based column index
    headers: list[str]  # every header cell's text, in column order
    rows: list[Row] = field(default_factory=list)
    hint_col: int | None = None  # 0-based column of xlsync's hint column, if present
    hints: dict[int, str] = field(default_factory=dict)  # Excel row -> current hint text
    last_row: int = 0  # last row of the sheet's used range
    total_rows: list[int] = field(default_factory=list)  # 合计 rows, never customers


@dataclass(slots=True)
class Register:
    """One register workbook as data."""

    path: Path
    sheets: dict[SheetKind, SheetData]
    settings: Settings
    problems: list[Problem]  # cell-level problems found while reading
    date1904: bool = False
    sheet_names: list[str] = field(default_factory=list)
    tool_grids: dict[SheetKind, list[list[str]]] = field(default_factory=dict)
    # the 冲突 / 问题 sheets xlsync created (marked in the workbook, or adopted), by kind
    tool_sheets: dict[SheetKind, str] = field(default_factory=dict)
    # the manager's sheets as read (values, A1 = [0][0]): 裁决 and xlsync's 待确认, by kind
    manager_grids: dict[SheetKind, tuple[str, list[list[object]]]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def rows(self) -> list[Row]:
        out: list[Row] = []
        for kind in (SheetKind.FOLLOWING, SheetKind.COOPERATING):
            sheet = self.sheets.get(kind)
            if sheet is not None:
                out.extend(sheet.rows)
        return out


@dataclass(frozen=True, slots=True)
class OfficeRuling:
    """An applied ruling of an office's 裁决 as it resolved there, shared with the other
    offices: `kind` is a `RulingKind` value, `until` the end of a 指派 (None: 长期), `ids`
    and `other_ids` the 编号 of the rows 客户 and 另一客户 named. `office` is "" when
    published, the office's name when fetched."""

    file: str
    sheet: str
    row: int
    kind: str
    date: dt.date
    rep: str = ""
    until: dt.date | None = None
    ids: tuple[str, ...] = ()
    other_ids: tuple[str, ...] = ()
    office: str = ""


@dataclass(frozen=True, slots=True)
class OfficeAgent:
    """A listing of another office's 代理商 sheet (see `xlsync.agents.Listing`)."""

    office: str
    file: str
    sheet: str
    row: int
    name: str
    phones: tuple[str, ...]
    region: str
    agent: str
    until: dt.date | None


@dataclass(frozen=True, slots=True)
class OtherRows:
    """Rows of other offices (read only) that may be the same customers as this office's,
    and the other offices' rulings that name one of these rows or this office's."""

    rows: list[Row]
    stale_since: dt.datetime | None = None  # the database was unreachable: data as of then
    rulings: list[OfficeRuling] = field(default_factory=list)
    agents: list[OfficeAgent] = field(default_factory=list)  # listings sharing a key


class OtherOffices(Protocol):
    """Where a check of one office finds the other offices' rows (a shared database)."""

    def candidates(self, rows: list[Row]) -> OtherRows: ...
