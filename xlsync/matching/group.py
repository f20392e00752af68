"""Group rows that name the same customer: block cheaply, judge pairs inside blocks, union.

Blocks (never all pairs):
- the exact core key (trade name + strong industry words), split by city;
- the trade name alone (a short `格林` for `格林电子`), only where that is unambiguous;
- the trade name with one character replaced by its sound (pinyin), which finds
  homophone typos (鑫隆 / 新隆) and nothing else;
- each canonical phone number, except numbers shared by many different names (a
  switchboard or an agency is not evidence).

Each candidate pair is judged by `judge`: different strong industry words (`电子` vs `电器`)
or different cities (`深圳` vs `东莞`) keep names apart unless a phone says otherwise.

Two tiers (`group_items(possible=...)`, as check runs it): look-alikes the names alone
cannot settle are grouped only on evidence beyond the names (`agree`: a number in common,
a landline without its area code matching another's local part, the same contact person
by full name); without it they are asked in 待确认 instead. Asked: same-sounding trade
names, an English business-card name read as the pinyin of a Chinese trade name, two
registered names of one trade name in two industries, one name in two cities of one
province, a short name that fits two companies. See docs/rules.md "Duplicates".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import combinations
from typing import NamedTuple

from rapidfuzz.fuzz import ratio

from xlsync.matching.english import EnglishName, english_name, trade_sound
from xlsync.matching.normalize import (
    NameKey,
    analyse,
    full_person_name,
    place_code,
    places_conflict,
)
from xlsync.matching.sound import sound
from xlsync.register.cells import parse_phones

# A number shared by more different names than this is a switchboard, not evidence.
SWITCHBOARD_NAMES = 3
# Buckets larger than this are too generic to compare pairwise.
MAX_BUCKET = 60


class MatchKind(StrEnum):
    """Why two rows were linked."""

    SAME_NAME = "same_name"  # the same core name: trade name plus strong industry words
    SIMILAR_NAME = "similar_name"  # the same trade name, industry words left out (格林 / 格林电子)
    SAME_SOUND = "same_sound"  # one character of the trade name written as a homophone
    SAME_PHONE = "same_phone"  # a shared mobile, or a shared number and related names
    SAME_CONTACT = "same_contact"  # look-alike names and the same contact person's full name
    RULED = "ruled"  # the manager's 同一客户 ruling (its text names the row of 裁决)


@dataclass(frozen=True, slots=True)
class MatchReason:
    """One link between two rows: its kind and, for look-alike names, their similarity."""

    kind: MatchKind
    score: float | None = None  # 0..1 name similarity (rapidfuzz ratio of the cores)
    ruling_row: int = 0  # RULED: the row of 裁决 that joined the two

    @property
    def similar(self) -> bool:
        return self.kind in (MatchKind.SIMILAR_NAME, MatchKind.SAME_SOUND)


SAME_NAME = MatchReason(MatchKind.SAME_NAME)
SAME_PHONE = MatchReason(MatchKind.SAME_PHONE)
SAME_CONTACT = MatchReason(MatchKind.SAME_CONTACT)


@dataclass(frozen=True, slots=True)
class GroupReason:
    """Why a group's rows were put together: the same name, the same phone, and the weakest
    look-alike link (the honest one to show), each at most once and in that order."""

    links: tuple[MatchReason, ...]

    @classmethod
    def of(cls, reasons: Iterable[MatchReason]) -> GroupReason:
        seen = list(reasons)
        links = [r for r in (SAME_NAME, SAME_PHONE, SAME_CONTACT) if r in seen]
        similar = [r for r in seen if r.similar]
        if similar:
            links.append(min(similar, key=lambda r: (r.score or 0.0, r.kind)))
        links.extend(dict.fromkeys(r for r in seen if r.kind is MatchKind.RULED))
        return cls(tuple(links))

    @property
    def ruling_rows(self) -> tuple[int, ...]:
        """The rows of 裁决 whose 同一客户 rulings joined the group."""
        return tuple(r.ruling_row for r in self.links if r.kind is MatchKind.RULED)

    @property
    def kinds(self) -> frozenset[MatchKind]:
        return frozenset(r.kind for r in self.links)

    def text(self) -> str:
        """What people read (check, check --json, the 冲突 sheet): 名称相同、名称相似 0.93."""
        return describe_reason(self)


_REASON_LABELS: dict[MatchKind, str] = {
    MatchKind.SAME_NAME: "名称相同",
    MatchKind.SAME_PHONE: "同一电话",
    MatchKind.SAME_CONTACT: "同一联系人",
    MatchKind.SIMILAR_NAME: "名称相似",
    MatchKind.SAME_SOUND: "名称相似",
    MatchKind.RULED: "经理裁定为同一客户",
}


def describe_reason(reason: GroupReason) -> str:
    """The one place a match reason becomes Chinese text."""
    parts: list[str] = []
    for link in reason.links:
        if link.kind is MatchKind.RULED:
            where = f"裁决第 {link.ruling_row} 行" if link.ruling_row else "其他办事处的裁决"
            parts.append(f"{_REASON_LABELS[link.kind]}（{where}）")
            continue
        label = _REASON_LABELS[link.kind]
        parts.append(f"{label} {link.score:.2f}" if link.score is not None else label)
    return "、".join(parts)


@dataclass(frozen=True, slots=True)
class Group:
    members: tuple[int, ...]  # indexes into the items, ascending
    reason: GroupReason


NONE: frozenset[str] = frozenset()


class Item(NamedTuple):
    """One name and its phones, prepared for matching. A named tuple, not a frozen
    dataclass: a register makes one per row, and a frozen dataclass takes 2.5 times as long
    to build."""

    key: NameKey | None
    phones: frozenset[str]
    place: str  # province / city code from the name, "" when none
    # the landlines as local numbers (area code dropped): `53483396` for `0769-53483396`
    local_keys: frozenset[str] = frozenset()
    bare_locals: frozenset[str] = frozenset()  # landlines written without their area code
    english: EnglishName | None = None  # a name in Latin letters only (a business card)
    contact: str = ""  # the contact person's full name (王志强), "" for a title or none
    mobiles: frozenset[str] = frozenset()  # the phones that are mobiles

    @classmethod
    def of(
        cls, name: str, phones: Iterable[str], *, canonical: bool = False, contact: str = ""
    ) -> Item:
        key = analyse(name) if name and name.strip() else None
        if key is not None and (not key.core or key.person):
            key = None  # no company name to compare: only a phone can link this row
        if canonical:
            numbers: Iterable[str] = phones  # already parsed by the reader
        else:
            numbers = [n for text in phones for n in parse_phones(text)[0]]
        # an empty set is the shared NONE (216 bytes each otherwise: 100,000 rows have
        # 200,000 empty ones)
        phones = frozenset(numbers) or NONE
        local_keys = bare = mobiles = NONE
        if phones:
            found: list[str] = []
            mobile: list[str] = []
            for number in phones:
                if len(number) == 11 and number[0] == "1":
                    mobile.append(number)  # a mobile has no local number
                elif local := local_number(number):
                    found.append(local)
            if found:
                local_keys = frozenset(found)
                bare = frozenset(p for p in phones if p in local_keys) or NONE
            if mobile:
                mobiles = frozenset(mobile)
        english = english_name(name) if key is not None else None
        place = place_code(key.place) if key else ""
        person = full_person_name(contact) if contact else ""
        return cls(key, phones, place, local_keys, bare, english, person, mobiles)


def local_number(number: str) -> str:
    """A canonical landline's local number without the area code, or "" for a mobile, a
    400/800 number or anything else. Area codes are 3 digits with the trunk 0 for the big
    cities (010, 020-029) and 4 for the rest."""
    if len(number) in (7, 8) and number[0] in "23456789":
        return number  # written without an area code
    if len(number) in (10, 11, 12) and number[0] == "0" and number[1] != "0":
        local = number[3:] if number[1] in "12" else number[4:]
        if len(local) in (7, 8) and local[0] in "23456789":
            return local
    return ""


def share_phone(a: Item, b: Item) -> bool:
    """Whether two rows have a number in common: the same canonical number, or a landline
    written without its area code that is the local part of the other row's landline (the
    rows' cities must then agree: a local number means nothing across cities)."""
    if a.phones & b.phones:
        return True
    if places_conflict(a.place, b.place):
        return False
    return bool(a.bare_locals & b.local_keys or b.bare_locals & a.local_keys)


def same_contact(a: Item, b: Item) -> bool:
    """Whether two rows name the same contact person by full name (a title such as 王总
    is no evidence)."""
    return bool(a.contact) and a.contact == b.contact


def agree(a: Item, b: Item) -> bool:
    """Evidence beyond the names that two look-alike rows are one customer: a number in
    common (see `share_phone`) or the same contact person."""
    return share_phone(a, b) or same_contact(a, b)


class _Clusters:
    """Union-find that refuses to merge clusters naming different cities or industries.

    Pairwise judgement alone lets chains through: 东莞泰克 = 泰克 (no city) = 昆山泰克电子.
    Each cluster remembers the cities and the industry words of its members; a merge that
    would put two conflicting ones in one cluster is refused (a shared phone may still join
    different cities: companies move and open branches).
    """

    def __init__(self, items: Sequence[Item], forbidden: Iterable[tuple[int, int]] = ()) -> None:
        self.items = items
        self.parent = list(range(len(items)))
        self.part = list(range(len(items)))  # see find_part
        # the manager's 不同客户: item -> items it may never share a cluster with
        self.never: dict[int, set[int]] = defaultdict(set)
        for a, b in forbidden:
            self.never[a].add(b)
            self.never[b].add(a)
        self.members: dict[int, set[int]] = {}  # per root, kept only when `never` is used
        self.touched: set[int] = set()  # items that were ever merged with another
        # per part root, once it has merged; a lone item's own values are used before that
        self.places: dict[int, set[str]] = {}
        self.keys: dict[int, list[NameKey]] = {}

    def _places(self, root: int) -> set[str]:
        if root in self.places:
            return self.places[root]
        place = self.items[root].place
        return {place[:4]} if place else set()

    def _keys(self, root: int) -> list[NameKey]:
        if root in self.keys:
            return self.keys[root]
        key = self.items[root].key
        return [key] if key is not None and key.business else []

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def find_part(self, i: int) -> int:
        """The part of i's cluster joined by the matcher's own links (a 同一客户 ruling
        joins two parts into one cluster without merging their cities and industries)."""
        part = self.part
        while part[i] != i:
            part[i] = part[part[i]]
            i = part[i]
        return i

    def _forbidden(self, ra: int, rb: int) -> bool:
        """Whether joining the clusters of `ra` and `rb` would join a 不同客户 pair."""
        ma = self.members.get(ra, {ra})
        mb = self.members.get(rb, {rb})
        if len(ma) > len(mb):
            ma, mb = mb, ma
        return any(not self.never[i].isdisjoint(mb) for i in ma if i in self.never)

    def union(self, a: int, b: int, *, by_phone: bool, forced: bool = False) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra != rb and self.never and self._forbidden(ra, rb):
            return False
        if forced:  # the manager's 同一客户: one cluster, each part keeps its own places
            if ra != rb:
                self._join(ra, rb)
            self.touched.update((a, b))
            return True
        # The cities and industry words are checked part by part: without rulings a part
        # is the whole cluster; with them, a link to one side of a ruling does not meet
        # the other side's city (a ruling that agrees with the matcher changes nothing).
        qa, qb = self.find_part(a), self.find_part(b)
        if qa == qb:
            return True
        pa, pb = self._places(qa), self._places(qb)
        if not by_phone and any(places_conflict(x, y) for x in pa for y in pb):
            return ra == rb
        ka, kb = self._keys(qa), self._keys(qb)
        if any(_industries_conflict(x, y) for x in ka for y in kb):
            return ra == rb
        if ra != rb:
            self._join(ra, rb)
        keep, gone = min(qa, qb), max(qa, qb)
        self.part[gone] = keep
        self.touched.update((a, b))
        self.places[keep] = pa | pb
        self.places.pop(gone, None)
        merged = {(k.strong, k.business): k for k in ka + kb}
        self.keys[keep] = list(merged.values())
        self.keys.pop(gone, None)
        return True

    def _join(self, ra: int, rb: int) -> None:
        keep, gone = min(ra, rb), max(ra, rb)
        if self.never:
            self.members[keep] = self.members.pop(keep, {keep}) | self.members.pop(gone, {gone})
        self.parent[gone] = keep


def judge(a: Item, b: Item, *, shared_phone: bool = False) -> MatchReason | None:
    """Whether two items name the same customer: why, or None.

    `shared_phone` says the two rows have a phone number in common.
    """
    ka, kb = a.key, b.key
    shared_mobile = shared_phone and bool(a.mobiles & b.mobiles)
    if ka is None or kb is None:
        # a row with only a contact person's name: the same mobile is the same person
        return SAME_PHONE if shared_mobile else None
    strong_a, strong_b = set(ka.strong), set(kb.strong)
    if _industries_conflict(ka, kb):
        return None  # 格林电子 / 格林电器: a shared switchboard does not change that
    if places_conflict(a.place, b.place) and not shared_phone:
        return None  # 深圳格林电子 / 东莞格林电子 with no phone in common
    if ka.core == kb.core:
        return SAME_NAME
    score = ratio(ka.core, kb.core) / 100
    nested = not strong_a or not strong_b or strong_a <= strong_b or strong_b <= strong_a
    if ka.trade == kb.trade and nested:
        return MatchReason(MatchKind.SIMILAR_NAME, score)
    if strong_a == strong_b and strong_a and homophone_typo(ka.trade, kb.trade):
        return MatchReason(MatchKind.SAME_SOUND, score)
    if shared_mobile or (shared_phone and _related(ka, kb)):
        return SAME_PHONE
    return None


def _industries_conflict(a: NameKey, b: NameKey) -> bool:
    if a.strong and b.strong and set(a.strong).isdisjoint(b.strong):
        return True
    return bool(a.business and b.business and a.business.isdisjoint(b.business))


def homophone_typo(x: str, y: str) -> bool:
    """One character written as another that sounds the same (鑫隆 / 新隆, 格林 / 格琳)."""
    if len(x) != len(y) or len(x) < 2:
        return False
    diff = [i for i in range(len(x)) if x[i] != y[i]]
    if len(diff) != 1:
        return False
    i = diff[0]
    return not x[i].isascii() and sound(x[i]) == sound(y[i])


def _related(a: NameKey, b: NameKey) -> bool:
    """Names that could be the same company written loosely (used only with a shared phone)."""
    if a.trade in b.text or b.trade in a.text:
        return True
    return bool(set(a.trade) & set(b.trade)) and ratio(a.trade, b.trade) >= 50


def prepare(items: Sequence[tuple[str, Sequence[str]]]) -> list[Item]:
    return [Item.of(name, phones) for name, phones in items]


def find_groups(items: Sequence[tuple[str, Sequence[str]]]) -> list[Group]:
    """Groups of two or more items (name, phones) that name the same customer."""
    return group_items(prepare(items))


_Link = Callable[[int, int, MatchReason], None]


def group_items(
    prepared: Sequence[Item],
    *,
    forced: Sequence[tuple[int, int, int]] = (),
    forbidden: Iterable[tuple[int, int]] = (),
    possible: list[tuple[int, int, str]] | None = None,
) -> list[Group]:
    """Groups of two or more items. The manager's rulings overrule the names: `forced`
    links (i, j, row of 裁决) join whatever the names say; no link, forced or found, ever
    puts a `forbidden` pair into one group (nor joins them through a third item).

    With a `possible` list, the look-alikes the matcher is not sure of are not linked but
    added there as (i, j, reason) for a person to decide: same-sounding trade names with no
    phone in common, one name in two cities, a short name that fits two companies.

    The 同一客户 links are first tried last: the matcher's groups, then each ruling joins
    two of them. Rulings that agree with the matcher so change nothing (the matcher's city
    and industry checks depend on the order of its links). Only when a ruling cannot be
    joined that way, because a 不同客户 stands in the way through rows the matcher linked,
    are the rulings made first, so that they outrank the matcher's links."""
    forbidden = tuple(forbidden)
    if forced:
        asked: list[tuple[int, int, str]] | None = [] if possible is not None else None
        after = _group_items(prepared, (), forced, forbidden, asked)
        if after is not None:
            if possible is not None and asked is not None:
                possible.extend(asked)
            return after
    first = _group_items(prepared, forced, (), forbidden, possible)
    assert first is not None  # nothing is joined last
    return first


def _group_items(
    prepared: Sequence[Item],
    forced_first: Sequence[tuple[int, int, int]],
    forced_last: Sequence[tuple[int, int, int]],
    forbidden: Sequence[tuple[int, int]],
    possible: list[tuple[int, int, str]] | None,
) -> list[Group] | None:
    """The groups, with rulings joined before the matcher's links or after them; None when
    a ruling joined after them is refused."""
    uf = _Clusters(prepared, forbidden)
    edges: list[tuple[int, MatchReason]] = []
    for i, j, row in forced_first:
        if uf.union(i, j, by_phone=True, forced=True):
            edges.append((i, MatchReason(MatchKind.RULED, ruling_row=row)))

    def link(i: int, j: int, reason: MatchReason) -> None:
        if uf.union(i, j, by_phone=reason.kind is MatchKind.SAME_PHONE):
            edges.append((i, reason))

    by_core: dict[str, list[int]] = defaultdict(list)
    by_trade: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(prepared):
        if item.key is not None:
            by_core[item.key.core].append(i)
            by_trade[item.key.trade].append(i)

    def strong_of(i: int) -> frozenset[str]:
        key = prepared[i].key
        assert key is not None  # only items with a key are in the name buckets
        return frozenset(key.strong)

    # 1. the same core: link within each city; names without a city join the only city
    for members in by_core.values():
        if len(members) > 1:
            _link_same_core(prepared, members, link, possible)

    # 2. the same trade name with fewer industry words (格林 / 格林电子, 永美印刷 /
    #    永美印刷包装): linked to the fullest variant, only when there is just one
    for members in by_trade.values():
        if len(members) < 2:
            continue
        variants = {strong_of(i) for i in members}
        if len(variants) < 2:
            continue
        # in a fixed order (a set's order changes from run to run): the pairs asked
        maximal = sorted((v for v in variants if not any(v < w for w in variants)), key=sorted)
        if len(maximal) != 1:
            if possible is not None:
                _ambiguous_short(prepared, members, maximal, possible)
            continue
        top = next(i for i in members if strong_of(i) == maximal[0])
        for i in members:
            if uf.find(i) != uf.find(top):
                verdict = judge(prepared[i], prepared[top])
                if not verdict:
                    continue
                if possible is not None and _two_registrations(prepared, members, i, top):
                    possible.append((i, top, _two_registrations_reason(prepared[i], prepared[top])))
                else:
                    link(i, top, verdict)

    # 3. homophone typos (鑫隆 / 新隆): bucket each core by its trade name with one
    #    character replaced by how it sounds; only same-sounding variants share a bucket
    heads = [members[0] for members in by_core.values()]
    # With `possible`, same-sounding names are linked only on evidence beyond the names
    # (a number or the contact person in common, see `rows_agree`); otherwise the pair is
    # asked rather than guessed. Without it (find_groups), the sound alone links them.
    cluster_of: dict[int, list[int]] = defaultdict(list)
    for i in range(len(prepared)):
        cluster_of[uf.find(i)].append(i)
    snapshot = {i: uf.find(i) for i in range(len(prepared))}

    def rows_agree(i: int, j: int) -> bool:
        """Whether a row spelled like either name, in the group of `i`, shares a number or
        the contact person with one in the group of `j` (a row of another name is no
        evidence for these)."""
        spelled = {k.trade for k in (prepared[i].key, prepared[j].key) if k is not None}

        def rows(x: int) -> list[int]:
            return [
                m
                for m in cluster_of[snapshot[x]]
                if (k := prepared[m].key) is not None and k.trade in spelled
            ]

        mine, theirs = rows(i), rows(j)
        return any(agree(prepared[x], prepared[y]) for x in mine for y in theirs)

    for bucket in _homophone_buckets(prepared, heads):
        if 1 < len(bucket) <= MAX_BUCKET:
            for i, j in combinations(bucket, 2):
                if uf.find(i) != uf.find(j):
                    verdict = judge(prepared[i], prepared[j])
                    if verdict is None:
                        continue
                    if possible is None or rows_agree(i, j):
                        link(i, j, verdict)
                    else:
                        possible.append((i, j, _sounds_alike(prepared[i], prepared[j])))

    # 4. shared phones, unless the number is a switchboard for many names; a landline
    #    written without its area code meets the landlines with that local part
    by_phone: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(prepared):
        for number in item.phones:
            by_phone[number].append(i)
        for local in item.local_keys:  # "L…" never meets a canonical number (digits)
            by_phone[f"L{local}"].append(i)
    for number, members in by_phone.items():
        if len(members) < 2:
            continue
        if number[0] == "L" and not any(prepared[i].bare_locals for i in members):
            continue  # only full landlines: their own numbers' buckets judge them
        cores = {key.core for i in members if (key := prepared[i].key) is not None}
        if len(cores) > SWITCHBOARD_NAMES:
            continue
        for i, j in combinations(members, 2):
            if number[0] == "L" and not share_phone(prepared[i], prepared[j]):
                continue
            verdict = judge(prepared[i], prepared[j], shared_phone=True)
            if verdict:
                link(i, j, SAME_PHONE)

    # 5. an English name from a business card against the Chinese names whose trade name
    #    reads the same (Shenzhen Jinhui Hardware / 深圳市金辉五金): grouped by a shared
    #    number, otherwise asked
    _english_names(prepared, uf, link, possible)

    if forced_last:
        before = [uf.find(i) for i in range(len(prepared))]
        for i, j, row in forced_last:
            if not uf.union(i, j, by_phone=True, forced=True):
                return None
            edges.append((i, MatchReason(MatchKind.RULED, ruling_row=row)))
        if possible is not None:  # a look-alike pair a ruling joined is not asked
            possible[:] = [
                (i, j, why)
                for i, j, why in possible
                if before[i] == before[j] or uf.find(i) != uf.find(j)
            ]
    return _collect(uf, edges)


def _homophone_buckets(prepared: Sequence[Item], heads: list[int]) -> list[list[int]]:
    """Step 3's buckets: each core (its first item in `heads`) under its trade name with
    one character replaced by how it sounds, plus its strong industry words; the buckets in
    the order their keys first occur, their members in the order of `heads`.

    Two cores share a bucket only if their whole trade names sound the same, so the
    per-character keys (one string and one bucket for each character of every name: most
    of the grouping's time at 100,000 rows) are made only for cores that share a whole
    sound with another; nearly every name in a register sounds like no other."""
    keyed: list[tuple[int, NameKey]] = []
    for order, head in enumerate(heads):
        key = prepared[head].key
        assert key is not None
        if key.strong and len(key.trade) >= 2:
            keyed.append((order, key))
    # the whole sound: each character replaced by its reading (the few thousand characters
    # the names use, looked up once for str.translate), then the strong words
    readings = {ord(c): sound(c) for c in set("".join(k.trade for _, k in keyed))}
    first_of: dict[str, int] = {}
    shared: set[str] = set()
    wholes: list[str] = []
    for order, key in keyed:
        whole = f"{key.trade.translate(readings)}|{'+'.join(key.strong)}"
        if first_of.setdefault(whole, order) != order:
            shared.add(whole)
        wholes.append(whole)
    buckets: dict[str, list[int]] = {}
    first: dict[str, tuple[int, int]] = {}  # where each key first occurs: (core, its nth key)
    for (order, key), whole in zip(keyed, wholes, strict=True):
        if whole in shared:
            for nth, bucket in enumerate(homophone_keys(key)):
                if bucket not in buckets:
                    buckets[bucket] = []
                    first[bucket] = (order, nth)
                buckets[bucket].append(heads[order])
    return [buckets[b] for b in sorted(buckets, key=first.__getitem__)]


def homophone_keys(key: NameKey) -> list[str]:
    """Step 3's keys of a name: its trade name with one character (not a Latin letter or a
    digit) replaced by how it sounds, then its strong industry words; none for a name
    without strong words or with a one-character trade name."""
    if not key.strong or len(key.trade) < 2:
        return []
    trade, strong = key.trade, "+".join(key.strong)
    return [
        f"{trade[:k]}|{sound(char)}|{trade[k + 1 :]}|{strong}"
        for k, char in enumerate(trade)
        if not char.isascii()
    ]


def _english_names(
    prepared: Sequence[Item],
    uf: _Clusters,
    link: _Link,
    possible: list[tuple[int, int, str]] | None,
) -> None:
    english = [i for i, item in enumerate(prepared) if item.english is not None]
    if not english:
        return
    by_sound: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(prepared):
        if item.key is not None and item.english is None:
            sound = trade_sound(item.key.trade)
            if sound:
                by_sound[sound].append(i)
    for i in english:
        name = prepared[i].english
        assert name is not None
        bucket = by_sound.get(name.sound, [])
        if len(bucket) > MAX_BUCKET:
            continue
        for j in bucket:
            other = prepared[j]
            assert other.key is not None
            if places_conflict(name.place, other.place):
                continue
            strong = frozenset(other.key.strong)
            if name.industries and strong and name.industries.isdisjoint(strong):
                continue  # Lianli Electronics is not 联力五金
            if uf.find(i) == uf.find(j):
                continue
            if agree(prepared[i], other):
                link(i, j, SAME_PHONE if share_phone(prepared[i], other) else SAME_CONTACT)
            elif possible is not None:
                phones = "电话不同" if prepared[i].phones and other.phones else "未填电话"
                why = f"英文名读音相同：{name.shown}/{other.key.trade}；{phones}"
                possible.append((i, j, why))


_REGISTERED = ("有限公司", "有限责任公司", "股份公司", "集团公司")


def _registered(key: NameKey | None) -> bool:
    """A name written as registered (有限公司, 股份有限公司), not a short name or a shop."""
    return key is not None and key.text.endswith(_REGISTERED)


def _two_registrations(prepared: Sequence[Item], members: list[int], i: int, top: int) -> bool:
    """Two registered names of one trade name where the shorter still names an industry
    (广州市金达机械股份有限公司 / 广东省金达精密机械股份有限公司) and no row of either
    shares a number with the other: likely two companies, so ask."""
    ki, kt = prepared[i].key, prepared[top].key
    if not (_registered(ki) and _registered(kt)) or ki is None or not ki.strong:
        return False
    assert kt is not None
    mine = [m for m in members if (k := prepared[m].key) is not None and k.core == ki.core]
    theirs = [m for m in members if (k := prepared[m].key) is not None and k.core == kt.core]
    return not any(agree(prepared[x], prepared[y]) for x in mine for y in theirs)


def _two_registrations_reason(a: Item, b: Item) -> str:
    ka, kb = a.key, b.key
    phones = "电话不同" if a.phones and b.phones else "未填电话"
    return f"行业词不同：{ka.core if ka else ''}/{kb.core if kb else ''}；{phones}"


def _sounds_alike(a: Item, b: Item) -> str:
    ta = a.key.trade if a.key else ""
    tb = b.key.trade if b.key else ""
    phones = "电话不同" if a.phones and b.phones else "未填电话"
    return f"读音相同：{ta}/{tb}；{phones}"


def _ambiguous_short(
    prepared: Sequence[Item],
    members: list[int],
    maximal: list[frozenset[str]],
    possible: list[tuple[int, int, str]],
) -> None:
    """A short name (格林) that fits two fuller ones (格林电子, 格林包装): ask, do not guess."""

    def strong(i: int) -> frozenset[str]:
        key = prepared[i].key
        return frozenset(key.strong) if key else frozenset()

    tops = [next(i for i in members if strong(i) == v) for v in maximal]
    for i in members:
        fits = [
            t
            for t, v in zip(tops, maximal, strict=True)
            if strong(i) < v and judge(prepared[i], prepared[t]) is not None
        ]
        if len(fits) > 1:
            key = prepared[i].key
            for top in fits:
                possible.append((i, top, f"简称「{key.text if key else ''}」可能指多家公司"))


def _link_same_core(
    prepared: Sequence[Item],
    members: list[int],
    link: _Link,
    possible: list[tuple[int, int, str]] | None = None,
) -> None:
    by_place: dict[str, list[int]] = defaultdict(list)
    for i in members:
        by_place[prepared[i].place].append(i)
    placed = [p for p in by_place if p]
    # merge places that do not conflict (广东 and 深圳: the same; 深圳 and 东莞: not)
    clusters: list[list[int]] = []
    for place in sorted(placed, key=len, reverse=True):
        for cluster in clusters:
            if not places_conflict(prepared[cluster[0]].place, place):
                cluster.extend(by_place[place])
                break
        else:
            clusters.append(list(by_place[place]))
    unplaced = by_place.get("", [])
    if len(clusters) <= 1:
        clusters = [(clusters[0] if clusters else []) + unplaced]
    elif unplaced:
        clusters.append(unplaced)  # ambiguous: which city's company? keep apart
    if possible is not None:
        for a, b in combinations(clusters, 2):
            pa, pb = prepared[a[0]].place, prepared[b[0]].place
            # a company often has its office in one city and its factory in the next;
            # the same name in two provinces is two companies (not asked)
            if pa and pb and pa[:2] == pb[:2] and not prepared[a[0]].phones & prepared[b[0]].phones:
                ka, kb = prepared[a[0]].key, prepared[b[0]].key
                where = f"：{ka.place}/{kb.place}" if ka and kb and ka.place and kb.place else ""
                possible.append((a[0], b[0], f"名称相同，地区不同{where}"))
    for cluster in clusters:
        for other in cluster[1:]:
            link(cluster[0], other, SAME_NAME)


def _collect(uf: _Clusters, edges: list[tuple[int, MatchReason]]) -> list[Group]:
    clusters: dict[int, list[int]] = defaultdict(list)
    for i in sorted(uf.touched):
        clusters[uf.find(i)].append(i)
    why: dict[int, list[MatchReason]] = defaultdict(list)
    for member, reason in edges:
        why[uf.find(member)].append(reason)
    groups = [
        Group(tuple(members), GroupReason.of(why[root])) for root, members in clusters.items()
    ]
    groups.sort(key=lambda g: g.members[0])
    return groups
