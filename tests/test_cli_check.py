"""End-to-end tests of `xlsync check` and `xlsync init` through the real command line."""

import datetime as dt
import io
import zipfile
from pathlib import Path

import msoffcrypto.format.ooxml
import openpyxl
import pytest
import xlwt

from .helpers import HEADERS, ROSTER, customer, run_cli, write_register

AS_OF = "2026-11-01"


@pytest.fixture()
def register(tmp_path: Path) -> Path:
    return write_register(
        tmp_path / "demo.xlsx",
        [
            customer(
                customer="深圳市格林电子科技有限公司",
                rep="张伟",
                phone="138-1234-5678",
                sampled=dt.date(2026, 10, 3),
                status="送样",
            ),  # row 3
            customer(
                customer="格林电子（深圳）有限公司",
                rep="李娜",
                phone="13812345678",
                visited=dt.date(2026, 10, 20),
                status="拜访",
            ),  # 4
            customer(
                customer="雅玛西电子",
                rep="王芳",
                status="已合作",
                won=dt.date(2026, 10, 28),
                visited=dt.date(2026, 9, 1),
            ),  # 5
            customer(customer="华美涂料", rep="刘洋", sampled="2026-13-01"),  # 6
        ],
        [customer(customer="宏达印刷", rep="张伟", status="已合作", won=dt.date(2026, 3, 1))],
        title="2026年10月 客户登记表",
        roster=ROSTER,
    )


def test_check_json_is_exactly_the_contract(register: Path) -> None:
    run = run_cli("check", register, "--json", "--as-of", AS_OF)
    assert run.code == 1, run.stderr
    assert run.stderr == ""
    assert run.json() == {
        "register": str(register),
        "as_of": "2026-11-01",
        "groups": [
            {
                "key": "格林电子",
                "reason": "名称相同、同一电话",
                "rows": [{"sheet": "跟进中", "row": 3}, {"sheet": "跟进中", "row": 4}],
            }
        ],
        "conflicts": [
            {
                "customer": "深圳市格林电子科技有限公司",
                "owner": {
                    "sheet": "跟进中",
                    "row": 3,
                    "rep": "张伟",
                    "reason": "送样 2026-10-03，保护至 2027-01-01",
                },
                "claims": [
                    {"sheet": "跟进中", "row": 3, "rep": "张伟", "verdict": "owner"},
                    {"sheet": "跟进中", "row": 4, "rep": "李娜", "verdict": "must_stop"},
                ],
            }
        ],
        "problems": [
            {
                "sheet": "跟进中",
                "row": 6,
                "column": "送样日期",
                "value": "2026-13-01",
                "message": "日期不存在",
                "code": "date.invalid",
            }
        ],
        "moves": [{"sheet": "跟进中", "row": 5, "customer": "雅玛西电子", "rep": "王芳"}],
    }


def test_check_prints_a_chinese_report(register: Path) -> None:
    run = run_cli("check", register, "--as-of", AS_OF)
    assert run.code == 1
    for text in ("冲突", "张伟", "须停止跟进", "日期不存在", "雅玛西电子", "保护至 2027-01-01"):
        assert text in run.stdout


def test_a_clean_register_exits_zero(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "ok.xlsx",
        [customer(customer="格林电子", rep="张伟", visited=dt.date(2026, 10, 1), status="拜访")],
    )
    run = run_cli("check", path, "--as-of", AS_OF, "--json")
    assert run.code == 0
    assert run.json()["problems"] == []


def test_as_of_changes_what_is_in_the_future(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", visited=dt.date(2026, 10, 1), status="拜访")],
    )
    assert run_cli("check", path, "--as-of", "2026-09-01").code == 1
    assert run_cli("check", path, "--as-of", "2026-10-01").code == 0


def test_a_folder_is_one_set_and_rows_carry_the_file(tmp_path: Path) -> None:
    write_register(
        tmp_path / "业务一部.xlsx",
        [customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 10, 3), status="送样")],
    )
    write_register(
        tmp_path / "业务二部.xlsx",
        [customer(customer="深圳格林电子有限公司", rep="李娜", visited=dt.date(2026, 10, 9),
                  status="拜访")],
    )  # fmt: skip
    (tmp_path / "~$业务一部.xlsx").write_bytes(b"owner file")
    data = run_cli("check", tmp_path, "--json", "--as-of", AS_OF).json()
    (conflict,) = data["conflicts"]
    assert conflict["owner"]["file"] == "业务一部.xlsx"
    assert [(c["file"], c["verdict"]) for c in conflict["claims"]] == [
        ("业务一部.xlsx", "owner"),
        ("业务二部.xlsx", "must_stop"),
    ]
    assert data["groups"][0]["rows"][1] == {"file": "业务二部.xlsx", "sheet": "跟进中", "row": 2}


# ---------------------------------------------------------------- unusable input: exit 2


def _xls(path: Path) -> Path:
    book = xlwt.Workbook()
    sheet = book.add_sheet("跟进中")
    for col, header in enumerate(HEADERS):
        sheet.write(0, col, header)
    book.save(str(path))
    return path


def _encrypted(path: Path, source: Path) -> Path:
    plain = msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(source.read_bytes()))
    with path.open("wb") as out:
        plain.encrypt("secret", out)
    return path


def _truncated(path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _not_a_workbook_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    return path


def _missing_sheet(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.active.append(HEADERS)
    wb.save(path)
    return path


def _missing_header(path: Path, header: str) -> Path:
    return write_register(path, [["x"] * 14], headers=[h for h in HEADERS if h != header])


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("missing.xlsx", None, "文件不存在"),
        ("empty.xlsx", lambda p, s: p.write_bytes(b"") or p, "文件是空的"),
        (
            "csv.xlsx",
            lambda p, s: p.write_text("客户名称,业务员\n格林电子,张伟\n", "utf-8") or p,
            "CSV",
        ),
        ("gbk.xlsx", lambda p, s: p.write_bytes("客户名称,业务员\n".encode("gbk")) or p, "CSV"),
        ("page.xlsx", lambda p, s: p.write_text("<html><table></table></html>") or p, "HTML"),
        ("old.xls", lambda p, s: _xls(p), ".xls"),
        ("old-renamed.xlsx", lambda p, s: _xls(p), ".xls"),
        ("locked.xlsx", _encrypted, "密码"),
        ("cut.xlsx", _truncated, "不完整"),
        ("other.xlsx", lambda p, s: _not_a_workbook_zip(p), "不是 Excel 工作簿"),
        ("nosheet.xlsx", lambda p, s: _missing_sheet(p), "缺少工作表「跟进中」"),
        ("noname.xlsx", lambda p, s: _missing_header(p, "客户名称"), "缺少列「客户名称」"),
        ("norep.xlsx", lambda p, s: _missing_header(p, "业务员"), "缺少列「业务员」"),
    ],
)
def test_unusable_input_exits_2_with_one_line_naming_the_file(
    tmp_path: Path, register: Path, name: str, make, expected: str
) -> None:
    path = tmp_path / name
    if make is not None:
        make(path, register)
    for args in (("check", path), ("check", path, "--json")):
        run = run_cli(*args)
        assert run.code == 2, run.stdout + run.stderr
        assert run.stdout == ""
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1, run.stderr
        assert name in lines[0] and expected in lines[0], lines[0]
        assert "Traceback" not in run.stderr


def test_bad_as_of_is_a_one_line_error(register: Path) -> None:
    run = run_cli("check", register, "--as-of", "2026-13-01")
    assert run.code == 2
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_folder_with_one_broken_file_still_checks_the_others(tmp_path: Path) -> None:
    write_register(tmp_path / "a.xlsx", [customer(customer="格林电子", rep="张伟")])
    (tmp_path / "b.xlsx").write_text("客户名称,业务员\n")
    run = run_cli("check", tmp_path, "--json", "--as-of", AS_OF)
    assert run.code == 1
    assert "b.xlsx" in run.stderr
    assert run.json()["problems"][0]["file"] == "b.xlsx"


# ---------------------------------------------------------------- init


def test_init_writes_a_usable_register_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "客户登记表.xlsx"
    run = run_cli("init", path)
    assert run.code == 0, run.stderr
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["跟进中", "已合作", "设置", "裁决", "代理商"]
    for name in ("跟进中", "已合作"):
        ws = wb[name]
        assert [c.value for c in ws[1]] == HEADERS
        assert ws.freeze_panes == "C2"
        assert ws.column_dimensions["B"].width >= 20
        formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
        assert '"电话,拜访,送样,已合作"' in formulas
        assert "业务员名单" in formulas
        assert ws.column_dimensions["I"].number_format == "yyyy-mm-dd"
    assert "业务员名单" in wb.defined_names
    before = path.read_bytes()
    again = run_cli("init", path)
    assert again.code == 2 and "已存在" in again.stderr
    assert path.read_bytes() == before
    checked = run_cli("check", path, "--json")
    assert checked.code == 0, checked.stderr
    assert checked.json()["problems"] == []


def test_text_that_looks_like_terminal_markup_is_printed_as_written(tmp_path: Path) -> None:
    """rich reads `[/]` and `[red]` as its own tags: a register's cells, the web's searches
    and a manager's notes are printed as written, never taken as tags (a traceback) or
    swallowed."""
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer="格林[/]电子", rep="张伟", phone="138[red]", visited="[/b]"),
            customer(customer="格林[/]电子", rep="李娜", visited=dt.date(2026, 10, 20)),
            customer(
                customer="[bold]雅玛西[/bold]",
                rep="王芳",
                status="已合作",
                won=dt.date(2026, 10, 28),
            ),
        ],
        roster=ROSTER,
    )
    check = run_cli("check", path, "--as-of", AS_OF)
    assert check.code == 1, check.stderr
    assert "Traceback" not in check.stderr
    for text in ("格林[/]电子", "138[red]", "[/b]", "[bold]雅玛西[/bold]"):
        assert text in check.stdout, text
    who = run_cli("who", path, "格林[/]电子", "--as-of", AS_OF)
    assert "Traceback" not in who.stderr
    assert "格林[/]电子" in who.stdout
    sync = run_cli("sync", path, "--as-of", AS_OF)
    assert sync.code == 0, sync.stderr
    assert "[bold]雅玛西[/bold]（王芳）：跟进中" in sync.stdout
