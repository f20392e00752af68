"""Normalise Chinese company names into comparable keys.

`深圳市格林电子科技有限公司`, `格林电子（深圳）有限公司`, `深圳 格林電子` and `ＧＲＥＥＮ格林电子`
all become trade name `格林` + industry `电子`; `格林电器` keeps the industry `电器` apart.

Steps: NFKC (full width to half width), case, traditional to simplified (OpenCC), bracketed
places, punctuation and spaces, legal-form suffixes, industry words (strong ones such as
电子 tell companies apart; generic ones such as 科技 are often dropped by reps), and
administrative-division prefixes from the list of Chinese provinces, cities and districts.

The word lists and the division list are package data under `data/` (one entry a line,
each file says what it is for), loaded once at first use.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import opencc


@cache
def _t2s() -> opencc.OpenCC:
    """Traditional to simplified Chinese; built at first use (it reads OpenCC's tables)."""
    return opencc.OpenCC("t2s")


_DATA = Path(__file__).resolve().parent / "data"  # package data: word lists and divisions


def data_lines(name: str) -> tuple[str, ...]:
    """The entries of a data file under xlsync/matching/data/: stripped, without blank
    lines and `#` comments."""
    try:
        text = (_DATA / name).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuntimeError(
            f"xlsync is installed without its data file matching/data/{name}: {exc}"
        ) from exc
    return tuple(
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


@dataclass(frozen=True, slots=True)
class WordLists:
    """The word lists of xlsync/matching/data/, loaded once (see each file's header)."""

    legal_forms: tuple[str, ...]  # legal_forms.txt, longest first
    weak: frozenset[str]  # weak_words.txt: generic words (科技, 贸易)
    business: frozenset[str]  # business_words.txt: generic words that still say what a company does
    strong: frozenset[str]  # strong_words.txt: industry words that tell companies apart (电子)
    surnames: frozenset[str]  # surnames.txt
    # derived: what `analyse` cuts off the end of a name
    legal: frozenset[str]
    legal_lengths: tuple[int, ...]
    industry: frozenset[str]  # weak | strong
    industry_lengths: tuple[int, ...]
    last_chars: frozenset[str]  # the last character of every suffix word: most names fail this


@cache
def words() -> WordLists:
    """The word lists, read from the package data at the first call."""
    legal = frozenset(data_lines("legal_forms.txt"))
    weak = frozenset(data_lines("weak_words.txt"))
    strong = frozenset(data_lines("strong_words.txt"))
    industry = weak | strong
    return WordLists(
        legal_forms=tuple(sorted(legal, key=lambda w: (-len(w), w))),
        weak=weak,
        business=frozenset(data_lines("business_words.txt")),
        strong=strong,
        surnames=frozenset(data_lines("surnames.txt")),
        legal=legal,
        legal_lengths=tuple(sorted({len(w) for w in legal}, reverse=True)),
        industry=industry,
        industry_lengths=tuple(sorted({len(w) for w in industry}, reverse=True)),
        last_chars=frozenset(w[-1] for w in industry | legal),
    )


# The lists under their old module-level names, loaded at first use (PEP 562).
if TYPE_CHECKING:
    LEGAL_FORMS: tuple[str, ...]
    WEAK_WORDS: frozenset[str]
    BUSINESS_WORDS: frozenset[str]
    STRONG_WORDS: frozenset[str]
    SURNAMES: frozenset[str]
_PUBLIC_LISTS = {
    "LEGAL_FORMS": "legal_forms",
    "WEAK_WORDS": "weak",
    "BUSINESS_WORDS": "business",
    "STRONG_WORDS": "strong",
    "SURNAMES": "surnames",
}


def __getattr__(name: str) -> object:
    field = _PUBLIC_LISTS.get(name)
    if field is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(words(), field)


def _lengths_by_end(vocabulary: frozenset[str]) -> dict[str, tuple[int, ...]]:
    """Last character -> the lengths of the words that end with it, longest first."""
    lengths: dict[str, set[int]] = {}
    for word in vocabulary:
        lengths.setdefault(word[-1], set()).add(len(word))
    return {end: tuple(sorted(ns, reverse=True)) for end, ns in lengths.items()}


@cache
def _suffix_tables() -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """`_lengths_by_end` of the legal forms and of the industry words."""
    w = words()
    return _lengths_by_end(w.legal), _lengths_by_end(w.industry)


_BRACKETS = re.compile(
    r"[(\[{【（〔［｛<《]([^()\[\]{}【】（）〔〕［］｛｝<>《》]*)[)\]}】）〕］｝>》]"
)
_NON_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_ANY_BRACKET = re.compile(r"[(\[{【（〔［｛<《]")  # a quick refusal before _BRACKETS
_LATIN = re.compile(r"[a-z]+")
_NOTE_TAIL = re.compile(r"\s*[\-—_/|:：]+\s*([\u4e00-\u9fff]{1,5})\s*$")
_TOWN = re.compile(r"^[\u4e00-\u9fff]{1,3}(?:镇|街道|乡)")
# A contact person written into the name: 王总, 李小姐, 覃工, 韩生, 叶经理
_TITLES = "小姐|先生|女士|经理|总经理|老板|老板娘|主管|采购|厂长|主任|老师|总|工|生|姐|哥"
_PERSON = re.compile(rf"^[\u4e00-\u9fff]{{1,3}}?(?:{_TITLES})$")
_TITLES_AFTER_NAME = "小姐|先生|女士|经理|总经理|老板|主管|采购|厂长"
_PERSON_TAIL = re.compile(
    rf"(?:[\s\-—_/·,，:：;；]+[\u4e00-\u9fff]{{1,3}}?(?:{_TITLES})"
    rf"|[\u4e00-\u9fff](?:{_TITLES_AFTER_NAME}))\s*$"
)
# Quick refusals before the two tail patterns, which are searched at every position of a
# name: a contact ends with a title's last character (before any spaces), a note follows
# one of the separators
_TITLE_ENDS = frozenset(t[-1] for t in f"{_TITLES}|{_TITLES_AFTER_NAME}".split("|"))
_NOTE_SEPARATOR = re.compile(r"[\-—_/|:：]")
_PERSON_THEN_COMPANY = re.compile(
    rf"^\W*[\u4e00-\u9fff]{{1,2}}?(?:{_TITLES})\s*[(\[（【]([^()\[\]（）【】]+)[)\]）】]\s*$"
)
_DIVISION_SUFFIXES = (
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治州",
    "自治县",
    "地区",
    "省",
    "市",
    "区",
    "县",
    "盟",
    "旗",
)


class NameKey(NamedTuple):
    """A company name taken apart (a named tuple: one is made per distinct name, and a
    frozen dataclass takes 2.5 times as long to build)."""

    text: str  # the cleaned full name (places kept, no punctuation)
    trade: str  # the trade name: `格林`
    strong: tuple[str, ...]  # industry words that tell companies apart: (`电子`,)
    weak: tuple[str, ...]  # generic words: (`科技`,)
    place: str  # the place prefix or bracket that was removed: `深圳`
    person: bool = False  # the "name" is only a contact person (王总, 李小姐)

    # Trade name plus strong industry words: the exact-match key (`格林电子`).
    core: str = ""
    # Strong industry words plus business-like generic words (科技, 贸易).
    business: frozenset[str] = frozenset()


@cache
def _division_records() -> tuple[tuple[str, str], ...]:
    """(12-digit code, name) of every division in data/divisions.tsv."""
    records: list[tuple[str, str]] = []
    for line in data_lines("divisions.tsv"):
        code, _, name = line.partition("\t")
        if len(code) != 12 or not code.isdigit() or len(name) < 2:
            raise RuntimeError(f"matching/data/divisions.tsv: not `code<TAB>name`: {line!r}")
        records.append((code, name))
    return tuple(records)


@cache
def _place_codes() -> dict[str, str]:
    """Division names (full and short) -> adcode prefix: 2 digits for a province, 4 for a
    city, 6 for a district. A short name shared by several divisions (朝阳, 鼓楼) maps to
    what they have in common, possibly nothing."""
    codes: dict[str, str] = {}
    for code, name in _division_records():
        if code[2:6] == "0000":
            prefix = code[:2]
        elif code[4:6] == "00":
            prefix = code[:4]
        else:
            prefix = code[:6]
        for n in (name, _short_division(name)):
            if not n:
                continue
            old = codes.get(n)
            codes[n] = prefix if old is None else _common_prefix(old, prefix)
    return codes


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[: n - n % 2]


@lru_cache(maxsize=1 << 12)  # a register names a few hundred places, each many times
def place_code(place: str) -> str:
    """The most specific province/city code named at the start of a place text, or ""."""
    codes = _place_codes()
    best = ""
    i = 0
    while i < len(place):
        for n in range(min(8, len(place) - i), 1, -1):
            code = codes.get(place[i : i + n])
            if code is not None:
                if len(code) > len(best):
                    best = code
                i += n
                break
        else:
            break
    return best


def places_conflict(a: str, b: str) -> bool:
    """Two place codes that name different provinces or different cities (districts of
    one city do not conflict: reps write the district they happened to visit)."""
    n = min(len(a), len(b), 4)
    return n > 0 and a[:n] != b[:n]


@cache
def divisions() -> tuple[frozenset[str], frozenset[str]]:
    """(top-level names: provinces and cities, full and short; district full names + shorts)."""
    top: set[str] = {"中国", "中华", "华南", "华东", "华北", "珠三角"}
    districts: set[str] = set()
    for code, name in _division_records():
        level_top = code[4:6] == "00"  # province (xx0000) or prefecture city (xxxx00)
        bucket = top if level_top else districts
        bucket.add(name)
        short = _short_division(name)
        if short:
            bucket.add(short)
    return frozenset(top), frozenset(districts)


_divisions = divisions  # the name xlsync.lookup used before


# the suffixes by their last character, in the order above: a name is tried against few
_SUFFIXES_BY_END: dict[str, tuple[str, ...]] = {
    end: tuple(s for s in _DIVISION_SUFFIXES if s[-1] == end)
    for end in dict.fromkeys(s[-1] for s in _DIVISION_SUFFIXES)
}


@cache
def _short_division(name: str) -> str | None:
    """广东省 -> 广东, 广西壮族自治区 -> 广西, 江城哈尼族彝族自治县 -> 江城."""
    for suffix in _SUFFIXES_BY_END.get(name[-1:], ()):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            short = name[: -len(suffix)]
            stripped = short[-1] in _nation_ends()  # most names have no nation to strip
            while stripped:
                stripped = False
                for nation in _nations():
                    if short.endswith(nation) and len(short) - len(nation) >= 2:
                        short = short[: -len(nation)]
                        stripped = True
                        break
            return short
    return None


@cache
def _nations() -> tuple[str, ...]:
    """The 56 ethnic groups (蒙古族, 哈尼族 ...) as named in autonomous divisions, longest first."""
    names = data_lines("nations.txt")
    return tuple(sorted(set(names), key=lambda n: (-len(n), n)))


@cache
def _nation_ends() -> frozenset[str]:
    """The last character of every nation's name (族)."""
    return frozenset(n[-1] for n in _nations())


@cache
def _all_divisions() -> frozenset[str]:
    """Every division name, top-level and district, full and short."""
    top, districts = divisions()
    return top | districts


@cache
def _division_heads() -> frozenset[str]:
    """The first two characters of every division name: most texts fail this at once."""
    return frozenset(n[:2] for n in _all_divisions())


@cache
def _division_lengths() -> tuple[int, ...]:
    return tuple(sorted({len(n) for n in _all_divisions()}, reverse=True))


@cache
def _division_lengths_by_head() -> dict[str, tuple[int, ...]]:
    """The lengths of the division names that start with each two characters, longest
    first: a text is compared only with names that can start it."""
    lengths: dict[str, set[int]] = {}
    for name in _all_divisions():
        lengths.setdefault(name[:2], set()).add(len(name))
    return {head: tuple(sorted(ns, reverse=True)) for head, ns in lengths.items()}


def _strip_places(s: str) -> tuple[str, str]:
    """Remove leading province / city / district names; keep at least two characters."""
    places = _all_divisions()
    by_head = _division_lengths_by_head()
    removed = ""
    while True:
        lengths = by_head.get(s[:2], ())
        if not lengths and not _TOWN.match(s):
            return s, removed
        size = len(s)
        for n in lengths:
            if size - n < 2:
                continue
            head = s[:n]
            if head in places:
                # a town named like a district elsewhere: 东莞市长安镇 (长安区 is in 西安)
                after = s[n]
                tail = (
                    "镇" if after == "镇" else "乡" if after == "乡"
                    else "街道" if after == "街" and s[n + 1 : n + 2] == "道" else ""
                )  # fmt: skip
                if size - n - len(tail) < 2:
                    tail = ""
                removed += head + tail
                s = s[n + len(tail) :]
                break
        else:
            m = _TOWN.match(s)
            if m and len(s) - m.end() >= 2:
                removed += m.group(0)
                s = s[m.end() :]
                continue
            return s, removed


@lru_cache(maxsize=1 << 14)  # contacts repeat: 王先生, 李小姐, and a customer's buyer
def full_person_name(text: str) -> str:
    """A contact written as a full personal name (王志强, 李娜), normalised; "" for a title
    alone (王总, 李小姐, 陈经理), which many people share, or anything else."""
    s = _t2s().convert(unicodedata.normalize("NFKC", text)).strip()
    s = re.sub(r"\s+", "", s)
    if not re.fullmatch(r"[\u4e00-\u9fff]{2,4}", s) or _PERSON.match(s):
        return ""
    surnames = words().surnames
    return s if s[0] in surnames or s[:2] in surnames else ""


def _is_person(trade: str) -> bool:
    if not _PERSON.match(trade):
        return False
    if trade[-1] in "总工生姐哥" and trade[-2:] not in ("经理", "老总"):
        return len(trade) <= 3 and trade[0] in words().surnames
    return True


def _has_business_word(text: str) -> bool:
    w = words()
    return any(
        text[i:j] in w.industry or text[i:j] in w.legal
        for i in range(len(text))
        for j in range(i + 2, len(text) + 1)
    )


_NO_WORDS: frozenset[str] = frozenset()  # shared by every name without business words


def _bracket_places(s: str) -> tuple[str, str]:
    """`s` without its bracketed parts, and the first place one of them named."""
    place = ""

    def drop(m: re.Match[str]) -> str:
        nonlocal place
        inner = _NON_WORD.sub("", m.group(1))
        stripped, removed = _strip_places(inner + "xx")
        if removed and stripped in ("xx", "市xx"):
            place = place or removed
            return ""
        if inner in _all_divisions():
            place = place or inner
        # anything else in brackets is a note (老客户, 已送样) or a translation (GREEN)
        return ""

    return _BRACKETS.sub(drop, s), place


def _strip_suffixes(s: str, w: WordLists) -> tuple[str, list[str], list[str]]:
    """Legal forms and industry words off the end of `s`, in any interleaving: what is
    left, and the strong and the weak industry words (in reading order). Each round takes
    the longest legal form, then the longest industry word, that ends `s` and leaves
    something before it; rounds repeat while one of them comes off. Written inline: it runs
    two or three rounds for every name."""
    legal, industry, strong_words = w.legal, w.industry, w.strong
    legal_ends, industry_ends = _suffix_tables()
    strong: list[str] = []
    weak: list[str] = []
    changed = True
    while changed and s:
        changed = False
        size = len(s)
        for n in legal_ends.get(s[-1], ()):
            if size > n and s[-n:] in legal:
                s = s[:-n]
                size -= n
                changed = True
                break  # it left at least one character: s[-1] below exists
        for n in industry_ends.get(s[-1], ()):
            if size > n:
                word = s[-n:]
                if word in industry:
                    s = s[:-n]
                    (strong if word in strong_words else weak).insert(0, word)
                    changed = True
                    break
    return s, strong, weak


@lru_cache(maxsize=1 << 17)
def analyse(name: str) -> NameKey:
    """Take a company name apart into place, trade name and industry words."""
    w = words()
    s = _t2s().convert(unicodedata.normalize("NFKC", name).casefold()).strip()
    m = _PERSON_THEN_COMPANY.match(s)
    if m:
        s = m.group(1)  # 马小姐（中建创业家具）: the company is the part in brackets
    s, place = _bracket_places(s) if _ANY_BRACKET.search(s) else (s, "")
    if len(s) > 4 and s.rstrip()[-1:] in _TITLE_ENDS:
        s = _PERSON_TAIL.sub("", s)
    note = _NOTE_TAIL.search(s) if _NOTE_SEPARATOR.search(s) else None
    if note and not _has_business_word(note.group(1)):
        s = s[: note.start()]  # 威辉公司-待回复: a note after a dash
    s = _NON_WORD.sub("", s)
    text = s
    s, strong, weak = _strip_suffixes(s, w)
    # places come off the front of what is left, never leaving less than two characters
    # (中山电子 keeps 中山 as its trade name)
    cjk, cjk_place = _strip_places(_LATIN.sub("", s)) if _LATIN.search(s) else ("", "")
    if len(cjk) >= 2 and _strip_places(cjk + "xx")[0] != "xx":
        # ＧＲＥＥＮ格林 -> 格林: the Chinese trade name is the one reps share
        s, removed = cjk, cjk_place
    else:
        s, removed = _strip_places(s)  # 深圳市NDG: the Latin letters are the trade name
    place = place or removed
    trade = s
    person = not strong and _is_person(trade)
    if weak:
        business = frozenset(strong).union(x for x in weak if x in w.business) or _NO_WORDS
    else:
        business = frozenset(strong) if strong else _NO_WORDS
    # positional, in the order of NameKey's fields
    return NameKey(text, trade, tuple(strong), tuple(weak), place, person,
                   trade + "".join(strong), business)  # fmt: skip
