"""Normalise Chinese company names into comparable keys.

`深圳市格林电子科技有限公司`, `格林电子（深圳）有限公司`, `深圳 格林電子` and `ＧＲＥＥＮ格林电子`
all become trade name `格林` + industry `电子`; `格林电器` keeps the industry `电器` apart.

Steps: NFKC (full width to half width), case, traditional to simplified (OpenCC), bracketed
places, punctuation and spaces, legal-form suffixes, industry words (strong ones such as
电子 tell companies apart; generic ones such as 科技 are often dropped by reps), and
administrative-division prefixes from the list of Chinese provinces, cities and districts
that ships with the `cpca` package.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import opencc

_T2S = opencc.OpenCC("t2s")

# Longest first: matched as suffixes, repeatedly.
LEGAL_FORMS: tuple[str, ...] = tuple(
    sorted(
        {
            "股份有限公司",
            "有限责任公司",
            "集团有限公司",
            "集团股份有限公司",
            "有限公司",
            "责任公司",
            "股份公司",
            "分公司",
            "总公司",
            "公司",
            "集团",
            "有限",
            "股份",
            "加工厂",
            "制造厂",
            "制品厂",
            "工厂",
            "厂",
            "商行",
            "经营部",
            "门市部",
            "批发部",
            "工作室",
            "商店",
            "店",
            "co",
            "ltd",
            "coltd",
            "inc",
            "limited",
            "company",
            "corp",
        },
        key=len,
        reverse=True,
    )
)

# Generic words that reps add or drop freely: they never tell two companies apart.
WEAK_WORDS: frozenset[str] = frozenset(
    {
        "科技",
        "技术",
        "实业",
        "发展",
        "工贸",
        "商贸",
        "贸易",
        "国际",
        "国际贸易",
        "进出口",
        "投资",
        "控股",
        "企业",
        "工业",
        "产业",
        "科贸",
        "高科技",
        "高新技术",
        "新技术",
        "有限",
        "中国",
        "中外合资",
        "合资",
        "独资",
        "经贸",
        "经营",
        "实业发展",
        "科技发展",
    }
)

# Words that name what a company makes or does: `格林电子` and `格林电器` are different.
STRONG_WORDS: frozenset[str] = frozenset(
    {
        "电子",
        "电器",
        "电气",
        "电机",
        "电源",
        "电池",
        "电线",
        "电缆",
        "电路",
        "电路板",
        "光电",
        "光学",
        "照明",
        "灯饰",
        "半导体",
        "通讯",
        "通信",
        "网络",
        "信息",
        "软件",
        "智能",
        "自动化",
        "机电",
        "机械",
        "设备",
        "仪器",
        "仪表",
        "精密",
        "模具",
        "五金",
        "金属",
        "钢铁",
        "铝业",
        "铜业",
        "不锈钢",
        "塑胶",
        "塑料",
        "橡胶",
        "硅胶",
        "化工",
        "涂料",
        "油漆",
        "油墨",
        "胶粘",
        "胶业",
        "材料",
        "新材料",
        "化学",
        "树脂",
        "颜料",
        "印刷",
        "包装",
        "纸业",
        "纸品",
        "彩印",
        "家具",
        "家居",
        "木业",
        "装饰",
        "建材",
        "陶瓷",
        "玻璃",
        "石材",
        "纺织",
        "服装",
        "服饰",
        "鞋业",
        "制衣",
        "皮革",
        "箱包",
        "玩具",
        "礼品",
        "工艺",
        "工艺品",
        "文具",
        "饰品",
        "眼镜",
        "钟表",
        "食品",
        "饮料",
        "医疗",
        "医药",
        "生物",
        "制药",
        "环保",
        "能源",
        "新能源",
        "汽车",
        "汽配",
        "车业",
        "物流",
        "运输",
        "电商",
        "工程",
        "建筑",
        "装修",
        "制冷",
        "空调",
        "卫浴",
        "厨具",
        "灯具",
        "标牌",
        "丝印",
        "喷涂",
        "电镀",
        "表面处理",
        "压铸",
        "五金制品",
        "塑胶制品",
        "制品",
        "器材",
        "配件",
        "零件",
        "实验",
        "检测",
        "消防",
        "安防",
        "家电",
        "音响",
        "显示",
        "液晶",
        "触控",
        "科技园",
        "母婴",
        "日用",
        "日化",
        "化妆品",
        "美容",
    }
)
_INDUSTRY_SET = WEAK_WORDS | STRONG_WORDS
_INDUSTRY_LENGTHS = tuple(sorted({len(w) for w in _INDUSTRY_SET}, reverse=True))
_LEGAL_SET = frozenset(LEGAL_FORMS)
_LEGAL_LENGTHS = tuple(sorted({len(w) for w in LEGAL_FORMS}, reverse=True))


def _longest_suffix(s: str, words: frozenset[str], lengths: tuple[int, ...]) -> str | None:
    """The longest word of `words` that ends `s` and leaves something before it."""
    for n in lengths:
        if len(s) > n and s[-n:] in words:
            return s[-n:]
    return None


_BRACKETS = re.compile(
    r"[(\[{【（〔［｛<《]([^()\[\]{}【】（）〔〕［］｛｝<>《》]*)[)\]}】）〕］｝>》]"
)
_NON_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_LATIN = re.compile(r"[a-z0-9]+")
_TOWN = re.compile(r"^[\u4e00-\u9fff]{2,3}(?:镇|街道|乡)")
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


@dataclass(frozen=True, slots=True)
class NameKey:
    """A company name taken apart."""

    text: str  # the cleaned full name (places kept, no punctuation)
    trade: str  # the trade name: `格林`
    strong: tuple[str, ...]  # industry words that tell companies apart: (`电子`,)
    weak: tuple[str, ...]  # generic words: (`科技`,)
    place: str  # the place prefix or bracket that was removed: `深圳`

    @property
    def core(self) -> str:
        """Trade name plus strong industry words: the exact-match key (`格林电子`)."""
        return self.trade + "".join(self.strong)


@cache
def _divisions() -> tuple[frozenset[str], frozenset[str]]:
    """(top-level names: provinces and cities, full and short; district full names + shorts)."""
    top: set[str] = {"中国", "中华", "华南", "华东", "华北", "珠三角"}
    districts: set[str] = set()
    text = resources.files("cpca").joinpath("resources/adcodes.csv").read_text("utf-8")
    for record in csv.DictReader(text.splitlines()):
        code, name = record["adcode"], record["name"]
        level_top = code[4:6] == "00"  # province (xx0000) or prefecture city (xxxx00)
        bucket = top if level_top else districts
        bucket.add(name)
        short = _short_division(name)
        if short:
            bucket.add(short)
    return frozenset(top), frozenset(districts)


def _short_division(name: str) -> str | None:
    for suffix in _DIVISION_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            short = name[: -len(suffix)]
            # 广西壮族自治区 -> 广西; 内蒙古 keeps three characters
            return re.sub(r"(?:[\u4e00-\u9fff]{1,3}族)+$", "", short) or short
    return None


@cache
def _division_lengths() -> tuple[int, ...]:
    top, districts = _divisions()
    return tuple(sorted({len(n) for n in top | districts}, reverse=True))


def _strip_places(s: str) -> tuple[str, str]:
    """Remove leading province / city / district names; keep at least two characters."""
    top, districts = _divisions()
    removed = ""
    after_top = False
    while True:
        for n in _division_lengths():
            if len(s) - n < 2:
                continue
            head = s[:n]
            full_district = head in districts and head.endswith(("区", "县", "市", "旗"))
            if head in top or full_district or (after_top and head in districts):
                removed += head
                s = s[n:]
                after_top = True
                break
        else:
            m = _TOWN.match(s)
            if m and after_top and len(s) - m.end() >= 2:
                removed += m.group(0)
                s = s[m.end() :]
                continue
            return s, removed


@lru_cache(maxsize=1 << 17)
def analyse(name: str) -> NameKey:
    """Take a company name apart into place, trade name and industry words."""
    s = _T2S.convert(unicodedata.normalize("NFKC", name).casefold())
    place = ""

    def drop_place_bracket(m: re.Match[str]) -> str:
        nonlocal place
        inner = _NON_WORD.sub("", m.group(1))
        stripped, removed = _strip_places(inner + "xx")
        if removed and stripped in ("xx", "市xx"):
            place = place or removed
            return ""
        if inner in _divisions()[0] or inner in _divisions()[1]:
            place = place or inner
            return ""
        return m.group(1)

    s = _BRACKETS.sub(drop_place_bracket, s)
    s = _NON_WORD.sub("", s)
    text = s
    # legal forms and industry words come off the end, in any interleaving
    strong: list[str] = []
    weak: list[str] = []
    changed = True
    while changed and s:
        changed = False
        suffix = _longest_suffix(s, _LEGAL_SET, _LEGAL_LENGTHS)
        if suffix:
            s = s[: -len(suffix)]
            changed = True
        word = _longest_suffix(s, _INDUSTRY_SET, _INDUSTRY_LENGTHS)
        if word:
            s = s[: -len(word)]
            (strong if word in STRONG_WORDS else weak).insert(0, word)
            changed = True
    # places come off the front of what is left, never leaving less than two characters
    # (中山电子 keeps 中山 as its trade name)
    s, removed = _strip_places(s)
    place = place or removed
    trade = s
    cjk = _LATIN.sub("", trade)
    if len(cjk) >= 2 and cjk != trade:
        trade = cjk  # ＧＲＥＥＮ格林 -> 格林: the Chinese trade name is the one reps share
    return NameKey(text=text, trade=trade, strong=tuple(strong), weak=tuple(weak), place=place)
