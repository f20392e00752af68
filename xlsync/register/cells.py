"""Parsing of single cell values into typed values.

Every parser returns a value or raises `CellError` with a short Chinese message; the
validator turns those into located problems. Nothing here knows about sheets or rows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from xlsync.register.schema import Status, norm_label


class CellError(ValueError):
    """A cell value that cannot be read as what its column needs."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_blank(value: object) -> bool:
    if type(value) is str:
        return not value or value.isspace()
    return value is None


def cell_text(value: object) -> str:
    """The value as a rep would read it in the cell (numbers without a trailing .0)."""
    if type(value) is str:  # by far the most common: first and fast
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def trim_grid(rows: list[list[str]]) -> list[list[str]]:
    """A grid of texts without trailing empty cells and rows: the comparable content of a
    sheet (a row whose last columns are empty ends before them, as the reader gives it)."""
    trimmed = [list(row) for row in rows]
    for row in trimmed:
        while row and not row[-1]:
            row.pop()
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return trimmed


# ---------------------------------------------------------------- dates

_EXCEL_EPOCH_1900 = dt.date(1899, 12, 30)
_EXCEL_EPOCH_1904 = dt.date(1904, 1, 1)
# Serial numbers that are plausible register dates (1960..2199); anything else in a date
# column is more likely a typo than a date.
_SERIAL_MIN, _SERIAL_MAX = 21916, 109573

_DATE_PATTERNS = (
    # 2026-10-03, 2026/10/3, 2026.10.3, 2026 10 3, optionally followed by a time
    re.compile(
        r"^(\d{4})\s*[-/.\s]\s*(\d{1,2})\s*[-/.\s]\s*(\d{1,2})(?:[\sT]+\d{1,2}:\d{2}(?::\d{2})?)?$"
    ),
    # 2026年10月3日 / 2026年10月3号
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$"),
    # 20261003
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: object, *, date1904: bool = False) -> dt.date | None:
    """A register date: a real Excel date, an Excel serial number, or text in the usual forms.

    Returns None for an empty cell; raises CellError for anything that is not a date.
    """
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise CellError("不是日期")
    if isinstance(value, int | float):
        number = float(value)
        if number.is_integer() and 19000101 <= number <= 21991231:
            return _parse_text_date(str(int(number)))
        if _SERIAL_MIN <= number <= _SERIAL_MAX:
            epoch = _EXCEL_EPOCH_1904 if date1904 else _EXCEL_EPOCH_1900
            return epoch + dt.timedelta(days=int(number))
        raise CellError("不是日期")
    if isinstance(value, dt.time | dt.timedelta):
        raise CellError("是时间，不是日期")
    return _parse_text_date(str(value))


@lru_cache(maxsize=8192)
def _parse_text_date(text: str) -> dt.date:
    s = unicodedata.normalize("NFKC", text).strip()
    for pattern in _DATE_PATTERNS:
        m = pattern.match(s)
        if m:
            year, month, day = (int(g) for g in m.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                raise CellError("日期不存在") from None
    raise CellError("不是日期（应写成 2026-10-03 或 2026/10/3）")


# ---------------------------------------------------------------- phones
#
# A phone cell is read as a sequence of *runs*: digit groups joined only by spaces, `-`,
# `.`, brackets and a leading `+`. Any other text (labels such as 手机： or Tel, notes such
# as （微信同号）, the separators / 、 ， ; and line breaks) ends a run. Each run must be
# read whole as one or more numbers, each optionally followed by an extension; a run that
# cannot be read whole is reported, never shortened into a partial number.
#
# Canonical forms (the matcher and the history compare these strings):
#   mobile                      13812345678
#   landline with area code     075523456789 (the trunk 0 kept; the extension dropped)
#   400/800 service number      4008208820
#   local number, no area code  23456789
#   a number outside China      +85223456789 (+, country code, national number)

_MOBILE = re.compile(r"1[3-9]\d{9}")
# 3-digit area codes are 010 and 02X, every other one has 4 digits; local numbers have
# 7 or 8 digits and never start with 0 or 1.
_LANDLINE = re.compile(r"0(?:10|2\d|[3-9]\d\d)[2-9]\d{6,7}")
_SERVICE = re.compile(r"[48]00\d{7}")
_LOCAL = re.compile(r"[2-8]\d{6,7}")  # a local number written without its area code
_PLAIN_NUMBER = re.compile(rf"{_MOBILE.pattern}|{_LANDLINE.pattern}")
# one run of ASCII digit groups, a `+` only at its start: 138-1234-5678, +86 755 8888 1234
_SIMPLE = re.compile(r"\(?(\+)?[0-9][0-9(). \-]*")
_NON_DIGIT = re.compile(r"[^0-9]")

_DASHES = dict.fromkeys(
    map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500\ufe58\ufe63"), "-"
)
_TOKEN = re.compile(
    r"(?P<digits>[0-9]+)"
    r"|(?P<plus>\+)"
    r"|(?P<ext>(?:转|分机号?|内线|(?<![a-z])(?:ext|x)(?![a-z])\.?|\#)[^\S\r\n]*:?)"
    r"|(?P<sep>(?:[^\S\r\n]|[-.()\[\]])+)"
    r"|(?P<text>.)",
    re.IGNORECASE | re.DOTALL,
)
_MAX_EXTENSION_AFTER_DASH = 5
_MAX_EXTENSION = 6


class PhoneMatch(NamedTuple):
    """One number found in a text: where it is written, and its canonical form."""

    start: int
    end: int
    number: str


class _Group(NamedTuple):
    digits: str  # "" for an extension marker (转, ext., 分机, #)
    start: int
    end: int
    plus: bool  # written right after a `+`
    dash: bool  # separated from the previous group by a `-`


@lru_cache(maxsize=1024)
def _norm_char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch).translate(_DASHES)
    return folded if len(folded) == 1 else ch


def _normalise(text: str) -> str:
    """Full-width digits and signs as ASCII, every dash as `-`; one character per character,
    so that positions in the result are positions in `text`."""
    if text.isascii():
        return text
    return "".join(map(_norm_char, text))


def _domestic(digits: str) -> str | None:
    if (
        _MOBILE.fullmatch(digits)
        or _LANDLINE.fullmatch(digits)
        or _SERVICE.fullmatch(digits)
        or _LOCAL.fullmatch(digits)
    ):
        return digits
    return None


def _after_86(rest: str) -> str | None:
    """The national number written after +86 / 0086 / 86, with or without a landline's
    trunk 0 (`+86 755 …` and `+86-0755-…` are the same number)."""
    if _MOBILE.fullmatch(rest) or _SERVICE.fullmatch(rest):
        return rest
    landline = rest if rest.startswith("0") else "0" + rest
    return landline if _LANDLINE.fullmatch(landline) else None


@lru_cache(maxsize=4096)
def _foreign(digits: str) -> str | None:
    """A number outside China (country code + national number), if libphonenumber knows
    it as valid."""
    import phonenumbers  # only for numbers outside China: 40 ms to import

    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code == 86 or not phonenumbers.is_valid_number(number):
        return None
    return f"+{number.country_code}{number.national_number}"


def _number(digits: str, plus: bool) -> str | None:
    """The canonical number for the digits of consecutive groups, or None."""
    if len(digits) > 17:
        return None
    if plus or digits.startswith("00"):
        digits = digits if plus else digits[2:]
        return _after_86(digits[2:]) if digits.startswith("86") else _foreign(digits)
    found = _domestic(digits)
    if found is None and digits.startswith("86"):
        found = _after_86(digits[2:])
    return found


def _takes_extension(number: str, *, dash: bool) -> bool:
    """An extension follows only a complete landline: after `-` a landline with its area
    code, after 转 / ext. / 分机 any landline or a 400/800 number. Never a mobile."""
    if number.startswith("0"):
        return True
    return not dash and bool(_LOCAL.fullmatch(number) or _SERVICE.fullmatch(number))


def _read_run(groups: list[_Group]) -> list[PhoneMatch] | None:
    """Read a run whole: the reading with the fewest numbers, then the fewest extensions."""
    n = len(groups)
    Reading = tuple[tuple[int, int], list[PhoneMatch]]  # (numbers, extensions), matches
    memo: dict[int, Reading | None] = {}

    def best(i: int) -> Reading | None:
        if i == n:
            return (0, 0), []
        if i in memo:
            return memo[i]
        memo[i] = None
        result: Reading | None = None
        first = groups[i]
        digits = ""
        for j in range(i, n):
            group = groups[j]
            if not group.digits or (j > i and group.plus):
                break
            digits += group.digits
            number = _number(digits, first.plus)
            if number is None:
                continue
            nexts = [(j + 1, 0)]
            if j + 1 < n:
                following = groups[j + 1]
                if (
                    following.digits
                    and following.dash
                    and len(following.digits) <= _MAX_EXTENSION_AFTER_DASH
                    and _takes_extension(number, dash=True)
                ):
                    nexts.append((j + 2, 1))  # 0755-88881234-801
                if (
                    not following.digits
                    and j + 2 < n
                    and groups[j + 2].digits
                    and not groups[j + 2].plus
                    and len(groups[j + 2].digits) <= _MAX_EXTENSION
                    and _takes_extension(number, dash=False)
                ):
                    nexts.append((j + 3, 1))  # 0755-88881234转801
            local = len(number) <= 8  # a local number only as the whole run: 8888 1234
            for k, extension in nexts:
                if local and (i > 0 or k < n):
                    continue
                rest = best(k)
                if rest is None:
                    continue
                cost = (rest[0][0] + 1, rest[0][1] + extension)
                if result is None or cost < result[0]:
                    result = cost, [PhoneMatch(first.start, group.end, number), *rest[1]]
        memo[i] = result
        return result

    found = best(0)
    return None if found is None else found[1]


class _Run(NamedTuple):
    groups: list[_Group]
    start: int  # where the run is written, a leading `+` included
    end: int
    note_tail: bool  # ends in a short group written against text (3点后打, 5楼)


def _runs(text: str) -> list[_Run]:
    """The runs of digit groups in a (normalised) text; see the comment above."""
    runs: list[_Run] = []
    groups: list[_Group] = []
    plus = -1  # where a `+` was written before the next group
    dash = False
    start = -1

    def close(at: int) -> None:
        nonlocal groups, start
        while groups and not groups[-1].digits:
            groups.pop()  # 转 with no number after it: part of a note (转采购)
        if groups:
            last = groups[-1]
            touching = (
                len(last.digits) <= 4 and at == last.end and at < len(text) and text[at].isalpha()
            )
            before = text[start - 1] if start > 0 else ""
            if len(groups) == 1 and len(last.digits) <= 4 and (touching or before.isalpha()):
                pass  # 第3次, 5楼: a small number inside a note, not a phone
            else:
                runs.append(_Run(groups, start, last.end, touching))
        groups, start = [], -1

    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "digits":
            if start < 0:
                start = plus if plus >= 0 else m.start()
            groups.append(_Group(m.group(), m.start(), m.end(), plus >= 0, dash and bool(groups)))
            plus, dash = -1, False
        elif kind == "plus":
            plus = m.start()
        elif kind == "sep":
            dash = dash or "-" in m.group()
        elif kind == "ext":
            if groups:
                groups.append(_Group("", m.start(), m.end(), False, False))
            dash = False
        else:
            close(m.start())
            plus, dash = -1, False
    close(len(text))
    return runs


def _find(text: str) -> tuple[list[PhoneMatch], list[str]]:
    found: list[PhoneMatch] = []
    bad: list[str] = []
    for run in _runs(_normalise(text)):
        numbers = _read_run(run.groups)
        if numbers is None and run.note_tail:
            numbers = _read_run(run.groups[:-1])
        if numbers is None:
            bad.append(text[run.start : run.end])
        else:
            found.extend(numbers)
    return found, bad


# characters that always end a run of digit groups, written between numbers in a list
_LIST_SEPARATOR = re.compile(r"[/、，,;；]")


def _one_run_number(part: str) -> str | None:
    """The one number a run of ASCII digit groups reads as whole, or None. That is the
    reading `_read_run` takes whenever there is one: it has the fewest numbers (one) and no
    extension."""
    simple = _SIMPLE.fullmatch(part)
    if simple is None:
        return None
    return _number(_NON_DIGIT.sub("", part), simple.group(1) is not None)


@lru_cache(maxsize=65536)
def _parse_phone_text(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if _PLAIN_NUMBER.fullmatch(text):
        return (text,), ()  # the common case: one mobile or landline, digits only
    number = _one_run_number(text)  # one run, no text, read whole: 138-1234-5678
    if number is not None:
        return (number,), ()
    if _LIST_SEPARATOR.search(text):  # 138…/0755-…: when every part reads whole, as above
        numbers: dict[str, None] = {}
        for part in _LIST_SEPARATOR.split(text):
            whole = _one_run_number(part.strip())
            if whole is None:
                break
            numbers[whole] = None
        else:
            return tuple(numbers), ()
    return _read_in_full(text)


def _read_in_full(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The general reader, run by run; the shortcuts above answer as it would."""
    found, bad = _find(text)
    if not found and not bad and text.strip():
        bad.append(text.strip())  # 电话待补, 暂无: no number at all
    return tuple(dict.fromkeys(m.number for m in found)), tuple(bad)


def parse_phones(value: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The phone numbers in a cell, canonical, and the parts that cannot be read whole.

    This is the one phone reader: the register, the matcher, `who` and the reports all
    call it. It accepts mobiles, landlines with or without area code, 400/800 numbers,
    digits grouped with spaces, `-`, `.` or dashes, +86 / 0086 / 86 / (+86) before a
    mobile or a landline (with or without its trunk 0), full-width digits, labels and notes
    around the numbers, several numbers in one cell, extensions after a landline
    (`-801`, `转801`, `ext. 801`, `分机 801`), and numbers stored as numbers.
    """
    if is_blank(value):
        return (), ()
    if isinstance(value, float | int) and not isinstance(value, bool):
        value = cell_text(value)
    return _parse_phone_text(str(value).strip())


def find_phones(text: str) -> tuple[PhoneMatch, ...]:
    """Every number `parse_phones` reads in `text`, with where it is written (for masking)."""
    return tuple(_find(text)[0])


def phone_problem(part: str, cell: str) -> str:
    """The Chinese message for a part of a phone cell that cannot be read whole."""
    if part == cell.strip():
        return "不是有效的电话号码"
    return f"「{part}」不是完整的电话号码"


# ---------------------------------------------------------------- status

_STATUS_WORDS: dict[str, Status] = {}
for _status, _words in {
    Status.PHONE: ("电话", "phone", "call", "电话联系", "已电话", "来电", "电联"),
    Status.VISITED: ("拜访", "visited", "visit", "已拜访", "上门"),
    Status.SAMPLED: ("送样", "sampled", "sample", "已送样", "寄样", "样品"),
    Status.COOPERATING: ("已合作", "cooperating", "合作", "合作中", "已成交", "成交", "won"),
}.items():
    for _word in _words:
        _STATUS_WORDS[norm_label(_word)] = _status


def parse_status(value: object) -> Status | None:
    """The status word of a row; None for an empty cell; CellError for an unknown word."""
    if is_blank(value):
        return None
    status = _STATUS_WORDS.get(norm_label(value))
    if status is None:
        raise CellError("未知状态（应为 电话、拜访、送样 或 已合作）")
    return status


def _whole_number(value: object, units: str, low: int, high: int, message: str) -> int:
    """A whole number between `low` and `high`, a unit word after it allowed (30天, 30个)."""
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    text = re.sub(rf"\s*({units})$", "", text, flags=re.IGNORECASE)
    try:
        number = float(text)
    except ValueError:
        raise CellError(message) from None
    if not number.is_integer() or number < low or number > high:
        raise CellError(message)
    return int(number)


def parse_positive_int(value: object) -> int:
    """A setting such as 保护天数: a whole number of days, at least 1."""
    return _whole_number(value, "天|日|days?", 1, 36500, "应为天数（正整数）")


def parse_count(value: object) -> int:
    """An office-rule setting such as 最多保护客户数 or 冷却天数: a whole number, 0 or more."""
    return _whole_number(
        value, "天|日|个|位|家|days?", 0, 1_000_000, "应为整数（0 或更大；留空表示不启用）"
    )
