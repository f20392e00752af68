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
import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

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
        "制造",
        "制品",
        "生产",
        "加工",
        "销售",
        "服务",
        "开发",
        "研发",
        "供应链",
        "商务",
        "实业投资",
    }
)

# Generic words that still say what kind of business it is (泰克科技 vs 泰克电子, 金达贸易
# vs 金达机械): compared when a name has nothing more specific.
BUSINESS_WORDS: frozenset[str] = frozenset(
    {
        "科技",
        "技术",
        "实业",
        "贸易",
        "工贸",
        "商贸",
        "国际贸易",
        "进出口",
        "投资",
        "控股",
        "经贸",
        "科贸",
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
STRONG_WORDS = STRONG_WORDS | frozenset(
    [
        "染料",
        "化纤",
        "印染",
        "皮具",
        "辅料",
        "线缆",
        "纤维",
        "布业",
        "织造",
        "针织",
        "毛织",
        "水泥",
        "钢构",
        "钢结构",
        "管业",
        "阀门",
        "泵业",
        "轴承",
        "紧固件",
        "弹簧",
        "焊接",
        "激光",
        "数控",
        "机床",
        "刀具",
        "磨具",
        "胶带",
        "标签",
        "薄膜",
        "膜业",
        "海绵",
        "泡沫",
        "纸箱",
        "彩盒",
        "包材",
        "塑业",
        "注塑",
        "吸塑",
        "线材",
        "铸造",
        "锻造",
        "冲压",
        "钣金",
        "元器件",
        "传感器",
        "电控",
        "变压器",
        "光伏",
        "储能",
        "锂电",
        "充电",
        "农业",
        "养殖",
        "茶业",
        "酒业",
        "餐饮",
        "酒店",
        "广告",
        "传媒",
        "文化",
        "设计",
        "教育",
        "咨询",
        "人力资源",
        "保洁",
        "清洁",
        "石化",
        "防水",
        "保温",
        "门窗",
        "幕墙",
        "地板",
        "瓷砖",
        "劳保",
        "电线",
        "电缆",
        "电子元件",
    ]
)
_INDUSTRY_SET = WEAK_WORDS | STRONG_WORDS
_INDUSTRY_LENGTHS = tuple(sorted({len(w) for w in _INDUSTRY_SET}, reverse=True))
_LEGAL_SET = frozenset(LEGAL_FORMS)
_LEGAL_LENGTHS = tuple(sorted({len(w) for w in LEGAL_FORMS}, reverse=True))


_LAST_CHARS = frozenset(w[-1] for w in _INDUSTRY_SET | _LEGAL_SET)


def _longest_suffix(s: str, words: frozenset[str], lengths: tuple[int, ...]) -> str | None:
    """The longest word of `words` that ends `s` and leaves something before it."""
    if not s or s[-1] not in _LAST_CHARS:
        return None
    for n in lengths:
        if len(s) > n and s[-n:] in words:
            return s[-n:]
    return None


_BRACKETS = re.compile(
    r"[(\[{【（〔［｛<《]([^()\[\]{}【】（）〔〕［］｛｝<>《》]*)[)\]}】）〕］｝>》]"
)
_NON_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_LATIN = re.compile(r"[a-z]+")
_NOTE_TAIL = re.compile(r"\s*[\-—_/|:：]+\s*([\u4e00-\u9fff]{1,5})\s*$")
# The most common Chinese surnames: a one-character title (总, 工, 生) after one of them is
# a contact person (王总, 覃工, 韩生), after anything else it may be a trade name (宏工).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰"
    "焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁"
    "蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全"
)
_TOWN = re.compile(r"^[\u4e00-\u9fff]{1,3}(?:镇|街道|乡)")
# A contact person written into the name: 王总, 李小姐, 覃工, 韩生, 叶经理
_TITLES = "小姐|先生|女士|经理|总经理|老板|老板娘|主管|采购|厂长|主任|老师|总|工|生|姐|哥"
_PERSON = re.compile(rf"^[\u4e00-\u9fff]{{1,3}}?(?:{_TITLES})$")
_PERSON_TAIL = re.compile(
    rf"(?:[\s\-—_/·,，:：;；]+[\u4e00-\u9fff]{{1,3}}?(?:{_TITLES})"
    r"|[\u4e00-\u9fff](?:小姐|先生|女士|经理|总经理|老板|主管|采购|厂长))\s*$"
)
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


@dataclass(frozen=True, slots=True)
class NameKey:
    """A company name taken apart."""

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


# Divisions created after the snapshot that ships with cpca 0.5.5 (Shenzhen, 2016-2018).
_SUPPLEMENT = (("440309000000", "龙华区"), ("440310000000", "坪山区"), ("440311000000", "光明区"))


def _cpca_resource(name: str) -> str:
    # find the data files without importing cpca (its import loads pandas: ~0.3 s)
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca package (Chinese administrative divisions) is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "resources"
    return (folder / name).read_text("utf-8")


@cache
def _division_records() -> tuple[tuple[str, str], ...]:
    text = _cpca_resource("adcodes.csv")
    records = [
        (r["adcode"], r["name"])
        for r in csv.DictReader(text.splitlines())
        if len(r["name"]) >= 2 and r["name"] not in ("市辖区", "县", "省直辖县级行政区划")
    ]
    return (*records, *_SUPPLEMENT)


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
def _divisions() -> tuple[frozenset[str], frozenset[str]]:
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


def _short_division(name: str) -> str | None:
    """广东省 -> 广东, 广西壮族自治区 -> 广西, 江城哈尼族彝族自治县 -> 江城."""
    for suffix in _DIVISION_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            short = name[: -len(suffix)]
            stripped = True
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
    names = _cpca_resource("56_nations.csv").split()
    return tuple(sorted({n for n in names if n.endswith("族")}, key=len, reverse=True))


@cache
def _division_heads() -> frozenset[str]:
    """The first two characters of every division name: most texts fail this at once."""
    top, districts = _divisions()
    return frozenset(n[:2] for n in top | districts)


@cache
def _division_lengths() -> tuple[int, ...]:
    top, districts = _divisions()
    return tuple(sorted({len(n) for n in top | districts}, reverse=True))


def _strip_places(s: str) -> tuple[str, str]:
    """Remove leading province / city / district names; keep at least two characters."""
    top, districts = _divisions()
    heads = _division_heads()
    removed = ""
    while True:
        if s[:2] not in heads and not _TOWN.match(s):
            return s, removed
        for n in _division_lengths():
            if len(s) - n < 2:
                continue
            head = s[:n]
            if head in top or head in districts:
                # a town named like a district elsewhere: 东莞市长安镇 (长安区 is in 西安)
                tail = next((t for t in ("街道", "镇", "乡") if s[n:].startswith(t)), "")
                if len(s) - n - len(tail) < 2:
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


def _is_person(trade: str) -> bool:
    if not _PERSON.match(trade):
        return False
    if trade[-1] in "总工生姐哥" and trade[-2:] not in ("经理", "老总"):
        return len(trade) <= 3 and trade[0] in SURNAMES
    return True


def _has_business_word(text: str) -> bool:
    return any(
        text[i:j] in _INDUSTRY_SET or text[i:j] in _LEGAL_SET
        for i in range(len(text))
        for j in range(i + 2, len(text) + 1)
    )


@lru_cache(maxsize=1 << 17)
def analyse(name: str) -> NameKey:
    """Take a company name apart into place, trade name and industry words."""
    s = _T2S.convert(unicodedata.normalize("NFKC", name).casefold()).strip()
    place = ""
    m = _PERSON_THEN_COMPANY.match(s)
    if m:
        s = m.group(1)  # 马小姐（中建创业家具）: the company is the part in brackets

    def drop_place_bracket(m: re.Match[str]) -> str:
        nonlocal place
        inner = _NON_WORD.sub("", m.group(1))
        stripped, removed = _strip_places(inner + "xx")
        if removed and stripped in ("xx", "市xx"):
            place = place or removed
            return ""
        if inner in _divisions()[0] or inner in _divisions()[1]:
            place = place or inner
        # anything else in brackets is a note (老客户, 已送样) or a translation (GREEN)
        return ""

    s = _BRACKETS.sub(drop_place_bracket, s)
    s = _PERSON_TAIL.sub("", s) if len(s) > 4 else s
    note = _NOTE_TAIL.search(s)
    if note and not _has_business_word(note.group(1)):
        s = s[: note.start()]  # 威辉公司-待回复: a note after a dash
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
    cjk, cjk_place = _strip_places(_LATIN.sub("", s)) if _LATIN.search(s) else ("", "")
    if len(cjk) >= 2 and _strip_places(cjk + "xx")[0] != "xx":
        # ＧＲＥＥＮ格林 -> 格林: the Chinese trade name is the one reps share
        s, removed = cjk, cjk_place
    else:
        s, removed = _strip_places(s)  # 深圳市NDG: the Latin letters are the trade name
    place = place or removed
    trade = s
    person = not strong and _is_person(trade)
    return NameKey(
        text=text,
        trade=trade,
        strong=tuple(strong),
        weak=tuple(weak),
        place=place,
        person=person,
        core=trade + "".join(strong),
        business=frozenset(strong).union(w for w in weak if w in BUSINESS_WORDS),
    )
