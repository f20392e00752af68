import datetime as dt
from pathlib import Path

from xlsync.check import run_check
from xlsync.register.reader import read_register
from xlsync.register.schema import SheetKind
from xlsync.sync import sync

from .helpers import ROSTER, customer, write_register

AS_OF = dt.date(2026, 11, 1)


def _problems(path: Path) -> list[tuple[str, int, str, str, str]]:
    result = run_check(path, AS_OF)
    return [(p.sheet, p.row, p.column, p.value, p.message) for p in result.problems]


def test_every_kind_of_problem_is_located_with_value_and_message(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer="甲", rep="张伟", sampled="2026-13-01"),  # row 2
            customer(customer="乙", rep="张伟", status="跟进"),  # 3
            customer(contact="王先生", rep="张伟"),  # 4: no customer
            customer(customer="丁", phone="13812345678"),  # 5: no rep
            customer(customer="戊", rep="赵六"),  # 6: not on roster
            customer(customer="己", rep="张伟", visited=dt.date(2026, 12, 1)),  # 7: future
            customer(customer="庚", rep="张伟", status="送样"),  # 8: 送样 without date
            customer(customer="辛", rep="张伟", phone="12345"),  # 9: bad phone
            customer(id="C000001", customer="壬", rep="张伟"),  # 10
            customer(id="C000001", customer="癸", rep="王芳"),  # 11: duplicate id
            customer(customer="子", rep="张伟", status="电话", visited=dt.date(2026, 10, 1)),  # 12
        ],
        roster=ROSTER,
    )
    problems = _problems(path)
    assert problems == [
        ("跟进中", 2, "送样日期", "2026-13-01", "日期不存在"),
        ("跟进中", 3, "状态", "跟进", "未知状态（应为 电话、拜访、送样 或 已合作）"),
        ("跟进中", 4, "客户名称", "", "这一行有内容但缺少客户名称"),
        ("跟进中", 5, "业务员", "", "这一行缺少业务员"),
        ("跟进中", 6, "业务员", "赵六", "业务员不在「设置」的名单中"),
        ("跟进中", 7, "拜访日期", "2026-12-01", "日期晚于今天（2026-11-01）"),
        ("跟进中", 8, "状态", "送样", "状态为送样，但没有填写送样日期"),
        ("跟进中", 9, "电话", "12345", "不是有效的电话号码"),
        ("跟进中", 11, "编号", "C000001", "编号重复（与 跟进中 第 10 行相同）"),
        ("跟进中", 12, "状态", "电话", "状态为电话，但已填写拜访日期（请把状态改为拜访）"),
    ]


def test_without_a_roster_any_rep_is_accepted(tmp_path: Path) -> None:
    path = write_register(tmp_path / "r.xlsx", [customer(customer="甲", rep="赵六")])
    assert _problems(path) == []


def test_duplicate_id_across_both_sheets(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(id="C000007", customer="甲", rep="张伟")],
        [
            customer(
                id="C000007", customer="乙", rep="王芳", status="已合作", won=dt.date(2026, 9, 1)
            )
        ],
    )
    assert _problems(path) == [
        ("已合作", 2, "编号", "C000007", "编号重复（与 跟进中 第 2 行相同）")
    ]


def test_a_clean_register_has_no_problems(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(
                customer="格林电子",
                rep="张伟",
                phone="0755-23456789",
                contacted="2026/9/1",
                visited="2026.9.10",
                sampled="2026年10月3日",
                status="送样",
            ),
        ],
        [customer(customer="华美涂料", rep="李娜", status="已合作", won=dt.date(2026, 5, 1))],
        roster=ROSTER,
    )
    assert _problems(path) == []


def test_a_cooperating_status_without_a_won_date_asks_for_the_date(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 9, 3), status="已合作")],
        [customer(customer="华美涂料", rep="李娜", status="已合作")],
        roster=ROSTER,
    )
    problems = run_check(path, dt.date(2026, 11, 1)).problems
    located = {(p.sheet, p.row, p.column, p.message) for p in problems}
    ask = "状态为已合作，但没有填写成交日期（请补上首单日期）"
    assert ("跟进中", 2, "成交日期", ask) in located
    assert ("已合作", 2, "成交日期", ask) in located
    sync(path, dt.date(2026, 11, 1))
    hints = read_register(path).sheets[SheetKind.COOPERATING].hints
    assert any("成交日期" in h and "请补上首单日期" in h for h in hints.values())
