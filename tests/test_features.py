"""The feature registers are valid, readable, and really lost by a plain openpyxl save."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from xlsync.register.reader import read_register
from xlsync.register.schema import SheetKind

from .features import (
    COOPERATING_ROWS,
    FEATURES,
    FOLLOWING_ROWS,
    FOLLOWING_SHEET,
    SETTINGS_ROWS,
    STATS_SHEET,
    Package,
    build_feature_register,
    feature_fingerprint,
    fingerprint_present,
)
from .helpers import ROSTER, write_register

# Features that a plain openpyxl load_workbook + save keeps (measured with openpyxl 3.1.5:
# none). Give the reason here if a later openpyxl starts keeping one; its round-trip test
# then xfails instead of passing silently.
OPENPYXL_KEEPS: dict[str, str] = {}

# The parts a feature may change; everything else must be copied byte for byte.
# (docProps/core.xml differs between two openpyxl saves by its timestamps.)
MAY_CHANGE = {
    "[Content_Types].xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/worksheets/sheet1.xml",
    "docProps/core.xml",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("features")
    return {f: build_feature_register(folder / f"{f}.xlsx", f) for f in FEATURES}


def _openpyxl_roundtrip(src: Path, dst: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "... extension is not supported and will be removed"
        workbook = openpyxl.load_workbook(src)
        workbook.save(dst)
    return dst


@pytest.mark.parametrize("feature", FEATURES)
def test_package_is_well_formed_typed_and_related(built: dict[str, Path], feature: str) -> None:
    pkg = Package(built[feature])
    for name, data in pkg.parts.items():
        if name.endswith((".xml", ".rels", ".vml")):
            ET.fromstring(data)  # raises on malformed XML
        if not name.endswith(".rels") and name != "[Content_Types].xml":
            assert pkg.content_type(name), f"{name} has no content type"
    for name in [n for n in pkg.parts if n.endswith(".rels")]:
        folder = name.rsplit("_rels/", 1)[0]
        source = folder + name.rsplit("/", 1)[1].removesuffix(".rels")
        for _, _, target in pkg.rels("" if name == "_rels/.rels" else source):
            assert target in pkg.parts, f"{name} points at missing {target}"


@pytest.mark.parametrize("feature", FEATURES)
def test_only_the_feature_parts_change(
    built: dict[str, Path], feature: str, tmp_path: Path
) -> None:
    base = write_register(
        tmp_path / "base.xlsx",
        FOLLOWING_ROWS,
        COOPERATING_ROWS,
        settings=SETTINGS_ROWS,
        roster=ROSTER,
    )
    before, after = Package(base).parts, Package(built[feature]).parts
    assert set(before) <= set(after)
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= MAY_CHANGE, changed
    assert "xl/worksheets/sheet1.xml" in changed or set(after) - set(before)


@pytest.mark.parametrize("feature", FEATURES)
def test_values_read_with_calamine_and_the_register_reader(
    built: dict[str, Path], feature: str
) -> None:
    path = built[feature]
    workbook = CalamineWorkbook.from_path(str(path))
    try:
        rows = workbook.get_sheet_by_name(FOLLOWING_SHEET).to_python()
    finally:
        workbook.close()
    assert rows[0][:2] == ["编号", "客户名称"]
    assert [r[1] for r in rows[1:]] == [r[1] for r in FOLLOWING_ROWS]

    register = read_register(path)
    assert len(register.sheets[SheetKind.FOLLOWING].rows) == len(FOLLOWING_ROWS)
    assert len(register.sheets[SheetKind.COOPERATING].rows) == len(COOPERATING_ROWS)
    assert register.settings.roster == dict(ROSTER)
    assert register.problems == []


@pytest.mark.parametrize("feature", FEATURES)
def test_opens_with_openpyxl(built: dict[str, Path], feature: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = openpyxl.load_workbook(built[feature])
    sheet = workbook[FOLLOWING_SHEET]
    assert sheet["B2"].value == FOLLOWING_ROWS[0][1]
    assert sheet.max_row == 1 + len(FOLLOWING_ROWS)


@pytest.mark.parametrize("feature", FEATURES)
def test_fingerprint_is_stable_and_finds_the_feature(
    built: dict[str, Path], feature: str, tmp_path: Path
) -> None:
    path = built[feature]
    fingerprint = feature_fingerprint(path, feature)
    assert fingerprint == feature_fingerprint(path, feature)
    assert fingerprint_present(fingerprint), fingerprint
    again = build_feature_register(tmp_path / path.name, feature)
    assert feature_fingerprint(again, feature) == fingerprint


@pytest.mark.parametrize("feature", FEATURES)
def test_fingerprint_ignores_cell_edits_outside_the_feature(
    built: dict[str, Path], feature: str, tmp_path: Path
) -> None:
    """A writer that patches only 跟进中's cells (here: assigns ids) keeps every feature."""
    pkg = Package(built[feature])
    sheet = pkg.sheet_part(FOLLOWING_SHEET)
    assert sheet is not None
    xml = pkg.text(sheet)
    for r in range(2, 2 + len(FOLLOWING_ROWS)):
        cell = f'<c r="A{r}" t="inlineStr"><is><t>C{r:06d}</t></is></c>'
        xml = re.sub(rf'(<row r="{r}"[^>]*>)', lambda m, c=cell: m.group(1) + c, xml, count=1)
    pkg.set_text(sheet, xml)
    patched = tmp_path / built[feature].name
    pkg.write(patched)
    assert read_register(patched).sheets[SheetKind.FOLLOWING].rows[0].id == "C000002"
    assert feature_fingerprint(patched, feature) == feature_fingerprint(built[feature], feature)


@pytest.mark.parametrize("feature", FEATURES)
def test_openpyxl_roundtrip_loses_the_feature(
    built: dict[str, Path], feature: str, tmp_path: Path
) -> None:
    if feature in OPENPYXL_KEEPS:
        pytest.xfail(OPENPYXL_KEEPS[feature])
    src = built[feature]
    dst = _openpyxl_roundtrip(src, tmp_path / src.name)
    assert feature_fingerprint(dst, feature) != feature_fingerprint(src, feature)


def test_openpyxl_loses_cached_formula_values(built: dict[str, Path], tmp_path: Path) -> None:
    """Other readers see empty cells until Excel recalculates."""
    src = built["formula_cached"]
    dst = _openpyxl_roundtrip(src, tmp_path / src.name)

    def stats(path: Path) -> list[object]:
        workbook = CalamineWorkbook.from_path(str(path))
        try:
            return [row[1] for row in workbook.get_sheet_by_name(STATS_SHEET).to_python()[1:]]
        finally:
            workbook.close()

    assert stats(src)[:3] == [5, 2, 2]
    assert stats(dst) == ["", "", "", "", ""]


def test_openpyxl_without_pillow_drops_the_picture(built: dict[str, Path], tmp_path: Path) -> None:
    """With Pillow openpyxl keeps the PNG but rewrites the drawing; without it, nothing."""
    src, dst = built["image"], tmp_path / "image.xlsx"
    code = (
        "import sys; sys.modules['PIL'] = None\n"
        "import openpyxl\n"
        "openpyxl.load_workbook(sys.argv[1]).save(sys.argv[2])\n"
    )
    subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code, str(src), str(dst)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert not fingerprint_present(feature_fingerprint(dst, "image"))
    with zipfile.ZipFile(dst) as zf:
        assert not [n for n in zf.namelist() if n.startswith("xl/media/")]


def test_macro_register_is_an_xlsm(tmp_path: Path) -> None:
    path = build_feature_register(tmp_path / "macro.xlsx", "macro")
    assert path.suffix == ".xlsm"
    assert path.is_file()
    assert not (tmp_path / "macro.xlsx").exists()


def test_unknown_feature_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown feature"):
        build_feature_register(tmp_path / "x.xlsx", "chart")
    with pytest.raises(ValueError, match="unknown feature"):
        feature_fingerprint(tmp_path / "x.xlsx", "chart")
