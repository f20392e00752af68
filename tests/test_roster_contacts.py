"""The roster's optional 邮箱 | 手机 | 负责人 columns: who is reached, and how."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import customer, run_cli, write_register
from xlsync.register.reader import read_register
from xlsync.settings import RepContact


def _register(tmp_path: Path, roster: list[list[object]]) -> Path:
    return write_register(
        tmp_path / "r.xlsx",
        [customer(客户名称="深圳格林电子", 业务员="张伟", 部门="销售一部")],
        settings=[["保护天数", 90], [], ["业务员", "部门", "手机", "邮箱", "负责人"], *roster],
    )


def test_contacts_are_read_with_mobiles_in_any_form(tmp_path: Path) -> None:
    path = _register(
        tmp_path,
        [
            ["张伟", "销售一部", "+86 138-0013-8000", "zhang.wei@example.cn", "是"],
            ["李娜", "销售一部", "139 0013 9000", "", ""],
            ["王芳", "销售二部", "", "wang@example.cn", "否"],
            ["赵总", "", "", "boss@example.cn", "是"],
        ],
    )
    register = read_register(path)
    s = register.settings
    assert s.roster == {"张伟": "销售一部", "李娜": "销售一部", "王芳": "销售二部", "赵总": ""}
    assert s.contact("张伟") == RepContact("zhang.wei@example.cn", "13800138000", head=True)
    assert s.contact("李娜") == RepContact(mobile="13900139000")
    assert s.contact("王芳") == RepContact(email="wang@example.cn")
    assert s.contact("nobody") == RepContact()
    # a head with a blank 部门 heads the whole office
    assert s.heads("销售一部") == ["张伟", "赵总"]
    assert s.heads("销售二部") == ["赵总"]
    assert s.heads() == ["张伟", "赵总"]
    assert not register.problems


def test_bad_contacts_are_located_problems_and_left_blank(tmp_path: Path) -> None:
    path = _register(
        tmp_path,
        [
            ["张伟", "销售一部", "0755-8888 6666", "zhang.wei at example", "也许"],
            ["李娜", "销售一部", "13900139000", "li@example.cn", "是"],
        ],
    )
    run = run_cli("check", str(path), "--json", "--as-of", "2026-11-01")
    problems = [p for p in json.loads(run.stdout)["problems"] if p["sheet"] == "设置"]
    by_column = {p["column"]: p for p in problems}
    assert set(by_column) == {"手机", "邮箱", "负责人"}
    assert {p["row"] for p in problems} == {4}
    assert by_column["手机"]["value"] == "0755-8888 6666"  # a landline is not a mobile
    assert by_column["邮箱"]["message"] == "不是有效的电子邮箱地址"
    s = read_register(path).settings
    assert s.contact("张伟") == RepContact()
    assert s.contact("李娜") == RepContact("li@example.cn", "13900139000", head=True)


def test_a_roster_without_contact_columns_reads_as_before(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(客户名称="深圳格林电子", 业务员="张伟")],
        roster=[("张伟", "销售一部")],
    )
    s = read_register(path).settings
    assert s.roster == {"张伟": "销售一部"}
    assert s.contacts == {}
