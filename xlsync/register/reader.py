"""Read a register workbook (values only, with python-calamine) into typed rows.

The header row is found by content, not position: reps put merged titles and notes above
it. Cell-level problems (unreadable dates, phones, statuses) are collected while reading;
rules that need more than one cell live in `validate`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from xlsync.errors import IncompleteFile, UnusableInput
from xlsync.model import Problem, Register, Row, SheetData
from xlsync.register.cells import (
    CellError,
    cell_text,
    is_blank,
    parse_date,
    parse_phones,
    parse_positive_int,
    parse_status,
)
from xlsync.register.schema import (
    DATE_FIELDS,
    FIELD_BY_KEY,
    HINT_HEADER,
    REQUIRED_HEADERS,
    SHEET_NAMES,
    SheetKind,
    match_header,
    match_sheet,
    norm_label,
)
from xlsync.register.sniff import sniff
from xlsync.settings import FALSE_WORDS, SETTING_BY_LABEL, TRUE_WORDS, Settings

HEADER_SCAN_ROWS = 30
_TOTAL_ROW = re.compile(r"^(合计|总计|小计|共计|汇总|total|sum)\b", re.IGNORECASE)
_TEXT_FIELDS = ("id", "customer", "contact", "region", "rep", "department", "sample", "notes")


def read_register(path: Path | str, *, keep_values: bool = False) -> Register:
    """Read one register file. Raises UnusableInput (exit 2) when it cannot be used.

    `keep_values` also keeps every row's cell texts by header and the tool-owned sheets'
    content (what a sync needs to plan and to record history).
    """
    path = Path(path)
    date1904 = sniff(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except PasswordError:
        raise UnusableInput(path, "工作簿设置了密码，无法读取") from None
    except CalamineError as exc:
        raise IncompleteFile(path, f"文件已损坏，无法读取：{_short(exc)}") from None
    except Exception as exc:  # calamine raises plain errors for some broken packages
        raise IncompleteFile(path, f"文件已损坏，无法读取：{_short(exc)}") from None
    try:
        return _read_workbook(path, workbook, date1904, keep_values)
    finally:
        workbook.close()


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _read_workbook(
    path: Path, workbook: CalamineWorkbook, date1904: bool, keep_values: bool
) -> Register:
    names = list(workbook.sheet_names)
    by_kind: dict[SheetKind, str] = {}
    for name in names:
        kind = match_sheet(name)
        if kind is not None and kind not in by_kind:
            by_kind[kind] = name
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
        grid = _iter_grid(path, workbook, by_kind[kind])
        sheets[kind] = _read_data_sheet(
            path, by_kind[kind], kind, grid, date1904, problems, keep_values
        )
    tool_grids: dict[SheetKind, list[list[str]]] = {}
    if keep_values:
        for kind in (SheetKind.CONFLICTS, SheetKind.PROBLEMS):
            if kind in by_kind:
                grid = _load_grid(path, workbook, by_kind[kind])
                tool_grids[kind] = _trim([[cell_text(v) for v in row] for row in grid])
    return Register(
        path=path,
        sheets=sheets,
        settings=settings,
        problems=problems,
        date1904=date1904,
        sheet_names=names,
        tool_grids=tool_grids,
    )


def _trim(grid: list[list[str]]) -> list[list[str]]:
    """Drop trailing empty cells and rows: the comparable content of a sheet."""
    rows = [list(row) for row in grid]
    for row in rows:
        while row and not row[-1]:
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


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
        yield pad + cells if first_col else cells


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
    file = path.name
    rows = sheet.rows
    r = header_index
    for r, cells in enumerate(itertools.chain(head[header_index + 1 :], rows_in), header_index + 1):
        if hint_col is not None and hint_col < len(cells) and not is_blank(cells[hint_col]):
            sheet.hints[r + 1] = cell_text(cells[hint_col])
        if all(is_blank(v) for i, v in enumerate(cells) if i != hint_col):
            continue
        if _is_total_row(cells, columns):
            sheet.total_rows.append(r + 1)
            continue
        row = _parse_row(file, name, kind, r + 1, cells, columns, date1904, problems)
        if keep_values:
            values: dict[str, str] = {}
            for i, v in enumerate(cells[: len(headers)]):
                if v != "" and v is not None and i != hint_col:
                    text = cell_text(v)
                    if text:
                        values[headers[i]] = text
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


def _parse_row(
    file: str,
    sheet: str,
    kind: SheetKind,
    excel_row: int,
    cells: Sequence[object],
    columns: dict[str, int],
    date1904: bool,
    problems: list[Problem],
) -> Row:
    row = Row(file=file, sheet=sheet, kind=kind, row=excel_row)

    def problem(key: str, value: object, message: str) -> None:
        row.unreadable.add(key)
        problems.append(
            Problem(file, sheet, excel_row, FIELD_BY_KEY[key].header, cell_text(value), message)
        )

    for key in _TEXT_FIELDS:
        if key in columns:
            setattr(row, key, cell_text(_get(cells, columns[key])))
    for key in DATE_FIELDS:
        if key in columns:
            value = _get(cells, columns[key])
            try:
                setattr(row, key, parse_date(value, date1904=date1904))
            except CellError as exc:
                problem(key, value, exc.message)
    if "phone" in columns:
        value = _get(cells, columns["phone"])
        row.phone_text = cell_text(value)
        good, bad = parse_phones(value)
        row.phones = good
        for part in bad:
            problem("phone", part, "不是有效的电话号码")
    if "status" in columns:
        value = _get(cells, columns["status"])
        try:
            row.status = parse_status(value)
        except CellError as exc:
            problem("status", value, exc.message)
    return row


def read_settings(
    grid: Sequence[Sequence[object]], file: str, sheet: str, problems: list[Problem]
) -> Settings:
    """Settings from `key | value` rows and a roster table `业务员 | 部门` anywhere in 设置."""
    settings = Settings()
    roster_cols: tuple[int, int | None] | None = None
    for r, cells in enumerate(grid):
        texts = [cell_text(v) for v in cells]
        if roster_cols is not None:
            rep_col, dept_col = roster_cols
            rep = texts[rep_col] if rep_col < len(texts) else ""
            if not rep:
                if not any(texts):
                    roster_cols = None  # a blank row ends the roster table
                continue
            dept = texts[dept_col] if dept_col is not None and dept_col < len(texts) else ""
            settings.roster[rep] = dept
            continue
        keys = [match_header(t) for t in texts]
        if "rep" in keys:
            dept_col = keys.index("department") if "department" in keys else None
            roster_cols = (keys.index("rep"), dept_col)
            continue
        for c, text in enumerate(texts[:-1]):
            spec = SETTING_BY_LABEL.get(norm_label(text)) if text else None
            if spec is None:
                continue
            value = cells[c + 1]
            _apply_setting(
                settings, spec.attr, spec.kind, value, file, sheet, r + 1, text, problems
            )
            break
    return settings


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
    if kind == "days":
        try:
            setattr(settings, attr, parse_positive_int(value))
        except CellError as exc:
            problems.append(Problem(file, sheet, excel_row, label, cell_text(value), exc.message))
    elif kind == "bool":
        word = norm_label(cell_text(value))
        if word in TRUE_WORDS:
            setattr(settings, attr, True)
        elif word in FALSE_WORDS:
            setattr(settings, attr, False)
        else:
            problems.append(
                Problem(file, sheet, excel_row, label, cell_text(value), "应为“是”或“否”")
            )
    else:
        setattr(settings, attr, cell_text(value))
