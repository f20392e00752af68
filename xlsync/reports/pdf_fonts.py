"""The handout's font: Noto Sans SC (SIL OFL 1.1), a TrueType variable font shipped in the
`justmytype-intl-cjk` package, subset to the characters a report uses and instanced at
Regular and Bold."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

__all__ = ["FAMILY", "FONT_PACKAGE", "FONT_RESOURCE", "font_path"]

# Where the font lives: package data of a pip-installed package, found through importlib.
FONT_PACKAGE = "justmytype_intl_cjk"
FONT_RESOURCE = "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"
FAMILY = "NotoSansSC"


def font_path() -> Traversable:
    """The Noto Sans SC variable TrueType font inside its pip package."""
    try:
        root = resources.files(FONT_PACKAGE)
    except ModuleNotFoundError as exc:  # pragma: no cover - a broken install
        raise RuntimeError(
            f"PDF 需要字体包 {FONT_PACKAGE.replace('_', '-')}，请先安装：pip install "
            f"{FONT_PACKAGE.replace('_', '-')}"
        ) from exc
    return root.joinpath(FONT_RESOURCE)


def _static_instance(data: bytes, chars: Iterable[str], weight: int, style: str) -> bytes:
    """Subset the variable font to `chars`, then pin its weight: a small static TrueType."""
    font = TTFont(io.BytesIO(data))
    if chars:
        _subset(font, chars)
    instancer.instantiateVariableFont(font, {"wght": weight}, inplace=True)
    font["OS/2"].usWeightClass = weight
    name = font["name"]
    for name_id, value in (
        (1, "Noto Sans SC"),
        (2, style),
        (4, f"Noto Sans SC {style}"),
        (6, f"NotoSansSC-{style}"),
    ):
        name.setName(value, name_id, 3, 1, 0x409)
        name.setName(value, name_id, 1, 0, 0)
    for name_id in (16, 17):
        name.removeNames(nameID=name_id)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _subset(font: TTFont, chars: Iterable[str]) -> None:
    options = ft_subset.Options()
    options.layout_features = []  # fpdf2 does no shaping here: CJK needs none
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "vhea", "vmtx", "VVAR"]
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=sorted({ord(ch) for ch in chars}))
    subsetter.subset(font)


@contextmanager
def _fonts(regular: set[str], bold: set[str], source: Path) -> Iterator[tuple[Path, Path]]:
    """Static Regular and Bold fonts for exactly these characters, in a temporary folder."""
    font = TTFont(str(source), lazy=True)
    try:
        _subset(font, regular | bold)
        buf = io.BytesIO()
        font.save(buf)
    finally:
        font.close()
    variable = buf.getvalue()
    with tempfile.TemporaryDirectory(prefix="xlsync-font-") as tmp:
        regular_path = Path(tmp) / "NotoSansSC-Regular.ttf"
        bold_path = Path(tmp) / "NotoSansSC-Bold.ttf"
        regular_path.write_bytes(_static_instance(variable, (), 400, "Regular"))
        bold_path.write_bytes(_static_instance(variable, bold, 700, "Bold"))
        yield regular_path, bold_path


def _cmap(source: Path) -> dict[int, str]:
    font = TTFont(str(source), lazy=True)
    try:
        return dict(font.getBestCmap())
    finally:
        font.close()
