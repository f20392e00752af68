"""LibreOffice headless: open, convert and read registers as a rep's LibreOffice would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from xlsync.register.reader import read_register
from xlsync.register.schema import SheetKind

from .features import FEATURES, FOLLOWING_ROWS, build_feature_register
from .helpers import HEADERS, ROSTER, customer, write_register
from .office import OfficeError, libreoffice_roundtrip, libreoffice_values, soffice_available

pytestmark = pytest.mark.skipif(not soffice_available(), reason="LibreOffice is not installed")


@pytest.fixture()
def register(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    return write_register(
        folder / "demo.xlsx",
        [
            customer(
                customer="深圳市格林电子科技有限公司",
                rep="张伟",
                phone="138-1234-5678",
                sampled=dt.date(2026, 10, 3),
                status="送样",
            ),
            customer(
                customer="雅玛西电子", rep="王芳", contacted=dt.date(2026, 9, 1), status="电话"
            ),
        ],
        [customer(customer="恒泰贸易", rep="李娜", won=dt.date(2026, 7, 15), status="已合作")],
        roster=ROSTER,
    )


def test_values_are_read_per_sheet_as_libreoffice_shows_them(register: Path) -> None:
    values = libreoffice_values(register)
    assert list(values) == ["跟进中", "已合作", "设置"]
    following = values["跟进中"]
    assert following[0] == HEADERS
    assert following[1][1] == "深圳市格林电子科技有限公司"
    assert following[1][HEADERS.index("送样日期")] == "2026-10-03"
    assert following[2][HEADERS.index("状态")] == "电话"
    assert values["已合作"][1][1] == "恒泰贸易"
    assert ["张伟", "业务一部"] in values["设置"]


def test_roundtrip_writes_a_register_the_reader_accepts(register: Path, tmp_path: Path) -> None:
    out = libreoffice_roundtrip(register, tmp_path / "lo")
    assert out == (tmp_path / "lo" / "demo.xlsx").resolve()
    assert out.read_bytes() != register.read_bytes()
    again = read_register(out)
    rows = again.sheets[SheetKind.FOLLOWING].rows
    assert [r.customer for r in rows] == ["深圳市格林电子科技有限公司", "雅玛西电子"]
    assert rows[0].sampled == dt.date(2026, 10, 3)
    assert again.settings.roster == dict(ROSTER)


def test_roundtrip_refuses_to_write_over_its_source(register: Path) -> None:
    with pytest.raises(ValueError, match="out_dir"):
        libreoffice_roundtrip(register, register.parent)


@pytest.mark.parametrize("feature", FEATURES)
def test_libreoffice_opens_every_feature_register(feature: str, tmp_path: Path) -> None:
    """The hand-written feature XML is loadable by a real office program, values intact."""
    (tmp_path / "src").mkdir()
    src = build_feature_register(tmp_path / "src" / f"{feature}.xlsx", feature)
    out = libreoffice_roundtrip(src, tmp_path / "lo")
    rows = read_register(out).sheets[SheetKind.FOLLOWING].rows
    assert [r.customer for r in rows] == [r[1] for r in FOLLOWING_ROWS]


def test_a_hung_conversion_is_killed_and_reported(register: Path, tmp_path: Path) -> None:
    with pytest.raises(OfficeError, match="timed out"):
        libreoffice_roundtrip(register, tmp_path / "lo", timeout=0.05)
