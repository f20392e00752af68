"""代理商 in a folder set: the manager's sheet in one register stops the claims of every
register; the agents show in each register's 冲突 sheet, in the handout's conflicts and on
the board; an agent row without the agent's name is a located problem and is ignored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from tests.helpers import ROSTER, customer, run_cli, write_register
from xlsync.check import run_check
from xlsync.reports.data import build_board, build_monthly

AS_OF = dt.date(2026, 11, 1)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "set"
    folder.mkdir()
    d = dt.date
    write_register(
        folder / "a.xlsx",
        [customer(customer="深圳市格林电子有限公司", rep="张伟", visited=d(2026, 10, 1))],
        [],
        roster=ROSTER,
        extra_sheets={
            "代理商": [
                ["客户名称", "电话", "地区", "代理商", "截止日期"],
                ["格林电子", None, "深圳", "华南代理", None],
                ["宏达五金", None, "东莞", None, None],  # no agent: a problem, ignored
            ]
        },
    )
    write_register(
        folder / "b.xlsx",
        [
            customer(customer="格林电子（深圳）有限公司", rep="王芳", sampled=d(2026, 10, 5)),
            customer(customer="宏达五金厂", rep="李娜", visited=d(2026, 10, 6)),
        ],
        [],
        roster=ROSTER,
    )
    return folder


def test_agents_stop_every_register_of_a_folder(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    result = run_check(folder, AS_OF)
    assert [(p.file, p.sheet, p.row, p.code.value) for p in result.problems] == [
        ("a.xlsx", "代理商", 3, "agent.missing_agent")
    ]
    data = run_cli("check", folder, "--json", "--as-of", AS_OF.isoformat()).json()
    (conflict,) = data["conflicts"]
    assert {(c["file"], c["verdict"]) for c in conflict["claims"]} == {
        ("a.xlsx", "agent"), ("b.xlsx", "agent")
    }  # fmt: skip
    who = run_cli("who", folder, "宏达五金厂", "--as-of", AS_OF.isoformat())
    assert who.stdout.startswith("请勿联系：已由 李娜"), who.stdout  # the bad listing is off
    run = run_cli("sync", folder, "--as-of", AS_OF.isoformat())
    assert run.code in (0, 1), run.stderr
    for name in ("a.xlsx", "b.xlsx"):
        sheet = openpyxl.load_workbook(folder / name)["冲突"]
        lines = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
        assert {line[1] for line in lines} == {"代理商 华南代理"}, lines
        assert {line[7] for line in lines} == {"代理商"}
    report = build_monthly(run_check(folder, AS_OF), "2026-10", company="", mask=True,
                           now=dt.datetime(2026, 11, 1))  # fmt: skip
    (line,) = report.conflicts
    assert line.owner == "代理商 华南代理" and line.reason == "请勿联系：由代理商 华南代理 负责"
    assert line.others == "张伟（代理商）、王芳（代理商）"
    board = build_board(run_check(folder, AS_OF), company="", now=dt.datetime(2026, 11, 1))
    assert [c.owner for c in board.conflicts] == ["代理商 华南代理"] and board.notices == []
