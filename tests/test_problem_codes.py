"""Every problem carries a stable code: each code is documented, and `check --json` gives
every kind of problem the generator plants the code that names it."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest

from xlsync.check import check_json, check_registers, run_check
from xlsync.plan import Plan, plan_review
from xlsync.problems import ProblemCode
from xlsync.register_set import load_set
from xlsync.review import REVIEW_HEADERS

from .data_gen import FOLLOWING, PROBLEM_KINDS, GeneratedInfo, make_register
from .helpers import ROSTER, customer, run_cli, write_register

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "sample_registers" / "demo.xlsx"
DOC = ROOT / "docs" / "check-json.md"
AS_OF = dt.date(2026, 11, 1)

# tests/data_gen.py's planted problem kinds, and the code check gives each
KIND_CODES: dict[str, ProblemCode] = {
    "impossible_date": ProblemCode.DATE_INVALID,
    "unknown_status": ProblemCode.STATUS_UNKNOWN,
    "missing_customer": ProblemCode.CUSTOMER_MISSING,
    "missing_rep": ProblemCode.REP_MISSING,
    "unknown_rep": ProblemCode.REP_UNKNOWN,
    "future_date": ProblemCode.DATE_FUTURE,
    "missing_sample_date": ProblemCode.STATUS_MISSING_DATE,
    "bad_phone": ProblemCode.PHONE_UNREADABLE,
    "duplicate_id": ProblemCode.ID_DUPLICATE,
}


def test_every_code_is_dotted_and_documented_and_every_documented_code_exists() -> None:
    section = DOC.read_text("utf-8").split("\n## Problem codes\n")[1].split("\n## ")[0]
    documented = re.findall(r"^\| `([a-z_.]+)` \|", section, re.MULTILINE)
    assert len(documented) == len(set(documented))
    assert set(documented) == {c.value for c in ProblemCode}
    for code in ProblemCode:
        assert re.fullmatch(r"[a-z]+(\.[a-z_]+)+", code.value), code


def test_every_planted_kind_has_a_code() -> None:
    assert set(KIND_CODES) == set(PROBLEM_KINDS)


def _planted(info: GeneratedInfo) -> Counter[tuple[str, int, str]]:
    """(sheet, row, code) of every problem the generator planted, with how often."""
    planted = Counter((p.sheet, p.row, KIND_CODES[p.kind].value) for p in info.problems)
    planted.update(
        (r.sheet, r.row, ProblemCode.WON_MISSING_DATE.value) for r in info.won_date_missing
    )
    return planted


def _found(out: dict[str, object]) -> Counter[tuple[str, int, str]]:
    problems = out["problems"]
    assert isinstance(problems, list)
    return Counter((p["sheet"], p["row"], p["code"]) for p in problems)


@pytest.mark.parametrize("seed", [7, 21, 99])
def test_check_json_gives_every_planted_problem_its_code(tmp_path: Path, seed: int) -> None:
    info = make_register(tmp_path / "r.xlsx", rows=400, seed=seed)
    assert {p.kind for p in info.problems} == set(PROBLEM_KINDS)
    assert _found(check_json(run_check(info.path, AS_OF))) == _planted(info)


def test_check_json_of_the_demo_gives_its_planted_problems_their_codes(tmp_path: Path) -> None:
    # the demo is the generator's output for these parameters (sample_registers/README.md)
    info = make_register(tmp_path / "demo.xlsx", rows=300, seed=7, messy=True, title_row=True)
    run = run_cli("check", DEMO, "--json", "--as-of", AS_OF.isoformat())
    assert run.code == 1, run.stderr
    found = _found(run.json())
    assert found == _planted(info)
    assert {code for _, _, code in found} >= {KIND_CODES[p.kind].value for p in info.problems}
    assert all(sheet == FOLLOWING for sheet, _, _ in found)


RULING_HEADER = ["日期", "裁决", "客户", "另一客户", "业务员", "保护天数", "经办人", "备注"]
D = dt.date(2026, 10, 20)


def test_rulings_settings_and_an_unusable_file_get_their_codes(tmp_path: Path) -> None:
    rows = [
        customer(id="C000001", customer="深圳市金辉五金有限公司", rep="张伟", visited=D),
        customer(id="C000002", customer="深圳市格林电子有限公司", phone="13800000001", rep="王芳",
                 visited=D),
        customer(id="C000003", customer="东莞市格林电子有限公司", phone="13900000002", rep="李娜",
                 visited=D),
        customer(id="C000004", customer="雅玛西电子", rep="刘洋", sampled=D),
    ]  # fmt: skip
    rulings = [
        [D, "乱写", "C000001", "C000004"],  # row 2
        ["2026-13-01", "指派", "C000001", None, "张伟"],
        [D, "指派", "C000001", None, "张伟", "很多天"],
        [D, "指派", None, None, "张伟"],
        [D, "同一客户", "C000001"],
        [D, "指派", "C000001"],
        [D, "指派", "C000001", None, "外人"],
        [D, "释放", "C999999"],
        [D, "释放", "格林电子"],  # row 10: two companies in two cities
        [D, "释放", "C000005"],  # deleted (see `deleted` below)
        [D, "同一客户", "C000001", "深圳市金辉五金有限公司"],
    ]
    folder = tmp_path / "office"
    folder.mkdir()
    write_register(
        folder / "a.xlsx", rows, roster=ROSTER, settings=[["保护天数", "九十"]],
        extra_sheets={"裁决": [RULING_HEADER, *rulings]},
    )  # fmt: skip
    write_register(
        folder / "b.xlsx", [customer(customer="华美涂料", rep="张伟")], roster=ROSTER,
        extra_sheets={"裁决": [["随便写的", "内容"]]},
    )  # fmt: skip
    (folder / "c.xlsx").write_bytes(b"not a workbook")

    def deleted(row_id: str) -> tuple[str, str, int, str] | None:
        return ("a.xlsx", "跟进中", 9, "华美涂料") if row_id == "C000005" else None

    result = check_registers(str(folder), load_set(folder), AS_OF, deleted)
    found = [(p["file"], p["sheet"], p["row"], p["code"]) for p in check_json(result)["problems"]]
    assert found == [
        ("a.xlsx", "设置", 1, "settings.invalid"),
        ("a.xlsx", "裁决", 2, "ruling.unknown_kind"),
        ("a.xlsx", "裁决", 3, "ruling.bad_date"),
        ("a.xlsx", "裁决", 4, "ruling.bad_days"),
        ("a.xlsx", "裁决", 5, "ruling.missing_customer"),
        ("a.xlsx", "裁决", 6, "ruling.missing_other"),
        ("a.xlsx", "裁决", 7, "ruling.missing_rep"),
        ("a.xlsx", "裁决", 8, "ruling.unknown_rep"),
        ("a.xlsx", "裁决", 9, "ruling.not_found"),
        ("a.xlsx", "裁决", 10, "ruling.ambiguous"),
        ("a.xlsx", "裁决", 11, "ruling.deleted_row"),
        ("a.xlsx", "裁决", 12, "ruling.same_customer"),
        ("b.xlsx", "裁决", 1, "ruling.no_header"),
        ("c.xlsx", "", 0, "file.unusable"),
    ]
    whole = next(p for p in result.problems if p.code is ProblemCode.FILE_UNUSABLE)
    assert whole.is_whole_file and whole.ref() == {"file": "c.xlsx", "sheet": "", "row": 0}


def test_status_codes_and_review_choices_that_cannot_be_applied(tmp_path: Path) -> None:
    review = [""] * len(REVIEW_HEADERS)
    maybe = {0: "C000001", 6: "C000002", REVIEW_HEADERS.index("裁决"): "也许"}
    gone = {0: "C000001", 6: "C000009", REVIEW_HEADERS.index("裁决"): "同一客户"}
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(id="C000001", customer="格林电子", rep="张伟", visited=D, status="电话"),
         customer(id="C000002", customer="华美涂料", rep="王芳", sampled=D, status="送样")],
        [customer(id="C000003", customer="宏达印刷", rep="李娜", visited=D, status="拜访")],
        roster=ROSTER,
        extra_sheets={"待确认": [REVIEW_HEADERS, *([d.get(i, v) for i, v in enumerate(review)]
                                                   for d in (maybe, gone))]},
    )  # fmt: skip
    result = run_check(path, AS_OF)
    assert [(p.sheet, p.row, p.code.value) for p in result.problems] == [
        ("跟进中", 2, "status.contradicts_dates"),
        ("已合作", 2, "status.not_cooperating"),
    ]
    ids = {(r.file, r.sheet, r.row): r.id for r in result.rows}
    _, problems = plan_review(
        result, {reg.name: Plan(reg) for reg in result.registers.registers}, ids
    )
    assert [(p.sheet, p.row, p.code.value) for p in problems] == [
        ("待确认", 2, "review.bad_choice"),
        ("待确认", 3, "review.row_gone"),
    ]
