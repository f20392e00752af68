"""xlsync.matching.sound answers what pypinyin answers, for every character it knows."""

from __future__ import annotations

import pytest
from pypinyin import lazy_pinyin

from xlsync.matching.sound import _readings, sound


def test_every_character_sounds_as_pypinyin_says() -> None:
    table = _readings()
    assert len(table) > 20_000
    wrong = [chr(int(c)) for c in table if sound(chr(int(c))) != lazy_pinyin(chr(int(c)))[0]]
    assert wrong == []


@pytest.mark.parametrize("char", ["鑫", "新", "绿", "女", "〇", "é", "ー", "あ", "🙂", "ß", "a"])
def test_samples(char: str) -> None:
    assert sound(char) == lazy_pinyin(char)[0]


def test_homophones_and_not() -> None:
    assert sound("鑫") == sound("新") == "xin"
    assert sound("绿") == "lv" != sound("路")
