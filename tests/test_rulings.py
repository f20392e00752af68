"""The manager's 裁决 sheet end to end: real workbooks, the real command line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import ROSTER, customer, run_cli, write_register
from xlsync.check import GroupingCache
from xlsync.matching.group import Group

D = dt.date
AS_OF = "2026-11-01"
RULING_HEADER = ["日期", "裁决", "客户", "另一客户", "业务员", "保护天数", "经办人", "备注"]

ROWS = [
    customer(id="C000001", customer="深圳市金辉五金有限公司", phone="13800000001", rep="张伟",
             visited=D(2026, 10, 1)),
    customer(id="C000002", customer="深圳市金晖五金有限公司", phone="13900000002", rep="王芳",
             visited=D(2026, 10, 5)),
    customer(id="C000003", customer="格林电子", phone="0755-88881234", rep="李娜",
             visited=D(2026, 9, 1)),
    customer(id="C000004", customer="深圳格林电子有限公司", rep="刘洋", visited=D(2026, 10, 1)),
    customer(id="C000005", customer="雅玛西电子", rep="刘洋", sampled=D(2026, 10, 1)),
    customer(id="C000006", customer="深圳市联力电子有限公司", phone="0755-29981234", rep="张伟",
             visited=D(2026, 10, 1)),
    customer(id="C000007", customer="Shenzhen Lianli Electronics Co., Ltd.", phone="13712345678",
             rep="王芳", visited=D(2026, 10, 5)),
]  # fmt: skip


def register(tmp_path: Path, rulings: list[list[Any]], name: str = "r.xlsx") -> Path:
    return write_register(
        tmp_path / name, ROWS, roster=ROSTER, extra_sheets={"裁决": [RULING_HEADER, *rulings]}
    )


def check(path: Path) -> dict[str, Any]:
    run = run_cli("check", path, "--json", "--as-of", AS_OF)
    assert run.code in (0, 1), run.stderr
    return run.json()  # type: ignore[no-any-return]


def rows_of(data: dict[str, Any]) -> list[list[int]]:
    return [[r["row"] for r in g["rows"]] for g in data["groups"]]


def test_no_rulings_sheet_no_rulings_key(tmp_path: Path) -> None:
    data = check(write_register(tmp_path / "r.xlsx", ROWS, roster=ROSTER))
    assert "rulings" not in data


def test_same_customer_joins_and_names_the_ruling(tmp_path: Path) -> None:
    before = check(register(tmp_path, []))
    assert [7, 8] not in rows_of(before)
    data = check(register(tmp_path, [[D(2026, 10, 20), "同一客户", "联力电子", "137 1234 5678"]]))
    assert [7, 8] in rows_of(data)
    conflict = next(c for c in data["conflicts"] if c["owner"]["row"] == 7)
    assert conflict["owner"]["reason"] == (
        "拜访 2026-10-01，保护至 2026-12-30；经理裁定为同一客户（裁决第 2 行）"
    )
    assert data["rulings"] == [{"row": 2, "kind": "same", "applied": True,
                                "rows": [{"sheet": "跟进中", "row": 7}, {"sheet": "跟进中", "row": 8}]}]  # fmt: skip


def test_different_customers_are_never_grouped(tmp_path: Path) -> None:
    assert [4, 5] in rows_of(check(register(tmp_path, [])))
    data = check(register(tmp_path, [[D(2026, 10, 20), "不同客户", "C000003", "C000004"]]))
    assert all(not {4, 5} <= set(g) for g in rows_of(data))
    assert data["rulings"][0]["applied"] is True
    assert not [c for c in data["conflicts"] if "格林" in c["customer"]]


def test_the_later_ruling_wins(tmp_path: Path) -> None:
    data = check(
        register(
            tmp_path,
            [
                [D(2026, 10, 25), "不同客户", "C000001", "C000002"],
                [D(2026, 10, 20), "同一客户", "C000001", "C000002"],
            ],
        )
    )
    assert [2, 3] not in rows_of(data)
    applied = {r["row"]: r["applied"] for r in data["rulings"]}
    assert applied == {2: True, 3: False}
    assert data["rulings"][1]["superseded_by"] == 2


def test_assign_and_who(tmp_path: Path) -> None:
    path = register(tmp_path, [[D(2026, 10, 25), "指派", "雅玛西电子", None, "李娜", 30, "陈经理"]])
    data = check(path)
    conflict = next(c for c in data["conflicts"] if c["customer"] == "雅玛西电子")
    assert conflict["owner"] == {"sheet": "裁决", "row": 2, "rep": "李娜",
                                 "reason": "经理指派 2026-10-25，保护至 2026-11-24"}  # fmt: skip
    assert conflict["claims"] == [
        {"sheet": "跟进中", "row": 6, "rep": "刘洋", "verdict": "must_stop"}
    ]
    who = run_cli("who", path, "雅玛西电子", "--as-of", AS_OF)
    assert who.code == 1
    assert "请勿联系：经理已指派给 李娜，保护至 2026-11-24" in who.stdout


def test_release_frees_the_customer(tmp_path: Path) -> None:
    path = register(tmp_path, [[D(2026, 10, 20), "释放", "0755 8888 1234"]])
    data = check(path)
    assert data["rulings"][0]["rows"] == [{"sheet": "跟进中", "row": 4}]  # the phone's row
    conflict = next(
        c for c in data["conflicts"] if c["customer"] in ("格林电子", "深圳格林电子有限公司")
    )
    assert conflict["owner"] is None
    assert run_cli("who", path, "格林电子", "--as-of", AS_OF).code == 0


def test_bad_rulings_are_located_problems(tmp_path: Path) -> None:
    path = register(
        tmp_path,
        [
            ["2026-13-01", "释放", "C000001"],
            [D(2026, 10, 1), "合并一下", "C000001", "C000002"],
            [D(2026, 10, 1), "指派", "C000001"],
            [D(2026, 10, 1), "指派", "C000001", None, "赵六"],
            [D(2026, 10, 1), "同一客户", "C000001"],
            [D(2026, 10, 1), "释放", "不存在的公司"],
            [D(2026, 10, 1), "不同客户", "格林电子", "C000004"],
            [D(2026, 10, 1), "释放", "C000099"],
            [D(2026, 10, 1), "指派", "C000001", None, "李娜", "很久"],
        ],
    )
    data = check(path)
    found = {(p["row"], p["column"]) for p in data["problems"] if p["sheet"] == "裁决"}
    assert found == {(2, "日期"), (3, "裁决"), (4, "业务员"), (5, "业务员"), (6, "另一客户"),
                     (7, "客户"), (8, "另一客户"), (9, "客户"), (10, "保护天数")}  # fmt: skip
    assert not any(r["applied"] for r in data["rulings"])
    assert check(register(tmp_path, []))["groups"] == data["groups"]


def test_loose_sheet_layout_and_english_headers(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        ROWS,
        roster=ROSTER,
        extra_sheets={
            "Rulings": [
                ["经理的裁决记录（请勿改动已有行）"],
                [],
                ["Note", "Kind", "Customer", "extra", "Other", "Date", "By"],
                ["金辉/金晖", "same", "C000001", "x", "C000002", D(2026, 10, 20), "陈"],
                [],
                [None, None, None, "only an extra column"],
                ["", "different", "C000003", None, "C000004", "2026/10/21", "陈"],
            ]
        },
    )
    data = check(path)
    assert [r["row"] for r in data["rulings"]] == [4, 7]
    assert all(r["applied"] for r in data["rulings"])
    assert not [p for p in data["problems"] if p["sheet"] == "Rulings"]


def test_a_ruling_in_one_file_names_a_row_of_another(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    write_register(folder / "a.xlsx", ROWS[:1], roster=ROSTER,
                   extra_sheets={"裁决": [RULING_HEADER, [D(2026, 10, 20), "同一客户", "C000001", "C000002"]]})  # fmt: skip
    write_register(folder / "b.xlsx", ROWS[1:2], roster=ROSTER)
    data = check(folder)
    assert data["rulings"] == [{"file": "a.xlsx", "row": 2, "kind": "same", "applied": True,
                                "rows": [{"file": "a.xlsx", "sheet": "跟进中", "row": 2},
                                         {"file": "b.xlsx", "sheet": "跟进中", "row": 2}]}]  # fmt: skip
    assert len(data["conflicts"]) == 1


def test_sync_never_changes_the_rulings_and_shows_the_ruling_row(tmp_path: Path) -> None:
    path = register(
        tmp_path, [[D(2026, 10, 25), "指派", "C000005", None, "李娜", "长期", "陈经理"]]
    )
    before = [list(r) for r in openpyxl.load_workbook(path)["裁决"].iter_rows(values_only=True)]
    assert run_cli("sync", path, "--as-of", AS_OF).code == 0
    wb = openpyxl.load_workbook(path)
    assert [list(r) for r in wb["裁决"].iter_rows(values_only=True)] == before
    conflicts = [list(r) for r in wb["冲突"].iter_rows(values_only=True)]
    assert conflicts[0][-1] == "裁决行"
    assert any(r[-1] == "2" and r[3] == "刘洋" for r in conflicts[1:])
    hint = next(r[-1] for r in wb["跟进中"].iter_rows(values_only=True) if r[1] == "雅玛西电子")
    assert (
        hint
        == "【冲突】经理已指派给 李娜（经理指派 2026-10-25，长期保护，裁决第 2 行），请停止跟进"
    )


def test_a_deleted_row_is_explained_from_the_history(tmp_path: Path) -> None:
    path = register(tmp_path, [])
    assert run_cli("sync", path, "--as-of", AS_OF).code in (0, 1)
    wb = openpyxl.load_workbook(path)
    ws = wb["跟进中"]
    ws.delete_rows(6)
    ws2 = wb["裁决"]
    ws2.append([D(2026, 10, 25), "指派", "C000005", None, "李娜"])
    wb.save(path)
    assert run_cli("sync", path, "--as-of", AS_OF).code in (0, 1)
    data = check(path)
    problem = next(p for p in data["problems"] if p["sheet"] == "裁决")
    assert problem["column"] == "客户" and "已被删除" in problem["message"]
    assert "雅玛西电子" in problem["message"]


# ------------------------------------------------------------------ grouping under rulings

NAMES = ["格林电子", "深圳格林电子有限公司", "格琳电子", "东莞格林电子", "金辉五金", "金晖五金",
         "雅玛西电子", "雅玛西", "宏泰塑胶", "宏太塑胶"]  # fmt: skip
PHONES = ["", "13800000001", "13800000002", "075588881234"]


def _members(groups: Sequence[Group]) -> list[tuple[int, ...]]:
    return [g.members for g in groups]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(PHONES)), min_size=2, max_size=12),
    st.data(),
)
def test_rulings_decide_grouping(items: list[tuple[str, str]], data: st.DataObject) -> None:
    """Random consistent rulings, grouped as check groups (the possible tier on, through
    the grouping cache): every ruled pair is grouped or apart as ruled; removing every
    ruling gives back exactly today's groups and look-alikes; and rulings that only
    confirm today's groups change no group."""
    names = tuple((name, (phone,) if phone else (), "") for name, phone in items)
    n = len(names)
    label = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    chosen = data.draw(st.lists(pairs, max_size=6))
    forced = tuple((i, j, k + 2) for k, (i, j) in enumerate(chosen) if label[i] == label[j])
    forbidden = tuple((i, j) for i, j in chosen if label[i] != label[j])
    today, asked_today = GroupingCache().groups(names)
    cache = GroupingCache()
    found, _asked = cache.groups(names, forced, forbidden)
    where = {m: k for k, g in enumerate(found) for m in g.members}
    for i, j, row in forced:
        assert i in where and where[i] == where.get(j)
        assert row in found[where[i]].reason.ruling_rows or not found[where[i]].reason.links
    for i, j in forbidden:
        assert i not in where or where[i] != where.get(j)
    # the same cache, the rulings gone: today's answer exactly
    assert cache.groups(names) == (today, asked_today)
    # rulings that agree with today's groups change no group
    now = {m: k for k, g in enumerate(today) for m in g.members}
    agree_same = tuple((i, j, 2) for i, j in chosen if i in now and now[i] == now.get(j))
    agree_apart = tuple((i, j) for i, j in chosen if i not in now or now[i] != now.get(j))
    confirmed, _ = GroupingCache().groups(names, agree_same, agree_apart)
    assert _members(confirmed) == _members(today)


# ------------------------------------------------------------------ 待确认 round trip

LOOK_ALIKES = [
    customer(customer="深圳市金辉五金有限公司", phone="13800000001", rep="张伟", visited=D(2026, 10, 1)),
    customer(customer="深圳市金晖五金有限公司", phone="13900000002", rep="王芳", visited=D(2026, 10, 5)),
    customer(customer="东莞市宏泰塑胶有限公司", rep="李娜", visited=D(2026, 10, 5)),
    customer(customer="东莞市宏太塑胶有限公司", rep="刘洋", visited=D(2026, 10, 5)),
]  # fmt: skip


def test_look_alikes_are_possible_not_conflicts(tmp_path: Path) -> None:
    data = check(write_register(tmp_path / "r.xlsx", LOOK_ALIKES, roster=ROSTER))
    assert data["groups"] == [] and data["conflicts"] == []
    assert data["possible"] == [
        {"rows": [{"sheet": "跟进中", "row": 2}, {"sheet": "跟进中", "row": 3}],
         "reason": "读音相同：金晖/金辉；电话不同"},
        {"rows": [{"sheet": "跟进中", "row": 4}, {"sheet": "跟进中", "row": 5}],
         "reason": "读音相同：宏太/宏泰；未填电话"},
    ]  # fmt: skip


def test_review_round_trip_through_libreoffice(tmp_path: Path) -> None:
    import shutil
    import subprocess

    import pytest

    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed")
    path = write_register(tmp_path / "r.xlsx", LOOK_ALIKES, roster=ROSTER)
    assert run_cli("sync", path, "--as-of", AS_OF).code == 0
    wb = openpyxl.load_workbook(path)
    ws = wb["待确认"]
    assert ws.data_validations.dataValidation[0].formula1 == '"同一客户,不同客户"'
    hint = next(
        r[-1] for r in wb["跟进中"].iter_rows(values_only=True) if r[1] == "深圳市金辉五金有限公司"
    )
    assert hint.startswith("【待确认】可能与 王芳 登记的「深圳市金晖五金有限公司」")
    assert [ws.cell(2, 1).value, ws.cell(2, 7).value] == ["C000001", "C000002"]
    ws.cell(2, 14).value = "同一客户"
    ws.cell(2, 15).value = "陈经理"
    wb.save(path)
    out = tmp_path / "lo"
    subprocess.run(["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=180)  # fmt: skip
    shutil.copy(out / "r.xlsx", path)
    assert run_cli("sync", path, "--as-of", "2026-11-02").code in (0, 1)
    wb = openpyxl.load_workbook(path)
    rulings = [list(r) for r in wb["裁决"].iter_rows(values_only=True)]
    # 日期 is a real date in a date format, not text
    assert rulings[1][:4] == [dt.datetime(2026, 11, 2), "同一客户", "C000001", "C000002"]
    assert wb["裁决"].cell(2, 1).is_date
    assert rulings[1][6] == "陈经理"
    review = [list(r) for r in wb["待确认"].iter_rows(values_only=True)]
    assert [r[0] for r in review[1:]] == ["C000003"]  # the decided pair left 待确认
    data = check(path)
    assert [[r["row"] for r in g["rows"]] for g in data["groups"]] == [[2, 3]]
    assert data["rulings"][0]["applied"] is True


def test_a_decision_that_cannot_be_applied_is_kept_and_said(tmp_path: Path) -> None:
    path = write_register(tmp_path / "r.xlsx", LOOK_ALIKES, roster=ROSTER)
    assert run_cli("sync", path, "--as-of", AS_OF).code == 0
    wb = openpyxl.load_workbook(path)
    wb["待确认"].cell(2, 14).value = "同一客户"
    wb["跟进中"].delete_rows(3)  # the pair's second row is gone meanwhile
    wb.save(path)
    run_cli("sync", path, "--as-of", AS_OF)
    wb = openpyxl.load_workbook(path)
    problems = [list(r) for r in wb["问题"].iter_rows(values_only=True)]
    assert any(p[0] == "待确认" and "C000002" in str(p[4]) for p in problems)
    review = [list(r) for r in wb["待确认"].iter_rows(values_only=True)]
    assert any(r[13] == "同一客户" for r in review[1:])
    assert "裁决" not in wb.sheetnames


def _rows(*items: tuple[str, str]) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    return tuple((name, (phone,) if phone else (), "") for name, phone in items)


def test_a_ruling_that_agrees_keeps_the_matchers_group() -> None:
    """Found by the property above: a 同一客户 between a Shenzhen row and a Dongguan row
    sharing a phone, made before the matcher's links, pushed the Shenzhen row's same-name
    twin out (its city met Dongguan's); and a ruling between 雅玛西电子 and 雅玛西 let
    金辉五金 (sharing 雅玛西's phone) in past the industry check."""
    twins = _rows(("深圳格林电子有限公司", ""), ("深圳格林电子有限公司", "13800000001"),
                  ("东莞格林电子", "13800000001"))  # fmt: skip
    assert _members(GroupingCache().groups(twins)[0]) == [(0, 1, 2)]
    assert _members(GroupingCache().groups(twins, ((1, 2, 2),), ())[0]) == [(0, 1, 2)]
    shared = _rows(("格林电子", ""), ("格林电子", ""), ("雅玛西电子", ""),
                   ("雅玛西", "13800000002"), ("格林电子", ""), ("金辉五金", "13800000002"))  # fmt: skip
    today = _members(GroupingCache().groups(shared)[0])
    assert today == [(0, 1, 4), (2, 3)]
    assert _members(GroupingCache().groups(shared, ((2, 3, 2),), ())[0]) == today


def test_a_ruling_outranks_the_matchers_link_when_a_different_customer_is_in_the_way() -> None:
    """0 = 2 by ruling and 1 ≠ 2: the matcher would put 0 with 1 (the same name), which
    leaves 2 out; the ruling wins, and 1 stays alone."""
    same = _rows(("格林电子", ""), ("格林电子", ""), ("格林电子", ""))
    groups, _ = GroupingCache().groups(same, ((0, 2, 5),), ((1, 2),))
    assert _members(groups) == [(0, 2)]
    assert 5 in groups[0].reason.ruling_rows
