"""`init` writes the office rules ready to fill in: the 设置 keys (blank, with a note), an
empty 分配规则 table beside the roster and an empty 代理商 sheet; LibreOffice opens and
saves the result, and xlsync reads it back, filled in, without a problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from tests.helpers import customer, run_cli
from tests.office import libreoffice_roundtrip, libreoffice_values, soffice_available
from xlsync.check import run_check
from xlsync.register.reader import read_register


def _init(tmp_path: Path) -> Path:
    path = tmp_path / "客户登记表.xlsx"
    run = run_cli("init", path)
    assert run.code == 0, run.stderr
    return path


def test_init_writes_the_office_keys_the_allocation_table_and_the_agents_sheet(
    tmp_path: Path,
) -> None:
    path = _init(tmp_path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["跟进中", "已合作", "设置", "裁决", "代理商"]
    rows = {r[0]: r for r in wb["设置"].iter_rows(values_only=True) if r[0]}
    for key in ("最多保护客户数", "冷却天数"):
        assert rows[key][1] is None and "留空不限" in str(rows[key][2])
    header = rows["业务员"]
    assert list(header[4:8]) == ["地区", "行业", "部门", "业务员"]
    settings = wb["设置"]
    rep_checks = [dv for dv in settings.data_validations.dataValidation if str(dv.sqref)[0] == "H"]
    assert rep_checks and rep_checks[0].formula1 == "业务员名单"
    agents = wb["代理商"]
    assert [c.value for c in agents[1]][:5] == ["客户名称", "电话", "地区", "代理商", "截止日期"]
    assert (
        agents.freeze_panes == "A2" and agents.column_dimensions["E"].number_format == "yyyy-mm-dd"
    )
    assert {dv.type for dv in agents.data_validations.dataValidation} == {"date"}
    register = read_register(path)
    assert register.problems == [] and register.settings.allocation == ()
    assert register.settings.max_protected is None and register.settings.cool_down_days is None


@pytest.mark.skipif(not soffice_available(), reason="LibreOffice is not installed")
def test_libreoffice_opens_it_and_the_filled_in_rules_work(tmp_path: Path) -> None:
    path = _init(tmp_path)
    values = libreoffice_values(path)
    assert ["业务员", "部门", "在下面添加或删除业务员；「跟进中」「已合作」的业务员下拉列表取自这里",
            "", "地区", "行业", "部门", "业务员"] in values["设置"]  # fmt: skip
    assert values["代理商"][0][:5] == ["客户名称", "电话", "地区", "代理商", "截止日期"]
    saved = libreoffice_roundtrip(path, tmp_path / "lo")
    # the manager fills the rules in the file LibreOffice saved
    wb = openpyxl.load_workbook(saved)
    settings = wb["设置"]
    keys = {row[0].value: row[0].row for row in settings.iter_rows() if row[0].value}
    settings.cell(row=keys["最多保护客户数"], column=2, value=30)
    settings.cell(row=keys["冷却天数"], column=2, value=60)
    settings.cell(row=keys["业务员"] + 1, column=5, value="广东")
    settings.cell(row=keys["业务员"] + 1, column=7, value="业务二部")
    wb["代理商"].append(["格林电子", None, "深圳", "华南代理", None])
    d = dt.date
    wb["跟进中"].append(customer(customer="深圳市甲涂料有限公司", rep="张伟", visited=d(2026, 5, 1),
                                 status="拜访"))  # fmt: skip
    wb["跟进中"].append(customer(customer="深圳市格林电子有限公司", rep="王芳",
                                 visited=d(2026, 10, 1), status="拜访"))  # fmt: skip
    wb.save(saved)
    result = run_check(saved, d(2026, 11, 1))
    assert result.problems == []
    s = result.registers.settings
    assert (s.max_protected, s.cool_down_days) == (30, 60)
    assert [(r.region, r.department) for r in s.allocation] == [("广东", "业务二部")]
    who = run_cli("who", saved, "甲涂料", "--as-of", "2026-11-01")
    assert who.stdout.startswith("可以联系；按分配规则建议由 业务二部 刘洋 跟进"), who.stdout
    who = run_cli("who", saved, "格林电子", "--as-of", "2026-11-01")
    assert who.stdout.startswith("请勿联系：由代理商 华南代理 负责"), who.stdout
