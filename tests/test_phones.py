"""Phone cells: the forms reps really type, each a case; a property over all of them; and
the parts that cannot be read whole, reported as problems of the cell."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlsync.check import run_check
from xlsync.matching.group import Item, MatchKind
from xlsync.register.cells import _read_in_full, find_phones, parse_phones

from .helpers import customer, write_register

MOBILE = "15724866357"
SHENZHEN = "075588881234"  # 0755 + 8 digits
BEIJING = "01062345678"  # 010 + 8 digits
SHANGHAI_7 = "0216234567"  # 021 + 7 digits
DONGGUAN_7 = "07698623558"  # 0769 + 7 digits

# (what the rep typed, what it means)
FORMS: list[tuple[object, list[str]]] = [
    # digits grouped any way, with space, -, ., — and full-width dashes
    ("15724866357", [MOBILE]),
    ("157-2486-6357", [MOBILE]),
    ("157 2486 6357", [MOBILE]),
    ("157.2486.6357", [MOBILE]),
    ("157—2486—6357", [MOBILE]),
    ("157－2486－6357", [MOBILE]),
    ("1572-486-6357", [MOBILE]),
    ("15 724 866 357", [MOBILE]),
    ("157 2486  6357", [MOBILE]),
    (15724866357, [MOBILE]),
    (15724866357.0, [MOBILE]),
    ("0755-88881234", [SHENZHEN]),
    ("0755 8888 1234", [SHENZHEN]),
    ("0755.8888.1234", [SHENZHEN]),
    ("0755—88881234", [SHENZHEN]),
    ("(0755)88881234", [SHENZHEN]),
    ("（0755）8888-1234", [SHENZHEN]),
    ("075588881234", [SHENZHEN]),
    ("010-62345678", [BEIJING]),
    ("021-6234567", [SHANGHAI_7]),
    ("0769-8623558", [DONGGUAN_7]),
    ("400-820-8820", ["4008208820"]),
    ("88881234", ["88881234"]),
    ("8888-1234", ["88881234"]),
    # prefixes before a mobile
    ("+86-157-2486-6357", [MOBILE]),
    ("+86 157 2486 6357", [MOBILE]),
    ("+8615724866357", [MOBILE]),
    ("+86 15724866357", [MOBILE]),
    ("0086 157 2486 6357", [MOBILE]),
    ("0086-15724866357", [MOBILE]),
    ("86 157 2486 6357", [MOBILE]),
    ("8615724866357", [MOBILE]),
    ("(+86)157-2486-6357", [MOBILE]),
    ("(+86) 15724866357", [MOBILE]),
    ("（+86）15724866357", [MOBILE]),
    ("(86)15724866357", [MOBILE]),
    ("+ 86 157 2486 6357", [MOBILE]),
    # prefixes before a landline, with or without its trunk 0
    ("+86 755 8888 1234", [SHENZHEN]),
    ("+86-755-88881234", [SHENZHEN]),
    ("+86-0755-88881234", [SHENZHEN]),
    ("+86 (0755) 8888 1234", [SHENZHEN]),
    ("0086 755 88881234", [SHENZHEN]),
    ("0086-0755-88881234", [SHENZHEN]),
    ("86 755 8888 1234", [SHENZHEN]),
    ("86-0755-88881234", [SHENZHEN]),
    ("(+86)755-88881234", [SHENZHEN]),
    ("(86)0755-88881234", [SHENZHEN]),
    ("+86 10 6234 5678", [BEIJING]),
    ("+86-21-6234567", [SHANGHAI_7]),
    # full-width digits and signs
    ("１５７２４８６６３５７", [MOBILE]),
    ("＋８６－１５７－２４８６－６３５７", [MOBILE]),
    ("（０７５５）８８８８１２３４", [SHENZHEN]),
    # labels and notes
    ("手机：15724866357", [MOBILE]),
    ("手机:157-2486-6357", [MOBILE]),
    ("电话:0755-88881234", [SHENZHEN]),
    ("电话：+86-157-2486-6357", [MOBILE]),
    ("Tel 0755-88881234", [SHENZHEN]),
    ("Tel:0755-88881234", [SHENZHEN]),
    ("TEL:15724866357", [MOBILE]),
    ("Mobile: +86 157 2486 6357", [MOBILE]),
    ("15724866357（微信同号）", [MOBILE]),
    ("15724866357 (微信同号)", [MOBILE]),
    ("张先生 15724866357", [MOBILE]),
    ("15724866357 张总", [MOBILE]),
    ("15724866357（3点后打）", [MOBILE]),
    ("Fax 0755-88881234", [SHENZHEN]),
    ("0755-88881234 转采购", [SHENZHEN]),
    # several numbers in one cell
    ("15724866357/0755-88881234", [MOBILE, SHENZHEN]),
    ("15724866357 / 13812345678", [MOBILE, "13812345678"]),
    ("15724866357、13812345678", [MOBILE, "13812345678"]),
    ("15724866357，13812345678", [MOBILE, "13812345678"]),
    ("15724866357,13812345678", [MOBILE, "13812345678"]),
    ("15724866357;13812345678", [MOBILE, "13812345678"]),
    ("15724866357；13812345678", [MOBILE, "13812345678"]),
    ("15724866357\n0755-88881234", [MOBILE, SHENZHEN]),
    ("15724866357\r\n0755-88881234", [MOBILE, SHENZHEN]),
    ("+86-157-2486-6357/0755-88881234", [MOBILE, SHENZHEN]),
    ("+86-157-2486-6357/+86-138-1234-5678", [MOBILE, "13812345678"]),
    ("157 2486 6357 138 1234 5678", [MOBILE, "13812345678"]),
    ("手机：15724866357；电话：0755-88881234-801", [MOBILE, SHENZHEN]),
    ("15724866357/15724866357", [MOBILE]),
    # extensions after a complete landline
    ("0755-88881234-801", [SHENZHEN]),
    ("0755-8888-1234-801", [SHENZHEN]),
    ("0755-88881234转801", [SHENZHEN]),
    ("0755-88881234 转 801", [SHENZHEN]),
    ("0755-88881234 ext. 801", [SHENZHEN]),
    ("0755-88881234 Ext 801", [SHENZHEN]),
    ("0755-88881234 x801", [SHENZHEN]),
    ("0755-88881234 分机 801", [SHENZHEN]),
    ("0755-88881234分机号801", [SHENZHEN]),
    ("0755-88881234#801", [SHENZHEN]),
    ("(0755)88881234-801", [SHENZHEN]),
    ("+86-755-88881234-801", [SHENZHEN]),
    ("021-6234567-80", [SHANGHAI_7]),
    ("88881234转801", ["88881234"]),
    ("400-820-8820转1", ["4008208820"]),
    # outside China: what libphonenumber knows as valid
    ("+852 2345 6789", ["+85223456789"]),
    ("+1 415-555-2671", ["+14155552671"]),
]


@pytest.mark.parametrize(("value", "expected"), FORMS, ids=[repr(v) for v, _ in FORMS])
def test_every_form_reps_type_reads_as_the_same_number(value: object, expected: list[str]) -> None:
    assert parse_phones(value) == (tuple(expected), ())


# (what the rep typed, what is good in it, the part that cannot be read whole)
UNREADABLE: list[tuple[str, list[str], str]] = [
    ("12345", [], "12345"),
    ("电话待补", [], "电话待补"),
    ("暂无", [], "暂无"),
    ("1381234567", [], "1381234567"),  # a mobile with a digit missing
    ("138123456789", [], "138123456789"),  # one too many
    ("0000000", [], "0000000"),
    ("+86-157-2486", [], "+86-157-2486"),  # not a number and its extension
    ("+86 157 2486 635", [], "+86 157 2486 635"),
    ("0755-8888", [], "0755-8888"),
    ("021-623456789", [], "021-623456789"),  # a 3-digit area code has 7-8 digits after it
    ("157-2486-6357-801", [], "157-2486-6357-801"),  # a mobile has no extension
    ("15724866357转801", [], "15724866357转801"),
    ("15724866357 ext. 801", [], "15724866357 ext. 801"),
    ("0755-88881234-801234", [], "0755-88881234-801234"),
    ("15724866357/0755-8888", [MOBILE], "0755-8888"),
    ("13812345678、+86-157-2486", ["13812345678"], "+86-157-2486"),
]


@pytest.mark.parametrize(("value", "good", "part"), UNREADABLE, ids=[v for v, _, _ in UNREADABLE])
def test_a_number_that_cannot_be_read_whole_is_reported_never_cut(
    value: str, good: list[str], part: str
) -> None:
    assert parse_phones(value) == (tuple(good), (part,))


# ---------------------------------------------------------------- the property

_FULL_WIDTH = {ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789+-():"}


@st.composite
def numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A valid number (mobile or landline) and its national digits as a rep writes them
    after an optional international prefix: (canonical, kind)."""
    if draw(st.booleans()):
        return draw(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)), "mobile"
    area = draw(
        st.one_of(
            st.from_regex(r"010|02[0-9]", fullmatch=True),  # 010, 020..029
            # 0755, 0769, ...; no area code is 0400 or 0800 (+86 400 … is a service number)
            st.from_regex(r"0[3-9][0-9]{2}", fullmatch=True).filter(
                lambda a: a not in ("0400", "0800")
            ),
        )
    )
    local = draw(st.from_regex(r"[2-9][0-9]{6,7}", fullmatch=True))
    return area + local, "landline"


@st.composite
def written(draw: st.DrawFn, number: tuple[str, str]) -> str:
    """`number` written the way a rep might: any grouping and separators, any prefix,
    labels, full-width characters."""
    canonical, kind = number
    prefix = draw(st.sampled_from(["", "", "+86", "0086", "86", "(+86)", "(86)", "+86 "]))
    digits = canonical
    if prefix and kind == "landline" and draw(st.booleans()):
        digits = canonical[1:]  # +86 755 ...: the trunk 0 dropped
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    pieces = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    text = pieces[0]
    for piece in pieces[1:]:
        text += draw(st.sampled_from([" ", "-", ".", "—", " - ", "－"])) + piece
    if kind == "landline" and not prefix and draw(st.booleans()):
        area = 3 if canonical[1] in "12" else 4
        text = f"({canonical[:area]})" + canonical[area:]
    if prefix:
        text = prefix + draw(st.sampled_from(["", " ", "-"])) + text
    label = draw(st.sampled_from(["", "手机：", "电话:", "Tel ", "TEL:", "联系电话： ", "Tel"]))
    note = draw(st.sampled_from(["", "（微信同号）", " (微信同号)", " 张先生"]))
    text = label + text + note
    if draw(st.booleans()):
        text = text.translate(_FULL_WIDTH)
    return text


@given(st.data())
def test_any_valid_number_in_any_written_form_reads_back_the_same(data: st.DataObject) -> None:
    number = data.draw(numbers())
    text = data.draw(written(number))
    assert parse_phones(text) == ((number[0],), ()), text


@given(st.data())
def test_several_numbers_in_one_cell_read_back_in_order(data: st.DataObject) -> None:
    drawn = data.draw(st.lists(numbers(), min_size=2, max_size=3, unique_by=lambda n: n[0]))
    texts = [data.draw(written(n)) for n in drawn]
    separator = data.draw(st.sampled_from(["/", " / ", "、", "，", ",", ";", "；", "\n"]))
    cell = separator.join(texts)
    assert parse_phones(cell) == (tuple(n[0] for n in drawn), ()), cell


@given(st.data())
def test_a_landline_with_an_extension_reads_as_the_landline(data: st.DataObject) -> None:
    number = data.draw(numbers().filter(lambda n: n[1] == "landline"))
    text = data.draw(written(number).filter(lambda t: not t.endswith(("号）", ")", "生"))))
    marker = data.draw(st.sampled_from(["-", "转", " 转 ", " ext. ", " x", " 分机 ", "#"]))
    # after `-`, one or two digits could also finish a longer local number (010-2345678-9)
    shortest = 3 if marker == "-" else 1
    extension = data.draw(st.from_regex(rf"[0-9]{{{shortest},5}}", fullmatch=True))
    assert parse_phones(text + marker + extension) == ((number[0],), ())


@given(st.data())
def test_a_mobile_never_gives_up_digits_to_an_extension(data: st.DataObject) -> None:
    number = data.draw(numbers().filter(lambda n: n[1] == "mobile"))
    text = data.draw(written(number).filter(lambda t: not t.endswith(("号）", ")", "生"))))
    extension = data.draw(st.from_regex(r"[0-9]{2,5}", fullmatch=True))
    good, bad = parse_phones(text + "-" + extension)
    assert good == ()
    assert bad


@given(
    st.text(alphabet="0123456789 -.()+/、，,;；转x", max_size=40)
    | st.lists(numbers(), min_size=1, max_size=3).flatmap(
        lambda drawn: st.tuples(*(written(n) for n in drawn)).flatmap(
            lambda texts: st.sampled_from(["/", " / ", "、", "，", ",", ";", "；"]).map(
                lambda sep: sep.join(texts)
            )
        )
    )
)
def test_the_shortcuts_answer_as_the_full_reader(text: str) -> None:
    """A cell of digit groups (or a list of them) is read by shortcuts; they must give
    exactly what reading it run by run gives."""
    assert parse_phones(text) == _read_in_full(text.strip()), text


@given(st.text(max_size=40))
def test_the_reader_never_raises_and_never_invents_a_number(text: str) -> None:
    good, _bad = parse_phones(text)
    for number in good:
        assert parse_phones(number) == ((number,), ())  # canonical reads back as itself


def test_where_each_number_is_written_is_known() -> None:
    text = "手机：+86-157-2486-6357 / 0755-88881234转801"
    assert [(text[m.start : m.end], m.number) for m in find_phones(text)] == [
        ("86-157-2486-6357", MOBILE),
        ("0755-88881234", SHENZHEN),
    ]


def test_a_phone_query_is_read_like_a_cell() -> None:
    """`who --phone` and the matcher read a typed phone with the same reader."""
    assert Item.of("", ["+86-157-2486-6357"]).phones == frozenset({MOBILE})


# ---------------------------------------------------------------- in the register


def test_an_unreadable_phone_is_a_problem_of_its_cell(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer="甲", rep="张伟", phone="+86-157-2486-6357"),  # row 2: fine
            customer(customer="乙", rep="张伟", phone="+86-157-2486"),  # 3
            customer(customer="丙", rep="张伟", phone="13812345678/0755-8888"),  # 4
            customer(customer="丁", rep="张伟", phone="139-1234-5678-801"),  # 5
        ],
    )
    result = run_check(path, dt.date(2026, 11, 1))
    problems = [(p.sheet, p.row, p.column, p.value, p.message) for p in result.problems]
    assert problems == [
        ("跟进中", 3, "电话", "+86-157-2486", "不是有效的电话号码"),
        ("跟进中", 4, "电话", "13812345678/0755-8888", "「0755-8888」不是完整的电话号码"),
        ("跟进中", 5, "电话", "139-1234-5678-801", "不是有效的电话号码"),
    ]
    phones = {row.row: row.phones for row in result.rows}
    assert phones[2] == (MOBILE,)
    assert phones[3] == ()
    assert phones[4] == ("13812345678",)
    assert phones[5] == ()


def test_the_same_mobile_written_with_plus86_groups_two_rows(tmp_path: Path) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [
            customer(customer="深圳市甲乙丙科技有限公司", rep="张伟", phone="15724866357"),
            customer(customer="甲乙丙贸易行", rep="王芳", phone="+86-157-2486-6357"),
        ],
    )
    result = run_check(path, dt.date(2026, 11, 1))
    assert [[ref.row for ref in group.rows] for group in result.groups] == [[2, 3]]


SAMPLE = Path(__file__).parent.parent / "sample_registers"


def _same_phone_pairs_of_the_sample() -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """The planted pairs the sample README marks `same phone: yes`."""
    pairs = []
    for line in (SAMPLE / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[3] == "yes":
            refs = []
            for cell in cells[:2]:
                sheet, row = cell.split(":")[0].split()
                refs.append((sheet, int(row)))
            pairs.append((refs[0], refs[1]))
    return pairs


def test_every_same_phone_pair_of_the_sample_register_shares_a_phone() -> None:
    """39 rows of the demo write a mobile as +86-157-2486-6357; their pairs were missed."""
    pairs = _same_phone_pairs_of_the_sample()
    assert len(pairs) == 13
    result = run_check(SAMPLE / "demo.xlsx", dt.date(2026, 11, 1))
    phones = {(row.sheet, row.row): set(row.phones) for row in result.rows}
    reasons = {(row.sheet, row.row): group.reason for group in result.groups for row in group.rows}
    for original, duplicate in pairs:
        assert phones[original] & phones[duplicate], (original, duplicate)
        assert MatchKind.SAME_PHONE in reasons[original].kinds, (original, duplicate)
        assert reasons[original] == reasons[duplicate]


@pytest.mark.parametrize("seed", [7, 21])
def test_every_planted_same_phone_duplicate_shares_a_phone(tmp_path: Path, seed: int) -> None:
    from .data_gen import make_register

    info = make_register(tmp_path / "r.xlsx", rows=400, seed=seed)
    result = run_check(info.path, dt.date(2026, 11, 1))
    phones = {(row.sheet, row.row): set(row.phones) for row in result.rows}
    planted = [d for d in info.duplicate_details if d.same_phone]
    assert planted
    for d in planted:
        assert phones[tuple(d.original)] & phones[tuple(d.duplicate)], d
