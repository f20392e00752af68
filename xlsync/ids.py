"""Row ids (`编号`): the one place that knows what an xlsync id looks like.

An xlsync id is `C` followed by digits, written with six (`C000123`). Anything else a rep
typed into 编号 (`C2026-0815`, `c12`, `A-7`) is kept as the rep's text but is not an
xlsync id: it neither raises the numbering nor is ever handed out.
"""

from __future__ import annotations

import re

ID_PREFIX = "C"
ID_DIGITS = 6

_ID_RE = re.compile(rf"^{ID_PREFIX}(\d+)$")


def format_id(number: int) -> str:
    """The id text for a number: 123 -> "C000123"."""
    return f"{ID_PREFIX}{number:0{ID_DIGITS}d}"


def id_number(id: str) -> int | None:
    """The number of an xlsync id ("C000123" -> 123), None for any other text
    ("C2026-0815", "c000123", "X1")."""
    match = _ID_RE.match(id.strip())
    return int(match.group(1)) if match else None
