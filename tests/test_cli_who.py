"""`xlsync who`: the check a rep makes before calling, through the real command line."""

import datetime as dt
from pathlib import Path

import pytest

from .helpers import customer, run_cli, write_register

AS_OF = "2026-11-01"


@pytest.fixture()
def register(tmp_path: Path) -> Path:
    return write_register(
        tmp_path / "r.xlsx",
        [
            customer(
                customer="深圳市格林电子科技有限公司",
                rep="张伟",
                department="业务一部",
                phone="13812345678",
                sampled=dt.date(2026, 10, 3),
                status="送样",
            ),
            customer(
                customer="格林电子", rep="李娜", contacted=dt.date(2026, 10, 20), status="电话"
            ),
            customer(customer="华美涂料", rep="王芳", visited=dt.date(2026, 1, 5), status="拜访"),
            customer(customer="格林电器", rep="刘洋", visited=dt.date(2026, 10, 1), status="拜访"),
        ],
        [
            customer(
                customer="宏达印刷有限公司", rep="张伟", status="已合作", won=dt.date(2025, 3, 1)
            )
        ],
    )


def test_a_protected_customer_says_stop_and_exits_1(register: Path) -> None:
    run = run_cli("who", register, "格林电子（深圳）有限公司", "--as-of", AS_OF)
    assert run.code == 1, run.stderr
    assert "请勿联系：已由 张伟 送样保护至 2027-01-01" in run.stdout
    assert "李娜" in run.stdout  # the phone-only claim is listed too


def test_the_phone_alone_finds_the_customer(register: Path) -> None:
    data = run_cli("who", register, "新客户", "--phone", "138-1234-5678", "--as-of", AS_OF,
                   "--json").json()  # fmt: skip
    assert data["may_call"] is False
    assert {m["rep"] for m in data["matches"]} == {"张伟", "李娜"}


def test_an_expired_customer_may_be_called(register: Path) -> None:
    run = run_cli("who", register, "华美涂料有限公司", "--as-of", AS_OF, "--json")
    assert run.code == 0
    data = run.json()
    assert data["verdict"] == "可以联系"
    assert data["matches"][0]["verdict"] == "expired"


def test_a_cooperating_customer_is_protected_without_end(register: Path) -> None:
    run = run_cli("who", register, "宏达印刷", "--as-of", "2030-01-01")
    assert run.code == 1
    assert "张伟 的合作客户" in run.stdout


def test_an_unknown_customer_may_be_called_and_look_alikes_are_shown(register: Path) -> None:
    run = run_cli("who", register, "格林电源", "--as-of", AS_OF, "--json")
    assert run.code == 0
    data = run.json()
    assert data["matches"] == []
    assert {m["customer"] for m in data["maybe"]} >= {"格林电器"}


def test_the_owner_may_call_their_own_customer(register: Path) -> None:
    run = run_cli("who", register, "格林电子", "--rep", "张伟", "--as-of", AS_OF)
    assert run.code == 0
    assert "你自己的客户" in run.stdout


def test_unusable_input_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "x.xlsx"
    bad.write_text("not a workbook")
    run = run_cli("who", bad, "格林电子")
    assert run.code == 2 and len(run.stderr.strip().splitlines()) == 1


def test_the_demo_suggests_a_look_up_that_finds_a_protected_customer(tmp_path: Path) -> None:
    """The demo's last line names a `who` to try: it must show what xlsync is for (a
    customer someone protects), not a name the demo does not have."""
    demo = run_cli("demo", tmp_path / "demo", env_columns=400)
    assert demo.code == 0, demo.stderr
    line = next(x for x in demo.stdout.splitlines() if x.startswith("再试试：xlsync who "))
    args = line.removeprefix("再试试：xlsync ").split("；")[0].split()
    assert args[0] == "who" and args[-2] == "--as-of"
    answer = run_cli(*args)
    assert answer.code == 1, answer.stderr  # 1: do not call
    assert answer.stdout.startswith("请勿联系："), answer.stdout
