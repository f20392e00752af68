"""Group rows that name the same customer: block cheaply, score inside blocks, union."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from xlsync.matching.normalize import NameKey, analyse
from xlsync.register.cells import parse_phones


@dataclass(frozen=True, slots=True)
class Group:
    members: tuple[int, ...]  # indexes into the items, ascending
    reason: str  # 名称相同 / 同一电话 / 名称相似 0.93, joined with "、"


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _phones_of(raw: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for text in raw:
        out.extend(parse_phones(text)[0])
    return tuple(dict.fromkeys(out))


def find_groups(items: Sequence[tuple[str, Sequence[str]]]) -> list[Group]:
    """Groups of two or more items (name, phones) that name the same customer."""
    keys: list[NameKey | None] = [analyse(name) if name.strip() else None for name, _ in items]
    phones = [_phones_of(p) for _, p in items]
    uf = _UnionFind(len(items))
    edges: list[tuple[int, str]] = []  # (a member, why it was linked)

    def link(a: int, b: int, reason: str) -> None:
        uf.union(a, b)
        edges.append((a, reason))

    by_core: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        if key is not None and len(key.core) >= 2:
            by_core[key.core].append(i)
    for members in by_core.values():
        for other in members[1:]:
            link(members[0], other, "名称相同")

    by_phone: dict[str, list[int]] = defaultdict(list)
    for i, numbers in enumerate(phones):
        for number in numbers:
            by_phone[number].append(i)
    for members in by_phone.values():
        for other in members[1:]:
            if _names_compatible(keys[members[0]], keys[other]):
                link(members[0], other, "同一电话")

    clusters: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        clusters[uf.find(i)].append(i)
    why: dict[int, set[str]] = defaultdict(set)
    for member, reason in edges:
        why[uf.find(member)].add(reason)
    groups: list[Group] = []
    for root, members in clusters.items():
        if len(members) < 2:
            continue
        found = sorted(why[root], key=_REASON_ORDER.index)
        groups.append(Group(tuple(members), "、".join(found)))
    groups.sort(key=lambda g: g.members[0])
    return groups


_REASON_ORDER = ["名称相同", "同一电话", "名称相似"]


def _names_compatible(a: NameKey | None, b: NameKey | None) -> bool:
    """A shared phone links two rows unless their names clearly name different companies."""
    if a is None or b is None:
        return True
    if a.strong and b.strong and set(a.strong).isdisjoint(b.strong):
        return False
    return a.trade == b.trade or a.trade in b.trade or b.trade in a.trade
