"""Two offices, two folders, one PostgreSQL: a customer claimed in both is a conflict in
both registers, the other office named; ids are unique across offices; only candidates that
share a block key are fetched."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from xlsync.records import Row
from xlsync.register.reader import read_register
from xlsync.register.schema import SheetKind
from xlsync.stores.crossoffice import block_keys
from xlsync.workspace import Workspace

from .helpers import customer, run_cli, write_register

AS_OF = "2026-11-01"


def offices(tmp_path: Path) -> tuple[Path, Path]:
    shanghai = tmp_path / "上海办"
    shenzhen = tmp_path / "深圳办"
    shanghai.mkdir()
    shenzhen.mkdir()
    write_register(
        shanghai / "客户登记表.xlsx",
        [customer(customer="格林电子", rep="陈刚", phone="13800000001",
                  visited=dt.date(2026, 10, 20), status="拜访"),
         customer(customer="华强五金", rep="陈刚", phone="13900000009")],
        [],
    )  # fmt: skip
    write_register(
        shenzhen / "客户登记表.xlsx",
        [customer(customer="深圳市格林电子有限公司", rep="张伟", phone="0755-88880000",
                  contacted=dt.date(2026, 10, 25), status="电话"),
         customer(customer="远大塑胶", rep="张伟", phone="13700000007")],
        [],
    )  # fmt: skip
    return shanghai, shenzhen


def hints(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path)
    sheet = book["跟进中"]
    return [
        str(c.value) for row in sheet.iter_rows() for c in row if c.value and "【" in str(c.value)
    ]


def test_a_customer_claimed_in_two_offices_is_a_conflict_in_both_registers(
    tmp_path: Path, pg_url: str
) -> None:
    shanghai, shenzhen = offices(tmp_path)
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code == 0
    run = run_cli("sync", shenzhen, "--as-of", AS_OF, "--db", pg_url)
    assert run.code in (0, 1), run.stderr
    here = hints(shenzhen / "客户登记表.xlsx")
    assert any(h.startswith("【冲突】与 上海办 的 陈刚 冲突") for h in here), here
    # and in the other office's register, at its next sync
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code in (0, 1)
    there = hints(shanghai / "客户登记表.xlsx")
    assert any("深圳办 的 张伟 须停止跟进" in h for h in there), there
    conflicts = openpyxl.load_workbook(shanghai / "客户登记表.xlsx")["冲突"]
    listed = [[c.value for c in row] for row in conflicts.iter_rows(min_row=2)]
    assert any("深圳办 的 张伟" in row for row in listed), listed
    # check --json names the other office's row by office/file
    report = run_cli("check", shenzhen, "--json", "--as-of", AS_OF, "--db", pg_url).json()
    (conflict,) = report["conflicts"]
    assert conflict["owner"]["file"] == "上海办/客户登记表.xlsx"
    assert conflict["owner"]["rep"] == "上海办 的 陈刚"
    one = run_cli("check", shenzhen / "客户登记表.xlsx", "--json", "--as-of", AS_OF, "--db", pg_url)
    (conflict,) = one.json()["conflicts"]  # one register: only the other office's row says
    assert conflict["owner"]["file"] == "上海办/客户登记表.xlsx"  # which file it is in
    assert all("file" not in c for c in conflict["claims"] if c["rep"] == "张伟")
    # ids are unique across the offices
    ids = [r.id for r in read_register(shanghai / "客户登记表.xlsx").rows]
    ids += [r.id for r in read_register(shenzhen / "客户登记表.xlsx").rows]
    assert len(ids) == len(set(ids)) == 4 and all(ids)
    # the other office's register is never written by this office's sync
    assert [r.customer for r in read_register(shanghai / "客户登记表.xlsx").rows] == [
        "格林电子",
        "华强五金",
    ]


def test_only_rows_sharing_a_block_key_are_fetched(tmp_path: Path, pg_url: str) -> None:
    shanghai, shenzhen = offices(tmp_path)
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code == 0
    others = Workspace.of(shenzhen, pg_url).other_offices()
    assert others is not None
    mine = [
        Row("客户登记表.xlsx", "跟进中", SheetKind.FOLLOWING, 2, customer="格林电子有限公司"),
        Row("客户登记表.xlsx", "跟进中", SheetKind.FOLLOWING, 3, customer="无关公司",
            phones=("13900000009",)),
    ]  # fmt: skip
    found = others.candidates(mine)
    assert found.stale_since is None
    assert sorted((r.customer, r.rep, r.file) for r in found.rows) == [
        ("华强五金", "上海办 的 陈刚", "上海办/客户登记表.xlsx"),  # by its phone
        ("格林电子", "上海办 的 陈刚", "上海办/客户登记表.xlsx"),  # by its name
    ]
    assert others.candidates([mine[0]]).rows[0].customer == "格林电子"
    assert others.candidates([Row("x.xlsx", "跟进中", SheetKind.FOLLOWING, 2,
                                  customer="远大塑胶")]).rows == []  # fmt: skip
    # an office never sees its own rows as another office's
    own = Workspace.of(shanghai, pg_url).other_offices()
    assert own is not None and own.candidates(mine).rows == []


def test_block_keys_are_the_matchers_blocks() -> None:
    keys = block_keys("深圳市鑫隆电子有限公司", ["13800000001"])
    assert {"p:13800000001", "c:鑫隆电子", "t:鑫隆"} <= keys
    assert any(k.startswith("s:") and "xin" in k for k in keys)
    assert block_keys("王总", []) == set()  # a person, not a company


def test_with_the_database_down_a_sync_uses_the_last_rows_and_says_so(
    tmp_path: Path, pg_url: str, pg_cluster
) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from xlsync.sync import sync

    shanghai, shenzhen = offices(tmp_path)
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code == 0
    ws = Workspace.of(shenzhen, pg_url)
    ws.offline = True  # as the watcher runs
    day = dt.date(2026, 11, 1)
    first = sync(shenzhen, day, workspace=ws)
    assert first.result.others_stale is None and not first.history_pending
    pg_cluster.stop()
    try:
        down = sync(shenzhen, day, workspace=ws)
    finally:
        pg_cluster.start()
    assert down.history_pending and down.result.others_stale is not None
    stale = [h for h in hints(shenzhen / "客户登记表.xlsx") if "上海办 的 陈刚" in h]
    assert stale and "其他办事处数据暂不可用，截至" in stale[0], stale
    import time

    deadline = time.monotonic() + 60
    while (back := sync(shenzhen, day, workspace=ws)).history_pending:  # as the watcher retries
        assert time.monotonic() < deadline, "the database did not come back"
        time.sleep(0.5)  # poll
    assert back.result.others_stale is None
    assert all("暂不可用" not in h for h in hints(shenzhen / "客户登记表.xlsx"))
    run = run_cli("history", shenzhen, "--all", "--json", "--db", pg_url)
    kinds = sorted((e["id"], e["kind"]) for e in run.json())
    assert len(kinds) == len(set(kinds))  # nothing recorded twice


def test_who_finds_a_customer_of_another_office_only(tmp_path: Path, pg_url: str) -> None:
    shanghai, shenzhen = offices(tmp_path)
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code == 0
    # 华强五金 shares no key with any row of 深圳办: asked by name, it is fetched all the same
    run = run_cli("who", shenzhen, "华强五金", "--as-of", AS_OF, "--json", "--db", pg_url)
    assert "上海办 的 陈刚" in run.stdout, run.stdout + run.stderr
    run = run_cli("who", shenzhen, "格林电子", "--as-of", AS_OF, "--db", pg_url)
    assert run.code == 1 and "请勿联系" in run.stdout and "上海办 的 陈刚" in run.stdout
    alone = run_cli("who", shenzhen, "华强五金", "--as-of", AS_OF, "--json")
    assert "陈刚" not in alone.stdout  # without the database: this office only


def test_a_register_gone_from_its_folder_is_no_longer_published(
    tmp_path: Path, pg_url: str
) -> None:
    shanghai, shenzhen = offices(tmp_path)
    second = write_register(
        shanghai / "二部.xlsx", [customer(customer="远大塑胶", rep="李娜", phone="13700000007")], []
    )
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code == 0
    others = Workspace.of(shenzhen, pg_url).other_offices()
    assert others is not None
    probe = [Row("客户登记表.xlsx", "跟进中", SheetKind.FOLLOWING, 3, customer="远大塑胶")]
    assert [r.rep for r in others.candidates(probe).rows] == ["上海办 的 李娜"]
    second.unlink()
    assert run_cli("sync", shanghai, "--as-of", AS_OF, "--db", pg_url).code == 0
    assert others.candidates(probe).rows == []
    assert [r.customer for r in others.candidates([Row("x.xlsx", "跟进中", SheetKind.FOLLOWING,
            2, customer="格林电子")]).rows] == ["格林电子"]  # fmt: skip
