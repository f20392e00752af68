"""Deterministic generator of realistic customer registers (`.xlsx`).

Used by the sample register, the tests and the benchmarks. `make_register` writes a
register the way reps really keep one (merged title row, an extra column the tool does not
know, dates typed as text, phones in every format, duplicate claims written differently,
rows that should move to 已合作, and a sprinkling of problems) and returns a
`GeneratedInfo` that says exactly what was planted where, so tests can assert that the
checker finds it.

Everything depends only on the arguments: the same call writes the same bytes.
"""

from __future__ import annotations

import random
import re
import zipfile
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from faker import Faker
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

# ---------------------------------------------------------------- layout

FOLLOWING = "跟进中"
COOPERATING = "已合作"
SETTINGS = "设置"

EXTRA_HEADER = "微信"  # a column xlsync does not know; it must survive every write

HEADERS: tuple[str, ...] = (
    "编号",
    "客户名称",
    "联系人",
    "电话",
    EXTRA_HEADER,
    "地区",
    "业务员",
    "部门",
    "联系日期",
    "拜访日期",
    "送样日期",
    "样品",
    "跟进情况",
    "最近跟进",
    "状态",
    "成交日期",
)
_C: dict[str, int] = {h: i for i, h in enumerate(HEADERS)}
_WIDTHS: dict[str, int] = {
    "编号": 10,
    "客户名称": 32,
    "联系人": 10,
    "电话": 24,
    EXTRA_HEADER: 12,
    "地区": 14,
    "跟进情况": 36,
}

PROTECTION_DAYS = 90
FOLLOW_UP_DAYS = 30
COMPANY_NAME = "深圳市某某涂料有限公司"
DEPARTMENTS: tuple[str, str] = ("业务一部", "业务二部")
ROSTER_SIZE = 12

STATUS_PHONE, STATUS_VISIT, STATUS_SAMPLE, STATUS_WON = "电话", "拜访", "送样", "已合作"

# Kinds of planted problems, each with the column (header) it is planted in. For
# `impossible_date` and `future_date` the column varies: see GeneratedInfo.problem_cells.
PROBLEM_KINDS: tuple[str, ...] = (
    "impossible_date",  # a date text that is no date: 2026-13-01, 2026/2/30
    "unknown_status",  # 跟进, ???
    "missing_customer",  # 客户名称 empty, rest of the row filled
    "missing_rep",  # 业务员 empty
    "unknown_rep",  # 业务员 not on the 设置 roster (only planted when roster=True)
    "future_date",  # 拜访日期 / 送样日期 after as_of
    "missing_sample_date",  # status 送样 with no 送样日期
    "bad_phone",  # 12345, 电话待补
    "duplicate_id",  # 编号 already used by an earlier row
)

# How a duplicate claim writes the customer differently from the original row.
DUPLICATE_VARIANTS: tuple[str, ...] = (
    "short",  # 格林电子
    "brackets",  # 格林电子（深圳）有限公司
    "traditional",  # 深圳市格林電子科技有限公司
    "fullwidth",  # ＡＢＫ instead of ABK (originals with Latin letters only)
    "spaces",  # 深圳市 格林电子 科技有限公司
    "city",  # city prefix dropped (or added when the original had none)
    "same_name",  # same name; the phone is written in another format
)

# How a row in 跟进中 asks to be moved to 已合作.
MOVE_VARIANTS: tuple[str, ...] = (
    "status_and_date",  # 状态 已合作 and a 成交日期
    "status_only",  # 状态 已合作, no 成交日期
    "date_only",  # 成交日期 filled, 状态 still 拜访/送样
)


class RowRef(NamedTuple):
    sheet: str
    row: int  # 1-based Excel row number


class PlantedProblem(NamedTuple):
    sheet: str
    row: int
    kind: str  # one of PROBLEM_KINDS


class PlantedDuplicate(NamedTuple):
    original: RowRef  # the earlier claim (跟进中 above, or 已合作)
    duplicate: RowRef  # the later claim in 跟进中
    variant: str  # one of DUPLICATE_VARIANTS
    same_phone: bool  # the duplicate carries the original's (first) number, reformatted
    same_rep: bool  # the same rep claimed it twice (verdict same_rep) instead of another rep


@dataclass
class GeneratedInfo:
    """What `make_register` wrote and planted. Every row number is 1-based, as Excel shows."""

    path: Path
    seed: int
    as_of: date
    headers: tuple[str, ...]  # column order of 跟进中 and 已合作 (includes EXTRA_HEADER)
    title: str | None  # the text of the title row above the 跟进中 header, if any
    header_rows: dict[str, int]  # sheet -> Excel row of its header
    data_rows: dict[str, int]  # sheet -> number of customer rows (no blank/total rows)
    data_row_numbers: dict[str, list[int]]  # sheet -> Excel rows of those customer rows
    roster: dict[str, str]  # rep -> department (written to 设置 only when roster=True)
    problems: list[PlantedProblem] = field(default_factory=list)
    problem_cells: dict[RowRef, tuple[str, object]] = field(default_factory=dict)
    # moves marked 已合作 with no 成交日期: not planted mistakes, but check asks for the date
    won_date_missing: list[RowRef] = field(default_factory=list)
    # ^ (sheet, row) -> (header of the offending column, value written; None = left empty)
    moves: list[RowRef] = field(default_factory=list)
    move_variants: dict[RowRef, str] = field(default_factory=dict)
    duplicates: list[tuple[RowRef, RowRef]] = field(default_factory=list)  # (original, dup)
    duplicate_details: list[PlantedDuplicate] = field(default_factory=list)
    blank_rows: list[RowRef] = field(default_factory=list)
    total_row: RowRef | None = None  # the trailing 合计 row
    prefilled_ids: dict[RowRef, str] = field(default_factory=dict)  # rows written with a 编号

    def duplicate_groups(self) -> list[list[RowRef]]:
        """Each planted customer claimed more than once: its original row and every dup."""
        groups: dict[RowRef, list[RowRef]] = {}
        for original, dup in self.duplicates:
            groups.setdefault(original, [original]).append(dup)
        return [sorted(g) for g in groups.values()]

    def problem_rows(self, kind: str | None = None) -> list[RowRef]:
        return [RowRef(p.sheet, p.row) for p in self.problems if kind is None or p.kind == kind]


# ---------------------------------------------------------------- vocabulary (data only)

# (city, landline area code, weight, [(district, district suffix)])
_CITIES: tuple[tuple[str, str, int, tuple[tuple[str, str], ...]], ...] = (
    (
        "深圳",
        "0755",
        40,
        (
            ("宝安", "区"),
            ("龙岗", "区"),
            ("南山", "区"),
            ("福田", "区"),
            ("龙华", "区"),
            ("光明", "区"),
            ("坪山", "区"),
        ),
    ),
    (
        "东莞",
        "0769",
        25,
        (
            ("长安", "镇"),
            ("虎门", "镇"),
            ("厚街", "镇"),
            ("塘厦", "镇"),
            ("常平", "镇"),
            ("大朗", "镇"),
            ("松山湖", ""),
        ),
    ),
    ("广州", "020", 10, (("番禺", "区"), ("白云", "区"), ("花都", "区"), ("增城", "区"))),
    ("佛山", "0757", 8, (("顺德", "区"), ("南海", "区"), ("禅城", "区"))),
    ("惠州", "0752", 7, (("惠阳", "区"), ("博罗", "县"), ("仲恺", ""))),
    ("中山", "0760", 5, (("小榄", "镇"), ("古镇", "镇"), ("火炬", ""))),
    ("江门", "0750", 3, (("蓬江", "区"), ("新会", "区"))),
    ("珠海", "0756", 2, (("香洲", "区"), ("斗门", "区"))),
)
_CITY_WEIGHTS = [c[2] for c in _CITIES]

_INDUSTRIES: tuple[str, ...] = (
    "电子",
    "涂料",
    "家具",
    "五金",
    "塑胶",
    "印刷",
    "包装",
    "玩具",
    "灯饰",
    "陶瓷",
    "木业",
    "皮具",
    "鞋业",
    "服装",
    "机械",
    "模具",
    "电器",
    "光电",
    "新材料",
    "化工",
    "建材",
    "门窗",
    "工艺品",
    "金属制品",
)
_SUFFIXES: tuple[str, ...] = ("科技", "实业", "制品", "工业", "贸易", "")
_SUFFIX_WEIGHTS = (30, 15, 8, 5, 5, 37)
_LEGAL_FORMS: tuple[str, ...] = ("有限公司", "股份有限公司", "有限责任公司", "厂")
_LEGAL_WEIGHTS = (75, 8, 7, 10)

# Characters for trade names (字号). Two or three of them: 宏达, 鑫盛达.
_TRADE_CHARS = (
    "宏鑫华金永伟佳恒德新美富嘉瑞祥康诚创联众凯博雅格天星光汇荣辉锦鸿浩润鹏骏泰昌隆顺利"
    "和丰源信安立通力远航精益协正兴达盛发宝丽优龙维亿晟豪雄威睿智鼎盈辰林群合铭森俊"
)
# Syllables of transliterated trade names: 雅玛西, 迪卡索.
_TRANSLIT_CHARS = "雅玛西兰迪卡索菲奥贝斯特艾伦诺克威尔森莱蒙塔拉罗曼欧"
_LATIN = "ABCDEFGHJKLMNPRSTWXYZ"

# Simplified -> traditional for the characters used above (each maps back uniquely).
_S2T = str.maketrans(
    {
        "电": "電",
        "东": "東",
        "广": "廣",
        "门": "門",
        "华": "華",
        "兴": "興",
        "发": "發",
        "达": "達",
        "丰": "豐",
        "龙": "龍",
        "业": "業",
        "实": "實",
        "贸": "貿",
        "汇": "匯",
        "宝": "寶",
        "丽": "麗",
        "优": "優",
        "荣": "榮",
        "联": "聯",
        "长": "長",
        "凯": "凱",
        "顺": "順",
        "维": "維",
        "创": "創",
        "装": "裝",
        "饰": "飾",
        "胶": "膠",
        "机": "機",
        "灯": "燈",
        "涂": "塗",
        "鸿": "鴻",
        "伟": "偉",
        "辉": "輝",
        "骏": "駿",
        "区": "區",
        "镇": "鎮",
        "县": "縣",
        "诚": "誠",
        "远": "遠",
        "众": "眾",
        "润": "潤",
        "鹏": "鵬",
        "玛": "瑪",
        "兰": "蘭",
        "奥": "奧",
        "贝": "貝",
        "伦": "倫",
        "诺": "諾",
        "尔": "爾",
        "莱": "萊",
        "罗": "羅",
        "欧": "歐",
        "厂": "廠",
        "制": "製",
        "艺": "藝",
        "属": "屬",
        "锦": "錦",
        "岗": "崗",
        "阳": "陽",
        "恺": "愷",
        "榄": "欖",
        "会": "會",
        "禅": "禪",
        "协": "協",
        "亿": "億",
        "铭": "銘",
    }
)
_FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})

# Two-character pieces a trade name must not contain, so that no trade name looks like a
# city, district, industry or legal form to a normaliser that strips those words.
_RESERVED_WORDS: tuple[str, ...] = (
    *(c[0] for c in _CITIES),
    *(d[0] for c in _CITIES for d in c[3]),
    *_INDUSTRIES,
    *(s for s in _SUFFIXES if s),
    "有限",
    "公司",
    "股份",
    "责任",
    "合计",
    "总计",
    "集团",
)
_RESERVED_BIGRAMS: frozenset[str] = frozenset(
    w[i : i + 2] for w in _RESERVED_WORDS for i in range(len(w) - 1)
)

_MOBILE_PREFIXES: tuple[str, ...] = (
    *(f"13{d}" for d in range(10)),
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "178",
    *(f"18{d}" for d in range(10)),
    "191",
    "198",
    "199",
)
_MOBILE_STYLES: tuple[str, ...] = (
    "plain",
    "plain",
    "plain",
    "dash",
    "space",
    "plus86",
    "plus86_dash",
    "int",
)
_LANDLINE_STYLES: tuple[str, ...] = ("dash", "dash", "dash", "paren", "space", "plain")

_SAMPLE_PREFIXES: tuple[str, ...] = ("BL", "PU", "NC", "UV", "WB", "AC", "EP", "HS")
_PRODUCTS: tuple[str, ...] = (
    "水性木器漆",
    "金属防锈漆",
    "塑胶漆",
    "地坪漆",
    "UV光油",
    "环氧底漆",
    "丙烯酸面漆",
)
_PHONE_NOTES: tuple[str, ...] = (
    "电话沟通，对方暂时不需要",
    "已加微信，发了产品资料",
    "采购不在，{n}天后再打",
    "有需求，约下周拜访",
    "老板说目前用别家的漆，价格敏感",
    "报价已发，等回复",
    "前台转采购，采购说先发资料",
    "对方问了{product}的价格",
)
_VISIT_NOTES: tuple[str, ...] = (
    "上门拜访，见了{contact}，对{product}感兴趣",
    "参观了工厂，月用量约{n}吨",
    "拜访采购，需要提供检测报告",
    "和老板面谈，下月有新项目",
    "拜访后对方要求报价，{product}",
)
_SAMPLE_NOTES: tuple[str, ...] = (
    "已送{sample}样品，等试板结果",
    "样品试用中，反馈附着力不错",
    "送样{n}公斤，等客户测试",
    "客户说颜色偏差，重新调色送样",
    "试板通过，等采购下单",
)
_WON_NOTES: tuple[str, ...] = (
    "试单成功，首单{n}桶",
    "已下首单，月结30天",
    "合同已签，首批{n}公斤",
    "{sample}试板通过，已下单",
)

_IMPOSSIBLE_DATES: tuple[str, ...] = (
    "2026-13-01",
    "2026/2/30",
    "2026.4.31",
    "2026年6月31日",
    "2026-00-12",
    "2026/9/31",
    "2026-02-29",
    "2026.11.31",
)
_UNKNOWN_STATUSES: tuple[str, ...] = ("跟进", "???", "洽谈中", "待定", "意向客户")
_TEXT_BAD_PHONES: tuple[str, ...] = ("电话待补", "待补", "暂无", "不详")

_FOLLOWING_WINDOW_DAYS = 240  # contacts spread over ~8 months before as_of
_COOPERATING_WINDOW_DAYS = 720


# ---------------------------------------------------------------- building blocks


class _Number(NamedTuple):
    area: str  # "" for a mobile number
    local: str

    @property
    def mobile(self) -> bool:
        return not self.area


@dataclass
class _Customer:
    city: str
    district: str
    district_suffix: str
    area_code: str
    trade: str
    industry: str
    suffix: str
    legal: str
    form: int  # which name pattern
    name: str
    latin: bool
    contact: str
    numbers: list[_Number]
    styles: list[str]  # the style each number was written in
    region: str


@dataclass
class _Line:
    """One data row of 跟进中 or 已合作 while it is being built."""

    values: list[object]
    customer: _Customer
    rep: str
    kind: str = "plain"  # plain, duplicate, move, problem
    problem_kind: str = ""
    problem_column: str = ""
    move_variant: str = ""


def _fmt_number(n: _Number, style: str) -> str:
    if n.mobile:
        d = n.local
        if style == "dash":
            return f"{d[:3]}-{d[3:7]}-{d[7:]}"
        if style == "space":
            return f"{d[:3]} {d[3:7]} {d[7:]}"
        if style == "plus86":
            return f"+86 {d}"
        if style == "plus86_dash":
            return f"+86-{d[:3]}-{d[3:7]}-{d[7:]}"
        return d
    a, loc = n.area, n.local
    if style == "paren":
        return f"({a}){loc}"
    if style == "space":
        return f"{a} {loc[:4]} {loc[4:]}"
    if style == "plain":
        return a + loc
    return f"{a}-{loc}"


def _phone_cell(numbers: list[_Number], styles: list[str]) -> object:
    if len(numbers) == 1 and styles[0] == "int":
        return int(numbers[0].local)  # a number typed into a General cell
    return "/".join(
        _fmt_number(n, "plain" if s == "int" else s) for n, s in zip(numbers, styles, strict=True)
    )


def _date_text(d: date, style: int) -> str:
    if style == 0:
        return f"{d.year}/{d.month}/{d.day}"
    if style == 1:
        return f"{d.year}.{d.month}.{d.day}"
    if style == 2:
        return f"{d.year}年{d.month}月{d.day}日"
    return d.isoformat()


class _Generator:
    def __init__(self, seed: int, as_of: date) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        self.fake = fake
        # Pools drawn once: much faster than asking Faker per row, still deterministic.
        self.person_names = [fake.name() for _ in range(1500)]
        self.surnames = sorted({fake.last_name() for _ in range(300)})
        self.wechat_ids = [fake.user_name() for _ in range(800)]
        self.used_trades: set[str] = set()
        self.two_char: set[str] = set()
        self.three_prefixes: set[str] = set()
        self.n_latin = 0
        self.n_translit = 0
        self.used_phones: set[str] = set()

    # -- people

    def roster(self) -> dict[str, str]:
        names: list[str] = []
        while len(names) < ROSTER_SIZE:
            n = self.fake.name()
            if n not in names:
                names.append(n)
        half = ROSTER_SIZE // 2
        return {n: DEPARTMENTS[0] if i < half else DEPARTMENTS[1] for i, n in enumerate(names)}

    def outsiders(self, roster: dict[str, str], count: int) -> list[str]:
        out: list[str] = []
        while len(out) < count:
            n = self.fake.name()
            if n not in roster and n not in out:
                out.append(n)
        return out

    def contact(self) -> str:
        r = self.rng.random()
        if r < 0.55:
            return self.rng.choice(self.person_names)
        surname = self.rng.choice(self.surnames)
        if r < 0.85:
            return surname + self.rng.choice(("先生", "女士"))
        return surname + self.rng.choice(("总", "经理", "工"))

    # -- names

    def _trade_ok(self, t: str) -> bool:
        if t in self.used_trades:
            return False
        if any(t[i : i + 2] in _RESERVED_BIGRAMS for i in range(len(t) - 1)):
            return False
        if len(t) == 2 and t in self.three_prefixes:
            return False
        return not (len(t) == 3 and t[:2] in self.two_char)

    def trade_name(self) -> tuple[str, bool]:
        rng = self.rng
        for _ in range(10_000):
            r = rng.random()
            latin = False
            if r < 0.08 and self.n_latin < 600:
                t = "".join(rng.choice(_LATIN) for _ in range(rng.choice((2, 3, 3))))
                latin = True
            elif r < 0.45 and len(self.two_char) < 1500:
                t = "".join(rng.sample(_TRADE_CHARS, 2))
            elif r < 0.57 and self.n_translit < 4000:
                t = "".join(rng.sample(_TRANSLIT_CHARS, 3))
            else:
                t = "".join(rng.sample(_TRADE_CHARS, 3))
            if not self._trade_ok(t):
                continue
            self.used_trades.add(t)
            if latin:
                self.n_latin += 1
            elif len(t) == 2:
                self.two_char.add(t)
            else:
                self.three_prefixes.add(t[:2])
                if t[0] in _TRANSLIT_CHARS and t[1] in _TRANSLIT_CHARS:
                    self.n_translit += 1
            return t, latin
        raise RuntimeError("ran out of trade names")

    def phone_number(self, mobile: bool, area: str) -> _Number:
        rng = self.rng
        while True:
            if mobile:
                n = _Number("", rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}")
            else:
                n = _Number(area, f"{rng.randint(2, 8)}{rng.randrange(10**7):07d}")
            key = n.area + n.local
            if key not in self.used_phones:
                self.used_phones.add(key)
                return n

    def customer(self) -> _Customer:
        rng = self.rng
        city, area, _, districts = rng.choices(_CITIES, weights=_CITY_WEIGHTS)[0]
        district, dsuf = rng.choice(districts)
        trade, latin = self.trade_name()
        industry = rng.choice(_INDUSTRIES)
        suffix = rng.choices(_SUFFIXES, weights=_SUFFIX_WEIGHTS)[0]
        legal = rng.choices(_LEGAL_FORMS, weights=_LEGAL_WEIGHTS)[0]
        if legal == "厂" and suffix not in ("", "制品"):
            suffix = ""
        form = rng.choices((0, 1, 2, 3, 4), weights=(45, 10, 15, 10, 20))[0]
        if form == 0:
            name = f"{city}市{trade}{industry}{suffix}{legal}"
        elif form == 1:
            legal = "有限公司"
            name = f"{trade}（{city}）{industry}{suffix}{legal}"
        elif form == 2:
            name = f"{city}{trade}{industry}{suffix}{legal}"
        elif form == 3:
            suffix, legal = "", "厂"
            name = f"{city}市{district}{dsuf}{trade}{industry}{legal}"
        else:
            name = f"{trade}{industry}{suffix}{legal}"
        r = rng.random()
        if r < 0.62:
            numbers = [self.phone_number(True, "")]
        elif r < 0.82:
            numbers = [self.phone_number(False, area)]
        elif r < 0.94:
            numbers = [self.phone_number(True, ""), self.phone_number(False, area)]
        else:
            numbers = [self.phone_number(True, ""), self.phone_number(True, "")]
        styles = [rng.choice(_MOBILE_STYLES if n.mobile else _LANDLINE_STYLES) for n in numbers]
        r = rng.random()
        if r < 0.6:
            region = f"{city}{district}"
        elif r < 0.8:
            region = district
        else:
            region = f"{city}市{district}{dsuf}"
        return _Customer(
            city=city,
            district=district,
            district_suffix=dsuf,
            area_code=area,
            trade=trade,
            industry=industry,
            suffix=suffix,
            legal=legal,
            form=form,
            name=name,
            latin=latin,
            contact=self.contact(),
            numbers=numbers,
            styles=styles,
            region=region,
        )

    def variant_name(self, c: _Customer, variant: str) -> tuple[str, str]:
        """The customer's name as another rep writes it; returns (name, variant used)."""
        rng = self.rng
        if variant == "fullwidth" and not c.latin:
            variant = "spaces"
        if variant == "traditional":
            t = c.name.translate(_S2T)
            if t != c.name:
                return t, variant
            variant = "brackets"
        if variant == "short":
            return f"{c.trade}{c.industry}", variant
        if variant == "brackets":
            if rng.random() < 0.75:
                return f"{c.trade}{c.industry}（{c.city}）有限公司", variant
            return f"{c.trade}{c.industry}{c.suffix}({c.city})有限公司", variant
        if variant == "fullwidth":
            return c.name.replace(c.trade, c.trade.translate(_FULLWIDTH)), variant
        if variant == "spaces":
            r = rng.random()
            if r < 0.4 and c.form != 3:
                spaced = f"{c.city}市 {c.trade}{c.industry} {c.suffix}{c.legal}"
            else:
                gap = " " if r < 0.75 else "\u3000"
                spaced = c.name.replace(c.trade, c.trade + gap, 1)
            return spaced + (" " if rng.random() < 0.3 else ""), variant
        if variant == "city":
            if c.form == 4:
                return f"{c.city}{c.name}", variant
            return f"{c.trade}{c.industry}{c.suffix}{c.legal}", variant
        return c.name, "same_name"

    # -- row content

    def sample_model(self) -> str:
        rng = self.rng
        m = f"{rng.choice(_SAMPLE_PREFIXES)}-{rng.randint(100, 999)}"
        r = rng.random()
        if r < 0.12:
            m += f"/{rng.choice(_SAMPLE_PREFIXES)}-{rng.randint(100, 999)}"
        elif r < 0.22:
            m = rng.choice(_PRODUCTS) + m
        return m

    def note(self, status: str, contact: str, sample: str | None) -> str:
        rng = self.rng
        pool = {
            STATUS_PHONE: _PHONE_NOTES,
            STATUS_VISIT: _VISIT_NOTES,
            STATUS_SAMPLE: _SAMPLE_NOTES,
            STATUS_WON: _WON_NOTES,
        }[status]
        return rng.choice(pool).format(
            n=rng.randint(2, 50),
            contact=contact,
            product=rng.choice(_PRODUCTS),
            sample=sample or rng.choice(_SAMPLE_PREFIXES) + "-" + str(rng.randint(100, 999)),
        )

    def date_cell(self, d: date | None) -> object:
        if d is None:
            return None
        r = self.rng.random()
        if r < 0.86:
            return d
        return _date_text(d, int((r - 0.86) / 0.035))

    def status_dates(
        self, status: str, contacted: date, cap: date
    ) -> tuple[date | None, date | None, date | None]:
        """(visited, sampled, last follow-up) consistent with status; none after cap."""
        rng = self.rng
        visited = sampled = None
        latest = contacted
        if status == STATUS_VISIT or (status == STATUS_SAMPLE and rng.random() < 0.5):
            visited = min(contacted + timedelta(days=rng.randint(0, 21)), cap)
            latest = visited
        if status == STATUS_SAMPLE:
            sampled = min(latest + timedelta(days=rng.randint(1, 25)), cap)
            latest = sampled
        last = None
        if rng.random() < 0.7:
            last = min(latest + timedelta(days=rng.randint(0, 45)), cap)
        return visited, sampled, last

    def wechat(self, c: _Customer) -> object:
        r = self.rng.random()
        if r < 0.3:
            return self.rng.choice(self.wechat_ids)
        if r < 0.38 and c.numbers[0].mobile:
            return "同手机"
        return None


# ---------------------------------------------------------------- the register


def make_register(
    path: Path,
    rows: int = 300,
    seed: int = 7,
    *,
    as_of: date = date(2026, 11, 1),
    title_row: bool = True,
    messy: bool = True,
    duplicates: float = 0.06,
    won: float = 0.05,
    problems: float = 0.03,
    cooperating_rows: int | None = None,
    roster: bool = True,
    write_only: bool = False,
) -> GeneratedInfo:
    """Write a realistic register to `path` and return what was planted in it.

    `rows` customer rows go to 跟进中 (blank rows and the 合计 row come on top when
    `messy`); `cooperating_rows` (default rows // 10) to 已合作. Fractions are of `rows`.
    Problems are planted only when `messy`. The output is byte-for-byte reproducible.
    """
    path = Path(path)
    rows = max(0, rows)
    n_coop = rows // 10 if cooperating_rows is None else max(0, cooperating_rows)
    gen = _Generator(seed, as_of)
    rng = gen.rng
    reps = gen.roster()
    rep_names = list(reps)
    rep_weights = [rng.randint(1, 5) for _ in rep_names]
    outsiders = gen.outsiders(reps, 8)

    def pick_rep() -> str:
        return rng.choices(rep_names, weights=rep_weights)[0]

    # ---- plan which 跟进中 rows carry what (row index 0 always stays plain)
    budget = max(rows - 1, 0)
    n_prob = min(round(rows * problems), budget) if messy else 0
    n_move = min(round(rows * won), budget - n_prob)
    n_dup = min(round(rows * duplicates), budget - n_prob - n_move)
    special = rng.sample(range(1, rows), n_prob + n_move + n_dup) if rows > 1 else []
    prob_idx = special[:n_prob]
    move_idx = set(special[n_prob : n_prob + n_move])
    dup_idx = sorted(special[n_prob + n_move :])
    kinds = [k for k in PROBLEM_KINDS if roster or k != "unknown_rep"]
    rng.shuffle(kinds)
    prob_kind = {i: kinds[j % len(kinds)] for j, i in enumerate(sorted(prob_idx))}
    dup_set = set(dup_idx)

    # ---- 已合作: older customers, all won
    coop: list[_Line] = []
    coop_dates = sorted(
        as_of - timedelta(days=rng.randint(60, _COOPERATING_WINDOW_DAYS)) for _ in range(n_coop)
    )
    for d0 in coop_dates:
        c = gen.customer()
        rep = pick_rep()
        status = rng.choice((STATUS_VISIT, STATUS_SAMPLE, STATUS_SAMPLE))
        visited, sampled, _ = gen.status_dates(status, d0, as_of - timedelta(days=30))
        latest = sampled or visited or d0
        won_on = min(latest + timedelta(days=rng.randint(5, 90)), as_of - timedelta(days=1))
        sample = gen.sample_model() if sampled else None
        last = (
            min(won_on + timedelta(days=rng.randint(0, 60)), as_of) if rng.random() < 0.5 else None
        )
        v: list[object] = [None] * len(HEADERS)
        v[_C["客户名称"]] = c.name
        v[_C["联系人"]] = c.contact
        v[_C["电话"]] = _phone_cell(c.numbers, c.styles)
        v[_C[EXTRA_HEADER]] = gen.wechat(c)
        v[_C["地区"]] = c.region
        v[_C["业务员"]] = rep
        v[_C["部门"]] = reps[rep]
        v[_C["联系日期"]] = gen.date_cell(d0)
        v[_C["拜访日期"]] = gen.date_cell(visited)
        v[_C["送样日期"]] = gen.date_cell(sampled)
        v[_C["样品"]] = sample
        v[_C["跟进情况"]] = gen.note(STATUS_WON, c.contact, sample)
        v[_C["最近跟进"]] = gen.date_cell(last)
        v[_C["状态"]] = STATUS_WON
        v[_C["成交日期"]] = won_on  # always a real date here
        coop.append(_Line(v, c, rep))

    # ---- 跟进中
    start = as_of - timedelta(days=_FOLLOWING_WINDOW_DAYS)
    contact_dates = sorted(
        start + timedelta(days=rng.randint(0, _FOLLOWING_WINDOW_DAYS)) for _ in range(rows)
    )
    for i in range(rows - 1):  # reps append a little out of order
        if rng.random() < 0.04:
            contact_dates[i], contact_dates[i + 1] = contact_dates[i + 1], contact_dates[i]

    following: list[_Line] = []
    plain_before: list[int] = []  # sorted indexes of plain rows already built
    latin_plain: list[int] = []
    dup_plan: dict[int, tuple[str, int, str, bool, bool]] = {}
    variant_cycle = list(DUPLICATE_VARIANTS)
    rng.shuffle(variant_cycle)
    n_dup_done = 0
    bad_phone_first = True

    for i in range(rows):
        d0 = contact_dates[i]
        kind = "plain"
        if i in dup_set:
            kind = "duplicate"
        elif i in move_idx:
            kind = "move"
        elif i in prob_kind:
            kind = "problem"
        pkind = prob_kind.get(i, "")

        if kind == "duplicate":
            variant = variant_cycle[n_dup_done % len(variant_cycle)]
            n_dup_done += 1
            if variant == "fullwidth" and latin_plain:
                src_sheet, src = FOLLOWING, rng.choice(latin_plain)
            elif coop and rng.random() < 0.2:
                src_sheet, src = COOPERATING, rng.randrange(len(coop))
            else:
                src_sheet = FOLLOWING
                src = plain_before[rng.randrange(bisect_left(plain_before, i))]
            orig = (coop if src_sheet == COOPERATING else following)[src]
            oc = orig.customer
            name, variant = gen.variant_name(oc, variant)
            same_phone = variant == "same_name" or rng.random() < 0.65
            same_rep = rng.random() < 0.15
            rep = orig.rep if same_rep else rng.choice([r for r in rep_names if r != orig.rep])
            if same_phone:
                number = oc.numbers[0]
                old = oc.styles[0]
                styles = _MOBILE_STYLES if number.mobile else _LANDLINE_STYLES
                style = rng.choice(
                    [
                        s
                        for s in styles
                        if s != old
                        and not (old == "int" and s == "plain")
                        and not (old == "plain" and s == "int")
                    ]
                )
                numbers, nstyles = [number], [style]
            else:
                numbers = [gen.phone_number(True, "")]
                nstyles = [rng.choice(_MOBILE_STYLES)]
            contact = oc.contact if rng.random() < 0.5 else gen.contact()
            c = replace(oc, name=name, contact=contact, numbers=numbers, styles=nstyles)
            dup_plan[i] = (src_sheet, src, variant, same_phone, same_rep)
        else:
            c = gen.customer()
            if kind == "problem" and pkind == "unknown_rep":
                rep = rng.choice(outsiders)
            else:
                rep = pick_rep()

        # status and dates
        if kind == "move":
            status = rng.choice((STATUS_SAMPLE, STATUS_SAMPLE, STATUS_VISIT))
        elif pkind in ("future_date",):
            status = rng.choice((STATUS_VISIT, STATUS_SAMPLE))
        elif pkind == "missing_sample_date":
            status = STATUS_SAMPLE
        else:
            status = rng.choices((STATUS_PHONE, STATUS_VISIT, STATUS_SAMPLE), (42, 30, 28))[0]
        visited, sampled, last = gen.status_dates(status, d0, as_of)
        sample = gen.sample_model() if status == STATUS_SAMPLE else None
        won_on: date | None = None
        status_cell = status
        mv = ""
        if kind == "move":
            mv = rng.choice(MOVE_VARIANTS)
            if not messy and mv == "status_only":
                mv = "status_and_date"  # a clean register: every 已合作 has its 成交日期
            latest = sampled or visited or d0
            won_on = min(latest + timedelta(days=rng.randint(1, 30)), as_of)
            if mv != "date_only":
                status_cell = STATUS_WON
            if mv == "status_only":
                won_on = None

        v = [None] * len(HEADERS)
        v[_C["客户名称"]] = c.name
        v[_C["联系人"]] = c.contact
        v[_C["电话"]] = _phone_cell(c.numbers, c.styles)
        v[_C[EXTRA_HEADER]] = gen.wechat(c)
        v[_C["地区"]] = c.region
        v[_C["业务员"]] = rep
        v[_C["部门"]] = reps.get(rep) or rng.choice(DEPARTMENTS)
        v[_C["联系日期"]] = gen.date_cell(d0)
        v[_C["拜访日期"]] = gen.date_cell(visited)
        v[_C["送样日期"]] = gen.date_cell(sampled)
        v[_C["样品"]] = sample
        v[_C["跟进情况"]] = gen.note(
            STATUS_WON if status_cell == STATUS_WON else status, c.contact, sample
        )
        v[_C["最近跟进"]] = gen.date_cell(last)
        v[_C["状态"]] = status_cell
        v[_C["成交日期"]] = gen.date_cell(won_on)
        line = _Line(v, c, rep, kind, move_variant=mv)
        if kind == "problem":
            col, value = _plant_problem(gen, line, pkind, status, bad_phone_first)
            if pkind == "bad_phone":
                bad_phone_first = False
            line.problem_kind, line.problem_column = pkind, col
            v[_C[col]] = value
        following.append(line)
        if kind == "plain":
            plain_before.append(i)  # appended in order, so the list stays sorted
            if c.latin:
                latin_plain.append(i)

    # ---- ids: some rows already carry one (written by earlier syncs)
    counter = 0

    def next_id() -> str:
        nonlocal counter
        counter += 1
        return f"C{counter:06d}"

    coop_ids: list[str] = []
    for line in coop:
        if rng.random() < 0.6:
            line.values[0] = next_id()
            coop_ids.append(line.values[0])  # type: ignore[arg-type]
    following_ids: list[str] = []
    for line in following:
        if line.problem_kind == "duplicate_id":
            if not following_ids and not coop_ids:
                following[0].values[0] = next_id()
                following_ids.append(following[0].values[0])  # type: ignore[arg-type]
            line.values[0] = rng.choice(following_ids or coop_ids)
        elif rng.random() < 0.15:
            line.values[0] = next_id()
            following_ids.append(line.values[0])  # type: ignore[arg-type]

    # ---- lay out rows (blank rows, total row) and compute Excel row numbers
    title = f"{as_of.year}年{as_of.month}月 客户登记表" if title_row else None
    header_row = 2 if title_row else 1
    blank_after: set[int] = set()
    if messy and rows >= 10:
        blank_after = set(rng.sample(range(rows // 4, 3 * rows // 4), 2))
    info = GeneratedInfo(
        path=path,
        seed=seed,
        as_of=as_of,
        headers=HEADERS,
        title=title,
        header_rows={FOLLOWING: header_row, COOPERATING: 1},
        data_rows={FOLLOWING: rows, COOPERATING: n_coop},
        data_row_numbers={FOLLOWING: [], COOPERATING: list(range(2, 2 + n_coop))},
        roster=dict(reps),
    )
    following_rows: list[list[object] | None] = []
    row_of: list[int] = []
    excel_row = header_row
    for i, line in enumerate(following):
        excel_row += 1
        row_of.append(excel_row)
        following_rows.append(line.values)
        if i in blank_after:
            excel_row += 1
            following_rows.append(None)
            info.blank_rows.append(RowRef(FOLLOWING, excel_row))
    info.data_row_numbers[FOLLOWING] = row_of
    if messy and rows > 0:
        excel_row += 1
        total: list[object] = [None] * len(HEADERS)
        total[_C["客户名称"]] = "合计"
        if rng.random() < 0.5:
            col = get_column_letter(_C["客户名称"] + 1)
            total[_C["联系人"]] = f"=COUNTA({col}{header_row + 1}:{col}{excel_row - 1})"
        else:
            total[_C["联系人"]] = rows
        following_rows.append(total)
        info.total_row = RowRef(FOLLOWING, excel_row)

    for i, line in enumerate(following):
        ref = RowRef(FOLLOWING, row_of[i])
        if line.values[0] is not None:
            info.prefilled_ids[ref] = line.values[0]  # type: ignore[assignment]
        if line.kind == "problem":
            col = line.problem_column
            info.problems.append(PlantedProblem(FOLLOWING, ref.row, line.problem_kind))
            info.problem_cells[ref] = (col, line.values[_C[col]])
        elif line.kind == "move":
            info.moves.append(ref)
            info.move_variants[ref] = line.move_variant
            if line.move_variant == "status_only":  # 已合作 with no 成交日期: asked for
                info.won_date_missing.append(ref)
        elif i in dup_plan:
            src_sheet, src, variant, same_phone, same_rep = dup_plan[i]
            orig_ref = RowRef(src_sheet, row_of[src] if src_sheet == FOLLOWING else src + 2)
            info.duplicates.append((orig_ref, ref))
            info.duplicate_details.append(
                PlantedDuplicate(orig_ref, ref, variant, same_phone, same_rep)
            )
    for j, line in enumerate(coop):
        if line.values[0] is not None:
            info.prefilled_ids[RowRef(COOPERATING, j + 2)] = line.values[0]  # type: ignore[assignment]

    _write(path, info, following_rows, [line.values for line in coop], reps, roster, write_only)
    return info


def _plant_problem(
    gen: _Generator,
    line: _Line,
    kind: str,
    status: str,
    first_bad_phone: bool,
) -> tuple[str, object]:
    """Choose the column and the value that make `line` carry one problem of `kind`."""
    rng = gen.rng
    v = line.values
    if kind == "impossible_date":
        cols = ["联系日期"]
        if status == STATUS_VISIT:
            cols.append("拜访日期")
        if status == STATUS_SAMPLE:
            cols.append("送样日期")
        if v[_C["最近跟进"]] is not None:
            cols.append("最近跟进")
        return rng.choice(cols), rng.choice(_IMPOSSIBLE_DATES)
    if kind == "unknown_status":
        return "状态", rng.choice(_UNKNOWN_STATUSES)
    if kind == "missing_customer":
        return "客户名称", None
    if kind == "missing_rep":
        return "业务员", None
    if kind == "unknown_rep":
        return "业务员", line.rep
    if kind == "future_date":
        v[_C["最近跟进"]] = None
        future = gen.as_of + timedelta(days=rng.randint(3, 60))
        col = "送样日期" if status == STATUS_SAMPLE else "拜访日期"
        return col, future if rng.random() < 0.7 else _date_text(future, rng.randrange(4))
    if kind == "missing_sample_date":
        return "送样日期", None
    if kind == "bad_phone":
        if first_bad_phone:
            return "电话", "12345"
        r = rng.random()
        if r < 0.5:
            return "电话", rng.choice(_TEXT_BAD_PHONES)
        while True:  # distinct digits, so no two bad phones look like the same number
            value = (
                f"{rng.randint(1000, 999999)}"
                if r < 0.8
                else f"{rng.choice(_CITIES)[1]}-{rng.randint(100, 9999)}"
            )
            key = value.replace("-", "")
            if key not in gen.used_phones:
                gen.used_phones.add(key)
                return "电话", value
    if kind == "duplicate_id":
        return "编号", None  # filled in when ids are assigned; replaced below
    raise ValueError(kind)


# ---------------------------------------------------------------- writing


def _write(
    path: Path,
    info: GeneratedInfo,
    following_rows: list[list[object] | None],
    coop_rows: list[list[object]],
    reps: dict[str, str],
    with_roster: bool,
    write_only: bool,
) -> None:
    wb = Workbook(write_only=write_only)
    stamp = datetime(info.as_of.year, info.as_of.month, info.as_of.day, 9, 0, 0)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "xlsync tests/data_gen.py"
    ncols = len(HEADERS)

    if write_only:
        ws = wb.create_sheet(FOLLOWING)
    else:
        ws = wb.active
        assert ws is not None
        ws.title = FOLLOWING
    if info.title is not None:
        ws.append([info.title])
    ws.append(list(HEADERS))
    for values in following_rows:
        ws.append(values if values is not None else [])

    ws2 = wb.create_sheet(COOPERATING)
    ws2.append(list(HEADERS))
    for values in coop_rows:
        ws2.append(values)

    ws3 = wb.create_sheet(SETTINGS)
    ws3.append(["设置项", "值", "说明"])
    ws3.append(["保护天数", PROTECTION_DAYS, "拜访或送样后保护客户的天数"])
    ws3.append(["跟进提醒天数", FOLLOW_UP_DAYS, "超过这么多天没有跟进就提醒"])
    ws3.append(["公司名称", COMPANY_NAME, "打印清单页眉上的公司名称"])
    if with_roster:
        ws3.append([])
        ws3.append(["业务员", "部门"])
        for rep, dept in reps.items():
            ws3.append([rep, dept])

    if not write_only:
        bold = Font(bold=True)
        header_row = info.header_rows[FOLLOWING]
        if info.title is not None:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
            ws.cell(1, 1).font = Font(bold=True, size=14)
            ws.cell(1, 1).alignment = Alignment(horizontal="center")
        for sheet, hrow in ((ws, header_row), (ws2, 1)):
            for col in range(1, ncols + 1):
                sheet.cell(hrow, col).font = bold
                sheet.column_dimensions[get_column_letter(col)].width = _WIDTHS.get(
                    HEADERS[col - 1], 12
                )
            sheet.freeze_panes = f"A{hrow + 1}"
        for col, width in (("A", 14), ("B", 26), ("C", 30)):
            ws3.column_dimensions[col].width = width

    wb.save(path)
    _normalize_zip(path, stamp)


_MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")


def _normalize_zip(path: Path, stamp: datetime) -> None:
    """Make the saved file byte-for-byte reproducible.

    openpyxl stamps the save time into docProps/core.xml and zipfile stamps every member
    with the current time; both are replaced by `stamp`.
    """
    fixed = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as zin:
        members = [(info, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for old, data in members:
            if old.filename == "docProps/core.xml":
                data = _MODIFIED.sub(
                    lambda m: (
                        b"<dcterms:modified" + m.group(1) + b">" + fixed + b"</dcterms:modified>"
                    ),
                    data,
                )
            new = zipfile.ZipInfo(old.filename, date_time=stamp.timetuple()[:6])
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = old.external_attr
            zout.writestr(new, data)
