"""Generate the labelled corpus for the company-name / phone matcher.

    python tests/matching_corpus/gen_corpus.py [OUT_DIR]

writes `corpus.jsonl` (generated, ~3,000 rows) and `hard_cases.jsonl` (hand-written) into
OUT_DIR (default: this folder). Rows with the same `entity` name the same real company.

Corpus fields: `id` (= line index), `entity`, `name`, `phone` (raw cell, may be empty or hold
two numbers), `kind` (canonical: the registered name; variant: another way to write it;
phone_only: a contact/shop name linked only by the mobile; hard_negative: first row of a
look-alike company), `tags` (how the row differs from the registered name; hn_* marks every
row of a look-alike company) and, for look-alikes, `like` (the entity imitated).
Hard-case fields: `id`, `entity`, `name`, `phone`, `kind`, `case`, `note`.
The output depends only on SEED and on the Faker and OpenCC versions: after upgrading
either, re-run this script and commit the new files.

Labelling policy (what the matcher is expected to do):
- rows of one company may carry different phones (boss, buyer, switchboard) or none;
- a homophone typo counts as the same company only when a phone confirms it;
- same trade name with a different industry word, or in a different city, is a different
  company; such rows always keep the industry word or the city;
- a row naming only a contact person ("王总", "王伟五金店") is the same company when it
  carries that company's mobile; a shared landline (industrial-park switchboard, bookkeeping
  agency) never makes two differently named companies one.
"""

from __future__ import annotations

import json
import random
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import opencc
from faker import Faker
from faker.providers.company.zh_CN import Provider as FakerCompany

SEED = 20261101
N_ORDINARY = 770  # entities outside the look-alike families
HERE = Path(__file__).resolve().parent

_S2T = opencc.OpenCC("s2t")
_S2HK = opencc.OpenCC("s2hk")
_T2S = opencc.OpenCC("t2s")


@dataclass(frozen=True)
class Place:
    province: str  # "" for a municipality
    city: str
    districts: tuple[str, ...]  # districts or towns (东莞, 中山 have towns)
    area: str  # landline area code
    weight: float


# fmt: off
PLACES = (
    Place("广东", "深圳", ("宝安区", "龙岗区", "南山区", "龙华区", "光明区", "福田区"), "0755", 5),
    Place("广东", "东莞", ("长安镇", "虎门镇", "厚街镇", "塘厦镇", "凤岗镇", "常平镇"), "0769", 5),
    Place("广东", "广州", ("天河区", "白云区", "番禺区", "花都区"), "020", 3),
    Place("广东", "佛山", ("顺德区", "南海区", "禅城区"), "0757", 2),
    Place("广东", "中山", ("小榄镇", "古镇镇", "横栏镇"), "0760", 1.5),
    Place("广东", "惠州", ("惠阳区", "惠城区"), "0752", 1),
    Place("广东", "珠海", ("香洲区", "斗门区"), "0756", 1),
    Place("广东", "江门", ("蓬江区", "新会区"), "0750", 0.7),
    Place("江苏", "苏州", ("吴中区", "相城区", "吴江区"), "0512", 2),
    Place("江苏", "昆山", ("花桥镇", "张浦镇", "周市镇"), "0512", 1),
    Place("江苏", "无锡", ("锡山区", "惠山区"), "0510", 1),
    Place("江苏", "常州", ("武进区", "新北区"), "0519", 1),
    Place("江苏", "南京", ("江宁区", "浦口区"), "025", 0.7),
    Place("浙江", "杭州", ("余杭区", "萧山区"), "0571", 1.5),
    Place("浙江", "宁波", ("鄞州区", "北仑区"), "0574", 1.5),
    Place("浙江", "温州", ("瓯海区", "龙湾区"), "0577", 1),
    Place("浙江", "台州", ("黄岩区", "路桥区"), "0576", 0.8),
    Place("浙江", "义乌", (), "0579", 0.8),
    Place("福建", "厦门", ("思明区", "集美区"), "0592", 1),
    Place("福建", "泉州", ("丰泽区", "洛江区"), "0595", 1),
    Place("", "上海", ("闵行区", "松江区", "嘉定区"), "021", 1.5),
    Place("山东", "青岛", ("黄岛区", "城阳区"), "0532", 0.7),
)

# industry word -> (weight, extra words that may follow it, may be a 厂)
INDUSTRIES: dict[str, tuple[float, tuple[str, ...], bool]] = {
    "电子": (6, ("", "科技", "实业"), True),
    "电器": (3, ("", "科技", "制造"), True),
    "科技": (3, ("",), False),
    "涂料": (2, ("", "科技"), True),
    "化工": (2, ("", "科技", "材料"), True),
    "塑胶": (4, ("", "制品", "实业", "科技"), True),
    "五金": (5, ("", "制品", "实业"), True),
    "家具": (2, ("", "制造"), True),
    "印刷": (2, ("", "包装"), True),
    "包装": (3, ("", "材料", "制品"), True),
    "光电": (2, ("", "科技"), False),
    "精密": (3, ("", "机械", "模具", "五金"), False),
    "模具": (2, ("", "科技", "制品"), True),
    "机械": (2, ("", "设备", "科技"), True),
    "照明": (1.5, ("", "科技", "电器"), False),
    "纺织": (1, ("", "科技"), True),
    "服装": (1.5, ("", "辅料"), True),
    "玩具": (1, ("", "制品"), True),
    "陶瓷": (1, ("", "科技"), True),
    "新材料": (1, ("科技",), False),
    "电线电缆": (0.8, ("",), True),
    "灯具": (1, ("",), True),
    "油墨": (0.8, ("", "科技"), True),
    "贸易": (2, ("",), False),
    "箱包": (0.8, ("", "皮具"), True),
    "鞋业": (0.8, ("",), False),
    "电机": (1, ("", "科技"), True),
    "光学": (0.8, ("", "科技"), False),
    "印染": (0.5, ("",), True),
    "化纤": (0.5, ("",), False),
    "染料": (0.5, ("", "化工"), False),
}

# Industry words that name clearly different businesses although they look alike.
CONFUSABLE = (
    ("电子", "电器", "电机", "光电"),
    ("印刷", "印染", "包装"),
    ("涂料", "油墨", "染料", "化工"),
    ("五金", "塑胶", "模具"),
    ("家具", "灯具", "玩具"),
    ("服装", "纺织", "箱包", "鞋业"),
    ("光学", "光电"),
)
_CONFUSABLE_WORDS = {w for g in CONFUSABLE for w in g}

LEGAL = {"有限公司": 55, "有限责任公司": 8, "股份有限公司": 6, "集团有限公司": 2, "厂": 12, "商行": 5}
LEGAL_SWAP = {
    "有限公司": ("有限责任公司", "公司", ""),
    "有限责任公司": ("有限公司",),
    "股份有限公司": ("有限公司", "股份公司"),
    "集团有限公司": ("集团", "有限公司"),
    "厂": ("有限公司", ""),
    "商行": ("",),
}

# Characters reps' trade names are made of, with pinyin (for pinyin brands like HONGDA).
_PINYIN_PAIRS = (
        "华:hua 宏:hong 达:da 金:jin 鑫:xin 盛:sheng 泰:tai 永:yong 兴:xing 恒:heng 隆:long "
        "利:li 源:yuan 德:de 信:xin 丰:feng 嘉:jia 美:mei 顺:shun 通:tong 联:lian 创:chuang "
        "新:xin 瑞:rui 祥:xiang 和:he 安:an 发:fa 佳:jia 威:wei 富:fu 昌:chang 荣:rong "
        "凯:kai 明:ming 光:guang 辉:hui 腾:teng 飞:fei 龙:long 海:hai 天:tian 宇:yu 峰:feng "
        "立:li 业:ye 万:wan 乐:le 益:yi 启:qi 航:hang 晟:sheng 睿:rui 博:bo 远:yuan 展:zhan "
        "精:jing 诚:cheng 铭:ming 弘:hong 越:yue 卓:zhuo 东:dong 亚:ya 欣:xin 豪:hao 俊:jun "
        "志:zhi 锦:jin 正:zheng 方:fang 成:cheng 友:you 星:xing 晶:jing 力:li 合:he 众:zhong"
)
PINYIN = dict(pair.split(":") for pair in _PINYIN_PAIRS.split())
CHARS = list(PINYIN)

# Homophones (and a few look-alike characters) that a pinyin IME or a hurried rep produces.
HOMOPHONES: dict[str, str] = {
    "华": "化桦", "宏": "鸿洪", "达": "大", "金": "今", "鑫": "新欣", "盛": "胜", "泰": "太",
    "永": "勇", "兴": "星馨", "恒": "衡", "隆": "龙", "利": "力立", "源": "原元", "德": "得",
    "信": "新心", "丰": "峰风", "嘉": "佳家", "美": "镁", "顺": "舜", "通": "同铜", "联": "连",
    "创": "闯", "新": "欣", "瑞": "锐", "祥": "翔", "和": "合禾", "安": "按", "发": "法",
    "佳": "嘉家", "威": "伟维", "富": "福", "昌": "长", "荣": "容蓉", "凯": "恺", "明": "名",
    "光": "广", "辉": "晖", "腾": "藤", "飞": "菲", "龙": "隆", "天": "添", "宇": "雨",
    "峰": "锋", "立": "利", "业": "叶", "益": "溢", "启": "起", "航": "杭", "晟": "盛",
    "睿": "瑞", "博": "搏", "远": "源", "展": "占", "精": "晶", "诚": "城", "铭": "明",
    "弘": "宏", "越": "悦", "卓": "桌", "东": "冬", "亚": "雅", "欣": "新", "豪": "浩",
    "俊": "骏", "志": "智", "锦": "金", "正": "政", "方": "芳", "成": "诚", "友": "有",
    "星": "兴", "晶": "精", "格": "革", "林": "琳", "斯": "思", "克": "客", "特": "持",
    "尔": "耳", "贝": "倍", "迪": "笛", "莱": "来", "诺": "偌", "赛": "塞", "奥": "澳",
}

# Transliterated trade names with their English brand.
BRANDS = (
    ("格林", "GREEN"), ("威尔", "WELL"), ("贝斯特", "BEST"), ("斯达", "STAR"), ("凯特", "KATE"),
    ("艾克", "ACE"), ("安迪", "ANDY"), ("雅玛西", "YAMAXI"), ("爱迪生", "EDISON"),
    ("比特", "BIT"), ("麦格", "MAG"), ("泰克", "TEK"), ("宝丽", "POLY"), ("欧朗", "OLANG"),
    ("迈克", "MIKE"), ("卡罗", "CARO"), ("莱特", "LIGHT"), ("杰克", "JACK"), ("沃德", "WARD"),
    ("诺瓦", "NOVA"), ("赛恩", "SION"), ("唯特", "VITA"), ("奥斯达", "OSDA"), ("普瑞", "PURI"),
)

# Very common two-character trade names that many unrelated companies use.
GENERIC = ("华美", "宏达", "兴达", "永盛", "金源", "恒通", "鑫源", "华兴", "新华", "东方",
           "长城", "利达", "大华", "建华", "金达", "富华", "华源", "永兴", "天宇", "明辉")

NOTES = ("（已送样）", "(老客户)", "-待回复", "（新）", "（样品已寄）", " 跟进中")
TITLES = ("总", "生", "小姐", "经理", "工")
# fmt: on

Phone = tuple[str, str]  # ("m", "13812345678") or (area code, local number)


@dataclass
class Company:
    entity: str
    place: Place
    district: str
    place_style: str
    trade: str
    brand: str
    industry: str
    extra: str
    legal: str
    phones: list[Phone]
    boss: str
    keep_city: bool = False  # every row names the city (a same-name company exists elsewhere)
    keep_industry: bool = False  # every row keeps the industry word
    like: str = ""  # for a look-alike: the entity it imitates
    hn_tag: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    used: list[Phone] = field(default_factory=list)  # phones already written in rows


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _bare(district: str) -> str:
    return district[:-1] if len(district) > 2 and district[-1] in "区镇市" else district


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def _norm_key(name: str) -> str:
    text = _T2S.convert(unicodedata.normalize("NFKC", name)).lower()
    return "".join(ch for ch in text if ch.isalnum())


def _sound_classes() -> dict[str, str]:
    """Map every character to one representative of its homophone class."""
    rep: dict[str, str] = {}

    def find(ch: str) -> str:
        while rep.get(ch, ch) != ch:
            ch = rep[ch]
        return ch

    for ch, alts in HOMOPHONES.items():
        for alt in alts:
            a, b = sorted((find(ch), find(alt)))
            rep[b] = a
    return {ch: find(ch) for ch in rep}


_SOUND = _sound_classes()


def _sound(text: str) -> str:
    return "".join(_SOUND.get(ch, ch) for ch in text)


class Builder:
    """Builds companies and their rows; all randomness comes from one seeded Random."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(SEED)
        self.companies: list[Company] = []
        self.trades: list[str] = []
        self.sounds: set[str] = set()
        self.numbers: set[str] = set()
        self.keys: dict[str, str] = {}  # normalised name -> entity
        self.faker_trades = self._faker_trades()
        self.brands = list(BRANDS)
        self.rng.shuffle(self.brands)

    # ---- building blocks -------------------------------------------------------------
    @staticmethod
    def _faker_trades() -> list[str]:
        out: list[str] = []
        for prefix in FakerCompany.company_prefixes:
            for word in ("济南", "黄石", "开发区"):
                prefix = prefix.removeprefix(word)
            for word in ("计算机", "电子", "科技", "信息", "软件", "数字", "国际公司", "公司"):
                prefix = prefix.removesuffix(word)
            if 2 <= len(prefix) <= 4 and prefix not in out:
                out.append(prefix)
        return out

    def _trade_ok(self, trade: str) -> bool:
        return _sound(trade) not in self.sounds and not any(
            trade in t or t in trade for t in self.trades
        )

    def _take_trade(self, trade: str) -> str:
        self.trades.append(trade)
        self.sounds.add(_sound(trade))
        return trade

    def new_trade(self) -> tuple[str, str]:
        """A fresh trade name and its brand ("" if none)."""
        rng = self.rng
        while True:
            roll = rng.random()
            brand = ""
            if roll < 0.03 and self.brands:
                trade, brand = self.brands.pop()
            elif roll < 0.10 and self.faker_trades:
                trade = self.faker_trades.pop(rng.randrange(len(self.faker_trades)))
            else:
                n = 3 if roll > 0.85 else 2
                trade = "".join(rng.sample(CHARS, n))
                if rng.random() < 0.12:
                    brand = "".join(PINYIN[ch] for ch in trade).upper()
            if trade not in GENERIC and self._trade_ok(trade):
                return self._take_trade(trade), brand

    def new_mobile(self) -> Phone:
        while True:
            number = self.fake.phone_number()
            if len(number) == 11 and number not in self.numbers:
                self.numbers.add(number)
                return ("m", number)

    def new_landline(self, place: Place) -> Phone:
        while True:
            local = str(self.rng.randint(2, 8)) + f"{self.rng.randrange(10**7):07d}"
            if local not in self.numbers:
                self.numbers.add(local)
                return (place.area, local)

    def new_company(
        self,
        trade: str = "",
        brand: str = "",
        place: Place | None = None,
        industry: str = "",
        family: bool = False,
    ) -> Company:
        rng = self.rng
        if not trade:
            trade, brand = self.new_trade()
        place = place or rng.choices(PLACES, weights=[p.weight for p in PLACES])[0]
        industry = industry or _pick(rng, {k: v[0] for k, v in INDUSTRIES.items()})
        _, extras, factory = INDUSTRIES[industry]
        if family:  # no extra word that is itself a confusable industry
            extras = tuple(e for e in extras if e not in _CONFUSABLE_WORDS) or ("",)
        extra = rng.choice(extras)
        legal = _pick(rng, LEGAL)
        if legal == "厂" and not factory:
            legal = "有限公司"
        if legal == "商行" and industry not in ("五金", "电子", "贸易", "灯具", "化工"):
            legal = "有限公司"
        if legal in ("厂", "商行") and extra not in ("", "制品"):
            extra = ""
        district = rng.choice(place.districts) if place.districts else ""
        styles = {"city": 60.0, "city_district": 22.0 if district else 0.0, "province_city": 10.0}
        if legal in ("股份有限公司", "集团有限公司"):
            styles["province"] = 30.0
        phones = [self.new_mobile() if rng.random() < 0.65 else self.new_landline(place)]
        if rng.random() < 0.4:
            phones.append(self.new_mobile() if phones[0][0] != "m" else self.new_landline(place))
        company = Company(
            entity=f"E{len(self.companies) + 1:04d}",
            place=place,
            district=district,
            place_style=_pick(rng, styles),
            trade=trade,
            brand=brand,
            industry=industry,
            extra=extra,
            legal=legal,
            phones=phones,
            boss=self.fake.name(),
        )
        self.companies.append(company)
        return company

    # ---- names -----------------------------------------------------------------------
    def place_text(self, c: Company, style: str) -> str:
        p = c.place
        city = p.city + "市"
        prov = p.province + "省" if p.province else ""
        return {
            "city": city,
            "city_bare": p.city,
            "city_district": city + c.district,
            "city_district_bare": p.city + _bare(c.district),
            "province_city": prov + city,
            "province_city_bare": p.province + p.city,
            "province": prov or city,
            "district": _bare(c.district),
        }[style]

    def industry_text(self, c: Company, full: bool) -> tuple[str, list[str]]:
        """Industry word plus extra; sometimes with 科技 dropped or added."""
        rng = self.rng
        extra = c.extra if full or rng.random() < 0.3 else ""
        tags = []
        can_keji = "科技" in INDUSTRIES[c.industry][1] and c.legal not in ("厂", "商行")
        if full and can_keji and rng.random() < 0.15:
            extra = "" if extra == "科技" else ("科技" if extra == "" else extra)
            tags = ["keji"] if extra != c.extra else []
        return c.industry + extra, tags

    def name(self, c: Company, canonical: bool) -> tuple[str, list[str], bool]:
        """A name as some rep would type it: (name, tags, phone required)."""
        rng = self.rng
        place = self.place_text(c, c.place_style)
        if canonical:
            return place + c.trade + c.industry + c.extra + c.legal, [], False
        forms = {
            "full": 24.0,
            "short": 26.0,
            "city_short": 16.0,
            "bracket": 8.0,
            "district_short": 5.0,
            "trade_only": 4.0 if len(c.trade) > 2 else 2.0,
            "drop_industry": 4.0,
            "contact": 4.0,
            "brand": 25.0,
        }
        if c.keep_city:
            for f in ("short", "district_short", "trade_only", "drop_industry", "contact"):
                forms[f] = 0
        if c.keep_industry:
            forms["trade_only"] = forms["drop_industry"] = 0
        if not c.district or c.place_style == "province":
            forms["district_short"] = 0
        if c.extra != "科技":
            forms["drop_industry"] = 0
        if not c.brand:
            forms["brand"] = 0
        form = _pick(rng, forms)
        tags = [form]
        legal = c.legal
        if rng.random() < 0.18:
            legal = rng.choice(LEGAL_SWAP[c.legal])
        city_short = self.place_text(c, rng.choice(["city", "city_bare"]))
        short, ktags = self.industry_text(c, full=False)
        if form == "full":
            styles = ["city", "city_bare", "province_city", "province_city_bare"]
            if c.district:
                styles += ["city_district", "city_district_bare"]
            if rng.random() < 0.3 and c.place_style != "province":
                place = self.place_text(c, rng.choice(styles))
                tags.append("place")
            ind, ktags = self.industry_text(c, full=True)
            parts = [place, c.trade, ind, legal]
        elif form == "short":
            parts = [c.trade, short]
        elif form == "city_short":
            parts = [city_short, c.trade, short]
        elif form == "bracket":
            ind, ktags = self.industry_text(c, full=True)
            where = c.place.city
            if c.place_style == "province" and c.place.province:
                where = c.place.province
            where = f"（{where}）" if rng.random() < 0.6 else f"({where})"
            parts = [c.trade, ind, where, legal or "有限公司"]
        elif form == "district_short":
            parts = [_bare(c.district), c.trade, short]
        elif form == "trade_only":
            parts = [c.trade, rng.choice(["", "", "公司", "厂" if c.legal == "厂" else ""])]
        elif form == "drop_industry":
            parts = [rng.choice(["", city_short]), c.trade, "科技", rng.choice(["", legal])]
        elif form == "contact":
            person = rng.choice([c.boss[0], self.fake.last_name()]) + rng.choice(TITLES)
            parts = rng.choice(
                [
                    [c.trade, short, "-" + person],
                    [person, f"（{c.trade}{short}）"],
                    [c.trade, short, " " + person],
                ]
            )
        else:  # brand
            brand = rng.choice([c.brand, c.brand, c.brand.title(), c.brand.lower()])
            base = [c.trade, short] if rng.random() < 0.6 else [place, c.trade, short, legal]
            if c.keep_city and base[0] == c.trade:
                base.insert(0, city_short)
            parts = rng.choice([[brand, *base], [brand + " ", *base], [*base, f"({brand})"]])
        if legal != c.legal and (form == "full" or (legal and legal in parts)):
            tags.append("legal")
        tags += ktags
        return self.surface(c, parts, tags)

    def surface(self, c: Company, parts: list[str], tags: list[str]) -> tuple[str, list[str], bool]:
        """Spaces, traditional characters, full-width, typos, notes."""
        rng = self.rng
        parts = [p for p in parts if p]
        need_phone = False
        if rng.random() < 0.08 and c.used:  # a typo row always repeats a known phone
            typo = self.typo(c.trade)
            if typo and len("".join(parts)) >= 5:
                parts = [typo if p == c.trade else p for p in parts]
                tags.append("typo")
                need_phone = True
        if rng.random() < 0.12 and len(parts) > 1:
            cut = rng.randrange(1, len(parts))
            parts[cut - 1] += rng.choice([" ", " ", "  ", "\u3000"])
            tags.append("space")
        name = "".join(parts)
        if rng.random() < 0.08:
            name = (_S2T if rng.random() < 0.6 else _S2HK).convert(name)
            tags.append("traditional")
        if any(ch.isascii() and ch.isalnum() for ch in name) and rng.random() < 0.3:
            name = _fullwidth(name)
            tags.append("fullwidth")
        if rng.random() < 0.03:
            name += rng.choice(NOTES)
            tags.append("note")
        if rng.random() < 0.03:
            name = rng.choice([" " + name, name + " ", name + "。", "*" + name])
            tags.append("punct")
        return name, tags, need_phone

    def typo(self, trade: str) -> str:
        """Replace one character by a homophone, unless that makes another company's name."""
        spots = [i for i, ch in enumerate(trade) if ch in HOMOPHONES]
        if not spots:
            return ""
        i = self.rng.choice(spots)
        typo = trade[:i] + self.rng.choice(HOMOPHONES[trade[i]]) + trade[i + 1 :]
        return "" if any(typo in t or t in typo for t in self.trades if t != trade) else typo

    def person_name(self, c: Company) -> str:
        """A row that names only the contact person or the boss's own shop."""
        rng = self.rng
        boss, surname = c.boss, c.boss[0]
        return rng.choice(
            [
                surname + "总",
                surname + "生",
                boss,
                boss + rng.choice(TITLES[1:]),
                _bare(c.district or c.place.city) + surname + "生",
                boss + c.industry + "店",
                self.place_text(c, "city") + c.district + boss + c.industry + "经营部",
            ]
        )

    # ---- phones ----------------------------------------------------------------------
    def fmt(self, phone: Phone) -> str:
        rng = self.rng
        kind, num = phone
        if rng.random() < 0.02:  # typed with a full-width input method
            return _fullwidth(num if kind == "m" else f"{kind}-{num}")
        if kind == "m":
            a, b, c = num[:3], num[3:7], num[7:]
            return _pick(
                rng,
                {
                    num: 40,
                    f"{a}-{b}-{c}": 15,
                    f"{a} {b} {c}": 15,
                    f"+86 {a} {b} {c}": 10,
                    f"+86{num}": 5,
                    f"86-{num}": 4,
                    f"{a}-{b}{c}": 5,
                    f"(+86){num}": 3,
                    f"{a}{b} {c}": 3,
                },
            )
        area, local = kind, num
        a, b = local[:4], local[4:]
        ext = str(rng.randint(800, 899))
        return _pick(
            rng,
            {
                f"{area}-{local}": 35,
                f"{area}-{a} {b}": 10,
                f"({area}){local}": 10,
                f"{area} {local}": 10,
                f"{area}{local}": 10,
                local: 8,
                f"+86 {area[1:]} {a} {b}": 7,
                f"{area}-{local}-{ext}": 5,
                f"{area}-{local}转{ext}": 5,
            },
        )

    def row_phone(self, c: Company, must: bool) -> tuple[str, list[str], list[Phone]]:
        """Phone cell text, tags, phones written. With must, repeat a phone already used."""
        rng = self.rng
        if must:
            phone = rng.choice(c.used)
            return self.fmt(phone), [], [phone]
        if rng.random() < 0.18:
            return "", ["no_phone"], []
        i = 0 if len(c.phones) == 1 or rng.random() < 0.75 else rng.randrange(1, len(c.phones))
        phones, tags = [c.phones[i]], ([] if i == 0 else ["other_phone"])
        if len(c.phones) > 1 and rng.random() < 0.08:
            phones.append(c.phones[1 - i if len(c.phones) == 2 else 0])
            tags.append("two_phones")
        sep = rng.choice(["/", " / ", "，", "、", ";"])
        return sep.join(self.fmt(p) for p in phones), tags, phones

    # ---- rows ------------------------------------------------------------------------
    def add_row(
        self, c: Company, name: str, phone: str, kind: str, tags: list[str], phones: list[Phone]
    ) -> bool:
        key = _norm_key(name)
        owner = self.keys.get(key)
        if owner is not None and owner != c.entity and "phone_only" not in tags:
            return False  # another company already has this exact name: unlearnable
        if any(r["name"] == name and r["phone"] == phone for r in c.rows):
            return False
        if "phone_only" not in tags:
            self.keys[key] = c.entity
        if c.like:
            tags = [c.hn_tag, *tags]
        row: dict[str, Any] = {
            "entity": c.entity,
            "name": name,
            "phone": phone,
            "kind": kind,
            "tags": tags,
        }
        if c.like:
            row["like"] = c.like
        c.rows.append(row)
        c.used.extend(p for p in phones if p not in c.used)
        return True

    def fill(self, c: Company, n_rows: int, force_phone: Phone | None = None) -> None:
        name, tags, _ = self.name(c, canonical=True)
        if force_phone:
            phone, phones = self.fmt(force_phone), [force_phone]
        else:
            phone, _, phones = self.row_phone(c, must=False)
        kind = "hard_negative" if c.like else "canonical"
        if not self.add_row(c, name, phone, kind, tags, phones):
            raise RuntimeError(f"canonical name collides: {name}")
        tries = 0
        while len(c.rows) < n_rows and tries < 30:
            tries += 1
            mobiles = [p for p in c.used if p[0] == "m"]  # only a mobile already written
            if mobiles and self.rng.random() < 0.04:
                mobile = mobiles[0]
                self.add_row(
                    c, self.person_name(c), self.fmt(mobile), "phone_only", ["phone_only"], [mobile]
                )
                continue
            name, tags, need_phone = self.name(c, canonical=False)
            phone, ptags, phones = self.row_phone(c, must=need_phone)
            self.add_row(c, name, phone, "variant", tags + ptags, phones)

    def n_rows(self) -> int:
        return self.rng.choices([1, 2, 3, 4, 5, 6], weights=[22, 30, 23, 14, 7, 4])[0]

    # ---- look-alike families ---------------------------------------------------------
    def family_industry(self) -> None:
        base = self.new_company(industry=self.rng.choice(sorted(_CONFUSABLE_WORDS)), family=True)
        group = next(g for g in CONFUSABLE if base.industry in g)
        others = [w for w in group if w != base.industry]
        base.keep_industry = True
        self.fill(base, max(2, self.n_rows()))
        for industry in self.rng.sample(others, min(len(others), self.rng.choice([1, 1, 2]))):
            place = base.place if self.rng.random() < 0.7 else None
            self.look_alike(base, "hn_industry", trade=base.trade, place=place, industry=industry)

    def family_city(self) -> None:
        base = self.new_company(family=True)
        base.keep_city = True
        if base.place_style == "province":
            base.place_style = "city"
        self.fill(base, max(2, self.n_rows()))
        place = self.rng.choice([p for p in PLACES if p.city != base.place.city])
        self.look_alike(
            base, "hn_city", trade=base.trade, place=place, industry=base.industry, keep_city=True
        )

    def family_one_char(self) -> None:
        base = self.new_company(family=True)
        base.keep_industry = True
        self.fill(base, max(2, self.n_rows()))
        while True:  # change one character, not to a homophone
            i = self.rng.randrange(len(base.trade))
            ch = self.rng.choice(CHARS)
            trade = base.trade[:i] + ch + base.trade[i + 1 :]
            if ch not in base.trade and self._trade_ok(trade):  # _trade_ok: not a homophone
                break
        self.look_alike(
            base,
            "hn_one_char",
            trade=self._take_trade(trade),
            place=base.place,
            industry=base.industry,
        )

    def family_generic(self, trade: str) -> None:
        industries = self.rng.sample(sorted(INDUSTRIES), 3)
        base = self.new_company(trade=trade, industry=industries[0], family=True)
        base.keep_industry = True
        self.fill(base, max(2, self.n_rows()))
        for industry in industries[1:]:
            place = base.place if self.rng.random() < 0.5 else None
            self.look_alike(base, "hn_generic", trade=trade, place=place, industry=industry)

    def family_shared_phone(self) -> None:
        """Two or three different companies in one building share a switchboard number."""
        base = self.new_company()
        shared = self.new_landline(base.place)
        base.phones = [self.new_mobile(), shared]
        members = [base]
        for _ in range(self.rng.choice([1, 1, 2])):
            other = self.new_company(place=base.place)
            other.phones = [self.new_mobile(), shared]
            other.like, other.hn_tag = base.entity, "hn_shared_phone"
            members.append(other)
        for c in members:
            self.fill(c, max(2, self.n_rows()), force_phone=shared)
            for row in c.rows:
                if shared[1] in unicodedata.normalize("NFKC", row["phone"]).replace(" ", ""):
                    row["tags"].append("shared_phone")

    def look_alike(self, base: Company, tag: str, keep_city: bool = False, **kwargs: Any) -> None:
        c = self.new_company(family=True, **kwargs)
        c.keep_industry, c.keep_city = True, keep_city
        if keep_city and c.place_style == "province":
            c.place_style = "city"
        c.like, c.hn_tag = base.entity, tag
        self.fill(c, self.n_rows())


def build_corpus() -> list[dict[str, Any]]:
    b = Builder()
    for trade in GENERIC:
        b.trades.append(trade)
        b.sounds.add(_sound(trade))
    steps = (
        ["industry"] * 60
        + ["city"] * 45
        + ["one_char"] * 35
        + ["shared"] * 30
        + ["ordinary"] * N_ORDINARY
    )
    b.rng.shuffle(steps)
    generic = list(GENERIC)
    for step in steps:
        if step == "industry":
            b.family_industry()
        elif step == "city":
            b.family_city()
        elif step == "one_char":
            b.family_one_char()
        elif step == "shared":
            b.family_shared_phone()
        else:
            b.fill(b.new_company(), b.n_rows())
        if generic and b.rng.random() < 0.02:
            b.family_generic(generic.pop())
    while generic:
        b.family_generic(generic.pop())
    rows = [row for c in b.companies for row in c.rows]
    b.rng.shuffle(rows)
    return [{"id": i, **row} for i, row in enumerate(rows)]


# ---- hand-written hard cases ---------------------------------------------------------------
# (case, label, name, phone); rows of one case with the same label are the same company,
# different labels are different companies. The note says what makes the case hard.
# fmt: off
HARD_CASES: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("traditional characters + short form, same mobile in two formats",
     [("A", "深圳市欧瑞电子科技有限公司", "13827561234"), ("A", "歐瑞電子", "138-2756-1234")]),
    ("trade name only vs full name, landline written with and without the dash",
     [("A", "深圳市雅玛西电子有限公司", "0755-27651234"), ("A", "雅玛西", "075527651234")]),
    ("厂 vs 有限公司 and the town moved into brackets",
     [("A", "东莞市长安镇宏利五金制品厂", "13922881234"),
      ("A", "宏利五金（东莞）有限公司", "139 2288 1234")]),
    ("district written after the name, no phone on the short row",
     [("A", "广州市天河区彩虹印刷有限公司", "020-38761234"), ("A", "彩虹印刷 天河", "")]),
    ("full-width English brand in front, international landline format",
     [("A", "苏州凯特精密机械有限公司", "0512-65871234"),
      ("A", "ＫＡＴＥ凯特精密", "+86 512 6587 1234")]),
    ("province-level name vs traditional short name, spaced landline",
     [("A", "浙江永昌包装股份有限公司", "0574-87651234"), ("A", "永昌包裝", "0574-8765 1234")]),
    ("homophone typo (斯/思) confirmed by the same mobile",
     [("A", "深圳市贝斯特光电科技有限公司", "13612345678"), ("A", "深圳贝思特光电", "13612345678")]),
    ("homophone typo in a short name (鑫/新), only the mobile links them",
     [("A", "深圳市龙岗区鑫隆塑胶制品有限公司", "13509871234"), ("A", "新隆塑胶", "135 0987 1234")]),
    ("科技 added and an extension on the switchboard number",
     [("A", "佛山市顺德区美达电器有限公司", "0757-22331234"),
      ("A", "美达电器科技", "0757-22331234-808")]),
    ("contact person with the company in brackets",
     [("A", "惠州市惠阳区德信涂料有限公司", "13715556789"), ("A", "陈总（德信涂料）", "13715556789")]),
    ("only the boss's mobile links a town + surname row to the factory",
     [("A", "东莞市厚街镇锦辉家具厂", "13826661234"), ("A", "厚街刘生", "+86 138 2666 1234")]),
    ("有限公司 vs 有限责任公司, landline in brackets",
     [("A", "深圳市南山区启航科技有限公司", "0755-86091234"),
      ("A", "启航科技有限责任公司", "(0755)86091234")]),
    ("three rows: county-level city, English brand only with Chinese, city in brackets",
     [("A", "江苏省昆山市泰克电子有限公司", "0512-57771234"), ("A", "TEK 泰克", "0512 5777 1234"),
      ("A", "泰克电子(昆山)", "")]),
    ("spaces inside every word vs the registered name",
     [("A", "深圳 市 瑞祥 五金", "+8613302451234"), ("A", "深圳市瑞祥五金有限公司", "13302451234")]),
    ("a cell with two numbers shares one of them",
     [("A", "东莞市凤岗镇恒源包装材料有限公司", "13500001111/0769-85551234"),
      ("A", "恒源包装", "0769-85551234")]),
    ("landline without area code; the city is in the other row",
     [("A", "东莞市虎门镇华锐服装有限公司", "0769-85112233"), ("A", "华锐服装", "85112233")]),
    ("English company name from a business card vs the Chinese name",
     [("A", "Shenzhen Lianli Electronics Co., Ltd.", "0755-29981234"),
      ("A", "深圳市联力电子有限公司", "0755-2998 1234")]),
    ("a rep's note in brackets after the name",
     [("A", "中山市古镇镇格调灯具厂", "13690011234"), ("A", "格调灯具（已送样）", "")]),
    ("公司 without 有限, no phones at all",
     [("A", "中山市小榄镇永利五金有限公司", ""), ("A", "永利五金公司", "")]),
    ("middle dot and bracketed city",
     [("A", "合盛精密科技(深圳)有限公司", "0755-23301234"), ("A", "合盛·精密", "")]),
    ("identical full name with two different contacts: a phone mismatch must not split",
     [("A", "深圳市宝安区明达包装制品有限公司", "13631112222"),
      ("A", "深圳市宝安区明达包装制品有限公司", "0755-29998888")]),
    ("chain: full name without phone, short name with mobile, contact with the same mobile",
     [("A", "宁波市鄞州区海晟模具有限公司", ""), ("A", "海晟模具", "15867001234"),
      ("A", "海晟 王经理", "158-6700-1234")]),
    ("full-width digits in the trade name",
     [("A", "深圳市168五金商行", "13760001234"), ("A", "１６８五金", "")]),
    ("numbers that differ: different shops",
     [("A", "佛山市南海区188五金商行", "13760004321"), ("B", "佛山市南海区588五金商行", "13922004321")]),
    ("real group companies: same trade name, different business (技术 vs 终端)",
     [("A", "华为技术有限公司", "0755-28780808"), ("B", "华为终端有限公司", "0769-23839999")]),
    ("same trade name, 电子 vs 电器, same city, different phones",
     [("A", "深圳市联创电子有限公司", "0755-27881234"), ("B", "深圳市联创电器有限公司", "13922335566")]),
    ("same name in two cities, landlines with different area codes",
     [("A", "深圳市宏盛五金制品有限公司", "0755-28191234"), ("B", "东莞市宏盛五金制品有限公司", "0769-82191234")]),
    ("one trade character differs (达/远), same city and industry",
     [("A", "深圳市鸿达包装有限公司", "0755-26401234"), ("B", "深圳市鸿远包装有限公司", "0755-26405678")]),
    ("one industry character differs (印刷/印染)",
     [("A", "广州市番禺区金泽印刷厂", "020-84561234"), ("B", "广州市番禺区金泽印染厂", "020-84569876")]),
    ("industrial-park switchboard shared by two unrelated factories",
     [("A", "东莞市塘厦镇百盛五金制品有限公司", "0769-87881234"),
      ("B", "东莞市塘厦镇恒昌塑胶有限公司", "0769-87881234")]),
    ("bookkeeping agency number used by three unrelated companies",
     [("A", "深圳市佳讯贸易有限公司", "0755-82886666"), ("B", "深圳市博远科技有限公司", "0755-8288 6666"),
      ("C", "深圳市万嘉实业有限公司", "(0755)82886666")]),
    ("very short generic trade name in three industries, no phones",
     [("A", "华美五金", ""), ("B", "华美印刷", ""), ("C", "华美家具", "")]),
    ("第一 vs 第二 factory of the same town",
     [("A", "东莞市长安第一五金厂", "0769-85331234"), ("B", "东莞市长安第二五金厂", "0769-85339876")]),
    ("homophone names in different cities with different phones are different companies",
     [("A", "深圳市鸿运电子有限公司", "0755-27001234"), ("B", "苏州宏运电子有限公司", "0512-66001234")]),
    ("the same contact title in two rows means nothing without the same phone",
     [("A", "王总", "13800001111"), ("B", "王总", "13900002222")]),
    ("one trade name contains the other (科达 / 科达利)",
     [("A", "深圳市科达电子有限公司", "0755-29001234"), ("B", "深圳市科达利电子有限公司", "0755-29009876")]),
    ("province differs, same name, different phones",
     [("A", "浙江永兴包装股份有限公司", "0575-88001234"), ("B", "江苏永兴包装股份有限公司", "0519-88001234")]),
    ("same trade name, subsidiaries in two cities (city in brackets)",
     [("A", "嘉华电子（深圳）有限公司", "0755-28401234"), ("B", "嘉华电子（苏州）有限公司", "0512-62401234")]),
    ("place name vs trade name: 华强 is a company, 华强北 is a market street",
     [("A", "深圳华强电子有限公司", "0755-83001234"), ("B", "华强北电子商行", "13510101010")]),
    ("mixed case: two spellings of one company and a look-alike in another industry",
     [("A", "深圳市光明区远航光电科技有限公司", "13688001234"), ("A", "遠航光電", "136 8800 1234"),
      ("B", "深圳市远航光学有限公司", "0755-23401234")]),
    # the look-alikes: not grouped, asked in 待确认 (tests/test_matching.py checks)
    ("same sound (辉/晖), same city and industry, different phones: asked, not grouped",
     [("A", "深圳市金辉五金有限公司", "0755-26881234"), ("B", "深圳市金晖五金有限公司", "13928881234")]),
    ("same sound (泰/太), same city and industry, different phones: asked, not grouped",
     [("A", "东莞市宏泰塑胶有限公司", "0769-85661234"), ("B", "东莞市宏太塑胶制品厂", "13712661234")]),
    ("English business-card name, no number in common: asked by the trade name's pinyin",
     [("A", "Shenzhen Jintai Hardware Co., Ltd.", "13600451234"),
      ("A", "深圳市锦泰五金有限公司", "0755-26551234")]),
    ("a short name that fits two companies: nobody can tell which, so it is asked",
     [("A", "深圳市格林电子有限公司", "0755-27331234"), ("B", "深圳市格林包装有限公司", "0755-27335678"),
      ("C", "格林", "")]),
]
# fmt: on


def build_hard_cases() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n, (note, members) in enumerate(HARD_CASES, start=1):
        case = f"H{n:02d}"
        labels = {label for label, _, _ in members}
        kind = "hard_positive" if len(labels) == 1 else "hard_negative"
        for label, name, phone in members:
            rows.append(
                {
                    "id": len(rows),
                    "entity": case + label,
                    "name": name,
                    "phone": phone,
                    "kind": kind,
                    "case": case,
                    "note": note,
                }
            )
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(out_dir: Path | str = HERE) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "corpus.jsonl", build_corpus())
    write_jsonl(out / "hard_cases.jsonl", build_hard_cases())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else HERE)
