"""How a Chinese character sounds, without tones: 鑫 -> xin, 绿 -> lv.

The same answer as `pypinyin.lazy_pinyin(char)[0]` (tests/test_sound.py compares every
character pypinyin knows), read from pypinyin's own single-character table: importing
pypinyin itself also loads its phrase dictionary and trains a segmenter, 0.3 s or more at
every start, for the one character at a time that matching asks about.
"""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from functools import cache
from pathlib import Path

_DIAERESIS = "\u0308"  # ü is written v, as pypinyin's NORMAL style does


@cache
def _readings() -> dict[str, str]:
    """pypinyin's pinyin_dict.json (decimal code point -> readings, most common first),
    found without running the package."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("xlsync needs pypinyin (pip install pypinyin)")
    path = Path(next(iter(spec.submodule_search_locations))) / "pinyin_dict.json"
    table: dict[str, str] = json.loads(path.read_text("utf-8"))
    return table


@cache  # a register's names use a few thousand distinct characters, each many times
def sound(char: str) -> str:
    """The first reading of `char` without its tone; a character with none is itself."""
    readings = _readings().get(str(ord(char))) if len(char) == 1 else None
    if readings is None:
        return char
    letters: list[str] = []
    for c in unicodedata.normalize("NFD", readings.split(",", 1)[0]):
        if not unicodedata.combining(c):
            letters.append(c)
        elif c == _DIAERESIS and letters:
            letters[-1] = "v"
    return "".join(letters)
