"""The matcher on the cases the issue names, plus the hard ones reps really produce."""

import pytest

from xlsync.matching import (
    GroupReason,
    MatchKind,
    MatchReason,
    analyse,
    describe_reason,
    find_groups,
)
from xlsync.matching.group import SAME_NAME, SAME_PHONE

SAME = [
    ("深圳市格林电子科技有限公司", "格林电子"),
    ("深圳市格林电子科技有限公司", "格林电子（深圳）有限公司"),
    ("深圳市格林电子科技有限公司", "深圳 格林電子"),
    ("深圳市格林电子科技有限公司", "ＧＲＥＥＮ格林电子"),
    ("格林电子有限公司", "格林电子有限责任公司"),
    ("东莞市长安镇宏利五金制品厂", "宏利五金（东莞）有限公司"),
    ("广州市天河区星辉塑胶制品厂", "星辉塑胶有限公司"),
    ("深圳市永美印刷包装有限公司", "永美印刷"),
    ("雅玛西电子", "雅玛西"),
    ("马小姐（中建创业家具）", "惠州市中建创业家具有限公司"),
    ("*金达箱包-叶经理", "义乌市金达箱包皮具有限公司"),
    ("佛山市顺德区鑫发灯具有限公司(老客户)", "佛山市顺德区鑫发灯具有限公司"),
    ("集美远益服装", "厦门市远益服装有限公司"),
    ("深圳市格林电子有限公司", "深圳市格琳电子有限公司"),  # a homophone typo
]
DIFFERENT = [
    ("格林电子", "格林电器"),
    ("深圳格林电子", "东莞格林电子"),
    ("华为技术有限公司", "华为终端有限公司"),
    ("深圳市鸿达包装有限公司", "深圳市鸿远包装有限公司"),  # one character, not a homophone
    ("佛山市南海区188五金商行", "佛山市南海区588五金商行"),
    ("深圳市科达电子有限公司", "深圳市科达利电子有限公司"),
    ("嘉华电子（深圳）有限公司", "嘉华电子（苏州）有限公司"),
    ("华美五金", "华美印刷"),
    ("泰克科技有限公司", "泰克电子有限公司"),
    ("王总", "王总"),  # a contact person, not a company
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_the_same_company_written_differently(a: str, b: str) -> None:
    (group,) = find_groups([(a, []), (b, [])])
    assert group.members == (0, 1)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_look_alike_companies_stay_apart(a: str, b: str) -> None:
    assert find_groups([(a, []), (b, [])]) == []


def test_the_same_phone_in_another_format_links_a_short_name() -> None:
    (group,) = find_groups(
        [("深圳市鑫隆塑胶有限公司", ["13509871234"]), ("新隆", ["135 0987 1234"])]
    )
    assert group.reason.kinds == {MatchKind.SAME_PHONE}
    assert group.reason.text() == "同一电话"


def test_a_contact_person_row_joins_through_a_mobile_only() -> None:
    items = [("深圳市格林电子有限公司", ["13812345678"]), ("王总", ["+86 138 1234 5678"]),
             ("王总", ["13900002222"])]  # fmt: skip
    (group,) = find_groups(items)
    assert group.members == (0, 1)


def test_a_shared_switchboard_does_not_merge_different_names() -> None:
    items = [
        ("深圳市佳讯贸易有限公司", ["0755-82886666"]),
        ("深圳市博远科技有限公司", ["0755-8288 6666"]),
        ("东莞市塘厦镇百盛五金制品有限公司", ["0769-87881234"]),
        ("东莞市塘厦镇恒昌塑胶有限公司", ["0769-87881234"]),
    ]
    assert find_groups(items) == []


def test_no_chain_through_a_name_without_a_city() -> None:
    """东莞泰克 = 泰克 (no city) = 昆山泰克电子 must not make 东莞 and 昆山 one company."""
    items: list[tuple[str, list[str]]] = [
        ("东莞市泰克科技", []),
        ("泰克", []),
        ("江苏省昆山市泰克电子有限公司", []),
    ]
    groups = find_groups(items)
    assert all(not {0, 2} <= set(g.members) for g in groups)


def test_groups_carry_a_reason_with_a_score_for_similar_names() -> None:
    items = [("深圳市格林电子有限公司", ["13812345678"]), ("格林电子", ["138-1234-5678"]),
             ("格琳电子", [])]  # fmt: skip
    (group,) = find_groups(items)
    assert group.members == (0, 1, 2)
    same_name, same_phone, sound = group.reason.links
    assert (same_name.kind, same_phone.kind, sound.kind) == (
        MatchKind.SAME_NAME,
        MatchKind.SAME_PHONE,
        MatchKind.SAME_SOUND,  # 格琳 / 格林
    )
    assert sound.score is not None and 0 < sound.score < 1
    assert group.reason.text() == f"名称相同、同一电话、名称相似 {sound.score:.2f}"


def test_a_group_shows_its_weakest_look_alike_link_once() -> None:
    reason = GroupReason.of(
        [
            MatchReason(MatchKind.SIMILAR_NAME, 0.93),
            SAME_PHONE,
            MatchReason(MatchKind.SAME_SOUND, 0.75),
            SAME_PHONE,
            MatchReason(MatchKind.SIMILAR_NAME, 0.8),
        ]
    )
    assert reason.links == (SAME_PHONE, MatchReason(MatchKind.SAME_SOUND, 0.75))
    assert reason.text() == "同一电话、名称相似 0.75"
    assert describe_reason(GroupReason.of([SAME_NAME])) == "名称相同"


def test_name_key_keeps_trade_name_and_industry_apart() -> None:
    key = analyse("深圳市格林电子科技有限公司")
    assert (key.trade, key.strong, key.core) == ("格林", ("电子",), "格林电子")
    assert key.place == "深圳市"
    assert analyse("中山电子").trade == "中山"  # a city name can be the trade name


def test_matching_quality_on_the_labelled_corpus() -> None:
    """The corpus run is the same as benchmarks/match_quality.py (the possible tier on, as
    check runs it). The bars are the issue's: no look-alike pair grouped at all, and the
    grouped recall at least the 0.9879 it was before the possible tier."""
    from pathlib import Path

    from xlsync.matching.group import group_items, prepare

    from .matching_corpus import evaluate

    here = Path(__file__).parent / "matching_corpus"
    for name, recall in (("corpus.jsonl", 0.9879), ("hard_cases.jsonl", 0.93)):
        records = evaluate.load_corpus(here / name)
        unsure: list[tuple[int, int, str]] = []
        items = prepare([(r["name"], [r.get("phone") or ""]) for r in records])
        groups = [list(g.members) for g in group_items(items, possible=unsure)]
        scores = evaluate.evaluate(groups, records)
        assert scores["fp"] == 0, (name, scores["false_positives"])
        assert scores["recall"] >= recall, name
        grouped = evaluate.predicted_pairs(groups, len(records))
        assert not {(min(a, b), max(a, b)) for a, b, _ in unsure} & grouped
