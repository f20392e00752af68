"""The office rules (最多保护客户数, 冷却天数) through a real register: check, sync, who."""

import datetime as dt
from pathlib import Path

import openpyxl

from tests.helpers import ROSTER, customer, run_cli, write_register
from xlsync.check import run_check
from xlsync.lookup import LookupIndex
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


def test_agents_customers_get_the_agent_verdict(tmp_path: Path) -> None:
    d = dt.date
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer="深圳市格林电子有限公司", rep="张伟", visited=d(2026, 10, 1)),
            customer(
                customer="宏达五金厂", rep="王芳", phone="13800138000", visited=d(2026, 10, 2)
            ),
            customer(customer="旧代理塑胶有限公司", rep="李娜", visited=d(2026, 10, 3)),
            customer(customer="无关涂料有限公司", rep="刘洋", visited=d(2026, 10, 3)),
        ],
        [],
        roster=ROSTER,
        extra_sheets={
            "代理商": [
                ["客户名称", "电话", "地区", "代理商", "截止日期"],
                ["格林电子", None, "深圳", "华南代理", None],  # by name
                [None, "138-0013-8000", "东莞", "东莞经销商", "2027-12-31"],  # by phone
                ["旧代理塑胶有限公司", None, None, "过期代理", "2026-06-30"],  # passed
                [None, None, "广州", "没有客户的代理", None],  # a problem
            ]
        },
    )
    result = run_check(path, AS_OF)
    assert [(p.sheet, p.row, p.code.value) for p in result.problems] == [
        ("代理商", 5, "agent.missing_customer")
    ]
    run = run_cli("check", path, "--json", "--as-of", AS_OF.isoformat())
    verdicts = {c["claims"][0]["row"]: c["claims"][0]["verdict"] for c in run.json()["conflicts"]}
    assert verdicts == {2: "agent", 3: "agent"}
    who = run_cli("who", path, "格林电子", "--as-of", AS_OF.isoformat())
    assert who.stdout.startswith("请勿联系：由代理商 华南代理 负责"), who.stdout
    index = LookupIndex.from_check(result)  # what the board searches
    (green,) = [c for c in index.customers if c.decision.agent == "华南代理"]
    assert green.stops() and green.verdict() == "请勿联系：由代理商 华南代理 负责"
    who = run_cli("who", path, "旧代理塑胶", "--as-of", AS_OF.isoformat())
    assert not who.stdout.startswith("请勿联系：由代理商"), who.stdout
    run = run_cli("sync", path, "--as-of", AS_OF.isoformat())
    assert run.code in (0, 1), run.stderr
    hints = _hints(path)
    assert hints[2] == "【代理商】请勿联系：由代理商 华南代理 负责"
    assert hints[3] == "【代理商】请勿联系：由代理商 东莞经销商 负责"
    assert hints[4] == hints[5] == ""
