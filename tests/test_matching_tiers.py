"""The matcher's two tiers: what it groups by itself and what it asks the manager
(`possible`), on the look-alikes the issue names and the evidence that settles them."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from xlsync.matching.english import english_name, trade_sound
from xlsync.matching.group import (
    Item,
    _homophone_buckets,
    group_items,
    local_number,
    prepare,
    share_phone,
)
from xlsync.matching.normalize import NameKey
from xlsync.matching.sound import sound


def tiers(
    rows: Sequence[tuple[str, str]],
) -> tuple[set[frozenset[int]], set[frozenset[int]], list[str]]:
    """(pairs grouped, pairs asked, the asked reasons) of rows (name, phone)."""
    unsure: list[tuple[int, int, str]] = []
    items = prepare([(name, [phone] if phone else []) for name, phone in rows])
    groups = group_items(items, possible=unsure)
    grouped = {frozenset((a, b)) for g in groups for a in g.members for b in g.members if a < b}
    return grouped, {frozenset((a, b)) for a, b, _ in unsure}, [why for _, _, why in unsure]


PAIR = frozenset((0, 1))


@pytest.mark.parametrize(
    ("number", "local"),
    [
        ("076953483396", "53483396"),
        ("02068629769", "68629769"),
        ("01062345678", "62345678"),
        ("01012345678", ""),  # a local number never starts with 1
        ("53483396", "53483396"),
        ("13812345678", ""),  # a mobile
        ("4008001234", ""),
        ("0769123", ""),
    ],
)
def test_the_local_part_of_a_landline(number: str, local: str) -> None:
    assert local_number(number) == local


def test_a_local_number_meets_a_landline_only_in_a_city_that_agrees() -> None:
    short = Item.of("晟晖五金", ["53483396"])
    assert share_phone(short, Item.of("东莞市晟辉五金制品厂", ["0769-53483396"]))
    assert share_phone(
        Item.of("东莞晟晖五金", ["53483396"]), Item.of("东莞市晟辉五金", ["0769-53483396"])
    )
    # another city: a local number means nothing there
    assert not share_phone(
        Item.of("深圳晟晖五金", ["53483396"]), Item.of("东莞市晟辉五金", ["0769-53483396"])
    )
    # two full landlines with the same local part in two area codes are two numbers
    assert not share_phone(
        Item.of("晟晖五金", ["0755-53483396"]), Item.of("晟辉五金", ["0769-53483396"])
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # the issue's look-alikes: same sound, different phones
        (("深圳市金辉五金有限公司", "0755-26881234"), ("深圳市金晖五金有限公司", "13928881234")),
        (("东莞市宏泰塑胶有限公司", "0769-85661234"), ("东莞市宏太塑胶制品厂", "13712661234")),
        (("深圳市金辉五金有限公司", ""), ("深圳市金晖五金有限公司", "")),
    ],
)
def test_same_sound_without_a_shared_number_is_asked_not_grouped(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    grouped, asked, reasons = tiers([a, b])
    assert PAIR not in grouped and PAIR in asked
    assert reasons[0].startswith("读音相同：")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("深圳市金辉五金有限公司", "0755-26881234"), ("金晖五金", "0755 2688 1234")),
        # the landline written without its area code, the city in both names
        (("东莞市晟辉五金制品厂", "076953483396"), ("东莞市晟晖五金厂", "53483396")),
    ],
)
def test_same_sound_with_a_shared_number_is_grouped(a: tuple[str, str], b: tuple[str, str]) -> None:
    grouped, asked, _ = tiers([a, b])
    assert PAIR in grouped and not asked


def test_a_number_anywhere_in_the_two_groups_settles_a_same_sound_pair() -> None:
    # 合广 has the number of one 合光 row; the 合光 row chosen for the sound is another
    rows = [
        ("中山市合光灯具厂", ""),
        ("中山市合光灯具厂", "0760-83948378-896"),
        ("中山市  合广灯具。", "076083948378"),
    ]
    grouped, asked, _ = tiers(rows)
    assert frozenset((0, 2)) in grouped and not asked
    # without that row the two are asked
    grouped, asked, _ = tiers([rows[0], rows[2]])
    assert not grouped and asked == {frozenset((0, 1))}


def test_two_registered_names_of_one_trade_name_in_two_industries_are_asked() -> None:
    rows = [
        ("广东省金达精密机械股份有限公司", "020-60205869"),
        ("广东省广州市金达机械股份有限公司", "15374969970"),
    ]
    grouped, asked, reasons = tiers(rows)
    assert not grouped and asked == {PAIR}
    assert reasons == ["行业词不同：金达机械/金达精密机械；电话不同"]
    # a shared number says they are one; a short name is still grouped as before
    assert tiers([rows[0], (rows[1][0], "020-60205869")])[0] == {PAIR}
    assert tiers([rows[0], ("金达机械", "15374969970")])[0] == {PAIR}


def test_the_same_name_in_two_cities_is_asked_only_within_one_province() -> None:
    grouped, asked, reasons = tiers(
        [
            ("深圳市宏盛五金制品有限公司", "0755-28191234"),
            ("东莞市宏盛五金制品有限公司", "0769-82191234"),
        ]
    )
    assert not grouped and asked == {PAIR}
    assert reasons == ["名称相同，地区不同：深圳市/东莞市"]
    grouped, asked, _ = tiers(
        [
            ("浙江永兴包装股份有限公司", "0575-88001234"),
            ("江苏永兴包装股份有限公司", "0519-88001234"),
        ]
    )
    assert not grouped and not asked


def test_a_short_name_that_fits_two_companies_is_asked_with_both() -> None:
    rows = [
        ("深圳市格林电子有限公司", "0755-27331234"),
        ("深圳市格林包装有限公司", "0755-27335678"),
        ("格林", ""),
    ]
    grouped, asked, reasons = tiers(rows)
    assert not grouped
    assert asked == {frozenset((0, 2)), frozenset((1, 2))}
    assert set(reasons) == {"简称「格林」可能指多家公司"}
    # a short name in another city fits neither
    _, asked, _ = tiers([rows[0], rows[1], ("苏州格林", "")])
    assert not asked


def test_the_pairs_asked_come_in_one_order_whatever_the_hash_seed() -> None:
    # the fuller names a short name fits were a set: their order, and so which pair the
    # review queue shows first, changed from one run to the next
    program = (
        "from xlsync.matching.group import group_items, prepare\n"
        "items = prepare([('深圳市格林电子有限公司', []), ('深圳市格林包装有限公司', []),"
        " ('深圳市格林五金有限公司', []), ('深圳市格林塑胶有限公司', []), ('格林', [])])\n"
        "asked = []\n"
        "group_items(items, possible=asked)\n"
        "print(asked)\n"
    )
    answers = set()
    for seed in range(6):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        done = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
        )
        answers.add(done.stdout)
    assert len(answers) == 1
    assert answers.pop().count("可能指多家公司") == 4


def _buckets_one_key_a_character(prepared: Sequence[Item]) -> list[list[int]]:
    """Step 3's buckets as they were first made: every character of every name keyed."""
    buckets: dict[str, list[int]] = defaultdict(list)
    for head, item in enumerate(prepared):
        key = item.key
        assert key is not None
        if not key.strong or len(key.trade) < 2:
            continue
        strong = "+".join(key.strong)
        for k, char in enumerate(key.trade):
            if not char.isascii():
                buckets[f"{key.trade[:k]}|{sound(char)}|{key.trade[k + 1 :]}|{strong}"].append(head)
    return [b for b in buckets.values() if len(b) > 1]


_ELECTRONICS = ["电子"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="金今晖辉鑫新泰太a", min_size=1, max_size=3),
            st.lists(st.sampled_from(["电子", "五金"]), max_size=2, unique=True),
        ),
        max_size=16,
    )
)
# buckets of two whole sounds interleaved: 金辉 / 今辉 share one, 今辉 / 今晖 another
@example([(t, _ELECTRONICS) for t in ("金辉", "鑫泰", "今辉", "新泰", "今晖")])
def test_the_homophone_buckets_are_those_of_one_key_a_character(
    names: list[tuple[str, list[str]]],
) -> None:
    prepared = [
        Item(NameKey(core, trade, tuple(strong), (), "", core=core), frozenset(), "")
        for trade, strong in names
        for core in [trade + "".join(strong)]
    ]
    fast = [b for b in _homophone_buckets(prepared, list(range(len(prepared)))) if len(b) > 1]
    assert fast == _buckets_one_key_a_character(prepared)


def test_english_names_are_taken_apart() -> None:
    name = english_name("Shenzhen Jinhui Hardware Co., Ltd.")
    assert name is not None
    assert (name.sound, name.shown, name.place) == ("jinhui", "Jinhui", "4403")
    assert "五金" in name.industries
    assert english_name("Jin Hui Hardware") is not None
    assert english_name("深圳金辉 Hardware") is None  # a Chinese name
    assert english_name("NDG Trading Co., Ltd.") is None  # too short to compare by sound
    assert trade_sound("金晖") == trade_sound("金辉") == "jinhui"


def test_an_english_business_card_name_is_asked_against_the_chinese_name() -> None:
    english = ("Shenzhen Jinhui Hardware Co., Ltd.", "13600451234")
    grouped, asked, reasons = tiers([english, ("深圳市金辉五金有限公司", "0755-26881234")])
    assert not grouped and asked == {PAIR}
    assert reasons == ["英文名读音相同：Jinhui/金辉；电话不同"]
    # both spellings that sound alike are asked
    _, asked, _ = tiers([english, ("深圳市金辉五金有限公司", ""), ("深圳市金晖五金有限公司", "")])
    assert {frozenset((0, 1)), frozenset((0, 2))} <= asked
    # a shared number groups them (the hard case H17)
    grouped, asked, _ = tiers([english, ("深圳市金辉五金有限公司", "136-0045-1234")])
    assert grouped == {PAIR} and not asked


@pytest.mark.parametrize(
    "chinese",
    ["深圳市金辉电子有限公司", "东莞市金辉五金有限公司", "深圳市金华五金有限公司"],
)
def test_an_english_name_is_not_asked_against_another_industry_city_or_sound(
    chinese: str,
) -> None:
    grouped, asked, _ = tiers([("Shenzhen Jinhui Hardware Co., Ltd.", ""), (chinese, "")])
    assert not grouped and not asked


def test_the_hard_cases_of_the_issue_are_asked() -> None:
    from pathlib import Path

    from .matching_corpus import evaluate

    records = evaluate.load_corpus(Path(__file__).parent / "matching_corpus" / "hard_cases.jsonl")
    _, asked, _ = tiers([(r["name"], r["phone"]) for r in records])
    cases: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        cases.setdefault(r["case"], []).append(i)
    for case in ("H27", "H41", "H42", "H43"):
        assert frozenset(cases[case]) in asked, case
    short = cases["H44"]
    assert {frozenset((short[0], short[2])), frozenset((short[1], short[2]))} <= asked


@pytest.mark.parametrize(
    ("contacts", "grouped"),
    [
        (("王志强", "王 志强"), True),  # one person, written with a space
        (("王总", "王总"), False),  # a title many people share is no evidence
        (("王志强", "李娜"), False),
        (("", ""), False),
    ],
)
def test_the_same_contact_person_settles_a_same_sound_pair(
    contacts: tuple[str, str], grouped: bool
) -> None:
    names = [("深圳市金辉五金有限公司", "0755-26881234"), ("深圳市金晖五金有限公司", "13928881234")]
    items = [
        Item.of(name, [phone], contact=contact)
        for (name, phone), contact in zip(names, contacts, strict=True)
    ]
    unsure: list[tuple[int, int, str]] = []
    groups = group_items(items, possible=unsure)
    assert bool(groups) is grouped
    assert bool(unsure) is not grouped


def test_check_uses_the_contact_column(tmp_path: Path) -> None:
    from tests.helpers import ROSTER, customer, write_register
    from xlsync.check import run_check

    rows = [
        customer(customer="深圳市金辉五金有限公司", phone="0755-26881234", rep="张伟",
                 contact="王志强", visited=dt.date(2026, 10, 1)),
        customer(customer="深圳市金晖五金有限公司", phone="13928881234", rep="王芳",
                 contact="王志强", visited=dt.date(2026, 10, 5)),
    ]  # fmt: skip
    result = run_check(
        write_register(tmp_path / "r.xlsx", rows, roster=ROSTER), dt.date(2026, 11, 1)
    )
    assert [len(g.rows) for g in result.groups] == [2] and not result.possible
