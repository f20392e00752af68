"""Workbooks from other producers (tests/corpus_gen.py), each with a register sheet added:
a sync changes only the parts it plans to, keeps every original value, leaves a file that
calamine, openpyxl and LibreOffice open, and a second sync is a no-op. The ones xlsync
cannot use are refused with the true reason on stderr."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

from tests.corpus_gen import Case, build, read_parts
from tests.helpers import customer, run_cli, write_register
from tests.office import soffice_path
from xlsync.plan_render import CONFLICT_HEADERS
from xlsync.register.reader import without_unreadable_sheets
from xlsync.sync import sync
from xlsync.xlsx.package import Package

AS_OF = "2026-11-01"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Case], list[str]]:
    return build(tmp_path_factory.mktemp("corpus"))


def values(path: Path) -> dict[str, list[list[object]]]:
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception:  # calamine does not list Excel 4.0 macro sheets: read past them
        data = without_unreadable_sheets(path)
        assert data is not None
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    finally:
        book.close()


def openpyxl_error(path: Path) -> str | None:
    try:
        openpyxl.load_workbook(path).close()
    except Exception as exc:
        return repr(exc)
    return None


def planned_parts(path: Path) -> set[str]:
    """The parts a sync may change: the workbook, its relationships, the content types,
    the styles and the 跟进中 sheet (all found through the relationships)."""
    with Package(path) as pkg:
        workbook = pkg.workbook_part
        parts = {workbook, "[Content_Types].xml", pkg.sheet_parts()["跟进中"]}
        folder, base = workbook.rsplit("/", 1) if "/" in workbook else ("", workbook)
        parts.add(f"{folder}/_rels/{base}.rels".lstrip("/"))
        if pkg.styles_part():
            parts.add(pkg.styles_part() or "")
    return {p.casefold() for p in parts}


def assert_sound_package(path: Path) -> None:
    """Content types name existing parts, once each; no part names differ only by case."""
    with zipfile.ZipFile(path) as zf:
        names = [n.casefold() for n in zf.namelist()]
        assert len(names) == len(set(names)), "part names differ only by case"
        types = etree.fromstring(zf.read("[Content_Types].xml"))
    overrides = [unquote(o.get("PartName", "")).lstrip("/").casefold()
                 for o in types.iter(f"{{{NS_CT}}}Override")]  # fmt: skip
    assert len(overrides) == len(set(overrides)), "two overrides for one part"
    assert set(overrides) <= set(names), set(overrides) - set(names)


def libreoffice_first_sheets(paths: list[Path], out: Path) -> dict[str, list[list[str]]]:
    """Open every file in one LibreOffice run and export its first sheet as CSV."""
    soffice = soffice_path()
    assert soffice is not None
    with tempfile.TemporaryDirectory(prefix="xlsync-lo-profile-") as profile:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                "csv:Text - txt - csv (StarCalc):44,34,76",
                "--outdir",
                str(out),
                *map(str, paths),
            ],
            check=True,
            capture_output=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "HOME": profile, "SAL_USE_VCLPLUGIN": "svp"},
        )
    result = {}
    for path in paths:
        with (out / f"{path.stem}.csv").open(encoding="utf-8-sig", newline="") as fh:
            result[path.stem] = list(csv.reader(fh))
    return result


def test_every_producer_syncs_intact(corpus: tuple[list[Case], list[str]], tmp_path: Path) -> None:
    cases, skipped = corpus
    good = [c for c in cases if c.refusal is None]
    producers = {c.producer for c in good}
    assert {"openpyxl", "XlsxWriter", "pandas (openpyxl)", "pandas (XlsxWriter)"} <= producers
    folder = tmp_path / "office"
    folder.mkdir()
    files = [Path(shutil.copy(c.path, folder / c.path.name)) for c in good]
    before = {f.name: (read_parts(f), values(f), planned_parts(f)) for f in files}
    openpyxl_opened = {f.name for f in files if openpyxl_error(f) is None}
    assert len(openpyxl_opened) >= len(files) - 1  # all but the workbook outside xl/

    for f in files:  # one register per sync: no claim crosses files
        run = run_cli("sync", f, "--as-of", AS_OF)
        assert run.code == 0, (f.name, run.stdout, run.stderr)

    for f in files:
        parts, vals, planned = before[f.name]
        after = read_parts(f)
        after_keys = {k.casefold(): v for k, v in after.items()}
        changed = {k.casefold() for k, v in parts.items() if after_keys.get(k.casefold()) != v}
        assert changed <= planned, (f.name, changed - planned)
        assert_sound_package(f)
        now = values(f)
        for sheet, grid in vals.items():
            if sheet == "跟进中":
                assert [row[:6] for row in now[sheet]] == [row[:6] for row in grid], f.name
            else:
                assert now[sheet] == grid, (f.name, sheet)
        assert "冲突" in now and len(now["冲突"]) == 3, (f.name, now.get("冲突"))
        assert any("【冲突" in str(v) for row in now["跟进中"] for v in row), f.name
        if f.name in openpyxl_opened:  # (openpyxl reads styles only from xl/styles.xml)
            assert openpyxl_error(f) is None, f.name

    # the user's own `Problems` sheet is theirs: kept, and 问题 is a sheet of its own
    own = folder / "users-own-sheets.xlsx"
    names = list(values(own))
    assert "Problems" in names and "问题" in names and "settings" in names

    stamps = {f.name: f.read_bytes() for f in files}
    for f in files:  # in process: the CLI was shown above, this keeps the suite quick
        outcome = sync(f, dt.date.fromisoformat(AS_OF))
        assert not outcome.files[0].written and outcome.files[0].plan.empty, f.name
        assert f.read_bytes() == stamps[f.name], f"{f.name}: the second sync wrote"

    if soffice_path() is None:
        pytest.skip("LibreOffice not installed: the files were not opened in it")
    subset = [f for f, c in zip(files, good, strict=True) if c.lo_check]
    shown = libreoffice_first_sheets(subset, tmp_path / "lo")
    for f in subset:
        first = next(iter(before[f.name][1]))
        assert shown[f.stem] and shown[f.stem][0][0] == str(before[f.name][1][first][0][0]), f.name
    print(f"producers: {sorted(producers)}; skipped: {skipped}")


def test_unusable_files_refused_with_the_true_reason(
    corpus: tuple[list[Case], list[str]], tmp_path: Path
) -> None:
    cases, _ = corpus
    refused = [c for c in cases if c.refusal is not None]
    assert {c.name for c in refused} >= {"strict", "xlsb-renamed", "ods-renamed"}
    for case in refused:
        path = Path(shutil.copy(case.path, tmp_path / case.path.name))
        data = path.read_bytes()
        run = run_cli("sync", path, "--as-of", AS_OF)
        assert run.code == 2, (case.name, run.stdout, run.stderr)
        assert case.refusal in run.stderr and "另存为" in run.stderr, (case.name, run.stderr)
        assert "找不到工作表" not in run.stderr + run.stdout
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
        assert path.read_bytes() == data


# ---------------------------------------------------------------- sheet ownership


def _register(path: Path, extra: dict[str, list[list[object]]]) -> Path:
    rows = [
        customer(customer="深圳市格林电子科技有限公司", rep="张伟", visited=dt.date(2026, 10, 1)),
        customer(customer="格林电子（深圳）有限公司", rep="王芳", visited=dt.date(2026, 10, 20)),
    ]
    return write_register(path, rows, [], extra_sheets=extra)


def test_a_users_sheet_named_like_ours_is_left_alone(tmp_path: Path) -> None:
    user_grid = [["我的冲突记录", "备注"], ["和供应商的纠纷", "待定"]]
    path = _register(tmp_path / "r.xlsx", {"冲突": user_grid, "Problems": [["私人", 1]]})
    run = run_cli("sync", path, "--as-of", AS_OF)
    assert run.code == 0, run.stderr
    assert "冲突 (xlsync)" in run.stdout
    now = values(path)
    assert now["冲突"] == user_grid
    assert now["Problems"] == [["私人", 1.0]] or now["Problems"] == [["私人", 1]]
    assert now["冲突 (xlsync)"][0] == CONFLICT_HEADERS
    data = path.read_bytes()
    assert "无需改动" in run_cli("sync", path, "--as-of", AS_OF).stdout
    assert path.read_bytes() == data


def test_a_legacy_xlsync_sheet_is_adopted(tmp_path: Path) -> None:
    path = _register(tmp_path / "r.xlsx", {"冲突": [CONFLICT_HEADERS, ["旧的冲突"]]})
    outcome = sync(path, dt.date.fromisoformat(AS_OF))
    assert outcome.files[0].written and not outcome.files[0].notes
    now = values(path)
    assert "冲突 (xlsync)" not in now and len(now["冲突"]) == 3
    with Package(path) as pkg:
        assert pkg.owned_sheets()["冲突"] == "conflicts"


# ---------------------------------------------------------------- never damage


def test_an_internal_error_while_writing_is_labelled_and_damages_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _register(tmp_path / "r.xlsx", {})
    data = path.read_bytes()

    def broken(*args: object) -> None:
        raise ValueError("workbook has no styles part")

    monkeypatch.setattr("xlsync.sync.apply_plan", broken)
    outcome = sync(path, dt.date.fromisoformat(AS_OF))
    (f,) = outcome.files
    assert f.refused is not None and f.refused.startswith("内部错误 ValueError")
    assert f.sidecar is not None and f.sidecar.exists()
    assert path.read_bytes() == data


def test_a_written_package_that_fails_verification_never_replaces_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlsync.register import writer

    path = _register(tmp_path / "r.xlsx", {})
    data = path.read_bytes()
    real = writer.apply_plan

    def clashing(plan, source, dest):  # type: ignore[no-untyped-def]
        written = real(plan, source, dest)
        parts = read_parts(dest)
        parts["xl/worksheets/SHEET1.xml"] = parts["xl/worksheets/sheet1.xml"]
        with zipfile.ZipFile(dest, "w") as zf:
            for name, blob in parts.items():
                zf.writestr(name, blob)
        return written

    monkeypatch.setattr("xlsync.sync.apply_plan", clashing)
    outcome = sync(path, dt.date.fromisoformat(AS_OF))
    (f,) = outcome.files
    assert f.refused is not None and "未通过检查" in f.refused and "大小写" in f.refused
    assert path.read_bytes() == data
