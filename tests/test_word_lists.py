"""The matcher's word lists and division list: package data files, clean and consistent."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from xlsync.matching import normalize
from xlsync.matching.normalize import analyse, data_lines, divisions, words

DATA = Path(normalize.__file__).parent / "data"
WORD_FILES = (
    "legal_forms.txt",
    "weak_words.txt",
    "business_words.txt",
    "strong_words.txt",
    "surnames.txt",
    "nations.txt",
)


@pytest.mark.parametrize("name", [*WORD_FILES, "divisions.tsv"])
def test_each_file_is_documented_and_has_no_repeats(name: str) -> None:
    text = (DATA / name).read_text("utf-8")
    assert text.startswith("# "), f"{name} needs a header saying what it is for"
    assert "xlsync.matching.normalize" in text.split("\n\n")[0], f"{name}: say where it is used"
    entries = data_lines(name)
    assert entries
    repeated = [w for w, n in Counter(entries).items() if n > 1]
    assert repeated == [], f"{name} lists these twice: {repeated}"
    assert all(" " not in w for w in entries if name != "divisions.tsv")


def test_no_word_is_in_two_lists_that_contradict_each_other() -> None:
    w = words()
    assert w.weak.isdisjoint(w.strong), "a word is both generic and telling"
    assert w.legal.isdisjoint(w.strong), "a legal form cannot tell companies apart"
    assert w.business <= w.weak, "business words are the generic words that still say a trade"
    # the one deliberate overlap, explained in weak_words.txt
    assert w.legal & w.weak == {"有限"}


def test_words_are_written_the_way_names_are_compared() -> None:
    # analyse compares after NFKC, casefold and (mostly) traditional -> simplified
    w = words()
    for word in w.legal | w.weak | w.strong:
        assert word == word.strip().casefold(), word
    assert all(len(s) == 1 for s in w.surnames)


def test_lists_keep_their_public_names() -> None:
    assert words().legal_forms == normalize.LEGAL_FORMS
    assert words().strong == normalize.STRONG_WORDS
    assert {"电线", "电缆"} <= normalize.STRONG_WORDS
    assert "科技" in normalize.WEAK_WORDS and "科技" in normalize.BUSINESS_WORDS
    assert "王" in normalize.SURNAMES
    with pytest.raises(AttributeError):
        _ = normalize.NO_SUCH_LIST


def test_lists_are_loaded_once() -> None:
    assert words() is words()
    assert divisions() is divisions()


def test_division_list_is_complete() -> None:
    records = data_lines("divisions.tsv")
    codes = [line.split("\t")[0] for line in records]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 12 and c.isdigit() for c in codes)
    top, districts = divisions()
    assert {"广东", "广东省", "深圳", "深圳市", "广西"} <= top
    assert {"南山区", "龙华区", "江城"} <= districts
    assert analyse("深圳市龙华区格林电子有限公司").trade == "格林"
    assert len(data_lines("nations.txt")) == 56


@pytest.mark.skipif(importlib.util.find_spec("cpca") is None, reason="cpca is not installed")
def test_division_list_matches_its_source() -> None:
    """The shipped copy is the one made from cpca 0.5.5 by scripts/make_division_data.py."""
    spec = importlib.util.find_spec("cpca")
    assert spec is not None and spec.submodule_search_locations
    source = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    if digest not in (DATA / "divisions.tsv").read_text("utf-8"):
        pytest.skip("a different cpca release is installed")
    rows = csv.DictReader(source.read_text("utf-8").splitlines())
    expected = {
        (r["adcode"], r["name"])
        for r in rows
        if len(r["name"]) >= 2 and r["name"] not in ("市辖区", "县", "省直辖县级行政区划")
    }
    shipped = {tuple(line.split("\t")) for line in data_lines("divisions.tsv")}
    assert shipped - expected == {
        ("440309000000", "龙华区"),
        ("440310000000", "坪山区"),
        ("440311000000", "光明区"),
    }
    assert expected <= shipped


def test_a_missing_data_file_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match=r"matching/data/nope\.txt"):
        data_lines("nope.txt")
