"""Read a register workbook (values only, with python-calamine) into typed rows.

The header row is found by content, not position: reps put merged titles and notes above
it. Cell-level problems (unreadable dates, phones, statuses) are collected while reading;
rules that need more than one cell live in `validate`.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from python_calamine import CalamineWorkbook, PasswordError

from xlsync.allocation import AllocationRule
from xlsync.errors import IncompleteFile, UnusableInput
from xlsync.problems import ProblemCode
from xlsync.records import Problem, Register, Row, SheetData
from xlsync.register.cells import (
    CellError,
    cell_text,
    is_blank,
    parse_count,
    parse_date,
    parse_phones,
    parse_positive_int,
    parse_status,
    phone_problem,
    trim_grid,
)
from xlsync.register.schema import (
    DATE_FIELDS,
    FIELD_BY_KEY,
    HINT_HEADER,
    REQUIRED_HEADERS,
    SHEET_NAMES,
    SheetKind,
    Status,
    match_header,
    match_sheet,
    norm_label,
)
from xlsync.register.sniff import sniff
from xlsync.runtime import collector_paused
from xlsync.settings import (
    FALSE_WORDS,
    SETTING_BY_LABEL,
    TRUE_WORDS,
    RepContact,
    Settings,
    roster_column,
)
from xlsync.xlsx.package import NS_R, Package, q

HEADER_SCAN_ROWS = 30
_TOTAL_ROW = re.compile(r"^(合计|总计|小计|共计|汇总|total|sum)\b", re.IGNORECASE)
_TEXT_FIELDS = ("id", "customer", "contact", "region", "rep", "department", "sample", "notes")
_REPEATED_FIELDS = ("contact", "region", "rep", "department", "sample", "notes")


def read_register(
    path: Path | str, *, keep_values: bool = False, rows_only: bool = False
) -> Register:
    """Read one register file. Raises UnusableInput (exit 2) when it cannot be used.

    `keep_values` also keeps every row's cell texts by header and the tool-owned sheets'
    content (what a sync needs to plan and to record history). `rows_only` finds the same
    customer rows but leaves their cells unparsed (file, sheet and row only; no cell
    problems): what a sync needs to verify the file it wrote.
    """
    path = Path(path)
    date1904 = sniff(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except PasswordError:
        raise UnusableInput(path, "工作簿设置了密码，无法读取") from None
    except Exception as exc:  # calamine raises plain errors for some broken packages
        workbook = _open_past_macro_sheets(path, exc)
    try:
        return _read_workbook(path, workbook, date1904, keep_values, rows_only)
    finally:
        workbook.close()


def _open_past_macro_sheets(path: Path, exc: Exception) -> CalamineWorkbook:
    """calamine refuses a workbook that lists an Excel 4.0 macro sheet (or a dialog sheet)
    among its sheets: a limit of the reader, not damage. Read a copy made in memory without
    those sheets in the sheet list; the file itself is patched as it is."""
    try:
        data = without_unreadable_sheets(path)
    except Exception:
        data = None
    if data is None:
        raise IncompleteFile(path, f"文件已损坏，无法读取：{_short(exc)}") from None
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as again:
        raise UnusableInput(
            path,
            "工作簿含有读取组件（calamine）不支持的工作表（如 Excel 4.0 宏表），"
            f"这不是文件损坏；请把数据复制到新的 .xlsx 再试（{_short(again)}）",
        ) from None


def without_unreadable_sheets(path: Path) -> bytes | None:
    """The package at `path` with macro and dialog sheets left out of the workbook's list,
    or None when it has none."""
    with Package(path) as package:
        workbook = package.workbook_part
        keep = {rid for rid, _ in _worksheet_rel_ids(package, workbook)}
        root = package.xml(workbook)
        sheets = root.find(q("sheets"))
        dropped = [
            s for s in ([] if sheets is None else sheets) if s.get(q("id", NS_R)) not in keep
        ]
        if sheets is None or not dropped:
            return None
        for sheet in dropped:
            sheets.remove(sheet)
        buffer = io.BytesIO()
        package.write(buffer)
        return buffer.getvalue()


def _worksheet_rel_ids(package: Package, workbook: str) -> list[tuple[str, str]]:
    kinds = ("worksheet", "chartsheet")
    return [
        (rel.get("Id", ""), target)
        for kind in kinds
        for rel, target in package.related(workbook, kind)
    ]


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _read_workbook(
    path: Path, workbook: CalamineWorkbook, date1904: bool, keep_values: bool, rows_only: bool
) -> Register:
    names = list(workbook.sheet_names)
    owned = _owned_sheets(path, names)
    by_kind: dict[SheetKind, str] = {}
    # The register's own sheets are found by name or alias (the exact Chinese name first);
    # a sheet xlsync created is never one of them.
    for kind in (SheetKind.FOLLOWING, SheetKind.COOPERATING, SheetKind.SETTINGS):
        candidates = [n for n in names if n not in owned and match_sheet(n) is kind]
        exact = [n for n in candidates if n.strip() == SHEET_NAMES[kind]]
        if exact or candidates:
            by_kind[kind] = (exact or candidates)[0]
    if SheetKind.FOLLOWING not in by_kind:
        raise UnusableInput(
            path,
            f"缺少工作表「{SHEET_NAMES[SheetKind.FOLLOWING]}」（following）；"
            f"现有工作表：{'、'.join(names) or '无'}",
        )
    problems: list[Problem] = []
    settings = Settings()
    if SheetKind.SETTINGS in by_kind:
        grid = _load_grid(path, workbook, by_kind[SheetKind.SETTINGS])
        settings = read_settings(grid, path.name, by_kind[SheetKind.SETTINGS], problems)
    sheets: dict[SheetKind, SheetData] = {}
    for kind in (SheetKind.FOLLOWING, SheetKind.COOPERATING):
        if kind not in by_kind:
            continue
        with collector_paused():  # a row per customer, none of them in a cycle
            sheets[kind] = _read_data_sheet(
                path,
                by_kind[kind],
                kind,
                _iter_grid(path, workbook, by_kind[kind]),
                date1904,
                problems,
                keep_values,
                rows_only,
            )
    tool_grids: dict[SheetKind, list[list[str]]] = {}
    tool_sheets: dict[SheetKind, str] = {}
    manager_grids = _manager_grids(path, workbook, names, owned)
    if keep_values:
        for kind in (SheetKind.CONFLICTS, SheetKind.PROBLEMS):
            name = next((n for n, k in owned.items() if k == kind.value and n in names), None)
            legacy = SHEET_NAMES[kind]
            if name is None and legacy in names and legacy not in owned:
                name = legacy  # written by a version that did not mark its sheets yet
            if name is None:
                continue
            texts = trim_grid(
                [[cell_text(v) for v in row] for row in _load_grid(path, workbook, name)]
            )
            if name not in owned and (
                not texts or texts[0][: len(_tool_headers(kind))] != _tool_headers(kind)
            ):
                continue  # the user's own sheet that happens to carry the name: not ours
            tool_sheets[kind] = name
            tool_grids[kind] = texts
    return Register(
        path=path,
        sheets=sheets,
        settings=settings,
        problems=problems,
        date1904=date1904,
        sheet_names=names,
        tool_grids=tool_grids,
        tool_sheets=tool_sheets,
        manager_grids=manager_grids,
    )


def _manager_grids(
    path: Path, workbook: CalamineWorkbook, names: list[str], owned: dict[str, str]
) -> dict[SheetKind, tuple[str, list[list[object]]]]:
    """The manager's 裁决 (found by name or alias, never a sheet xlsync created) and
    xlsync's own 待确认 (marked, or by its exact name), as value grids."""
    out: dict[SheetKind, tuple[str, list[list[object]]]] = {}
    rulings = [n for n in names if n not in owned and match_sheet(n) is SheetKind.RULINGS]
    if rulings:
        exact = [n for n in rulings if n.strip() == SHEET_NAMES[SheetKind.RULINGS]]
        name = (exact or rulings)[0]
        out[SheetKind.RULINGS] = (name, _load_grid(path, workbook, name))
    agents = [n for n in names if n not in owned and match_sheet(n) is SheetKind.AGENTS]
    if agents:
        out[SheetKind.AGENTS] = (agents[0], _load_grid(path, workbook, agents[0]))
    review = next((n for n, k in owned.items() if k == SheetKind.REVIEW.value), None)
    if review is None and SHEET_NAMES[SheetKind.REVIEW] in names:
        review = SHEET_NAMES[SheetKind.REVIEW]
    if review is not None and review in names:
        out[SheetKind.REVIEW] = (review, _load_grid(path, workbook, review))
    return out


def _owned_sheets(path: Path, names: list[str]) -> dict[str, str]:
    """Sheet name -> kind of the sheets xlsync marked as its own in the workbook."""
    try:
        with Package(path) as package:
            owned = package.owned_sheets()
    except Exception:  # an unreadable mark is no mark; the package was read by calamine
        return {}
    return {name: kind for name, kind in owned.items() if name in names}


def _tool_headers(kind: SheetKind) -> list[str]:
    """The header row xlsync writes on its 冲突 / 问题 sheet (how a legacy one is known)."""
    from xlsync.plan_render import CONFLICT_HEADERS, PROBLEM_HEADERS  # plan imports the reader

    return list(CONFLICT_HEADERS if kind is SheetKind.CONFLICTS else PROBLEM_HEADERS)


def _load_grid(path: Path, workbook: CalamineWorkbook, name: str) -> list[list[object]]:
    return list(_iter_grid(path, workbook, name))


def _iter_grid(path: Path, workbook: CalamineWorkbook, name: str) -> Iterator[list[object]]:
    """The sheet's rows with absolute indexes (A1 = [0][0]), converted one row at a time so
    a sheet that reaches row 1,048,576 is never held twice in memory."""
    try:
        sheet = workbook.get_sheet_by_name(name)
        first_col = sheet.start[1] if sheet.start else 0
        rows = sheet.iter_rows()  # rows from the first row, columns from first_col
    except Exception as exc:
        raise IncompleteFile(path, f"工作表「{name}」无法读取：{_short(exc)}") from None
    pad: list[object] = [""] * first_col
    for cells in rows:
        row = cast(list[object], cells)  # calamine's cell values: a list we only read
        yield pad + row if first_col else row


def find_header(grid: Sequence[Sequence[object]]) -> tuple[int, dict[str, int]] | None:
    """The 0-based index of the header row and its field columns, or None.

    The header is the row among the first rows that names the most contract columns;
    the first column wins when a header appears twice.
    """
    best: tuple[int, dict[str, int]] | None = None
    for r, cells in enumerate(grid[:HEADER_SCAN_ROWS]):
        columns: dict[str, int] = {}
        for c, value in enumerate(cells):
            if isinstance(value, str) and value:
                key = match_header(value)
                if key is not None and key not in columns:
                    columns[key] = c
        if len(columns) >= 2 and (best is None or len(columns) > len(best[1])):
            best = (r, columns)
    return best


def _read_data_sheet(
    path: Path,
    name: str,
    kind: SheetKind,
    rows_in: Iterator[list[object]],
    date1904: bool,
    problems: list[Problem],
    keep_values: bool = False,
    rows_only: bool = False,
) -> SheetData:
    head = list(itertools.islice(rows_in, HEADER_SCAN_ROWS))
    found = find_header(head)
    if found is None:
        blank = all(is_blank(v) for row in head for v in row)
        if (
            kind is SheetKind.COOPERATING
            and blank
            and not any(not is_blank(v) for row in rows_in for v in row)
        ):
            return SheetData(name=name, kind=kind, header_row=0, columns={}, headers=[])
        raise UnusableInput(
            path,
            f"工作表「{name}」找不到表头行（需要「客户名称」和「业务员」等列标题）",
        )
    header_index, columns = found
    missing = [FIELD_BY_KEY[key] for key in REQUIRED_HEADERS if key not in columns]
    if missing:
        named = "、".join(f"「{f.header}」（也可写作 {f.key}）" for f in missing)
        raise UnusableInput(path, f"工作表「{name}」缺少列{named}")
    headers = [cell_text(v) for v in head[header_index]]
    hint_col = next(
        (i for i, h in enumerate(headers) if norm_label(h) == norm_label(HINT_HEADER)), None
    )
    sheet = SheetData(
        name=name,
        kind=kind,
        header_row=header_index + 1,
        columns=columns,
        headers=headers,
        hint_col=hint_col,
    )
    rows = sheet.rows
    reader = _RowReader(path.name, name, kind, columns, date1904, problems)
    # the kept values' columns: every headed column but the hint's
    kept = [(i, header) for i, header in enumerate(headers) if i != hint_col]
    r = header_index
    for r, cells in enumerate(itertools.chain(head[header_index + 1 :], rows_in), header_index + 1):
        if hint_col is None:
            if all(map(is_blank, cells)):
                continue
        else:
            if hint_col < len(cells) and not is_blank(cells[hint_col]):
                sheet.hints[r + 1] = cell_text(cells[hint_col])
            if all(is_blank(v) for i, v in enumerate(cells) if i != hint_col):
                continue
        if _is_total_row(cells, columns):
            sheet.total_rows.append(r + 1)
            continue
        if rows_only:
            rows.append(Row(file=path.name, sheet=name, kind=kind, row=r + 1))
            continue
        row = reader.parse(r + 1, cells)
        if keep_values:
            values: dict[str, str] = {}
            n = len(cells)
            for i, header in kept:
                if i >= n:
                    break
                v = cells[i]
                text = v.strip() if type(v) is str else cell_text(v)  # cell_text, inline
                if text:
                    values[header] = text
            row.values = values
        rows.append(row)
    sheet.last_row = max(r + 1, sheet.header_row)
    return sheet


def _is_total_row(cells: Sequence[object], columns: dict[str, int]) -> bool:
    rep = _get(cells, columns.get("rep"))
    if not is_blank(rep):
        return False
    return any(isinstance(value, str) and _TOTAL_ROW.match(value.strip()) for value in cells[:8])


def _get(cells: Sequence[object], index: int | None) -> object:
    if index is None or index >= len(cells):
        return None
    return cells[index]


class _RowReader:
    """Parses the customer rows of one sheet: the columns are looked up once, and each
    distinct date, phone and status value is parsed once per read (registers repeat them),
    with the same rows and the same problems, in the same order, as cell by cell."""

    def __init__(
        self,
        file: str,
        sheet: str,
        kind: SheetKind,
        columns: dict[str, int],
        date1904: bool,
        problems: list[Problem],
    ) -> None:
        self.file, self.sheet, self.kind = file, sheet, kind
        self.date1904 = date1904
        self.problems = problems
        self.texts = tuple((key, columns[key]) for key in _TEXT_FIELDS if key in columns)
        # the columns whose texts repeat (a dozen reps, a few dozen regions, the same notes):
        # one str object for each distinct text, not one per cell
        self.shared = frozenset(k for k in _REPEATED_FIELDS if k in columns)
        self._texts: dict[str, str] = {}
        self.dates = tuple((key, columns[key]) for key in DATE_FIELDS if key in columns)
        self.phone = columns.get("phone")
        self.status = columns.get("status")
        # (type, value) -> the parsed value, or the CellError's message (a str)
        self._dates: dict[tuple[type, object], dt.date | str | None] = {}
        self._phones: dict[tuple[type, object], tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
        self._statuses: dict[tuple[type, object], Status | str | None] = {}

    def _problem(self, row: Row, code: ProblemCode, key: str, value: object, message: str) -> None:
        row.unreadable = row.unreadable | {key}
        header, text = FIELD_BY_KEY[key].header, cell_text(value)
        self.problems.append(
            Problem(self.file, self.sheet, row.row, header, text, message, code=code)
        )

    def _date(self, value: object) -> dt.date | str | None:
        key = (type(value), value)
        try:
            return self._dates[key]
        except KeyError:
            pass
        try:
            parsed: dt.date | str | None = parse_date(value, date1904=self.date1904)
        except CellError as exc:
            parsed = exc.message
        self._dates[key] = parsed
        return parsed

    def _phone(self, value: object) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        key = (type(value), value)
        try:
            return self._phones[key]
        except KeyError:
            pass
        text = cell_text(value)
        good, bad = parse_phones(value)
        parsed = (text, good, tuple(phone_problem(part, text) for part in bad))
        self._phones[key] = parsed
        return parsed

    def _status(self, value: object) -> Status | str | None:
        key = (type(value), value)
        try:
            return self._statuses[key]
        except KeyError:
            pass
        try:
            parsed: Status | str | None = parse_status(value)
        except CellError as exc:
            parsed = exc.message
        self._statuses[key] = parsed
        return parsed

    def parse(self, excel_row: int, cells: Sequence[object]) -> Row:
        row = Row(file=self.file, sheet=self.sheet, kind=self.kind, row=excel_row)
        n = len(cells)
        texts = self._texts
        for key, i in self.texts:
            if i < n:  # a missing cell is "", the default
                value = cells[i]
                text = value.strip() if type(value) is str else cell_text(value)
                setattr(row, key, texts.setdefault(text, text) if key in self.shared else text)
        for key, i in self.dates:
            value = cells[i] if i < n else None
            date = self._date(value)
            if type(date) is str:
                self._problem(row, ProblemCode.DATE_INVALID, key, value, date)
            elif date is not None:
                setattr(row, key, date)
        if self.phone is not None:
            value = cells[self.phone] if self.phone < n else None
            row.phone_text, row.phones, messages = self._phone(value)
            for message in messages:
                self._problem(row, ProblemCode.PHONE_UNREADABLE, "phone", value, message)
        if self.status is not None:
            value = cells[self.status] if self.status < n else None
            status = self._status(value)
            if type(status) is str:
                self._problem(row, ProblemCode.STATUS_UNKNOWN, "status", value, status)
            else:
                row.status = cast(Status | None, status)
        return row


_INDUSTRY = {norm_label("行业"), norm_label("industry")}


def _settings_header(text: str) -> str | None:
    """The column a header cell of a 设置 table names (roster or 分配规则), or None."""
    if not text:
        return None
    if norm_label(text) in _INDUSTRY:
        return "industry"
    roster_key = roster_column(text)  # 业务员, 部门, 邮箱, 手机, 负责人
    if roster_key is not None:
        return roster_key
    key = match_header(text)
    return key if key == "region" else None


@dataclass(slots=True)
class _SettingsTable:
    kind: str  # "roster" or "allocation"
    first: int  # the columns it spans (0-based, inclusive)
    last: int
    columns: dict[str, int]


def _header_runs(texts: Sequence[str], used: set[int]) -> list[_SettingsTable]:
    """The tables whose header row is in `texts`: runs of adjacent header cells. A run
    starting with 地区 or 行业 is a 分配规则 table; another run with 业务员, the roster."""
    found: list[_SettingsTable] = []
    c = 0
    while c < len(texts):
        keys: dict[str, int] = {}
        start = c
        while c < len(texts) and c not in used and (key := _settings_header(texts[c])):
            keys.setdefault(key, c)
            c += 1
        if keys:
            first_key = _settings_header(texts[start])
            if first_key in ("region", "industry") and ("rep" in keys or "department" in keys):
                found.append(_SettingsTable("allocation", start, c - 1, keys))
            elif "rep" in keys:
                found.append(_SettingsTable("roster", start, c - 1, keys))
        c = max(c, start + 1)
    return found


def read_settings(
    grid: Sequence[Sequence[object]], file: str, sheet: str, problems: list[Problem]
) -> Settings:
    """Settings from `key | value` rows, a roster table `业务员 | 部门` (optionally
    `| 邮箱 | 手机 | 负责人`) and a 分配规则 table
    `地区 | (行业 |) 部门 | 业务员` anywhere in 设置 (side by side or one under the other;
    a table ends at a row blank across its columns)."""
    settings = Settings()
    tables: list[_SettingsTable] = []
    rules: list[AllocationRule] = []
    for r, cells in enumerate(grid):
        texts = [cell_text(v) for v in cells]
        used: set[int] = set()
        for table in list(tables):
            span = range(table.first, table.last + 1)
            used.update(span)
            if not any(texts[c] for c in span if c < len(texts)):
                tables.remove(table)  # a blank row ends the table
                continue
            got = {k: texts[c] if c < len(texts) else "" for k, c in table.columns.items()}
            if table.kind == "roster":
                rep = got.get("rep")
                if rep:
                    settings.roster[rep] = got.get("department", "")
                    contact = _read_contact(
                        cells, texts, table.columns, file, sheet, r + 1, problems
                    )
                    if contact != RepContact():
                        settings.contacts[rep] = contact
            else:
                rules.append(
                    AllocationRule(
                        r + 1, region=got.get("region", ""), industry=got.get("industry", ""),
                        department=got.get("department", ""), rep=got.get("rep", ""),
                        file=file, sheet=sheet,
                    )
                )  # fmt: skip
        for table in _header_runs(texts, used):
            tables.append(table)
            used.update(range(table.first, table.last + 1))
        for c, text in enumerate(texts[:-1]):
            spec = SETTING_BY_LABEL.get(norm_label(text)) if text and c not in used else None
            if spec is None:
                continue
            value = cells[c + 1]
            _apply_setting(
                settings, spec.attr, spec.kind, value, file, sheet, r + 1, text, problems
            )
            break
    settings.allocation = tuple(rules)
    return settings


def _column(texts: Sequence[str], columns: dict[str, int], key: str) -> str:
    c = columns.get(key)
    return texts[c] if c is not None and c < len(texts) else ""


_ROSTER_LABELS = {"email": "邮箱", "mobile": "手机", "head": "负责人"}


def _read_contact(
    cells: Sequence[object],
    texts: Sequence[str],
    columns: dict[str, int],
    file: str,
    sheet: str,
    excel_row: int,
    problems: list[Problem],
) -> RepContact:
    """A roster row's 邮箱 | 手机 | 负责人; an unreadable one is a problem and left blank."""

    def problem(key: str, value: str, message: str) -> None:
        problems.append(
            Problem(
                file,
                sheet,
                excel_row,
                _ROSTER_LABELS[key],
                value,
                message,
                code=ProblemCode.SETTINGS_INVALID,
            )
        )

    email = _column(texts, columns, "email").strip()
    if email and not _EMAIL.fullmatch(email):
        problem("email", email, "不是有效的电子邮箱地址")
        email = ""
    mobile = ""
    c = columns.get("mobile")
    raw = cells[c] if c is not None and c < len(cells) else None
    if not is_blank(raw):
        phones, bad = parse_phones(raw)
        mobiles = [p for p in phones if len(p) == 11 and p.startswith("1")]
        if bad or not mobiles:
            problem("mobile", cell_text(raw), "不是有效的手机号码")
        else:
            mobile = mobiles[0]
    head_text = norm_label(_column(texts, columns, "head"))
    head = head_text in TRUE_WORDS
    if head_text and not head and head_text not in FALSE_WORDS:
        problem("head", _column(texts, columns, "head"), "应为“是”或“否”")
    return RepContact(email=email, mobile=mobile, head=head)


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _apply_setting(
    settings: Settings,
    attr: str,
    kind: str,
    value: object,
    file: str,
    sheet: str,
    excel_row: int,
    label: str,
    problems: list[Problem],
) -> None:
    if is_blank(value):
        return
    invalid = ProblemCode.SETTINGS_INVALID
    if kind == "days":
        try:
            setattr(settings, attr, parse_positive_int(value))
        except CellError as exc:
            problems.append(
                Problem(file, sheet, excel_row, label, cell_text(value), exc.message, code=invalid)
            )
    elif kind == "count":
        try:
            setattr(settings, attr, parse_count(value))
        except CellError as exc:
            problems.append(
                Problem(file, sheet, excel_row, label, cell_text(value), exc.message, code=invalid)
            )
    elif kind == "bool":
        word = norm_label(cell_text(value))
        if word in TRUE_WORDS:
            setattr(settings, attr, True)
        elif word in FALSE_WORDS:
            setattr(settings, attr, False)
        else:
            problems.append(
                Problem(
                    file, sheet, excel_row, label, cell_text(value), "应为“是”或“否”", code=invalid
                )
            )
    else:
        setattr(settings, attr, cell_text(value))
