"""One answer to "may I call this customer?", whoever asks: `who`, the blackboard's search
box and the web look-up all resolve a query here.

The register side is prepared once from a check: every customer (a duplicate group, or a
single row) with its rows, the check's decision and its match keys. The query side is kept
deliberately simple and portable, so that the blackboard page (plain JavaScript, opened from
the shared folder) can run exactly the same steps on the same data:

1. A query made only of digits and phone punctuation is a phone query. Its digits lose an
   international prefix (``+86``, ``0086``) and an extension, and match a customer whose
   number is the same, or whose landline ends with it (a local number typed without its
   area code).
2. Otherwise the query becomes one name key (:func:`query_key`): width, case, traditional
   characters, brackets, punctuation, legal forms and generic words at the end, places at
   the front. A customer whose keys hold it is the same customer.
3. Nothing certain: customers whose key contains the query key, is contained in it, or is
   close to it (rapidfuzz's ``ratio``, at least :data:`MAYBE_SCORE`) are look-alikes to
   check, never a verdict.

`templates/board.html` implements steps 1 to 3 in JavaScript; `tests/test_lookup_board.py`
runs the same queries through both and compares the answers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from xlsync.records import Row
from xlsync.rules import Decision, Verdict, call_verdict, decide

if TYPE_CHECKING:
    from xlsync.check import CheckResult

MAYBE_SCORE = 70  # name similarity (0-100) from which a customer is worth checking
MAYBE_LIMIT = 8
MIN_KEY = 2  # a name key shorter than this matches nothing
MIN_PHONE_DIGITS = 7

_PHONE_QUERY = re.compile(r"^[\d\s+\-()（）.,，/#*—－~]+(?:(?:转|ext\.?|分机|x)\s*\d{1,5})?$", re.I)
_EXTENSION = re.compile(r"(?:转|ext\.?|分机|x)\s*\d{1,5}$", re.I)
_BRACKETED = re.compile(r"[(\[{【〔《<][^()\[\]{}【】〔〕《》<>]*[)\]}】〕》>]")
_NON_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_WORD = re.compile(r"[0-9a-z\u3400-\u9fff]")


class Tier(StrEnum):
    SAME = "same"  # certainly this customer
    MAYBE = "maybe"  # a look-alike to check


class Why(StrEnum):
    PHONE = "phone"
    LOCAL_PHONE = "local_phone"  # a landline typed without its area code
    NAME = "name"
    CONTAINS = "contains"
    SIMILAR = "similar"


WHY_LABELS: dict[Why, str] = {
    Why.PHONE: "电话相同",
    Why.LOCAL_PHONE: "电话相同（未含区号）",
    Why.NAME: "名称相同",
    Why.CONTAINS: "名称包含",
    Why.SIMILAR: "名称相近",
}

NO_NAME = "（未填客户名称）"  # a row found by its phone only
CHECK_FIRST = "请先核对：登记表中有名称相近的客户，确认不是同一客户后再联系"


class Answer(StrEnum):
    FREE = "free"  # 可以联系
    STOP = "stop"  # 请勿联系
    CHECK = "check"  # only look-alikes: check them first


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer as the register knows it: its rows, who owns it, how it is found."""

    index: int
    name: str  # as a rep wrote it: the owner's spelling, or the fullest
    decision: Decision
    keys: tuple[str, ...]  # name keys, each at least MIN_KEY long
    phones: tuple[str, ...]  # canonical numbers (digits)
    agent: str = ""  # served by this agent (代理商), when listed
    suggestion: str = ""  # a freed customer's next rep by the 分配规则: 销售二部 王芳
    ruled: str = ""  # the 同一客户 rulings that joined its rows: 经理裁定为同一客户（裁决第 5 行）

    def verdict(self, rep: str | None = None) -> str:
        said = call_verdict(self.decision.owner, rep, self.decision.agent, self.suggestion)
        return f"{said}；{self.ruled}" if self.ruled and not self.decision.agent else said

    def stops(self, rep: str | None = None) -> bool:
        if self.decision.agent:
            return True  # an agent's customer: nobody calls
        owner = self.decision.owner
        return owner is not None and not (rep is not None and owner.row.rep == rep)


@dataclass(frozen=True, slots=True)
class Hit:
    customer: Customer
    tier: Tier
    why: Why
    score: float  # 0-100


@dataclass(slots=True)
class LookupAnswer:
    query: str
    phone: str
    same: list[Hit] = field(default_factory=list)
    maybe: list[Hit] = field(default_factory=list)
    key: str = ""  # the query's name key ("" for a phone query)
    digits: str = ""  # the query's phone digits

    def deciding(self, rep: str | None = None) -> Customer | None:
        """The customer whose owner stops this rep (the first found), if any."""
        for hit in self.same:
            if hit.customer.stops(rep):
                return hit.customer
        return None

    def may_call(self, rep: str | None = None) -> bool:
        return self.deciding(rep) is None

    def answer(self, rep: str | None = None) -> Answer:
        if self.deciding(rep) is not None:
            return Answer.STOP
        if not self.same and self.maybe:
            return Answer.CHECK
        return Answer.FREE

    def verdict(self, rep: str | None = None) -> str:
        deciding = self.deciding(rep)
        if deciding is not None:
            return deciding.verdict(rep)
        if self.same:
            return self.same[0].customer.verdict(rep)
        if self.maybe:
            return CHECK_FIRST
        return call_verdict(None, rep)


# ------------------------------------------------------------------ the query side


@cache
def t2s_map() -> dict[str, str]:
    """Traditional -> simplified, character by character (OpenCC's t2s), for the CJK block."""
    import opencc

    chars = [chr(c) for c in range(0x4E00, 0xA000)]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # a phrase rule joined lines: fall back char by char
        conv = opencc.OpenCC("t2s")
        converted = [conv.convert(c) for c in chars]
    return {t: s for t, s in zip(chars, converted, strict=True) if len(s) == 1 and s != t}


@cache
def _t2s_table() -> dict[int, str]:
    """`t2s_map` for `str.translate`."""
    return {ord(t): s for t, s in t2s_map().items()}


@cache
def _word_lists() -> tuple[tuple[str, ...], frozenset[str], tuple[str, ...]]:
    from xlsync.matching.normalize import divisions, words

    lists = words()
    tails = tuple(sorted(lists.legal | lists.weak, key=lambda w: (-len(w), w)))
    top, _districts = divisions()
    places = tuple(sorted(top, key=lambda w: (-len(w), w)))
    return tails, frozenset(places), places


@cache
def _tails_by_end() -> dict[str, tuple[str, ...]]:
    """The tails (longest first) by their last character: a name is tried only against
    those it can end with, in the same order."""
    tails, _set, _places = _word_lists()
    return {end: tuple(w for w in tails if w[-1] == end) for end in {w[-1] for w in tails}}


def search_words() -> dict[str, object]:
    """What the blackboard's script needs to compute :func:`query_key` the same way."""
    tails, _set, places = _word_lists()
    return {"tails": list(tails), "places": list(places), "t2s": t2s_map()}


def query_key(text: str) -> str:
    """The name key of a query (and of every register name, beside the matcher's core)."""
    s = unicodedata.normalize("NFKC", text).lower().strip()
    s = s.translate(_t2s_table())
    bare = _BRACKETED.sub("", s)
    if _WORD.search(bare):
        s = bare
    s = _NON_WORD.sub("", s)
    _tails, places, ordered = _word_lists()
    by_end = _tails_by_end()
    changed = True
    while changed and s:
        changed = False
        for word in by_end.get(s[-1], ()):
            if len(s) - len(word) >= MIN_KEY and s.endswith(word):
                s = s[: -len(word)]
                changed = True
                break
    longest = len(ordered[0]) if ordered else 0  # `ordered` is longest first
    changed = True
    while changed:
        changed = False
        for n in range(min(longest, len(s) - MIN_KEY), 1, -1):
            if s[:n] in places:
                s = s[n:]
                changed = True
                break
    return s


def is_phone_query(text: str) -> bool:
    t = unicodedata.normalize("NFKC", text).strip()
    return bool(_PHONE_QUERY.match(t)) and sum(ch.isdigit() for ch in t) >= MIN_PHONE_DIGITS


def query_digits(text: str) -> str:
    """A phone query's digits: no international prefix, no extension."""
    t = unicodedata.normalize("NFKC", text).strip()
    t = _EXTENSION.sub("", t)
    digits = "".join(ch for ch in t if ch.isdigit())
    plus = t.startswith("+")
    if digits.startswith("0086"):
        digits, plus = digits[4:], True
    elif digits.startswith("86") and (plus or len(digits) >= 12):
        digits, plus = digits[2:], True
    mobile = len(digits) == 11 and digits[0] == "1"
    if plus and digits and digits[0] != "0" and not mobile:
        digits = "0" + digits  # +86 755 8888 1234, +86 10 6234 5678: a landline, no trunk 0
    return digits


def phone_match(query: str, number: str) -> Why | None:
    if not query or len(query) < MIN_PHONE_DIGITS:
        return None
    if query == number:
        return Why.PHONE
    if len(query) <= 8 and number.startswith("0") and number.endswith(query):
        return Why.LOCAL_PHONE
    return None


def similarity(a: str, b: str) -> float:
    """rapidfuzz's ratio: 200 * LCS / (len a + len b) for this alphabet-free use."""
    return float(fuzz.ratio(a, b))


# ------------------------------------------------------------------ the register side


class LookupIndex:
    """Every customer of a checked register set, ready to be asked.

    `find` first narrows the customers to those that can match (a dictionary of numbers,
    of landline tails and of name keys; a substring search over the keys; rapidfuzz's
    batch scorer for the look-alikes), then judges each candidate exactly as a full scan
    would (`find_all` is that scan, kept as the reference the tests compare against). The
    web look-up asks tens of times a second: on 10,000 rows the scan takes ~12 ms a query,
    the narrowed search about a millisecond."""

    def __init__(self, customers: Sequence[Customer]) -> None:
        self.customers = list(customers)
        self._narrow: _Narrowing | None = None

    @classmethod
    def from_check(cls, result: CheckResult, *, others: bool = False) -> LookupIndex:
        """Every customer of a check; with `others`, also the other offices' rows the check
        fetched that are not grouped with this office's rows (`who` asks for them)."""

        grouped: set[int] = set()
        built: list[Customer] = []
        days = result.registers.settings.protection_days
        # groups, then the single rows a manager's 指派 / 释放 or an office rule decided
        from xlsync.rulings import ruled_reason

        for group in [*result.groups, *result.ruled, *result.limited]:
            grouped.update(id(r) for r in group.rows)
            found = _customer(len(built), group.rows, group.decision, group.name,
                              _suggested(result, group.rows))  # fmt: skip
            built.append(replace(found, ruled=ruled_reason(group.reason)))
        for row in [*result.rows, *(result.others if others else ())]:
            if id(row) in grouped or not (row.customer or row.phones):
                continue
            decision = decide([row], days, result.as_of)
            built.append(_customer(len(built), [row], decision, display_name([row]),
                                   _suggested(result, [row])))  # fmt: skip
        return cls(built)

    def prepare(self) -> LookupIndex:
        """Build the narrowing tables now (else on the first `find`); returns self."""
        if self._narrow is None:
            self._narrow = _Narrowing(self.customers)
        return self

    def find(self, text: str, phone: str | None = None) -> LookupAnswer:
        narrow = self.prepare()._narrow
        assert narrow is not None
        return self._find(text, phone, narrow)

    def find_all(self, text: str, phone: str | None = None) -> LookupAnswer:
        """`find` by looking at every customer (the reference for `find`)."""
        return self._find(text, phone, None)

    def _find(self, text: str, phone: str | None, narrow: _Narrowing | None) -> LookupAnswer:
        text = text.strip()
        answer = LookupAnswer(text, phone or "")
        phone_queries = [q for q in (text, phone or "") if q and is_phone_query(q)]
        digits = [query_digits(q) for q in phone_queries]
        answer.digits = digits[0] if digits else ""
        name = "" if text in phone_queries else text
        key = query_key(name) if name else ""
        answer.key = key
        everyone = range(len(self.customers))
        same: dict[int, Hit] = {}
        for i in everyone if narrow is None else narrow.same(digits, key):
            c = self.customers[i]
            for d in digits:
                for number in c.phones:
                    why = phone_match(d, number)
                    if why is not None and c.index not in same:
                        same[c.index] = Hit(c, Tier.SAME, why, 100.0)
            if len(key) >= MIN_KEY and key in c.keys and c.index not in same:
                same[c.index] = Hit(c, Tier.SAME, Why.NAME, 100.0)
        answer.same = list(same.values())
        if len(key) >= MIN_KEY:
            maybe: list[Hit] = []
            for i in everyone if narrow is None else narrow.maybe(key):
                c = self.customers[i]
                if c.index in same:
                    continue
                best: Hit | None = None
                for k in c.keys:
                    if key in k or k in key:
                        hit = Hit(c, Tier.MAYBE, Why.CONTAINS, 60.0 + min(len(k), len(key), 30))
                    else:
                        score = similarity(key, k)
                        if score < MAYBE_SCORE:
                            continue
                        hit = Hit(c, Tier.MAYBE, Why.SIMILAR, score)
                    if best is None or hit.score > best.score:
                        best = hit
                if best is not None:
                    maybe.append(best)
            maybe.sort(key=lambda h: (-h.score, not h.customer.stops(), h.customer.index))
            answer.maybe = maybe[:MAYBE_LIMIT]
        return answer


def _suggested(result: CheckResult, rows: Sequence[Row]) -> str:
    found = result.suggestion_for(rows)
    return found.text() if found is not None else ""


class _Narrowing:
    """Which customers (positions in the index) can possibly match a query: a superset of
    those the full scan finds, in ascending order, so that judging only them gives the same
    answer in the same order."""

    _SEP = "\x00"  # never in a key (keys are letters, digits and CJK only)

    def __init__(self, customers: Sequence[Customer]) -> None:
        self.numbers: dict[str, list[int]] = {}
        self.tails: dict[str, list[int]] = {}  # last 7 or 8 digits of a landline
        self.by_key: dict[str, list[int]] = {}
        keys: list[str] = []
        self.owner_of_key: list[int] = []
        for i, c in enumerate(customers):
            for number in c.phones:
                self.numbers.setdefault(number, []).append(i)
                if number.startswith("0"):
                    for n in range(MIN_PHONE_DIGITS, 9):
                        if len(number) >= n:
                            self.tails.setdefault(number[-n:], []).append(i)
            for k in c.keys:
                self.by_key.setdefault(k, []).append(i)
                keys.append(k)
                self.owner_of_key.append(i)
        self.keys = keys
        self.text = self._SEP.join(keys)
        self.shared = _SharedCharacters(keys) if _numpy() is not None else None
        self.starts: list[int] = []
        at = 0
        for k in keys:
            self.starts.append(at)
            at += len(k) + 1

    def same(self, digits: Sequence[str], key: str) -> list[int]:
        found: set[int] = set()
        for d in digits:
            found.update(self.numbers.get(d, ()))
            if len(d) <= 8:
                found.update(self.tails.get(d, ()))
        if len(key) >= MIN_KEY:
            found.update(self.by_key.get(key, ()))
        return sorted(found)

    def maybe(self, key: str) -> list[int]:
        from bisect import bisect_right

        from rapidfuzz import process

        found: set[int] = set()
        at = self.text.find(key)  # register keys that contain the query key
        while at >= 0:
            k = bisect_right(self.starts, at) - 1
            found.add(self.owner_of_key[k])
            at = self.text.find(key, self.starts[k] + len(self.keys[k]) + 1)
        for n in range(MIN_KEY, len(key) + 1):  # register keys the query key contains
            for s in range(len(key) - n + 1):
                found.update(self.by_key.get(key[s : s + n], ()))
        # look-alikes: the same scorer, in batch, over the keys that can reach the score
        at_all = self.shared.candidates(key) if self.shared is not None else None
        keys = self.keys if at_all is None else [self.keys[k] for k in at_all]
        for _k, _score, k in process.extract(
            key, keys, scorer=fuzz.ratio, score_cutoff=MAYBE_SCORE, limit=None
        ):
            found.add(self.owner_of_key[k if at_all is None else at_all[k]])
        return sorted(found)


def _numpy() -> object | None:
    """numpy when installed (`xlsync[serve]` brings it), else None: the look-alike search
    then scores every key, with the same answer."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


class _SharedCharacters:
    """Which keys share enough characters with a query to reach MAYBE_SCORE.

    rapidfuzz's ratio is 200 × LCS / (len a + len b), and the longest common subsequence
    is at most the number of characters the two have in common, counted with repeats. So a
    key can score MAYBE_SCORE only if 200 × common ≥ MAYBE_SCORE × (len a + len b): the
    keys that fail this are left out before scoring (at 10,000 rows, all but a handful),
    and the scorer still decides for the rest."""

    def __init__(self, keys: Sequence[str]) -> None:
        import numpy as np

        postings: dict[tuple[str, int], list[int]] = {}
        for i, k in enumerate(keys):
            for token in _tokens(k):
                postings.setdefault(token, []).append(i)
        self.postings = {t: np.array(ids, dtype=np.int32) for t, ids in postings.items()}
        self.lengths = np.array([len(k) for k in keys], dtype=np.int64)
        self.count = len(keys)

    def candidates(self, key: str) -> list[int]:
        import numpy as np

        hits = [self.postings[t] for t in _tokens(key) if t in self.postings]
        if not hits:
            return []
        common = np.bincount(np.concatenate(hits), minlength=self.count)
        enough = 200 * common >= MAYBE_SCORE * (self.lengths + len(key))
        return [int(i) for i in np.flatnonzero(enough)]


def _tokens(text: str) -> list[tuple[str, int]]:
    """Each character with how many times it came before: two texts share as many tokens
    as they have characters in common, counted with repeats."""
    seen: dict[str, int] = {}
    out: list[tuple[str, int]] = []
    for ch in text:
        seen[ch] = seen.get(ch, 0) + 1
        out.append((ch, seen[ch]))
    return out


def _customer(
    index: int, rows: Sequence[Row], decision: Decision, name: str, suggestion: str = ""
) -> Customer:
    from xlsync.matching import analyse

    keys: list[str] = []
    phones: list[str] = []
    for row in rows:
        if row.customer:
            keys.append(query_key(row.customer))
            keys.append(analyse(row.customer).core)
        phones.extend(row.phones)
    clean = tuple(k for k in dict.fromkeys(keys) if len(k) >= MIN_KEY)
    return Customer(
        index, name, decision, clean, tuple(dict.fromkeys(phones)), suggestion=suggestion
    )


def display_name(rows: Iterable[Row], owner_row: Row | None = None) -> str:
    """A customer's name as a rep wrote it: the owner's spelling, else the fullest one."""
    if owner_row is not None and owner_row.customer:
        return str(owner_row.customer)
    names = [r.customer for r in rows if r.customer]
    if not names:
        return NO_NAME
    return str(max(names, key=lambda n: (len(n), n)))


__all__ = [
    "CHECK_FIRST",
    "WHY_LABELS",
    "Answer",
    "Customer",
    "Hit",
    "LookupAnswer",
    "LookupIndex",
    "Tier",
    "Verdict",
    "Why",
    "display_name",
    "query_key",
]
