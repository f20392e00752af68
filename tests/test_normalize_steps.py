"""Steps of the name analysis checked against their plain definitions: the suffix rounds
and the quick refusal of Chinese names before the English reading."""

from __future__ import annotations

import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from xlsync.matching import english
from xlsync.matching.english import english_name
from xlsync.matching.normalize import _strip_suffixes, analyse, words


def _longest_suffix(s: str, vocabulary: frozenset[str]) -> str | None:
    """The longest word of `vocabulary` that ends `s` and leaves something before it."""
    for n in range(len(s) - 1, 0, -1):
        if s[-n:] in vocabulary:
            return s[-n:]
    return None


def _strip_suffixes_plainly(s: str) -> tuple[str, list[str], list[str]]:
    w = words()
    strong: list[str] = []
    weak: list[str] = []
    changed = True
    while changed and s:
        changed = False
        suffix = _longest_suffix(s, w.legal)
        if suffix:
            s = s[: -len(suffix)]
            changed = True
        word = _longest_suffix(s, w.industry)
        if word:
            s = s[: -len(word)]
            (strong if word in w.strong else weak).insert(0, word)
            changed = True
    return s, strong, weak


def _pieces() -> st.SearchStrategy[str]:
    w = words()
    vocabulary = sorted(w.legal | w.industry)
    return st.lists(
        st.sampled_from(vocabulary) | st.sampled_from(list("格林深圳电子公司厂店行a1")),
        max_size=8,
    ).map("".join)


@settings(max_examples=500, deadline=None)
@given(_pieces())
@example("格林电子集团有限公司")  # legal, industry, legal, industry: three rounds
@example("公司")  # a legal form alone is not taken off: nothing would be left
@example("")
def test_the_suffix_rounds_are_the_plain_ones(s: str) -> None:
    assert _strip_suffixes(s, words()) == _strip_suffixes_plainly(s)


def _english_name_plainly(name: str) -> object:
    """english_name as defined: normalised first, then refused when Chinese."""
    text = unicodedata.normalize("NFKC", name)
    if english._CJK.search(text):
        return None
    return english_name(text)


_LETTERS = st.sampled_from(
    [
        *"GreenTech Ltd Shenzhen Dongguan co.,",
        "格",
        "林",
        "\u2f00",
        "\u2fa6",
        "\uf900",
        "\uff27",
        "\u3400",
        "\u9fa5",
        " ",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_LETTERS, max_size=30).map("".join))
@example("\u2f00GREEN TECH")  # a Kangxi radical: Chinese only once normalised (一)
@example("ＧＲＥＥＮ ＴＥＣＨ")  # full-width letters
def test_the_english_reading_refuses_chinese_names_as_defined(name: str) -> None:
    assert english_name(name) == _english_name_plainly(name)


def test_whole_analyses_through_the_rewritten_steps() -> None:
    """Brackets naming a place or a note, several suffix rounds, a person, Latin letters."""
    cases = {
        "深圳市格林电子集团有限公司": ("深圳市格林电子集团有限公司", "格林", ("电子",), (), "深圳市",
                                    False, "格林电子", frozenset({"电子"})),
        "东莞市长安镇威辉五金制品厂（老客户）": ("东莞市长安镇威辉五金制品厂", "威辉", ("五金",), (),
                                             "东莞市长安镇", False, "威辉五金", frozenset({"五金"})),
        "王总": ("王总", "王总", (), (), "", True, "王总", frozenset()),
        "GREEN格林（深圳）电子厂": ("green格林电子厂", "格林", ("电子",), (), "深圳", False,
                                   "格林电子", frozenset({"电子"})),
    }  # fmt: skip
    assert {name: tuple(analyse.__wrapped__(name)) for name in cases} == cases
