"""The side-car report: the 冲突 and 问题 sheets in a file of their own, when the register
itself cannot be written now (someone has it open) or at all (a part xlsync cannot keep)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import TYPE_CHECKING

from xlsync.fileio import atomic_write

if TYPE_CHECKING:
    from xlsync.plan import Plan

SIDECAR_FOLDER = "xlsync报告"


def write_sidecar(plan: Plan, now: dt.datetime) -> Path:
    from openpyxl import Workbook  # only here: openpyxl (and numpy) take 0.3 s to import
    from openpyxl.styles import Font

    register = plan.register.path
    folder = register.parent / SIDECAR_FOLDER
    folder.mkdir(exist_ok=True)
    dest = folder / f"{register.stem}-冲突与问题.xlsx"
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.title = "冲突"
    for sheet, grid in (
        (first, plan.text.conflicts),
        (workbook.create_sheet("问题"), plan.text.problems),
    ):
        for r, row in enumerate(grid, start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=c)
                if isinstance(value, int) and not isinstance(value, bool):
                    cell.value = value
                elif value not in (None, ""):
                    cell.value = str(value)
                    cell.data_type = "s"  # text stays text: "=1+1" from a rep is not a formula
                if r == 1:
                    cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        if grid:
            sheet.auto_filter.ref = sheet.dimensions
    info = workbook.create_sheet("说明")
    info["A1"] = f"{register.name} 的冲突与问题（{now:%Y-%m-%d %H:%M} 生成）。"
    info["A2"] = "登记表暂时无法写入，xlsync 把结果放在这里；登记表可以写入后会自动更新。"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return atomic_write(dest, buffer.getvalue())
