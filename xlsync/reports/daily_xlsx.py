"""The day's new registrations as an .xlsx a department head can filter and print."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

from xlsync.fileio import atomic_write
from xlsync.reports.content import DailyReport


def _target(dest: Path, default_name: str) -> Path:
    """`dest` itself, or `dest/default_name` when dest is a folder."""
    dest = Path(dest)
    return dest / default_name if dest.is_dir() else dest


_DAILY_COLUMNS: tuple[tuple[str, str, int], ...] = (
    # (header, CustomerLine field, column width)
    ("客户名称", "customer", 34),
    ("业务员", "rep", 10),
    ("部门", "department", 10),
    ("电话", "phone", 16),
    ("地区", "region", 12),
    ("状态", "status", 8),
    ("联系日期", "contacted", 12),
    ("拜访日期", "visited", 12),
    ("送样日期", "sampled", 12),
    ("样品", "sample", 14),
    ("保护至", "protected_until", 12),
    ("保护依据", "protection", 34),
    ("编号", "id", 10),
    ("工作表", "sheet", 8),
    ("行号", "row", 6),
    ("文件", "file", 20),
)
# Characters an .xlsx cannot hold (openpyxl raises on them): control characters.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def write_daily_xlsx(report: DailyReport, dest: Path) -> Path:
    """The day's new registrations as an .xlsx: header row frozen with a filter, real dates,
    and every text written as text (a name such as `=1+1` never becomes a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = _target(dest, f"{Path(report.register).stem or 'report'}-{report.day.isoformat()}.xlsx")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{report.day.isoformat()} 新登记"
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="305496")
    for col, (title, _field, width) in enumerate(_DAILY_COLUMNS, start=1):
        head = ws.cell(row=1, column=col, value=title)
        head.font = header_font
        head.fill = header_fill
        head.alignment = Alignment(vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    for r, line in enumerate(report.lines, start=2):
        for col, (_title, name, _width) in enumerate(_DAILY_COLUMNS, start=1):
            value = getattr(line, name)
            cell: Any = ws.cell(row=r, column=col)  # a fresh sheet: never a merged cell
            if isinstance(value, dt.date):
                cell.value = value
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, int) and not isinstance(value, bool):
                cell.value = value if value else None
            elif value:
                cell.value = _ILLEGAL_XML.sub("", str(value))
                cell.data_type = "s"  # never a formula, whatever the text starts with
    last = get_column_letter(len(_DAILY_COLUMNS))
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{last}{max(1, len(report.lines) + 1)}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    page: Any = ws.sheet_properties.pageSetUpPr  # created with every new sheet
    page.fitToPage = True
    odd_header: Any = ws.oddHeader  # always set on a new sheet
    odd_footer: Any = ws.oddFooter
    header, footer = odd_header.center, odd_footer.center
    header.text = f"{report.company} {report.day.isoformat()} 新登记客户"
    footer.text = "第 &P 页，共 &N 页"
    wb.properties.title = f"{report.company} {report.day.isoformat()} 新登记客户"
    wb.properties.creator = "xlsync"

    buffer = io.BytesIO()
    wb.save(buffer)
    return atomic_write(path, buffer.getvalue())
