"""A warm watcher answers as a cold one.

The watcher keeps its workspace warm between saves (the grouping cache with every row's
prepared item, the last sync that changed nothing, see `xlsync.warm`), and its process keeps
the memos of pure functions (name keys, phone readings, sounds). Whatever a rep does between
two saves, the check a watcher's sync judged by must be exactly what `xlsync check --json`
prints in a fresh process for the register as the rep saved it; and a save that changes
nothing xlsync reads must give the same answer again without judging anew."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet

from xlsync.check import check_json, run_check
from xlsync.register.reader import read_register
from xlsync.sync import SyncOutcome
from xlsync.warm import changed_nothing, package_parts
from xlsync.watch import WatchConfig, Watcher

from .conftest import examples
from .data_gen import make_register
from .helpers import run_cli

AS_OF = dt.date(2026, 11, 1)


def _text(data: dict[str, object]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _cold(folder: Path) -> str:
    """`xlsync check --json` of the folder, in a fresh process."""
    cold = run_cli("check", folder, "--json", "--as-of", AS_OF.isoformat())
    assert cold.code in (0, 1), cold.stderr
    return cold.stdout


def _touch(path: Path, number: int) -> None:
    """A save that changes nothing xlsync reads: Excel rewrites the document properties
    (who saved, when) and the package around them."""
    temp = path.with_name(f"~{number:06d}.tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = data.replace(
                    b"</cp:coreProperties>", f"<!-- save {number} --></cp:coreProperties>".encode()
                )
            out.writestr(info, data)
    os.replace(temp, path)


# -- the edits a rep or a manager makes between two saves ---------------------------------


class Book:
    """A register opened with openpyxl, its 跟进中 columns and customer rows found."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.book = openpyxl.load_workbook(path)
        self.sheet: Worksheet = self.book["跟进中"]
        header = next(
            r for r in range(1, 30) if any(c.value == "客户名称" for c in self.sheet[r] if c.value)
        )
        self.cols = {str(c.value): c.column for c in self.sheet[header] if c.value}
        name = self.cols["客户名称"]
        self.rows = [
            r for r in range(header + 1, self.sheet.max_row + 1) if self.sheet.cell(r, name).value
        ]

    def row(self, k: int) -> int:
        return self.rows[k % len(self.rows)]

    def get(self, k: int, header: str) -> object:
        return self.sheet.cell(self.row(k), self.cols[header]).value

    def put(self, k: int, header: str, value: object) -> None:
        self.sheet.cell(self.row(k), self.cols[header]).value = value

    def save(self) -> None:
        self.book.save(self.path)


Edit = Callable[[Book, int], None]


def add_row(book: Book, k: int) -> None:
    """A new customer at the end of 跟进中, with another row's rep."""
    row = book.sheet.max_row + 1
    values = {"客户名称": f"东莞市新{'安宏华泰'[k % 4]}精密五金制品有限公司", "电话": f"1380013{k % 10000:04d}",
              "业务员": book.get(k, "业务员"), "联系日期": dt.datetime(2026, 10, 20)}  # fmt: skip
    for header, value in values.items():
        book.sheet.cell(row, book.cols[header]).value = value


def collide(book: Book, k: int) -> None:
    """A customer's name copied onto another row (a new duplicate claim)."""
    book.put(k + 7, "客户名称", book.get(k, "客户名称"))


def rename(book: Book, k: int) -> None:
    book.put(k, "客户名称", f"深圳市{'新隆鑫达'[k % 4]}电子科技有限公司")


def blank_phone(book: Book, k: int) -> None:
    book.put(k, "电话", None)


def delete_row(book: Book, k: int) -> None:
    book.sheet.delete_rows(book.row(k))


def add_ruling(book: Book, k: int) -> None:
    """The manager assigns one customer to another row's rep (a 裁决 row)."""
    if "裁决" not in book.book.sheetnames:
        book.book.create_sheet("裁决").append(["日期", "裁决", "客户", "另一客户", "业务员"])
    rulings = book.book["裁决"]
    rulings.append([dt.datetime(2026, 10, 28), "指派", book.get(k, "客户名称"), None,
                    book.get(k + 3, "业务员")])  # fmt: skip


def change_setting(book: Book, k: int) -> None:
    """保护天数 set to another number of days."""
    settings_sheet = book.book["设置"]
    for cells in settings_sheet.iter_rows(min_row=1, max_row=20):
        if cells[0].value == "保护天数":
            cells[1].value = (30, 45, 60, 120)[k % 4]


EDITS: dict[str, Edit] = {
    "row added": add_row,
    "name collides": collide,
    "name changed": rename,
    "phone blanked": blank_phone,
    "row deleted": delete_row,
    "ruling added": add_ruling,
    "setting changed": change_setting,
}


def _edit(path: Path, edits: list[tuple[Edit, int]]) -> None:
    book = Book(path)
    for edit, k in edits:
        edit(book, k)
    book.save()


def _watch(folder: Path) -> Watcher:
    return Watcher(folder, WatchConfig(scheduled=False), today=lambda: AS_OF)


def _once(watcher: Watcher) -> SyncOutcome:
    outcome = watcher.once()
    assert outcome is not None
    return outcome


def _seen(before: SyncOutcome, after: SyncOutcome) -> bool:
    """Whether a sync read an edit: its rows, settings or rulings differ."""

    def read(outcome: SyncOutcome) -> object:
        result = outcome.result
        rows = [(r.sheet, r.row, r.customer, r.phone_text, r.rep) for r in result.rows]
        return rows, result.registers.settings, check_json(result)

    return read(before) != read(after)


def _settle(watcher: Watcher) -> SyncOutcome:
    """Sync until the watcher remembers a sync: one that changed nothing, the history
    included (a sync after a write may still write, or record the register as written)."""
    for _ in range(4):
        outcome = _once(watcher)
        if watcher.workspace.warm.remembered:
            assert changed_nothing(outcome)
            return outcome
    raise AssertionError("the register never settled")


# -- the tests --------------------------------------------------------------------------


def test_a_warm_watcher_and_a_cold_check_agree(tmp_path: Path) -> None:
    path = tmp_path / "客户登记表.xlsx"
    make_register(path, rows=300, seed=23)
    watcher = _watch(tmp_path)
    first = _once(watcher)
    assert first.files[0].written
    _edit(path, [(collide, 3), (rename, 20), (blank_phone, 30)])
    second = _once(watcher)
    assert second.files[0].written
    assert check_json(second.result) != check_json(first.result)  # the edit was seen
    warm = _text(check_json(run_check(tmp_path, AS_OF)))
    assert warm == _cold(tmp_path)


@pytest.mark.parametrize("kind", list(EDITS))
def test_each_kind_of_edit_is_judged_as_a_cold_check_judges_it(tmp_path: Path, kind: str) -> None:
    """Warm caches filled by two syncs and a repeated save; then one edit: the sync's check
    is the cold check of the edited register, and a save after it that changes nothing
    repeats what a cold check of the register as written says."""
    path = tmp_path / "客户登记表.xlsx"
    make_register(path, rows=300, seed=23)
    watcher = _watch(tmp_path)
    warm = watcher.workspace.warm
    assert _once(watcher).files[0].written  # ids, hints, 冲突 written
    settled = _settle(watcher)
    _touch(path, 1)
    again = _once(watcher)
    assert warm.repeats == 1  # not read or judged again
    assert again.result is settled.result

    _edit(path, [(EDITS[kind], 5)])
    cold = _cold(tmp_path)
    edited = _once(watcher)
    assert warm.repeats == 1  # an edit is always judged anew
    assert _text(check_json(edited.result)) == cold
    assert _seen(settled, edited)

    _settle(watcher)
    before = warm.repeats
    _touch(path, 2)
    repeated = _once(watcher)
    assert warm.repeats == before + 1
    assert _text(check_json(repeated.result)) == _cold(tmp_path)


def test_another_process_writing_the_history_is_judged_anew(tmp_path: Path) -> None:
    """The history is read by a sync (deleted rows, lost dates): a sync by another process
    changes it, and the watcher's next sync reads everything again."""
    path = tmp_path / "客户登记表.xlsx"
    make_register(path, rows=60, seed=5)
    watcher = _watch(tmp_path)
    _once(watcher)
    _settle(watcher)
    _touch(path, 1)
    _once(watcher)
    repeats = watcher.workspace.warm.repeats
    assert repeats >= 1
    other = run_cli("sync", tmp_path, "--as-of", AS_OF.isoformat())  # records a snapshot
    assert other.code in (0, 1), other.stderr
    _touch(path, 2)
    _once(watcher)
    assert watcher.workspace.warm.repeats == repeats
    other_day = Watcher(tmp_path, WatchConfig(scheduled=False), today=lambda: dt.date(2026, 11, 2))
    other_day.workspace.warm = watcher.workspace.warm  # the same warm state, another date
    _once(other_day)
    assert watcher.workspace.warm.repeats == repeats


def test_the_fingerprint_sees_every_part_but_the_document_properties(tmp_path: Path) -> None:
    path = tmp_path / "客户登记表.xlsx"
    make_register(path, rows=40, seed=3)
    first = package_parts(path)
    assert first is not None and not any(n.lower().startswith("docprops/") for n, *_ in first)
    _touch(path, 1)
    assert package_parts(path) == first
    _edit(path, [(blank_phone, 2)])
    assert package_parts(path) != first
    (tmp_path / "not-a-zip.xlsx").write_bytes(b"<html></html>")
    assert package_parts(tmp_path / "not-a-zip.xlsx") is None


STEP = st.tuples(st.sampled_from([*EDITS, "touch"]), st.integers(0, 200))


@settings(
    max_examples=examples(12),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(STEP, min_size=1, max_size=4))
def test_any_sequence_of_edits_is_judged_as_a_cold_check_judges_it(
    register_80: Path, steps: list[tuple[str, int]]
) -> None:
    """Edits and repeated saves in any order: after each save, the watcher's check is a
    fresh check (a new read and a new grouping in this process) of the register as saved."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "客户登记表.xlsx"
        shutil.copy(register_80, path)
        watcher = _watch(folder)
        _once(watcher)
        for n, (kind, k) in enumerate(steps):
            if kind == "touch":
                _touch(path, n)
            else:
                _edit(path, [(EDITS[kind], k)])
            cold = check_json(run_check(folder, AS_OF))
            assert check_json(_once(watcher).result) == cold, steps[: n + 1]


@pytest.fixture(scope="module")
def register_80(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("register") / "客户登记表.xlsx"
    make_register(path, rows=80, seed=31)
    return path


@pytest.mark.parametrize("cool_down", [False, True])
def test_a_sync_that_only_recorded_is_remembered_when_its_check_read_no_history(
    tmp_path: Path, cool_down: bool
) -> None:
    """A watcher's first sync records the register (its workspace has recorded nothing
    yet). Without 冷却天数 or 裁决 its check read nothing from the history, so it is
    remembered at once; with 冷却天数 (lost dates come from the history) only the next
    sync, which finds the history as the first left it, is."""
    path = tmp_path / "客户登记表.xlsx"
    make_register(path, rows=120, seed=17)
    if cool_down:
        book = openpyxl.load_workbook(path)
        settings_sheet = book["设置"]
        settings_sheet.insert_rows(3)  # beside the other settings, above the roster
        settings_sheet.cell(3, 1).value, settings_sheet.cell(3, 2).value = "冷却天数", 30
        book.save(path)
    assert (read_register(path).settings.cool_down_days == 30) is cool_down
    assert run_cli("sync", tmp_path, "--as-of", AS_OF.isoformat()).code in (0, 1)
    watcher = _watch(tmp_path)
    warm = watcher.workspace.warm
    first = _once(watcher)
    assert not first.written
    assert warm.remembered is not cool_down
    if cool_down:
        _once(watcher)
        assert warm.remembered
    _touch(path, 1)
    repeated = _once(watcher)
    assert warm.repeats == 1 and repeated.files[0].events == []
    assert _text(check_json(repeated.result)) == _cold(tmp_path)


def test_a_folder_of_registers_is_fingerprinted_file_by_file(tmp_path: Path) -> None:
    """Two registers in a folder: a save of either that changes nothing is answered warm; an
    edit of either, a new register or an unreadable file in the folder is judged anew."""
    north, south = tmp_path / "华北登记表.xlsx", tmp_path / "华南登记表.xlsx"
    make_register(north, rows=60, seed=41)
    make_register(south, rows=60, seed=43)
    watcher = _watch(tmp_path)
    warm = watcher.workspace.warm
    _once(watcher)
    _settle(watcher)
    for n, path in enumerate((north, south, south)):
        repeats = warm.repeats
        _touch(path, n)
        _once(watcher)
        assert warm.repeats == repeats + 1
    repeats = warm.repeats
    _edit(south, [(collide, 1)])
    cold = _cold(tmp_path)
    assert _text(check_json(_once(watcher).result)) == cold
    assert warm.repeats == repeats
    _settle(watcher)
    (tmp_path / "坏登记表.xlsx").write_bytes(b"PK\x03\x04 truncated")
    outcome = _once(watcher)
    assert warm.repeats == repeats and not warm.remembered  # never kept with an unusable file
    assert outcome.result.registers.unusable
    assert _text(check_json(outcome.result)) == _cold(tmp_path)


def checks_alive(target: Path) -> int:
    """How many checks (`CheckResult`) of `target` are alive, garbage collected first.
    Counted, not followed by id(): a slotted object takes no weak reference, and a new
    check may be made where a freed one was."""
    import gc

    from xlsync.check import CheckResult

    gc.collect()
    return sum(
        1 for o in gc.get_objects() if isinstance(o, CheckResult) and o.target == str(target)
    )


def test_a_watcher_holds_one_check_and_lets_it_go_before_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each sync's outcome holds a whole check of the set (every row, group and item). A
    watcher of a 100,000-row register that kept the last three grew past 1.5 GB after two
    edits; it keeps the newest, and lets it go before an edit is synced."""
    from xlsync import watch

    path = tmp_path / "客户登记表.xlsx"
    make_register(path, rows=60, seed=5)
    watcher = _watch(tmp_path)
    real_sync = watch.sync
    at_start: list[int] = []

    def watched(*args: Any, **kwargs: Any) -> SyncOutcome:
        at_start.append(checks_alive(tmp_path))
        return real_sync(*args, **kwargs)

    monkeypatch.setattr(watch, "sync", watched)
    watcher.sync_pass()
    for k in (3, 9):
        _edit(path, [(rename, k)])
        watcher.sync_pass()
    assert len(watcher.syncs) == 3
    assert at_start == [0, 0, 0], "a sync began with the last check held"
    assert checks_alive(tmp_path) == 1  # the newest, for the board and a repeat
