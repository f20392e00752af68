"""English company names from business cards, compared with Chinese names by sound.

`Shenzhen Jinhui Hardware Co., Ltd.` is taken apart into a place (`shenzhen` -> 深圳), a
trade name written in pinyin (`jinhui`) and industry words (`hardware` -> 五金). A Chinese
name whose trade name reads the same in pinyin (金辉, but also 金晖) may be that company:
the matcher groups the two only when a phone says so and otherwise asks the manager.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from xlsync.matching.normalize import divisions, place_code

_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z]+")

# Words of a company's legal form or generic words that do not name it.
_GENERIC_WORDS = (
    "co company corp corporation ltd limited inc llc plc group the of and factory "
    "industrial industry industries enterprise enterprises international intl china "
    "development dev holdings holding manufacturing manufacture mfg products product "
    "technology technologies tech science trading trade import export"
)
_GENERIC = frozenset(_GENERIC_WORDS.split())

# English industry words and the strong industry words (strong_words.txt) they translate.
_INDUSTRY: dict[str, frozenset[str]] = {
    word: frozenset(chinese.split())
    for words, chinese in (
        ("electronics electronic", "电子 光电 电子元件"),
        ("electric electrical electrics appliance appliances", "电器 电气 家电"),
        ("hardware metal metals", "五金 金属"),
        ("plastic plastics", "塑胶 塑料 塑业 注塑"),
        ("rubber", "橡胶"),
        ("packaging package packing", "包装 包材 彩盒 纸箱"),
        ("printing print", "印刷 彩印 丝印"),
        ("furniture", "家具 家居"),
        ("lighting light lights lamp lamps", "照明 灯具 灯饰 光电"),
        ("chemical chemicals", "化工 化学"),
        ("machinery machine machines", "机械 机电 设备"),
        ("precision", "精密"),
        ("mould mold moulds molds", "模具"),
        ("textile textiles", "纺织 织造 针织 化纤"),
        ("garment garments clothing apparel", "服装 服饰 制衣"),
        ("shoes footwear", "鞋业"),
        ("toys toy", "玩具"),
        ("gifts gift", "礼品 工艺品"),
        ("paint paints coating coatings", "涂料 油漆"),
        ("ink inks", "油墨"),
        ("motor motors", "电机"),
        ("cable cables wire wires", "电线 电缆 线缆 线材"),
        ("optical optics", "光学"),
        ("ceramics ceramic", "陶瓷"),
        ("glass", "玻璃"),
        ("leather", "皮革 皮具"),
        ("bags bag luggage", "箱包"),
        ("material materials", "材料 新材料"),
        ("battery batteries", "电池"),
    )
    for word in words.split()
}


@dataclass(frozen=True, slots=True)
class EnglishName:
    """An English company name taken apart."""

    sound: str  # the trade name as pinyin letters: `jinhui`
    shown: str  # the trade name as written: `Jinhui`
    place: str  # the place code of a leading city or province (`shenzhen`), "" when none
    industries: frozenset[str]  # strong industry words the English words translate


def english_name(name: str) -> EnglishName | None:
    """The parts of a name written in Latin letters only, or None (a Chinese name, or no
    trade name left once place, industry and legal words are taken off)."""
    if _CJK.search(name):  # NFKC keeps these characters: no need to normalise first
        return None
    text = unicodedata.normalize("NFKC", name)
    if _CJK.search(text):
        return None
    raw = re.findall(r"[A-Za-z]+", text)
    words = [w.casefold() for w in raw]
    place = ""
    start = 0
    while start < len(words) and (code := _pinyin_places().get(words[start])):
        place = place if len(place) >= len(code) else code
        start += 1
    trade: list[int] = []
    industries: set[str] = set()
    for k in range(start, len(words)):
        word = words[k]
        if word in _INDUSTRY:
            industries |= _INDUSTRY[word]
        elif word not in _GENERIC and not industries:
            trade.append(k)  # the trade name stands before the industry words
    sound = "".join(words[k] for k in trade)
    if len(sound) < 4:
        return None
    return EnglishName(sound, " ".join(raw[k] for k in trade), place, frozenset(industries))


@cache
def trade_sound(trade: str) -> str:
    """A Chinese trade name as pinyin letters (金辉 -> jinhui); "" when it is not all
    Chinese characters."""
    if len(trade) < 2 or not all(_CJK.match(c) for c in trade):
        return ""
    from pypinyin import lazy_pinyin  # 0.3 s to import: only when an English name is met

    return "".join(lazy_pinyin(trade))


@cache
def _pinyin_places() -> dict[str, str]:
    """City and province short names in pinyin (`shenzhen`, `guangdong`) -> place code.
    A pinyin shared by two places (two names sounding alike) names neither."""
    from pypinyin import lazy_pinyin

    top, _ = divisions()
    found: dict[str, set[str]] = {}
    for name in top:
        code = place_code(name)
        if code and len(name) <= 3 and not name.endswith(("市", "省")):
            found.setdefault("".join(lazy_pinyin(name)), set()).add(code)
    return {sound: codes.pop() for sound, codes in found.items() if len(codes) == 1}
