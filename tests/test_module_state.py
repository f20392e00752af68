"""No mutable module state: no module rebinds a global or fills a module-level container
at run time, no module holds a cache of its own, and the grouping cache a sync uses is its
Workspace's (a plain check makes its own)."""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest

import xlsync
from tests.helpers import ROSTER, customer, write_register
from xlsync.check import GroupingCache, run_check
from xlsync.sync import sync
from xlsync.workspace import RecordedSnapshots, Workspace

PACKAGE = Path(xlsync.__file__).parent
MUTATORS = {"append", "add", "update", "setdefault", "pop", "popitem", "clear", "extend",
            "insert", "remove", "discard"}  # fmt: skip
CONTAINERS = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp, ast.Call)


def _module_state_writes(source: str) -> list[str]:
    """Where a function changes module state: `global`, or a module-level dict / list /
    set (or an object made at import) mutated or assigned into."""
    tree = ast.parse(source)
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, CONTAINERS):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.value, CONTAINERS)
            and isinstance(node.target, ast.Name)
        ):
            names.add(node.target.id)
    found: list[str] = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        local = {a.arg for a in func.args.args + func.args.kwonlyargs}
        for node in ast.walk(func):
            if isinstance(node, ast.Global):
                found.append(f"{node.lineno}: global {', '.join(node.names)}")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in names - local
                and node.func.attr in MUTATORS
            ):
                found.append(f"{node.lineno}: {node.func.value.id}.{node.func.attr}()")
            elif isinstance(node, ast.Assign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if (
                        isinstance(t, ast.Subscript | ast.Attribute)
                        and isinstance(t.value, ast.Name)
                        and t.value.id in names - local
                    ):
                        found.append(f"{node.lineno}: {t.value.id}[...] =")
    return found


def test_the_detector_finds_module_state() -> None:
    source = (
        "CACHE = {}\nSEEN: list[int] = []\nflag = False\n"
        "def f(x):\n    CACHE[x] = 1\n    SEEN.append(x)\n"
        "def g():\n    global flag\n    flag = True\n"
        "def h(CACHE):\n    CACHE.update({})\n"
    )
    assert _module_state_writes(source) == ["5: CACHE[...] =", "6: SEEN.append()", "8: global flag"]


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_no_function_changes_module_state(path: Path) -> None:
    assert _module_state_writes(path.read_text("utf-8")) == [], path


def test_no_module_holds_a_cache_or_snapshots() -> None:
    held: list[str] = []
    for info in pkgutil.walk_packages(xlsync.__path__, "xlsync."):
        if info.name.endswith("__main__"):
            continue  # runs the command line
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, GroupingCache | RecordedSnapshots | Workspace):
                held.append(f"{info.name}.{name}")
    assert held == []


def test_a_sync_groups_with_its_workspaces_cache_and_a_check_with_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_register(
        tmp_path / "r.xlsx",
        [customer(customer="格林电子", rep="张伟", visited=dt.date(2026, 10, 5), status="拜访"),
         customer(customer="格林电子有限公司", rep="王芳", status="电话",
                  contacted=dt.date(2026, 10, 20))],
        roster=ROSTER,
    )  # fmt: skip
    used: list[GroupingCache] = []
    real = GroupingCache.groups

    def spy(self: GroupingCache, *args: Any) -> Any:
        used.append(self)
        return real(self, *args)

    monkeypatch.setattr(GroupingCache, "groups", spy)
    ws = Workspace.of(path)
    as_of = dt.date(2026, 11, 1)
    sync(path, as_of, workspace=ws)
    sync(path, as_of, workspace=ws)
    assert used and all(cache is ws.grouping for cache in used)
    used.clear()
    run_check(path, as_of)
    run_check(path, as_of)
    assert len(used) == 2 and used[0] is not used[1] and ws.grouping not in used
    assert Workspace.of(path).grouping is not ws.grouping
