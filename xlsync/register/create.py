"""`xlsync init`: a new, empty register a rep can use at once in Excel, WPS or LibreOffice."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from xlsync.errors import UnusableInput
from xlsync.fileio import shared_mode
from xlsync.register.schema import FIELDS, SHEET_NAMES, STATUS_LABELS, SheetKind
from xlsync.settings import OFFICE_KEYS, SETTING_KEYS, Settings

EXAMPLE_ROSTER: tuple[tuple[str, str], ...] = (
    ("张伟", "业务一部"),
    ("王芳", "业务一部"),
    ("李娜", "业务二部"),
    ("刘洋", "业务二部"),
)
ROSTER_NAME = "业务员名单"
ROSTER_CAPACITY = 200  # roster rows the dropdown covers
FORMAT_ROWS = 5000  # rows that get date formats and dropdowns in advance
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_FONT = Font(bold=True)
THIN = Side(style="thin", color="A6A6A6")


def create_register(path: Path | str) -> Path:
    """Write a new register at `path`; never overwrites an existing file."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        path = path.with_suffix(".xlsx")
    if path.exists():
        raise UnusableInput(path, "文件已存在，不会覆盖；请换一个文件名")
    if not path.parent.is_dir():
        raise UnusableInput(path, "所在文件夹不存在")
    workbook = build_workbook(Settings(), EXAMPLE_ROSTER)
    fd, tmp = tempfile.mkstemp(prefix=".xlsync-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, shared_mode())  # mkstemp makes it private; a register is shared
    try:
        workbook.save(tmp)
        # os.link fails if the target appeared meanwhile: still never overwrite.
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise UnusableInput(path, "文件已存在，不会覆盖；请换一个文件名") from None
        except OSError:
            if path.exists():
                raise UnusableInput(path, "文件已存在，不会覆盖；请换一个文件名") from None
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def build_workbook(settings: Settings, roster: tuple[tuple[str, str], ...]) -> Workbook:
    workbook = Workbook()
    following = workbook.active
    assert following is not None
    following.title = SHEET_NAMES[SheetKind.FOLLOWING]
    cooperating = workbook.create_sheet(SHEET_NAMES[SheetKind.COOPERATING])
    settings_sheet = workbook.create_sheet(SHEET_NAMES[SheetKind.SETTINGS])
    roster_ref = _write_settings(settings_sheet, settings, roster)
    workbook.defined_names[ROSTER_NAME] = DefinedName(ROSTER_NAME, attr_text=roster_ref)
    for sheet in (following, cooperating):
        _write_data_sheet(sheet)
    _write_rulings_sheet(workbook.create_sheet(SHEET_NAMES[SheetKind.RULINGS]))
    _write_agents_sheet(workbook.create_sheet(SHEET_NAMES[SheetKind.AGENTS]))
    return workbook


AGENT_COLUMNS: tuple[tuple[str, int], ...] = (
    ("客户名称", 30), ("电话", 18), ("地区", 12), ("代理商", 20), ("截止日期", 12),
)  # fmt: skip
AGENTS_NOTE = (
    "由地区代理商或经销商负责的客户，每行一家：填客户名称或电话（至少一项）和代理商；"
    "截止日期可空（长期），过了截止日期不再生效。业务员登记这些客户时会提示“请勿联系”"
)


def _write_agents_sheet(sheet: Worksheet) -> None:
    """The manager's 代理商: headers, a date format and check on 截止日期, a frozen header and
    one line saying how to use it (to the right of the headers)."""
    _header_row(sheet, 1, 1, [h for h, _ in AGENT_COLUMNS])
    for col, (_header, width) in enumerate(AGENT_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    letter = get_column_letter(len(AGENT_COLUMNS))  # 截止日期
    sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
    _validate(sheet, "date", f"{letter}2:{letter}{FORMAT_ROWS + 1}")
    note = sheet.cell(row=1, column=len(AGENT_COLUMNS) + 2, value=AGENTS_NOTE)
    note.font = Font(italic=True, color="595959")
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 22


def _header_row(sheet: Worksheet, row: int, column: int, titles: list[str]) -> None:
    for col, title in enumerate(titles, start=column):
        cell = sheet.cell(row=row, column=col, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = Border(bottom=THIN)


def _validate(sheet: Worksheet, kind: str, ref: str) -> None:
    options, title, message = _VALIDATIONS[kind]
    dv = DataValidation(
        allow_blank=True, showErrorMessage=True, errorTitle=title, error=message, **options
    )
    dv.add(ref)
    sheet.add_data_validation(dv)


RULINGS_NOTE = (
    "经理在此填写裁决，每行一条：同一客户 / 不同客户 填「客户」和「另一客户」；"
    "指派 填「业务员」（保护天数可空或填“长期”）；释放 只填「客户」。"
    "客户可填编号、电话或名称；日期较晚的裁决优先；xlsync 只会在下方追加，不会改动已写的行"
)


def _write_rulings_sheet(sheet: Worksheet) -> None:
    """The manager's 裁决: headers, dropdowns for 裁决 and 业务员, a date format on 日期, a
    frozen header and one line saying how to use it (to the right of the headers)."""
    from xlsync.rulings import KIND_LABELS, RULING_COLUMNS

    last = FORMAT_ROWS + 1
    for col, column in enumerate(RULING_COLUMNS, start=1):
        cell = sheet.cell(row=1, column=col, value=column.header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = Border(bottom=THIN)
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = column.width
        options: dict[str, Any]
        if column.key == "date":
            sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
            options, title, message = _VALIDATIONS["date"]
        elif column.key == "kind":
            kinds = ",".join(KIND_LABELS.values())
            options = {"type": "list", "formula1": f'"{kinds}"'}
            title, message = "裁决", f"请从下拉列表选择：{kinds.replace(',', '、')}"
        elif column.key == "rep":
            options, title, message = _VALIDATIONS["rep"]
        else:
            continue
        dv = DataValidation(
            allow_blank=True, showErrorMessage=True, errorTitle=title, error=message, **options
        )
        dv.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(dv)
    note = sheet.cell(row=1, column=len(RULING_COLUMNS) + 2, value=RULINGS_NOTE)
    note.font = Font(italic=True, color="595959")
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 22


# The dropdown or check each kind of column gets: (validation options, error title, message)
# openpyxl's DataValidation keywords (type, formula1, operator …) per kind of column
_VALIDATIONS: dict[str, tuple[dict[str, Any], str, str]] = {
    "date": (
        {"type": "date", "operator": "greaterThan", "formula1": "DATE(2000,1,1)",
         "errorStyle": "warning"},
        "日期格式", "请填写日期，例如 2026-10-03",
    ),
    "status": (
        {"type": "list", "formula1": '"' + ",".join(STATUS_LABELS.values()) + '"'},
        "状态", "请从下拉列表选择：电话、拜访、送样、已合作",
    ),
    "rep": (
        {"type": "list", "formula1": ROSTER_NAME, "errorStyle": "warning"},
        "业务员", "业务员不在「设置」的名单中；请先在「设置」中添加",
    ),
}  # fmt: skip


def _write_data_sheet(sheet: Worksheet) -> None:
    for col, field in enumerate(FIELDS, start=1):
        cell = sheet.cell(row=1, column=col, value=field.header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(bottom=THIN)
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = field.width
        if field.kind == "date":
            sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
        rule = _VALIDATIONS.get(field.key if field.key == "rep" else field.kind)
        if rule is not None:
            options, title, message = rule
            dv = DataValidation(
                allow_blank=True, showErrorMessage=True, errorTitle=title, error=message,
                **options,
            )  # fmt: skip
            dv.add(f"{letter}2:{letter}{FORMAT_ROWS + 1}")
            sheet.add_data_validation(dv)
    sheet.freeze_panes = "C2"  # header row and the 编号/客户名称 columns stay visible
    sheet.row_dimensions[1].height = 22
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(FIELDS))}1"


ALLOCATION_COLUMN = 5  # E: the 分配规则 table stands beside the roster
ALLOCATION_HEADERS = ("地区", "行业", "部门", "业务员")
ALLOCATION_NOTE = (
    "分配规则（可空）：保护结束的客户建议由谁跟进。每行一条：地区填省、市或区县（空 = 任何地区），"
    "行业填客户名称中的一个词如 涂料（可空）；填业务员，或只填部门（由该部门保护客户最少的业务员跟进）"
)


def _write_allocation(sheet: Worksheet, header_row: int) -> None:
    """The empty 分配规则 table `地区 | 行业 | 部门 | 业务员` beside the roster, its note on
    the row above, and the roster dropdown on its 业务员 column."""
    col = ALLOCATION_COLUMN
    note = sheet.cell(row=header_row - 1, column=col, value=ALLOCATION_NOTE)
    note.font = Font(italic=True, color="595959")
    _header_row(sheet, header_row, col, list(ALLOCATION_HEADERS))
    for i, width in enumerate((12, 10, 12, 12)):
        sheet.column_dimensions[get_column_letter(col + i)].width = width
    rep = get_column_letter(col + ALLOCATION_HEADERS.index("业务员"))
    _validate(sheet, "rep", f"{rep}{header_row + 1}:{rep}{header_row + ROSTER_CAPACITY}")


def _write_settings(
    sheet: Worksheet, settings: Settings, roster: tuple[tuple[str, str], ...]
) -> str:
    """Write `key | value | note` rows and the roster table; return the roster range."""
    for col, title in enumerate(("设置项", "值", "说明"), start=1):
        cell = sheet.cell(row=1, column=col, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    row = 2
    for spec in SETTING_KEYS + OFFICE_KEYS:
        value = getattr(settings, spec.attr)
        if spec.kind == "bool":
            value = "是" if value else "否"
        sheet.cell(row=row, column=1, value=spec.label)
        sheet.cell(row=row, column=2, value=value)
        sheet.cell(row=row, column=3, value=spec.note)
        row += 1
    row += 1
    header_row = row
    for col, title in enumerate(("业务员", "部门"), start=1):
        cell = sheet.cell(row=header_row, column=col, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for i, (rep, dept) in enumerate(roster, start=1):
        sheet.cell(row=header_row + i, column=1, value=rep)
        sheet.cell(row=header_row + i, column=2, value=dept)
    sheet.cell(
        row=header_row,
        column=3,
        value="在下面添加或删除业务员；「跟进中」「已合作」的业务员下拉列表取自这里",
    )
    _write_allocation(sheet, header_row)
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 16
    sheet.column_dimensions["C"].width = 60
    first, last = header_row + 1, header_row + ROSTER_CAPACITY
    return f"'{sheet.title}'!$A${first}:$A${last}"
