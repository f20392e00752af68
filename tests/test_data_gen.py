"""The register generator: deterministic, and it plants exactly what it reports."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from tests.data_gen import (
    COOPERATING,
    EXTRA_HEADER,
    FOLLOWING,
    HEADERS,
    PROBLEM_KINDS,
    SETTINGS,
    GeneratedInfo,
    RowRef,
    make_register,
)

AS_OF = dt.date(2026, 11, 1)
STATUSES = {"电话", "拜访", "送样", "已合作"}
COL = {h: i for i, h in enumerate(HEADERS)}

_DATE_TEXT = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)


def as_date(value: object) -> dt.date | None:
    """Independent reading of a date cell; raises ValueError for what is not a date."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern in _DATE_TEXT:
        m = pattern.match(text)
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))  # raises for 2026-13-01
    raise ValueError(f"not a date: {value!r}")


def phone_keys(value: object) -> list[str]:
    """Digits of each number in a phone cell, without +86; [] if none looks like a phone."""
    if value is None:
        return []
    keys = []
    for part in str(value).split("/"):
        digits = re.sub(r"\D", "", part)
        if digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        if (len(digits) == 11 and digits.startswith("1")) or (
            digits.startswith("0") and 10 <= len(digits) <= 12
        ):
            keys.append(digits)
    return keys


def sheet_rows(ws: Worksheet) -> list[tuple[object, ...]]:
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def all_values(path: Path) -> dict[str, list[tuple[object, ...]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: sheet_rows(ws) for ws in wb.worksheets}


def roster_of(ws: Worksheet) -> dict[str, str]:
    rows = sheet_rows(ws)
    start = next(i for i, r in enumerate(rows) if r[0] == "业务员") + 1
    return {str(r[0]): str(r[1]) for r in rows[start:] if r[0]}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[GeneratedInfo, openpyxl.Workbook]:
    path = tmp_path_factory.mktemp("gen") / "demo.xlsx"
    info = make_register(path, rows=600, seed=11, as_of=AS_OF)
    return info, openpyxl.load_workbook(path)


# ---------------------------------------------------------------- determinism


def test_same_seed_same_cells_and_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.xlsx", tmp_path / "b.xlsx", tmp_path / "c.xlsx"
    info_a = make_register(a, rows=250, seed=3)
    info_b = make_register(b, rows=250, seed=3)
    make_register(c, rows=250, seed=4)
    assert all_values(a) == all_values(b)
    assert a.read_bytes() == b.read_bytes()
    assert info_a == GeneratedInfo(**{**info_b.__dict__, "path": a})
    assert all_values(a)[FOLLOWING] != all_values(c)[FOLLOWING]


def test_write_only_has_the_same_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    make_register(a, rows=120, seed=5)
    make_register(b, rows=120, seed=5, write_only=True)
    assert all_values(a) == all_values(b)
    wb_a, wb_b = openpyxl.load_workbook(a), openpyxl.load_workbook(b)
    assert wb_a[FOLLOWING].merged_cells.ranges and not wb_b[FOLLOWING].merged_cells.ranges


# ---------------------------------------------------------------- layout


def test_layout(demo: tuple[GeneratedInfo, openpyxl.Workbook]) -> None:
    info, wb = demo
    assert wb.sheetnames == [FOLLOWING, COOPERATING, SETTINGS]
    ws = wb[FOLLOWING]
    assert ws["A1"].value == "2026年11月 客户登记表" == info.title
    assert str(next(iter(ws.merged_cells.ranges))) == f"A1:{chr(ord('A') + len(HEADERS) - 1)}1"
    assert info.header_rows == {FOLLOWING: 2, COOPERATING: 1}
    assert tuple(c.value for c in ws[2]) == HEADERS
    assert tuple(c.value for c in wb[COOPERATING][1]) == HEADERS
    assert EXTRA_HEADER in HEADERS and 3 < HEADERS.index(EXTRA_HEADER) < len(HEADERS) - 3
    settings = sheet_rows(wb[SETTINGS])
    assert settings[0][:3] == ("设置项", "值", "说明")
    assert {r[0]: r[1] for r in settings[1:4]} == {
        "保护天数": 90,
        "跟进提醒天数": 30,
        "公司名称": "深圳市某某涂料有限公司",
    }
    roster = roster_of(wb[SETTINGS])
    assert roster == info.roster
    assert len(roster) == 12 and set(roster.values()) == {"业务一部", "业务二部"}


def test_row_numbers_blank_rows_and_total(demo: tuple[GeneratedInfo, openpyxl.Workbook]) -> None:
    info, wb = demo
    rows = sheet_rows(wb[FOLLOWING])
    filled = [i + 1 for i, r in enumerate(rows) if i >= 2 and any(v is not None for v in r)]
    assert info.total_row is not None
    assert filled == [*info.data_row_numbers[FOLLOWING], info.total_row.row]
    assert len(info.data_row_numbers[FOLLOWING]) == info.data_rows[FOLLOWING] == 600
    assert info.total_row.row == len(rows)
    assert rows[info.total_row.row - 1][COL["客户名称"]] == "合计"
    assert len(info.blank_rows) == 2
    for ref in info.blank_rows:
        assert ref.row < info.total_row.row and all(v is None for v in rows[ref.row - 1])
    coop = sheet_rows(wb[COOPERATING])
    assert len(coop) - 1 == info.data_rows[COOPERATING] == 60
    assert info.data_row_numbers[COOPERATING] == list(range(2, 62))
    for r in coop[1:]:
        assert r[COL["状态"]] == "已合作" and isinstance(r[COL["成交日期"]], dt.datetime)
    for ref, value in info.prefilled_ids.items():
        assert wb[ref.sheet].cell(ref.row, 1).value == value


# ---------------------------------------------------------------- what was planted


def test_plants_are_the_requested_fractions(demo: tuple[GeneratedInfo, openpyxl.Workbook]) -> None:
    info, _ = demo
    assert len(info.problems) == round(600 * 0.03)
    assert {p.kind for p in info.problems} == set(PROBLEM_KINDS)
    assert len(info.moves) == round(600 * 0.05)
    assert len(info.duplicates) == round(600 * 0.06)
    planted = [RowRef(p.sheet, p.row) for p in info.problems]
    dups = [d for _, d in info.duplicates]
    assert len(set(planted) | set(info.moves) | set(dups)) == len(planted + info.moves + dups)


def test_problems_found_by_an_independent_scan(
    demo: tuple[GeneratedInfo, openpyxl.Workbook],
) -> None:
    """Scan every 跟进中 row with simple rules: exactly the planted problems show up."""
    info, wb = demo
    rows = sheet_rows(wb[FOLLOWING])
    roster = roster_of(wb[SETTINGS])
    seen_ids = {r[0] for r in sheet_rows(wb[COOPERATING])[1:] if r[0]}
    found: list[tuple[int, str]] = []
    for n in info.data_row_numbers[FOLLOWING]:
        r = rows[n - 1]
        kinds: list[str] = []
        dates: dict[str, dt.date | None] = {}
        for h in ("联系日期", "拜访日期", "送样日期", "最近跟进", "成交日期"):
            try:
                dates[h] = as_date(r[COL[h]])
            except ValueError:
                kinds.append("impossible_date")
                dates[h] = None
        status = r[COL["状态"]]
        if status not in STATUSES:
            kinds.append("unknown_status")
        if r[COL["客户名称"]] is None:
            kinds.append("missing_customer")
        rep = r[COL["业务员"]]
        if rep is None:
            kinds.append("missing_rep")
        elif rep not in roster:
            kinds.append("unknown_rep")
        if any(d is not None and d > AS_OF for d in dates.values()):
            kinds.append("future_date")
        if status == "送样" and r[COL["送样日期"]] is None:
            kinds.append("missing_sample_date")
        if status == "拜访":
            assert dates["拜访日期"] is not None or "impossible_date" in kinds, n
        if status == "电话":
            assert r[COL["拜访日期"]] is None and r[COL["送样日期"]] is None, n
        if not phone_keys(r[COL["电话"]]):
            kinds.append("bad_phone")
        row_id = r[COL["编号"]]
        if row_id is not None:
            if row_id in seen_ids:
                kinds.append("duplicate_id")
            seen_ids.add(row_id)
        found += [(n, k) for k in kinds]
    assert sorted(found) == sorted((p.row, p.kind) for p in info.problems)
    for ref, (column, value) in info.problem_cells.items():
        assert rows[ref.row - 1][COL[column]] == value or as_date(value) == as_date(
            rows[ref.row - 1][COL[column]]
        )


def test_moves(demo: tuple[GeneratedInfo, openpyxl.Workbook]) -> None:
    info, wb = demo
    rows = sheet_rows(wb[FOLLOWING])
    moving = [
        n
        for n in info.data_row_numbers[FOLLOWING]
        if rows[n - 1][COL["状态"]] == "已合作" or rows[n - 1][COL["成交日期"]] is not None
    ]
    assert moving == [m.row for m in info.moves]
    assert set(info.move_variants.values()) == {"status_and_date", "status_only", "date_only"}


_T2S = str.maketrans("電東廣門華興發達豐龍業實貿匯寶麗優榮聯長凱順維創裝飾膠機燈塗鴻偉輝駿區鎮縣誠遠眾潤鵬瑪蘭奧貝倫諾爾萊羅歐廠製藝屬錦崗陽愷欖會禪協億銘",
                     "电东广门华兴发达丰龙业实贸汇宝丽优荣联长凯顺维创装饰胶机灯涂鸿伟辉骏区镇县诚远众润鹏玛兰奥贝伦诺尔莱罗欧厂制艺属锦岗阳恺榄会禅协亿铭")  # fmt: skip


def core(name: object) -> str:
    """A crude customer key: simplified, half-width, no spaces/brackets/place/legal words."""
    s = unicodedata.normalize("NFKC", str(name)).translate(_T2S)
    s = re.sub(r"\s|\(.*?\)", "", s)
    s = re.sub(r"^(深圳|东莞|广州|佛山|惠州|中山|江门|珠海)市?", "", s)
    s = re.sub(r"(股份|有限责任|有限)?(公司|厂)$", "", s)
    return s


def test_duplicates(demo: tuple[GeneratedInfo, openpyxl.Workbook]) -> None:
    info, wb = demo
    variants = Counter(d.variant for d in info.duplicate_details)
    assert set(variants) >= {"short", "brackets", "traditional", "spaces", "city", "same_name"}
    assert any(d.original.sheet == COOPERATING for d in info.duplicate_details)
    assert any(d.same_rep for d in info.duplicate_details)
    assert info.duplicates == [(d.original, d.duplicate) for d in info.duplicate_details]
    for d in info.duplicate_details:
        a = wb[d.original.sheet][d.original.row]
        b = wb[d.duplicate.sheet][d.duplicate.row]
        assert d.original.sheet == COOPERATING or d.original.row < d.duplicate.row
        name_a, name_b = a[COL["客户名称"]].value, b[COL["客户名称"]].value
        ka, kb = core(name_a), core(name_b)
        assert ka.startswith(kb) or kb.startswith(ka) or ka in kb or kb in ka, (name_a, name_b)
        if d.variant != "same_name":
            assert name_a != name_b
        phones_a, phones_b = phone_keys(a[COL["电话"]].value), phone_keys(b[COL["电话"]].value)
        assert (phones_b[0] in phones_a) == d.same_phone
        if d.same_phone:
            assert a[COL["电话"]].value != b[COL["电话"]].value
        assert (a[COL["业务员"]].value == b[COL["业务员"]].value) == d.same_rep
    # Apart from the planted same-phone duplicates, every phone number is unique.
    counts: Counter[str] = Counter()
    for sheet in (FOLLOWING, COOPERATING):
        for r in sheet_rows(wb[sheet])[info.header_rows[sheet] :]:
            counts.update(set(phone_keys(r[COL["电话"]])))
    shared = sum(c - 1 for c in counts.values() if c > 1)
    assert shared == sum(d.same_phone for d in info.duplicate_details)
    groups = info.duplicate_groups()
    assert sum(len(g) - 1 for g in groups) == len(info.duplicates)


def test_protections_both_live_and_expired(demo: tuple[GeneratedInfo, openpyxl.Workbook]) -> None:
    info, wb = demo
    rows = sheet_rows(wb[FOLLOWING])
    ages = []
    for n in info.data_row_numbers[FOLLOWING]:
        r = rows[n - 1]
        try:
            d = as_date(r[COL["送样日期"]]) or as_date(r[COL["拜访日期"]])
        except ValueError:
            continue
        if d is not None:
            ages.append((AS_OF - d).days)
    assert sum(a > 90 for a in ages) > len(ages) // 4
    assert sum(0 <= a <= 90 for a in ages) > len(ages) // 4
    texts = [v for r in rows[2:] for v in r[COL["联系日期"] : COL["联系日期"] + 3]]
    assert any(isinstance(v, str) and "年" in v for v in texts)
    assert any(isinstance(v, str) and "/" in v for v in texts)
    assert any(isinstance(v, str) and "." in v for v in texts)
    assert any(isinstance(r[COL["电话"]], int) for r in rows[2:])


# ---------------------------------------------------------------- options


def test_clean_register_without_title(tmp_path: Path) -> None:
    path = tmp_path / "clean.xlsx"
    info = make_register(path, rows=200, seed=2, title_row=False, messy=False, roster=False)
    assert info.problems == [] and info.blank_rows == [] and info.total_row is None
    assert info.header_rows[FOLLOWING] == 1 and info.title is None
    wb = openpyxl.load_workbook(path)
    rows = sheet_rows(wb[FOLLOWING])
    assert rows[0] == HEADERS and len(rows) == 201
    assert info.data_row_numbers[FOLLOWING] == list(range(2, 202))
    assert "业务员" not in [r[0] for r in sheet_rows(wb[SETTINGS])]


@pytest.mark.parametrize("rows", [0, 1, 2, 9, 30])
def test_tiny_registers(tmp_path: Path, rows: int) -> None:
    path = tmp_path / "tiny.xlsx"
    info = make_register(path, rows=rows, cooperating_rows=3)
    wb = openpyxl.load_workbook(path)
    assert wb[FOLLOWING].max_row == (
        2 + rows + len(info.blank_rows) + (info.total_row is not None) if rows else 2
    )
    assert info.data_rows == {FOLLOWING: rows, COOPERATING: 3}


def test_write_only_2000_rows(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    info = make_register(path, rows=2000, seed=9, write_only=True)
    assert path.stat().st_size > 100_000
    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb[FOLLOWING]
    rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == info.title and rows[1] == HEADERS
    assert info.total_row is not None and len(rows) == info.total_row.row
    filled = [i + 1 for i, r in enumerate(rows[2:], start=2) if any(v is not None for v in r)]
    assert filled[:-1] == info.data_row_numbers[FOLLOWING] and len(filled) == 2001
    assert len(info.problems) == 60 and len(info.duplicates) == 120 and len(info.moves) == 100
    wb.close()
