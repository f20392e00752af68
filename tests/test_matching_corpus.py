"""Tests of the matcher's labelled corpus: the evaluator's arithmetic and the generator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .matching_corpus import evaluate as ev
from .matching_corpus import gen_corpus as gen

CORPUS_DIR = Path(__file__).resolve().parent / "matching_corpus"


def rec(entity: str, name: str, phone: str = "") -> dict[str, Any]:
    return {"entity": entity, "name": name, "phone": phone}


# Entity A has three rows, B two, C one: 3 + 1 = 4 true pairs.
RECORDS = [
    rec("A", "深圳市格林电子科技有限公司", "13812345678"),
    rec("A", "格林电子"),
    rec("A", "格林電子", "138-1234-5678"),
    rec("B", "东莞格林电器", "0769-22334455"),
    rec("B", "东莞市格林电器有限公司"),
    rec("C", "华美印刷"),
]


def test_perfect_grouping() -> None:
    result = ev.evaluate([[0, 1, 2], [3, 4]], RECORDS)
    assert (result["precision"], result["recall"], result["f1"]) == (1.0, 1.0, 1.0)
    assert (result["tp"], result["fp"], result["fn"]) == (4, 0, 0)
    assert result["false_positives"] == result["false_negatives"] == []
    assert (result["records"], result["entities"], result["true_pairs"]) == (6, 3, 4)


def test_merging_two_entities_lowers_precision_exactly() -> None:
    # One group of A + B: 10 predicted pairs, of which 4 true.
    result = ev.evaluate([[0, 1, 2, 3, 4]], RECORDS)
    assert result["precision"] == pytest.approx(4 / 10)
    assert result["recall"] == 1.0
    assert result["f1"] == pytest.approx(2 * 0.4 / 1.4)
    assert result["fp"] == 6
    # B with C: 3 + 3 predicted pairs, 4 true.
    result = ev.evaluate([[0, 1, 2], [3, 4, 5]], RECORDS)
    assert result["precision"] == pytest.approx(4 / 6)
    assert {(e["a"], e["b"]) for e in result["false_positives"]} == {(3, 5), (4, 5)}


def test_splitting_an_entity_lowers_recall_exactly() -> None:
    result = ev.evaluate([[0, 1], [3, 4]], RECORDS)
    assert result["precision"] == 1.0
    assert result["recall"] == pytest.approx(2 / 4)
    assert result["f1"] == pytest.approx(2 / 3)
    assert {(e["a"], e["b"]) for e in result["false_negatives"]} == {(0, 2), (1, 2)}


def test_no_groups_and_no_true_pairs() -> None:
    result = ev.evaluate([], RECORDS)
    assert (result["precision"], result["recall"], result["f1"]) == (1.0, 0.0, 0.0)
    singles = [rec("A", "甲"), rec("B", "乙")]
    assert ev.evaluate([], singles)["recall"] == 1.0
    assert ev.evaluate([[0, 1]], singles)["precision"] == 0.0


def test_overlapping_groups_and_repeats_count_each_pair_once() -> None:
    result = ev.evaluate([[0, 1, 1], [1, 0, 2], [2]], RECORDS)
    assert (result["predicted_pairs"], result["tp"]) == (3, 3)


def test_index_out_of_range_is_an_error() -> None:
    with pytest.raises(ValueError):
        ev.evaluate([[0, 6]], RECORDS)
    with pytest.raises(ValueError):
        ev.evaluate([[-1, 0]], RECORDS)


def test_examples_are_ranked_and_described() -> None:
    records = [
        rec("A", "格林电子", "1"),
        rec("B", "格林电器", "2"),
        rec("C", "宏达五金", "3"),
        rec("D", "格林電子"),
        rec("D", "完全不同"),
    ]
    result = ev.evaluate([[0, 1, 2]], records, max_examples=2)
    fps = result["false_positives"]
    assert len(fps) == 2 and result["fp"] == 3
    assert fps[0]["similarity"] <= fps[1]["similarity"]  # least similar first
    assert fps[0]["entity_a"] != fps[0]["entity_b"]
    assert {"name_a", "phone_a", "name_b", "phone_b"} <= fps[0].keys()
    fn = result["false_negatives"]
    assert [(e["a"], e["b"]) for e in fn] == [(3, 4)]


def test_name_similarity_ignores_width_case_and_spaces() -> None:
    assert ev.name_similarity("ＧＲＥＥＮ 格林", "green格林") == 1.0
    assert ev.name_similarity("格林", "宏达") == 0.0


def test_load_corpus_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(RECORDS[0], ensure_ascii=False) + "\n\n", encoding="utf-8")
    assert ev.load_corpus(path) == [RECORDS[0]]


def test_generator_is_deterministic_and_matches_the_committed_files(tmp_path: Path) -> None:
    gen.main(tmp_path / "one")
    gen.main(tmp_path / "two")
    for name in ("corpus.jsonl", "hard_cases.jsonl"):
        first = (tmp_path / "one" / name).read_bytes()
        assert first == (tmp_path / "two" / name).read_bytes()
        assert first == (CORPUS_DIR / name).read_bytes(), (
            f"{name} is stale (or Faker/OpenCC changed): "
            "run python tests/matching_corpus/gen_corpus.py"
        )


@pytest.mark.parametrize("name", ["corpus.jsonl", "hard_cases.jsonl"])
def test_corpus_files_are_well_formed(name: str) -> None:
    records = ev.load_corpus(CORPUS_DIR / name)
    assert [r["id"] for r in records] == list(range(len(records)))
    for r in records:
        assert {"id", "entity", "name", "phone", "kind"} <= r.keys()
        assert r["name"].strip()
    if name == "hard_cases.jsonl":
        assert all(r["note"] for r in records)
    else:
        assert 2500 <= len(records) <= 3500
        assert 1000 <= len({r["entity"] for r in records}) <= 1400
