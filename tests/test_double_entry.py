"""One rep's double entry: listed in check --json `conflicts`, never counted as a conflict."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl

from tests.helpers import ROSTER, customer, run_cli, write_register

D = dt.date
AS_OF = "2026-11-01"


def _check(path: Path) -> tuple[int, dict[str, Any]]:
    run = run_cli("check", path, "--json", "--as-of", AS_OF)
    assert run.code in (0, 1), run.stderr
    return run.code, run.json()


def test_a_protected_double_entry_is_listed_with_owner_and_same_rep(tmp_path: Path) -> None:
    path = write_register(tmp_path / "r.xlsx", [
        customer(customer="格林电子", rep="张伟", phone="13800000001", status="电话",
                 contacted=D(2026, 9, 1)),
        customer(customer="深圳格林电子有限公司", rep="张伟", phone="13800000001",
                 visited=D(2026, 10, 5), status="拜访"),
    ], roster=ROSTER)  # fmt: skip
    code, data = _check(path)
    assert code == 0  # not a conflict: the exit code does not change
    assert data["conflicts"] == [
        {
            "customer": "深圳格林电子有限公司",
            "owner": {"sheet": "跟进中", "row": 3, "rep": "张伟",
                      "reason": "拜访 2026-10-05，保护至 2027-01-03"},
            "claims": [
                {"sheet": "跟进中", "row": 2, "rep": "张伟", "verdict": "same_rep"},
                {"sheet": "跟进中", "row": 3, "rep": "张伟", "verdict": "owner"},
            ],
        }
    ]  # fmt: skip


def test_an_unprotected_double_entry_leads_with_the_claim_that_started_first(
    tmp_path: Path,
) -> None:
    path = write_register(tmp_path / "r.xlsx", [
        customer(customer="格林电子", rep="张伟", contacted=D(2026, 10, 9), status="电话"),
        customer(customer="格林电子", rep="张伟", contacted=D(2026, 10, 2), status="电话"),
    ], roster=ROSTER)  # fmt: skip
    code, data = _check(path)
    assert code == 0
    (entry,) = data["conflicts"]
    assert entry["owner"] is None  # nobody is protected
    assert [(c["row"], c["verdict"]) for c in entry["claims"]] == [(2, "same_rep"), (3, "owner")]


def test_a_double_entry_keeps_its_hint_and_stays_off_the_conflict_sheet(tmp_path: Path) -> None:
    path = write_register(tmp_path / "r.xlsx", [
        customer(customer="格林电子", rep="张伟", visited=D(2026, 10, 1), status="拜访"),
        customer(customer="格林电子", rep="张伟", visited=D(2026, 10, 5), status="拜访"),
    ], roster=ROSTER)  # fmt: skip
    assert run_cli("sync", path, "--as-of", AS_OF).code == 0
    wb = openpyxl.load_workbook(path)
    hints = [r[-1] for r in wb["跟进中"].iter_rows(min_row=2, values_only=True)]
    assert all(h and "【重复】" in h for h in hints)
    conflicts = list(wb["冲突"].iter_rows(min_row=2, values_only=True))
    assert not [r for r in conflicts if any(v for v in r)]
