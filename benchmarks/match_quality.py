"""Match quality of xlsync's matcher on the labelled corpus, tier by tier.

    python benchmarks/match_quality.py [--limit 20]

The matcher runs as `check` runs it (xlsync.matching.group.group_items with the possible
tier): pairs it is sure of are grouped, look-alikes it is not sure of are asked in 待确认.
Prints, on tests/matching_corpus/corpus.jsonl and on the hand-written hard_cases.jsonl
(evaluated separately): pairwise precision, recall and F1 of the grouped tier; precision
and recall of the possible tier (the asked pairs, one per two groups as 待确认 lists them)
and the recall of both tiers together; recall per variant tag, false positives per
look-alike family, the hard cases that fail, the asked pairs, and the first false positives
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


def run_matcher(
    records: list[dict[str, Any]],
) -> tuple[list[list[int]], dict[int, str], float, list[tuple[int, int, str]]]:
    """Groups, the reason of each grouped record, seconds taken, and the asked pairs
    (one per two groups, never inside a group, as check lists them)."""
    from xlsync.matching.group import group_items, prepare

    items = prepare([(r["name"], [r["phone"]] if r["phone"] else []) for r in records])
    start = time.perf_counter()
    unsure: list[tuple[int, int, str]] = []
    found = group_items(items, possible=unsure)
    seconds = time.perf_counter() - start
    groups = [list(g.members) for g in found]
    reasons = {i: g.reason.text() for g in found for i in g.members}
    group_of = {i: k for k, g in enumerate(groups) for i in g}
    asked: list[tuple[int, int, str]] = []
    seen: set[frozenset[tuple[str, int]]] = set()
    for a, b, why in unsure:
        ga = ("g", group_of[a]) if a in group_of else ("r", a)
        gb = ("g", group_of[b]) if b in group_of else ("r", b)
        key = frozenset((ga, gb))
        if ga != gb and key not in seen:
            seen.add(key)
            asked.append((min(a, b), max(a, b), why))
    return groups, reasons, seconds, asked


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


def print_hard_cases(
    records: list[dict[str, Any]], groups: list[list[int]], asked: set[tuple[int, int]]
) -> None:
    """A case fails when a pair is grouped wrongly, or is one company and neither grouped
    nor asked (an asked pair of one company is what the possible tier is for)."""
    predicted = ev.predicted_pairs(groups, len(records)) | asked
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
            and (a, b) not in asked
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


def print_asked(
    records: list[dict[str, Any]], asked: list[tuple[int, int, str]], limit: int
) -> None:
    print(f"\nasked in 待确认 ({len(asked)}), first {min(limit, len(asked))}")
    for a, b, why in asked[:limit]:
        ra, rb = records[a], records[b]
        same = "=" if ra["entity"] == rb["entity"] else "≠"
        print(f"  {_row(ra['name'], ra['phone'])} {same} {_row(rb['name'], rb['phone'])}  <{why}>")


def report(title: str, records: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    groups, reasons, seconds, asked = run_matcher(records)
    result = ev.evaluate(groups, records, max_examples=limit)
    tier = ev.evaluate_asked(groups, [(a, b) for a, b, _ in asked], records)
    print(
        f"\n=== {title}: {result['records']} rows, {result['entities']} entities, "
        f"{len(groups)} groups found in {seconds:.2f}s"
    )
    print(
        f"grouped:  precision {result['precision']:.4f}  recall {result['recall']:.4f}  "
        f"F1 {result['f1']:.4f}"
    )
    print(
        f"          true pairs {result['true_pairs']}  predicted {result['predicted_pairs']}  "
        f"tp {result['tp']}  fp {result['fp']}  fn {result['fn']}"
    )
    print(
        f"possible: precision {tier['precision']:.4f} ({tier['same']} of {tier['asked']} asked "
        f"pairs are one company)  recall {tier['recall']:.4f} ({tier['covered']} of the "
        f"{tier['missed_pairs']} true pairs not grouped)"
    )
    print(f"both:     recall {tier['combined_recall']:.4f} (grouped or asked)")
    if "case" in records[0]:
        print_hard_cases(records, groups, {(a, b) for a, b, _ in asked})
    else:
        print_breakdown(records, groups)
    print_asked(records, asked, limit)
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
    result["possible"] = tier
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20, help="examples to print per list")
    args = parser.parse_args()
    report("corpus", ev.load_corpus(CORPUS_DIR / "corpus.jsonl"), args.limit)
    report("hard cases", ev.load_corpus(CORPUS_DIR / "hard_cases.jsonl"), args.limit)


if __name__ == "__main__":
    main()
