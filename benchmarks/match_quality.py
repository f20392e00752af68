"""Match quality of xlsync.matching.find_groups on the labelled corpus.

    python benchmarks/match_quality.py [--limit 20]

Prints pairwise precision, recall and F1 on tests/matching_corpus/corpus.jsonl and on the
hand-written hard_cases.jsonl (evaluated separately), recall per variant tag, false
positives per look-alike family, the hard cases that fail, and the first false positives
and false negatives with their names, phones and the matcher's reason.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT / "tests" / "matching_corpus"
sys.path.insert(0, str(ROOT))


from tests.matching_corpus import evaluate as ev  # noqa: E402


def run_matcher(records: list[dict[str, Any]]) -> tuple[list[list[int]], dict[int, str], float]:
    """Groups, the reason of each grouped record, seconds taken."""
    from xlsync.matching import find_groups

    items = [(r["name"], [r["phone"]] if r["phone"] else []) for r in records]
    start = time.perf_counter()
    found = find_groups(items)
    seconds = time.perf_counter() - start
    groups = [list(g.members) for g in found]
    reasons = {i: g.reason.text() for g in found for i in g.members}
    return groups, reasons, seconds


def _row(name: str, phone: str) -> str:
    return f"{name!r} [{phone or '-'}]"


def print_examples(title: str, examples: list[dict[str, Any]], reasons: dict[int, str]) -> None:
    print(f"\n{title}")
    for e in examples:
        why = f"  <{reasons[e['a']]}>" if e["a"] in reasons else ""
        print(
            f"  {e['similarity']:.2f}  {_row(e['name_a'], e['phone_a'])} {e['entity_a']}"
            f"  ~  {_row(e['name_b'], e['phone_b'])} {e['entity_b']}{why}"
        )


def print_breakdown(records: list[dict[str, Any]], groups: list[list[int]]) -> None:
    truth = ev.true_pairs(records)
    predicted = ev.predicted_pairs(groups, len(records))
    total: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for a, b in truth:
        for tag in set(records[a].get("tags", [])) | set(records[b].get("tags", [])):
            total[tag] += 1
            found[tag] += (a, b) in predicted
    print("\nrecall by tag (true pairs where either row has the tag)")
    for tag, n in sorted(total.items(), key=lambda kv: found[kv[0]] / kv[1]):
        if not tag.startswith("hn_"):
            print(f"  {tag:16} {found[tag] / n:6.3f}  ({found[tag]}/{n})")

    fp_family: Counter[str] = Counter()
    for a, b in predicted - truth:
        ra, rb = records[a], records[b]
        related = (
            ra.get("like") == rb["entity"]
            or rb.get("like") == ra["entity"]
            or (ra.get("like") and ra.get("like") == rb.get("like"))
        )
        hn = [t for t in ra.get("tags", []) + rb.get("tags", []) if t.startswith("hn_")]
        fp_family[hn[0] if related and hn else "unrelated entities"] += 1
    print("\nfalse positives by look-alike family")
    for family, n in fp_family.most_common():
        print(f"  {family:20} {n}")


def print_hard_cases(records: list[dict[str, Any]], groups: list[list[int]]) -> None:
    predicted = ev.predicted_pairs(groups, len(records))
    by_case: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_case.setdefault(r["case"], []).append(i)
    failed = []
    for case, members in by_case.items():
        wrong = [
            (a, b)
            for i, a in enumerate(members)
            for b in members[i + 1 :]
            if ((a, b) in predicted) != (records[a]["entity"] == records[b]["entity"])
        ]
        if wrong:
            failed.append((case, records[members[0]]["note"], wrong))
    print(f"\nhard cases failed: {len(failed)} of {len(by_case)}")
    for case, note, wrong in failed:
        pairs = "; ".join(
            f"{_row(records[a]['name'], records[a]['phone'])} "
            f"{'=' if records[a]['entity'] == records[b]['entity'] else '≠'} "
            f"{_row(records[b]['name'], records[b]['phone'])}"
            for a, b in wrong
        )
        print(f"  {case} {note}\n       {pairs}")


def report(title: str, records: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    groups, reasons, seconds = run_matcher(records)
    result = ev.evaluate(groups, records, max_examples=limit)
    print(
        f"\n=== {title}: {result['records']} rows, {result['entities']} entities, "
        f"{len(groups)} groups found in {seconds:.2f}s"
    )
    print(
        f"precision {result['precision']:.4f}  recall {result['recall']:.4f}  F1 {result['f1']:.4f}"
    )
    print(
        f"true pairs {result['true_pairs']}  predicted {result['predicted_pairs']}  "
        f"tp {result['tp']}  fp {result['fp']}  fn {result['fn']}"
    )
    if "case" in records[0]:
        print_hard_cases(records, groups)
    else:
        print_breakdown(records, groups)
    print_examples(
        f"false positives ({result['fp']}), least similar names first",
        result["false_positives"],
        reasons,
    )
    print_examples(
        f"false negatives ({result['fn']}), most similar names first",
        result["false_negatives"],
        reasons,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20, help="examples to print per list")
    args = parser.parse_args()
    report("corpus", ev.load_corpus(CORPUS_DIR / "corpus.jsonl"), args.limit)
    report("hard cases", ev.load_corpus(CORPUS_DIR / "hard_cases.jsonl"), args.limit)


if __name__ == "__main__":
    main()
