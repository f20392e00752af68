"""Pairwise precision / recall of a predicted grouping against a labelled corpus.

A record is identified by its index in the `records` list (in the corpus files this equals
the `id` field). Two records are truly the same when they share `entity`; they are
predicted the same when some group contains both.
"""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path
from typing import Any

Pair = tuple[int, int]
MAX_RANKED = 50_000  # rank at most this many error pairs (all of them are still counted)


def load_corpus(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSONL corpus file: one record per non-empty line."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def true_pairs(records: list[dict[str, Any]]) -> set[Pair]:
    by_entity: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        by_entity[record["entity"]].append(i)
    return {pair for members in by_entity.values() for pair in combinations(members, 2)}


def predicted_pairs(groups: Iterable[Iterable[int]], n_records: int) -> set[Pair]:
    pairs: set[Pair] = set()
    for group in groups:
        members = sorted(set(group))
        if members and (members[0] < 0 or members[-1] >= n_records):
            raise ValueError(f"group {members} has an index outside 0..{n_records - 1}")
        pairs.update(combinations(members, 2))
    return pairs


def _light(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).lower().split())


def name_similarity(a: str, b: str) -> float:
    """0..1 similarity of two names after NFKC, lower case and removing whitespace."""
    return difflib.SequenceMatcher(None, _light(a), _light(b)).ratio()


def _examples(
    pairs: set[Pair], records: list[dict[str, Any]], limit: int, most_similar_first: bool
) -> list[dict[str, Any]]:
    ranked = []
    for i, j in sorted(pairs)[:MAX_RANKED]:
        a, b = records[i], records[j]
        ranked.append(
            {
                "a": i,
                "b": j,
                "similarity": round(name_similarity(a["name"], b["name"]), 3),
                "name_a": a["name"],
                "phone_a": a.get("phone", ""),
                "entity_a": a["entity"],
                "name_b": b["name"],
                "phone_b": b.get("phone", ""),
                "entity_b": b["entity"],
            }
        )
    sign = -1 if most_similar_first else 1
    ranked.sort(key=lambda e: (sign * e["similarity"], e["a"], e["b"]))
    return ranked[:limit]


def evaluate(
    groups: list[list[int]], records: list[dict[str, Any]], max_examples: int = 20
) -> dict[str, Any]:
    """Pairwise precision, recall and F1 of `groups`, with the worst errors.

    `false_positives` lists wrongly merged pairs, least similar names first (a merge of
    names that do not even look alike points at a bug); `false_negatives` lists missed pairs,
    most similar names first (the most obvious misses). Precision is 1.0 when nothing is
    predicted, recall 1.0 when there is nothing to find.
    """
    truth = true_pairs(records)
    predicted = predicted_pairs(groups, len(records))
    tp = len(truth & predicted)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "records": len(records),
        "entities": len({r["entity"] for r in records}),
        "true_pairs": len(truth),
        "predicted_pairs": len(predicted),
        "tp": tp,
        "fp": len(predicted) - tp,
        "fn": len(truth) - tp,
        "false_positives": _examples(predicted - truth, records, max_examples, False),
        "false_negatives": _examples(truth - predicted, records, max_examples, True),
    }


def evaluate_asked(
    groups: list[list[int]], asked: list[Pair], records: list[dict[str, Any]]
) -> dict[str, Any]:
    """Precision and recall of the "possible" tier: the pairs the matcher asks a person
    about instead of grouping (one pair per two groups, as 待确认 lists them).

    An asked pair stands for its two groups (a row alone is a group of one): answering
    同一客户 would join every row of one with every row of the other. Precision is the
    share of asked pairs that are one company; recall is the share of the true pairs the
    grouping missed that some asked pair covers; `combined_recall` counts a true pair found
    when it is grouped or asked.
    """
    truth = true_pairs(records)
    grouped = predicted_pairs(groups, len(records))
    group_of = list(range(len(records)))
    members: dict[int, list[int]] = {i: [i] for i in range(len(records))}
    for k, group in enumerate(groups):
        root = -1 - k
        members[root] = sorted(set(group))
        for i in group:
            members.pop(i, None)
            group_of[i] = root
    same = 0
    covered: set[Pair] = set()
    for a, b in asked:
        if records[a]["entity"] == records[b]["entity"]:
            same += 1
        for x in members[group_of[a]]:
            for y in members[group_of[b]]:
                pair = (min(x, y), max(x, y))
                if pair in truth and pair not in grouped:
                    covered.add(pair)
    missed = truth - grouped
    return {
        "asked": len(asked),
        "same": same,
        "precision": same / len(asked) if asked else 1.0,
        "missed_pairs": len(missed),
        "covered": len(covered),
        "recall": len(covered) / len(missed) if missed else 1.0,
        "combined_recall": (len(truth & grouped) + len(covered)) / len(truth) if truth else 1.0,
    }
