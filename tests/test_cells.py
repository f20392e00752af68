import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlsync.register.cells import (
    CellError,
    cell_text,
    parse_date,
    parse_phones,
    parse_positive_int,
    parse_status,
)
from xlsync.register.schema import Status


@pytest.mark.parametrize(
    "value",
    [
        "2026-10-03",
        "2026/10/3",
        "2026.10.3",
        "2026年10月3日",
        "2026年10月3号",
        " 2026-10-03 ",
        "２０２６－１０－０３",
        "2026-10-03 14:30",
        "20261003",
        20261003,
        dt.date(2026, 10, 3),
        dt.datetime(2026, 10, 3, 9, 15),
        46298,  # an Excel serial number in a cell without a date format
        46298.0,
    ],
)
def test_dates_in_every_form_the_contract_lists(value: object) -> None:
    assert parse_date(value) == dt.date(2026, 10, 3)


def test_serial_numbers_follow_the_1904_date_system() -> None:
    assert parse_date(44836, date1904=True) == dt.date(2026, 10, 3)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_cells_are_no_date(value: object) -> None:
    assert parse_date(value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-13-01", "日期不存在"),
        ("2026/2/30", "日期不存在"),
        ("2026年2月29日", "日期不存在"),
        ("下周一", "不是日期"),
        ("10月3日", "不是日期"),
        (12, "不是日期"),
        (True, "不是日期"),
        (dt.time(9, 30), "是时间"),
    ],
)
def test_impossible_or_unreadable_dates_raise_a_chinese_message(
    value: object, message: str
) -> None:
    with pytest.raises(CellError) as info:
        parse_date(value)
    assert message in info.value.message


@given(st.dates(min_value=dt.date(1960, 1, 1), max_value=dt.date(2199, 12, 31)))
def test_every_real_date_round_trips_through_each_text_form(day: dt.date) -> None:
    for text in (
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
    ):
        assert parse_date(text) == day
    assert parse_date(dt.datetime.combine(day, dt.time(23, 59))) == day


@given(st.text(max_size=30))
def test_date_parser_never_raises_anything_but_cell_error(text: str) -> None:
    try:
        result = parse_date(text)
    except CellError:
        return
    assert result is None or isinstance(result, dt.date)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", ["13812345678"]),
        ("138-1234-5678", ["13812345678"]),
        ("138 1234 5678", ["13812345678"]),
        ("+86 138 1234 5678", ["13812345678"]),
        ("+8613812345678", ["13812345678"]),
        ("0086-13812345678", ["13812345678"]),
        ("8613812345678", ["13812345678"]),
        (13812345678, ["13812345678"]),
        (13812345678.0, ["13812345678"]),
        ("0755-23456789", ["075523456789"]),
        ("0755-2345 6789", ["075523456789"]),
        ("(0755)23456789", ["075523456789"]),
        ("（0755）2345-6789", ["075523456789"]),
        ("+86 755 2345 6789", ["075523456789"]),
        ("0755-23456789-801", ["075523456789"]),
        ("0755-23456789转801", ["075523456789"]),
        ("010-62345678", ["01062345678"]),
        ("021-6234567", ["0216234567"]),
        ("400-820-8820", ["4008208820"]),
        ("23456789", ["23456789"]),
        ("13812345678/0755-23456789", ["13812345678", "075523456789"]),
        ("13812345678，13912345678", ["13812345678", "13912345678"]),
        ("13812345678\n13912345678", ["13812345678", "13912345678"]),
        ("138 1234 5678 139 1234 5678", ["13812345678", "13912345678"]),
        ("张先生 13812345678", ["13812345678"]),
        ("１３８１２３４５６７８", ["13812345678"]),
    ],
)
def test_phones_in_every_common_form(value: object, expected: list[str]) -> None:
    good, bad = parse_phones(value)
    assert list(good) == expected
    assert bad == ()


@pytest.mark.parametrize("value", ["12345", "电话待补", "1381234567", "138123456789", "0000000"])
def test_things_that_cannot_be_a_phone(value: str) -> None:
    good, bad = parse_phones(value)
    assert good == ()
    assert bad


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "-", " ", "+86 "]))
def test_any_mobile_number_is_canonical_whatever_the_separators(mobile: str, sep: str) -> None:
    text = sep + mobile if sep == "+86 " else sep.join([mobile[:3], mobile[3:7], mobile[7:]])
    assert parse_phones(text) == ((mobile,), ())


@given(st.text(max_size=40))
def test_phone_parser_never_raises(text: str) -> None:
    good, _bad = parse_phones(text)
    assert all(isinstance(p, str) and p for p in good)


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("电话", Status.PHONE),
        ("phone", Status.PHONE),
        ("拜访", Status.VISITED),
        ("Visited", Status.VISITED),
        ("送样", Status.SAMPLED),
        (" sampled ", Status.SAMPLED),
        ("已合作", Status.COOPERATING),
        ("COOPERATING", Status.COOPERATING),
        ("已 合 作", Status.COOPERATING),
    ],
)
def test_status_words_and_their_english_aliases(value: str, status: Status) -> None:
    assert parse_status(value) is status


def test_unknown_status_and_empty_status() -> None:
    assert parse_status(None) is None
    with pytest.raises(CellError):
        parse_status("跟进")


@pytest.mark.parametrize(("value", "days"), [(90, 90), ("90", 90), ("60天", 60), (30.0, 30)])
def test_setting_days(value: object, days: int) -> None:
    assert parse_positive_int(value) == days


@pytest.mark.parametrize("value", ["abc", 0, -5, 2.5])
def test_bad_setting_days(value: object) -> None:
    with pytest.raises(CellError):
        parse_positive_int(value)


def test_cell_text_shows_numbers_as_a_rep_sees_them() -> None:
    assert cell_text(13812345678.0) == "13812345678"
    assert cell_text(2.5) == "2.5"
    assert cell_text(dt.datetime(2026, 10, 3)) == "2026-10-03"
    assert cell_text(None) == ""
