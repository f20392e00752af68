"""Helpers for tests: write real .xlsx files with openpyxl and run the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904

HEADERS = [
    "编号", "客户名称", "联系人", "电话", "地区", "业务员", "部门", "联系日期",
    "拜访日期", "送样日期", "样品", "跟进情况", "最近跟进", "状态", "成交日期",
]  # fmt: skip
ROSTER = [("张伟", "业务一部"), ("王芳", "业务一部"), ("李娜", "业务二部"), ("刘洋", "业务二部")]


def customer(**values: Any) -> list[Any]:
    """A data row in HEADERS order from field values given by header name or English key."""
    keys = {
        "id": "编号", "customer": "客户名称", "contact": "联系人", "phone": "电话",
        "region": "地区", "rep": "业务员", "department": "部门", "contacted": "联系日期",
        "visited": "拜访日期", "sampled": "送样日期", "sample": "样品", "notes": "跟进情况",
        "last_follow_up": "最近跟进", "status": "状态", "won": "成交日期",
    }  # fmt: skip
    row: list[Any] = [None] * len(HEADERS)
    for key, value in values.items():
        row[HEADERS.index(keys.get(key, key))] = value
    return row


def write_register(
    path: Path,
    following: list[list[Any]],
    cooperating: list[list[Any]] | None = None,
    *,
    headers: list[str] | None = None,
    title: str | None = None,
    settings: list[list[Any]] | None = None,
    roster: list[tuple[str, str]] | None = None,
    extra_sheets: dict[str, list[list[Any]]] | None = None,
    date1904: bool = False,
    sheet_names: tuple[str, str] = ("跟进中", "已合作"),
) -> Path:
    """Write a register. Row numbers: header on row 1, or row 2 under a merged title."""
    wb = openpyxl.Workbook()
    if date1904:
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = sheet_names[0]
    hdr = headers or HEADERS
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(hdr))
    ws.append(hdr)
    for row in following:
        ws.append(row)
    if cooperating is not None:
        ws2 = wb.create_sheet(sheet_names[1])
        ws2.append(hdr)
        for row in cooperating:
            ws2.append(row)
    if settings is not None or roster is not None:
        ws3 = wb.create_sheet("设置")
        for row in settings or [["保护天数", 90], ["跟进提醒天数", 30]]:
            ws3.append(row)
        if roster:
            ws3.append([])
            ws3.append(["业务员", "部门"])
            for rep, dept in roster:
                ws3.append([rep, dept])
    for name, rows in (extra_sheets or {}).items():
        ws4 = wb.create_sheet(name)
        for row in rows:
            ws4.append(row)
    wb.save(path)
    return path


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(
    *args: str | Path, cwd: Path | None = None, timeout: float = 120, env_columns: int = 160
) -> Run:
    """Run `python -m xlsync` as a user would, in a subprocess."""
    proc = subprocess.run(
        [sys.executable, "-m", "xlsync", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": str(env_columns)},
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def rewrite_part(path: Path, part: str, change: Callable[[bytes], bytes]) -> None:
    """Rewrite one part of the package at `path` (every other part as it was), the way a
    test damages or edits a workbook another program wrote."""
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            out.writestr(info, change(data) if info.filename == part else data)
