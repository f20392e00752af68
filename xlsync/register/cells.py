"""Parsing of single cell values into typed values.

Every parser returns a value or raises `CellError` with a short Chinese message; the
validator turns those into located problems. Nothing here knows about sheets or rows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

import phonenumbers

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

_SEPARATORS = re.compile(r"[,，;；/／、|\n\r]+|\s{2,}|或|及|和")
_EXTENSION = re.compile(r"(?:转|ext\.?|x|分机|-|－)\s*\d{1,5}\s*$", re.IGNORECASE)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0[1-9]\d{8,10}$")  # area code (3-4 digits incl. the 0) + 7-8 digits
_SERVICE = re.compile(r"^[48]00\d{7}$")  # 400 / 800 numbers
_LOCAL = re.compile(r"^[2-8]\d{6,7}$")  # a local number written without its area code
_MOBILE_RUN = re.compile(r"(?<!\d)1[3-9]\d(?:[\s\-]?\d){8}(?!\d)")


def _canonical_digits(digits: str, international: bool) -> str | None:
    """Map one number's digits to a canonical form, or None if it cannot be a phone.

    Canonical forms: mobile `13812345678`, landline with area code `075523456789`,
    service number `4008208820`, local number without area code `23456789`.
    """
    if digits.startswith("0086"):
        digits, international = digits[4:], True
    elif digits.startswith("86") and len(digits) in (12, 13) and international is False:
        rest = digits[2:]
        if _MOBILE.match(rest) or _LANDLINE.match("0" + rest):
            digits, international = rest, True
    if international and not digits.startswith(("0", "1")):
        digits = "0" + digits  # +86 755 ... drops the area code's leading zero
    if _MOBILE.match(digits) or _LANDLINE.match(digits) or _SERVICE.match(digits):
        return digits
    if _LOCAL.match(digits) and not international:
        return digits
    return None


def _canonical_one(chunk: str) -> str | None:
    international = chunk.lstrip().startswith("+")
    core = _EXTENSION.sub("", chunk) if len(_NON_DIGIT.sub("", chunk)) > 11 else chunk
    digits = _NON_DIGIT.sub("", core)
    result = _canonical_digits(digits, international)
    if result is None and core is not chunk:
        result = _canonical_digits(_NON_DIGIT.sub("", chunk), international)
    return result


_NON_DIGIT = re.compile(r"\D")
_PLAIN_NUMBER = re.compile(r"1[3-9]\d{9}|0[1-9]\d{8,10}")


@lru_cache(maxsize=65536)
def _parse_phone_text(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if _PLAIN_NUMBER.fullmatch(text):
        return (text,), ()  # the common case: one mobile or landline, digits only
    s = unicodedata.normalize("NFKC", text).strip()
    good: list[str] = []
    bad: list[str] = []
    for chunk in filter(None, (c.strip() for c in _SEPARATORS.split(s))):
        one = _canonical_one(chunk)
        if one is not None:
            good.append(one)
            continue
        # Several mobiles separated by single spaces, or numbers inside other words:
        # take the mobile-shaped runs, then let libphonenumber find what it can.
        found = [re.sub(r"\D", "", m.group(0)) for m in _MOBILE_RUN.finditer(chunk)]
        if not found:
            found = [
                _from_phonenumber(m.number)
                for m in phonenumbers.PhoneNumberMatcher(
                    chunk, "CN", leniency=phonenumbers.Leniency.VALID
                )
            ]
        found = [f for f in found if f]
        if found:
            good.extend(found)
        elif not re.search(r"\d", chunk) and len(good) > 0:
            continue  # a word such as a name next to a valid number: not a problem
        else:
            bad.append(chunk)
    return tuple(dict.fromkeys(good)), tuple(bad)


def _from_phonenumber(number: phonenumbers.PhoneNumber) -> str | None:
    if number.country_code != 86:
        return "+" + str(number.country_code) + str(number.national_number)
    national = str(number.national_number)
    return _canonical_digits(national, True)


def parse_phones(value: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Canonical phone numbers in a cell, and the parts that could not be read as one.

    Accepts mobiles and landlines with or without area code, +86/0086, spaces, dashes,
    brackets, extensions (转801), several numbers in one cell, and numbers stored as numbers.
    """
    if is_blank(value):
        return (), ()
    if isinstance(value, float | int) and not isinstance(value, bool):
        value = cell_text(value)
    return _parse_phone_text(str(value))


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


def parse_positive_int(value: object) -> int:
    """A setting such as 保护天数: a whole number of days, at least 1."""
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    text = re.sub(r"\s*(天|日|days?)$", "", text, flags=re.IGNORECASE)
    try:
        number = float(text)
    except ValueError:
        raise CellError("应为天数（正整数）") from None
    if not number.is_integer() or number < 1 or number > 36500:
        raise CellError("应为天数（正整数）")
    return int(number)
