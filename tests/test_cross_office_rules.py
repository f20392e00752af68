"""Rules across offices (one PostgreSQL): each office's rows are protected by that office's
own 保护天数; the manager's rulings and the agent listings of one office apply to the other
offices' claims; 最多保护客户数 and 冷却天数 count a rep's customers in their own office."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl

from .helpers import customer, run_cli, write_register

AS_OF = "2026-11-01"


def office(root: Path, name: str, rows: list[list[Any]], days: int = 90, **extra: Any) -> Path:
    folder = root / name
    folder.mkdir()
    write_register(
        folder / "客户登记表.xlsx", rows, [],
        settings=[["保护天数", days], ["跟进提醒天数", 30], *extra.pop("settings", [])],
        **extra,
    )  # fmt: skip
    return folder


def conflict(folder: Path, pg_url: str) -> dict[str, Any]:
    report = run_cli("check", folder, "--json", "--as-of", AS_OF, "--db", pg_url).json()
    (found,) = report["conflicts"]
    return dict(found)


def verdicts(found: dict[str, Any]) -> dict[str, str]:
    return {c["rep"]: c["verdict"] for c in found["claims"]}


def test_each_office_protects_its_rows_by_its_own_protection_days(
    tmp_path: Path, pg_url: str
) -> None:
    # 上海办 protects 60 days: 陈刚's visit of 08-20 ended on 10-19. 深圳办 protects 90 days:
    # 张伟's visit of 08-25 runs to 11-23. Each office's rows keep their own office's rule,
    # whichever office checks.
    shanghai = office(tmp_path, "上海办", [
        customer(customer="格林电子", rep="陈刚", phone="13800000001",
                 visited=dt.date(2026, 8, 20), status="拜访"),
        customer(customer="远大塑胶", rep="陈刚", phone="13800000002",
                 visited=dt.date(2026, 10, 20), status="拜访"),
    ], days=60)  # fmt: skip
    shenzhen = office(tmp_path, "深圳办", [
        customer(customer="深圳市格林电子有限公司", rep="张伟", phone="0755-88880000",
                 visited=dt.date(2026, 10, 25), status="拜访"),
        customer(customer="远大塑胶有限公司", rep="张伟", phone="0755-88880001",
                 visited=dt.date(2026, 8, 25), status="拜访"),
    ], days=90)  # fmt: skip
    for folder in (shanghai, shenzhen, shanghai):
        assert run_cli("sync", folder, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    for folder in (shanghai, shenzhen):
        report = run_cli("check", folder, "--json", "--as-of", AS_OF, "--db", pg_url).json()
        owners = {("格林" if "格林" in c["customer"] else "远大"): c["owner"]["rep"]
                  for c in report["conflicts"]}  # fmt: skip
        here = "陈刚" if folder == shanghai else "张伟"
        there = "深圳办 的 张伟" if folder == shanghai else "上海办 的 陈刚"
        # 格林电子: 陈刚's protection ended by 上海办's 60 days, even where 90 days rule
        assert owners["格林"] == (there if folder == shanghai else here), report["conflicts"]
        # 远大塑胶: 张伟 protected by 深圳办's 90 days, even where 60 days rule
        assert owners["远大"] == (there if folder == shanghai else here), report["conflicts"]


RULING_HEADER = ["日期", "裁决", "客户", "另一客户", "业务员", "保护天数", "经办人", "备注"]


def test_a_ruling_of_one_office_applies_to_the_other_offices_claims(
    tmp_path: Path, pg_url: str
) -> None:
    # 深圳办's 张伟 visited first and owns 格林电子; then 上海办's manager assigns the
    # customer (named in 上海办's register) to 陈刚: 张伟 must stop, in both registers.
    shanghai = office(tmp_path, "上海办", [
        customer(customer="格林电子", rep="陈刚", phone="13800000001",
                 visited=dt.date(2026, 10, 20), status="拜访"),
    ])  # fmt: skip
    shenzhen = office(tmp_path, "深圳办", [
        customer(customer="深圳市格林电子有限公司", rep="张伟", phone="0755-88880000",
                 visited=dt.date(2026, 10, 10), status="拜访"),
    ])  # fmt: skip
    for folder in (shanghai, shenzhen):
        assert run_cli("sync", folder, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    assert verdicts(conflict(shenzhen, pg_url)) == {"张伟": "owner", "上海办 的 陈刚": "must_stop"}
    write_register(
        shanghai / "客户登记表.xlsx",
        [customer(id="C000001", customer="格林电子", rep="陈刚", phone="13800000001",
                  visited=dt.date(2026, 10, 20), status="拜访")],
        [], extra_sheets={"裁决": [RULING_HEADER, [dt.date(2026, 10, 28), "指派", "格林电子",
                                                   None, "陈刚", None, "经理"]]},
    )  # fmt: skip
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    here = conflict(shanghai, pg_url)
    assert here["owner"]["rep"] == "陈刚" and verdicts(here)["深圳办 的 张伟"] == "must_stop"
    there = conflict(shenzhen, pg_url)
    assert there["owner"]["rep"] == "上海办 的 陈刚", there
    assert verdicts(there)["张伟"] == "must_stop"
    assert there["owner"]["reason"].startswith("上海办 的裁决第 2 行 经理指派 2026-10-28")
    # and in 深圳办's register, at its next sync, naming whose ruling it is
    assert run_cli("sync", shenzhen, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    book = openpyxl.load_workbook(shenzhen / "客户登记表.xlsx")
    texts = [str(c.value) for row in book["跟进中"].iter_rows() for c in row if c.value]
    assert any("经理已指派给 上海办 的 陈刚" in t and "上海办 的裁决第 2 行" in t for t in texts), [
        t for t in texts if "【" in t
    ]
    # a 释放 in 上海办 frees the customer for 深圳办 too
    write_register(
        shanghai / "客户登记表.xlsx",
        [customer(id="C000001", customer="格林电子", rep="陈刚", phone="13800000001",
                  visited=dt.date(2026, 10, 20), status="拜访")],
        [], extra_sheets={"裁决": [RULING_HEADER, [dt.date(2026, 10, 28), "释放", "格林电子",
                                                   None, None, None, "经理"]]},
    )  # fmt: skip
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    freed = conflict(shenzhen, pg_url)  # both protections ended on 10-28: nobody owns it
    assert freed["owner"] is None and set(verdicts(freed).values()) == {"expired"}, freed


def test_the_cap_counts_a_reps_customers_in_their_own_office_only(
    tmp_path: Path, pg_url: str
) -> None:
    # 上海办 has no cap: 陈刚 owns two customers. 深圳办's cap of 1 is 深圳办's rule for its
    # own reps: it does not take one of them from 陈刚 (who belongs to 上海办), while 深圳办's
    # own 张伟, owning two customers, keeps only one.
    shanghai = office(tmp_path, "上海办", [
        customer(customer="格林电子", rep="陈刚", phone="13800000001",
                 visited=dt.date(2026, 10, 10), status="拜访"),
        customer(customer="远大塑胶", rep="陈刚", phone="13800000002",
                 visited=dt.date(2026, 10, 11), status="拜访"),
    ])  # fmt: skip
    shenzhen = office(tmp_path, "深圳办", [
        customer(customer="深圳市格林电子有限公司", rep="李娜", phone="0755-88880000",
                 contacted=dt.date(2026, 10, 25), status="电话"),
        customer(customer="远大塑胶有限公司", rep="李娜", phone="0755-88880001",
                 contacted=dt.date(2026, 10, 25), status="电话"),
        customer(customer="华强五金", rep="张伟", phone="13700000001",
                 visited=dt.date(2026, 10, 12), status="拜访"),
        customer(customer="鑫隆塑料", rep="张伟", phone="13700000002",
                 visited=dt.date(2026, 10, 13), status="拜访"),
    ], settings=[["最多保护客户数", 1]])  # fmt: skip
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    report = run_cli("check", shenzhen, "--json", "--as-of", AS_OF, "--db", pg_url).json()
    owners = sorted(c["owner"]["rep"] for c in report["conflicts"] if c["owner"])
    assert owners == ["上海办 的 陈刚", "上海办 的 陈刚"], report["conflicts"]
    run = run_cli("who", shenzhen, "鑫隆塑料", "--as-of", AS_OF, "--db", pg_url)
    assert "上限 1" in run.stdout, run.stdout  # 张伟's second is capped


def test_an_agent_listed_in_one_office_serves_the_customer_in_every_office(
    tmp_path: Path, pg_url: str
) -> None:
    shanghai = office(tmp_path, "上海办", [
        customer(customer="华强五金", rep="陈刚", phone="13900000009"),
    ], extra_sheets={"代理商": [["客户名称", "电话", "地区", "代理商", "截止日期"],
                                ["格林电子", None, "深圳", "华南贸易", None]]})  # fmt: skip
    shenzhen = office(tmp_path, "深圳办", [
        customer(customer="深圳市格林电子有限公司", rep="张伟", phone="0755-88880000",
                 visited=dt.date(2026, 10, 25), status="拜访"),
    ])  # fmt: skip
    before = run_cli("check", shenzhen, "--json", "--as-of", AS_OF, "--db", pg_url).json()
    assert before["conflicts"] == []
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    found = conflict(shenzhen, pg_url)
    assert verdicts(found) == {"张伟": "agent"}, found
    run = run_cli("who", shenzhen, "格林电子", "--as-of", AS_OF, "--db", pg_url)
    assert "由代理商 华南贸易 负责" in run.stdout, run.stdout


def test_two_rows_of_other_offices_linked_only_through_each_other_are_found(
    tmp_path: Path, pg_url: str
) -> None:
    # 深圳办's 格林电子 shares a key with 上海办's row only; 广州办's GL Electronics shares
    # its phone with 上海办's row, nothing with 深圳办's. 广州办's 王芳 visited: she owns it.
    shenzhen = office(tmp_path, "深圳办", [
        customer(customer="格林电子", rep="张伟", phone="13800000001",
                 contacted=dt.date(2026, 10, 25), status="电话"),
    ])  # fmt: skip
    shanghai = office(tmp_path, "上海办", [
        customer(customer="深圳市格林电子有限公司", rep="陈刚", phone="13800000002",
                 contact="王经理", contacted=dt.date(2026, 10, 21), status="电话"),
    ])  # fmt: skip
    guangzhou = office(tmp_path, "广州办", [
        customer(customer="GL Electronics", rep="王芳", phone="13800000002",
                 contact="王经理", visited=dt.date(2026, 10, 20), status="拜访"),
    ])  # fmt: skip
    for folder in (shanghai, guangzhou):
        assert run_cli("sync", folder, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    found = conflict(shenzhen, pg_url)
    assert found["owner"]["rep"] == "广州办 的 王芳", found
    assert verdicts(found)["张伟"] == "must_stop"


def test_a_claim_its_own_office_capped_is_unprotected_in_the_other_offices_too(
    tmp_path: Path, pg_url: str
) -> None:
    # 上海办's cap of 1 leaves 陈刚 格林电子 (visited first); 远大塑胶 is past his cap there,
    # so 深圳办's 李娜, who visited it after him, owns it in both offices.
    shanghai = office(tmp_path, "上海办", [
        customer(customer="格林电子", rep="陈刚", phone="13800000001",
                 visited=dt.date(2026, 10, 10), status="拜访"),
        customer(customer="远大塑胶", rep="陈刚", phone="13800000002",
                 visited=dt.date(2026, 10, 11), status="拜访"),
    ], settings=[["最多保护客户数", 1]])  # fmt: skip
    shenzhen = office(tmp_path, "深圳办", [
        customer(customer="远大塑胶有限公司", rep="李娜", phone="0755-88880001",
                 visited=dt.date(2026, 10, 20), status="拜访"),
    ])  # fmt: skip
    for folder in (shenzhen, shanghai):
        assert run_cli("sync", folder, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    here = [c for c in run_cli("check", shanghai, "--json", "--as-of", AS_OF, "--db", pg_url)
            .json()["conflicts"] if "远大" in c["customer"]]  # fmt: skip
    assert here[0]["owner"]["rep"] == "深圳办 的 李娜", here
    there = conflict(shenzhen, pg_url)
    assert there["owner"]["rep"] == "李娜", there
    assert verdicts(there)["上海办 的 陈刚"] == "expired"
    run = run_cli("who", shenzhen, "远大塑胶", "--as-of", AS_OF, "--db", pg_url)
    assert "上海办 的最多保护客户数已满" in run.stdout, run.stdout


def test_a_different_customers_ruling_of_one_office_parts_its_rows_in_the_other(
    tmp_path: Path, pg_url: str
) -> None:
    # 上海办 has two 格林电子 (two companies of one name, two phones); its manager rules
    # them 不同客户. 深圳办's GL Electronics has the second one's phone and contact person:
    # it is that customer only.
    rows = [
        customer(id="C000001", customer="格林电子", rep="陈刚", phone="13800000001",
                 visited=dt.date(2026, 10, 10), status="拜访"),
        customer(id="C000002", customer="格林电子", rep="王芳", phone="13800000002",
                 contact="王经理", visited=dt.date(2026, 10, 12), status="拜访"),
    ]  # fmt: skip
    shanghai = office(tmp_path, "上海办", rows)
    shenzhen = office(tmp_path, "深圳办", [
        customer(customer="GL Electronics", rep="张伟", phone="13800000002",
                 contact="王经理", visited=dt.date(2026, 10, 20), status="拜访"),
    ])  # fmt: skip
    for folder in (shanghai, shenzhen):
        assert run_cli("sync", folder, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    assert conflict(shenzhen, pg_url)["owner"]["rep"] == "上海办 的 陈刚"  # one group of three
    write_register(shanghai / "客户登记表.xlsx", rows, [], extra_sheets={"裁决": [
        RULING_HEADER, [dt.date(2026, 10, 25), "不同客户", "C000001", "C000002"]]})  # fmt: skip
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    found = conflict(shenzhen, pg_url)
    assert found["owner"]["rep"] == "上海办 的 王芳", found
    assert set(verdicts(found)) == {"张伟", "上海办 的 王芳"}


def test_another_offices_assignment_to_a_rep_with_no_row_here_names_its_ruling(
    tmp_path: Path, pg_url: str
) -> None:
    # 上海办's manager assigns 格林电子 (陈刚's row) to 王芳, who has no row of it: in 深圳办
    # the owner is 上海办's row of 裁决, named with its file, and 张伟 must stop.
    shanghai = office(tmp_path, "上海办", [
        customer(id="C000001", customer="格林电子", rep="陈刚", phone="13800000001",
                 visited=dt.date(2026, 10, 20), status="拜访"),
    ], extra_sheets={"裁决": [RULING_HEADER, [dt.date(2026, 10, 28), "指派", "C000001",
                                              None, "王芳", None, "经理"]]})  # fmt: skip
    shenzhen = office(tmp_path, "深圳办", [
        customer(customer="深圳市格林电子有限公司", rep="张伟", phone="0755-88880000",
                 visited=dt.date(2026, 10, 10), status="拜访"),
    ])  # fmt: skip
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    one = run_cli("check", shenzhen / "客户登记表.xlsx", "--json", "--as-of", AS_OF, "--db", pg_url)
    (found,) = one.json()["conflicts"]
    assert found["owner"]["rep"] == "上海办 的 王芳", found
    assert (found["owner"]["file"], found["owner"]["sheet"]) == ("上海办/客户登记表.xlsx", "裁决")
    assert verdicts(found) == {"张伟": "must_stop", "上海办 的 陈刚": "must_stop"}
