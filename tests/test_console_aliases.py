"""The terminal output names customers and reps of registers whose headers are aliases
(`customer`, `rep`, 公司名称, 销售员 …): values are keyed by the header the rep typed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from .helpers import HEADERS, ROSTER, customer, run_cli, write_register

AS_OF = "2026-11-01"
ENGLISH = [
    "id", "customer", "contact", "phone", "region", "rep", "department", "contacted",
    "visited", "sampled", "sample", "notes", "last_follow_up", "status", "won",
]  # fmt: skip
CHINESE_ALIASES = [{"客户名称": "公司名称", "业务员": "销售员"}.get(h, h) for h in HEADERS]


@pytest.mark.parametrize("headers", [ENGLISH, CHINESE_ALIASES], ids=["english", "chinese"])
def test_deleted_history_and_restore_name_the_customer_under_alias_headers(
    tmp_path: Path, headers: list[str]
) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", phone="13812345678",
                  visited=dt.date(2026, 10, 1), status="拜访"),
         customer(customer="华美涂料", rep="王芳", sampled=dt.date(2026, 10, 3), status="送样")],
        [],
        headers=headers,
        roster=ROSTER,
    )  # fmt: skip
    check = run_cli("check", path, "--as-of", AS_OF)
    assert "共 2 行客户，跟进中 2 行，已合作 0 行" in check.stdout, check.stdout + check.stderr
    assert run_cli("sync", path, "--as-of", AS_OF).code == 0
    book = openpyxl.load_workbook(path)
    sheet = book["跟进中"]
    id_col = [c.value for c in sheet[1]].index("id" if headers is ENGLISH else "编号") + 1
    gone = sheet.cell(3, id_col).value
    assert gone and str(gone).startswith("C")
    sheet.delete_rows(3)
    book.save(path)

    run = run_cli("sync", path, "--as-of", AS_OF)
    assert run.code == 0, run.stderr
    assert f"编号 {gone} 华美涂料（原 跟进中 第3行）已被删除" in run.stdout

    run = run_cli("history", path)
    assert run.code == 0, run.stderr
    assert "华美涂料 王芳" in run.stdout and "格林电子 张伟" in run.stdout

    book = openpyxl.load_workbook(path)  # a ruling naming the deleted row says which it was
    book.create_sheet("裁决").append(["日期", "裁决", "客户", "另一客户", "业务员"])
    book["裁决"].append([dt.date(2026, 10, 30), "释放", gone])
    book.save(path)
    problems = run_cli("check", path, "--json", "--as-of", AS_OF).json()["problems"]
    assert [p["code"] for p in problems] == ["ruling.deleted_row"]
    assert "（华美涂料，原在 r.xlsx 跟进中 第 3 行）已被删除" in problems[0]["message"]

    run = run_cli("restore", path, gone, "--as-of", AS_OF)
    assert run.code == 0, run.stderr
    assert f"恢复编号 {gone}（华美涂料）" in run.stdout
