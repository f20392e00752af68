"""The office rules (最多保护客户数, 冷却天数) through a real register: check, sync, who."""

import datetime as dt
from pathlib import Path

import openpyxl

from tests.helpers import ROSTER, customer, run_cli, write_register
from xlsync.check import run_check
from xlsync.register.schema import HINT_HEADER
from xlsync.rules import holdings

AS_OF = dt.date(2026, 11, 1)
CAP_HINT = "【超限】你已有 2 个保护中的客户（上限 2），本条不受保护；请先释放或成交"


def _register(path: Path, settings: list[list[object]]) -> Path:
    d = dt.date
    return write_register(
        path,
        [
            customer(customer="甲电子有限公司", rep="张伟", visited=d(2026, 9, 1)),
            customer(customer="乙涂料有限公司", rep="张伟", visited=d(2026, 10, 1)),  # past the cap
            customer(customer="丙五金有限公司", rep="张伟", visited=d(2026, 9, 15)),
            customer(customer="丙五金有限公司", rep="王芳", sampled=d(2026, 10, 5)),
            # 李娜's protection ended 2026-07-30; her visit of 2026-09-01 is in the cool-down
            customer(customer="丁塑胶有限公司", rep="李娜", visited=d(2026, 5, 1)),
            customer(customer="丁塑胶有限公司", rep="李娜", visited=d(2026, 9, 1)),
        ],
        [],
        settings=[["设置项", "值"], ["保护天数", 90], *settings],
        roster=ROSTER,
    )


def _hints(path: Path) -> dict[int, str]:
    ws = openpyxl.load_workbook(path)["跟进中"]
    header = [c.value for c in ws[1]]
    col = header.index(HINT_HEADER)
    return {r[0].row: r[col].value or "" for r in ws.iter_rows(min_row=2)}


def test_without_the_settings_nothing_changes(tmp_path: Path) -> None:
    path = _register(tmp_path / "r.xlsx", [])
    result = run_check(path, AS_OF)
    assert result.limited == []
    assert holdings([g.decision for g in result.groups]).get("张伟") == 1


def test_cap_and_cool_down_in_check_sync_and_who(tmp_path: Path) -> None:
    path = _register(tmp_path / "r.xlsx", [["最多保护客户数", 2], ["冷却天数", 60]])
    result = run_check(path, AS_OF)
    assert result.problems == []
    assert [g.rows[0].customer for g in result.limited] == ["乙涂料有限公司"]
    run = run_cli("sync", path, "--as-of", AS_OF.isoformat())
    assert run.code in (0, 1), run.stderr
    hints = _hints(path)
    assert hints[3] == CAP_HINT  # 乙: the latest protection of 张伟
    assert "【超限】" not in hints[2] + hints[4]
    assert hints[7].endswith(
        "【冷却】冷却期内（原保护 2026-07-30 到期，冷却至 2026-09-28），本次拜访不受保护"
    )
    who = run_cli("who", path, "乙涂料有限公司", "--as-of", AS_OF.isoformat())
    assert who.stdout.startswith("可以联系"), who.stdout


def test_a_bad_office_setting_is_a_problem_and_the_rule_is_off(tmp_path: Path) -> None:
    path = _register(tmp_path / "r.xlsx", [["最多保护客户数", "-2"]])
    result = run_check(path, AS_OF)
    assert [(p.sheet, p.row, p.column) for p in result.problems] == [("设置", 3, "最多保护客户数")]
    assert result.limited == []
