"""Internal match keys never reach a person: every customer name shown in check's table, the
冲突 sheet, the board and the handout is a name as a rep wrote it."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from xlsync.check import run_check
from xlsync.lookup import NO_NAME
from xlsync.reports.data import build_board, build_monthly

from .helpers import run_cli

DEMO = Path(__file__).resolve().parent.parent / "sample_registers" / "demo.xlsx"
AS_OF = dt.date(2026, 11, 1)
NOW = dt.datetime(2026, 11, 1, 9, 0)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "demo.xlsx"
    shutil.copy(DEMO, path)
    assert run_cli("sync", path, "--as-of", AS_OF.isoformat()).code in (0, 1)
    return path


def _names_and_keys(path: Path) -> tuple[set[str], set[str]]:
    result = run_check(path, AS_OF)
    names = {r.customer for r in result.rows if r.customer} | {NO_NAME}
    keys = {g.key for g in result.groups} - names
    return names, keys


def test_the_demo_has_keys_that_are_not_names(synced: Path) -> None:
    _names, keys = _names_and_keys(synced)
    assert {k for k in keys if re.search("[a-z]", k)}  # e.g. xek电子: the test has teeth


def test_no_key_in_the_conflicts_sheet(synced: Path) -> None:
    names, _keys = _names_and_keys(synced)
    sheet = openpyxl.load_workbook(synced, read_only=True)["冲突"]
    shown = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    assert shown and shown <= names


def test_no_key_on_the_board_or_in_the_handout(synced: Path) -> None:
    names, _keys = _names_and_keys(synced)
    result = run_check(synced, AS_OF)
    board = build_board(result, company="", now=NOW)
    shown = {c.customer for c in board.conflicts + board.notices}
    shown |= {c.name for c in board.customers}
    assert shown and shown <= names
    report = build_monthly(result, "2026-10", company="", mask=True, now=NOW)
    assert {c.customer for c in report.conflicts} <= names


def test_no_latin_key_in_any_printed_text(synced: Path, tmp_path: Path) -> None:
    _names, keys = _names_and_keys(synced)
    latin = {k for k in keys if re.search("[a-z]", k)}
    out = tmp_path / "out"
    texts = [run_cli("check", synced, "--all", "--as-of", AS_OF.isoformat()).stdout]
    run_cli("report", "monthly", synced, "--month", "2026-10", "--out", out,
            "--as-of", AS_OF.isoformat())  # fmt: skip
    run_cli("report", "board", synced, "--out", out, "--as-of", AS_OF.isoformat())
    for page in out.glob("*.html"):
        text = page.read_text("utf-8")
        # the board embeds its search keys as data for its script: look at what is shown
        texts.append(re.sub(r'<script type="application/json".*?</script>', "", text, flags=re.S))
    for text in texts:
        for key in latin:
            assert key not in text, key
