"""The handout's font: Noto Sans SC (SIL OFL 1.1), a TrueType variable font shipped in the
`justmytype-intl-cjk` package, subset to the characters a report uses and instanced at
Regular and Bold.

Making the two static fonts takes about a second (fontTools, in Python), so they are kept
in a cache folder (`font_cache()`: the user's cache directory, or `$XLSYNC_CACHE_DIR`):
one entry per character set, each a Regular and a Bold font for every character of its
set. A handout whose characters an entry has uses it as it is; otherwise a new entry is
made for the characters of the largest entry and the handout's together, so the set grows
to what an office writes and later handouts find it. fpdf2 embeds only the glyphs a PDF
draws, and a glyph is instanced alike in any subset, so the PDF does not depend on which
entry drew it. The characters the font has (its cmap) are kept there too.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

from xlsync.fileio import atomic_write

__all__ = ["CACHE_ENV", "FAMILY", "FONT_PACKAGE", "FONT_RESOURCE", "font_cache", "font_path"]

# Where the font lives: package data of a pip-installed package, found through importlib.
FONT_PACKAGE = "justmytype_intl_cjk"
FONT_RESOURCE = "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"
FAMILY = "NotoSansSC"

CACHE_ENV = "XLSYNC_CACHE_DIR"  # where the cache folder is; empty: no cache
_FORMAT = 1  # bump when the fonts are made differently: older entries are not used
_MAX_CHARS = 12_000  # an entry grows to at most this many characters (a few MB per font)
_STALE = 600.0  # seconds: an entry a newer one covers is removed once no render can be opening it
_REGULAR, _BOLD, _CHARS, _DRAWABLE = "Regular.ttf", "Bold.ttf", "chars.txt", "drawable.txt"


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


def _variable_subset(source: Path, chars: Iterable[str]) -> bytes:
    font = TTFont(str(source), lazy=True)
    try:
        _subset(font, chars)
        buf = io.BytesIO()
        font.save(buf)
    finally:
        font.close()
    return buf.getvalue()


@contextmanager
def _fonts(regular: set[str], bold: set[str], source: Path) -> Iterator[tuple[Path, Path]]:
    """Static Regular and Bold fonts with these characters: from the cache folder, made
    there when no entry has them all, or made in a temporary folder when there is none."""
    entry = None
    with contextlib.suppress(OSError):  # a read-only or full disk: no cache, same fonts
        entry = _cached(regular | bold, source)
    if entry is not None:
        yield entry / _REGULAR, entry / _BOLD
        return
    variable = _variable_subset(source, regular | bold)
    with tempfile.TemporaryDirectory(prefix="xlsync-font-") as tmp:
        regular_path = Path(tmp) / "NotoSansSC-Regular.ttf"
        bold_path = Path(tmp) / "NotoSansSC-Bold.ttf"
        regular_path.write_bytes(_static_instance(variable, (), 400, "Regular"))
        bold_path.write_bytes(_static_instance(variable, bold, 700, "Bold"))
        yield regular_path, bold_path


def font_cache() -> Path | None:
    """The folder the static fonts are kept in; None when `$XLSYNC_CACHE_DIR` is empty."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured) / "fonts" if configured else None
    from platformdirs import user_cache_path

    return user_cache_path("xlsync", appauthor=False) / "fonts"


def _source_dir(source: Path) -> Path | None:
    """The cache folder of this font file (another version of the package: another one)."""
    root = font_cache()
    if root is None:
        return None
    st = source.stat()
    key = f"{_FORMAT}|{source.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    return root / hashlib.sha256(key.encode()).hexdigest()[:16]


def _entries(folder: Path) -> Iterator[tuple[Path, frozenset[str]]]:
    """The complete entries (a folder is renamed into place whole) and their characters."""
    for entry in folder.iterdir():
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        with contextlib.suppress(OSError, UnicodeDecodeError):
            yield entry, _read_chars(entry / _CHARS)


def _read_chars(path: Path) -> frozenset[str]:
    return frozenset(path.read_bytes().decode("utf-8"))  # bytes: a CR stays a CR


def _cached(chars: set[str], source: Path) -> Path | None:
    """An entry of the cache with every one of `chars`, made now if there is none."""
    folder = _source_dir(source)
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    entries = sorted(_entries(folder), key=lambda e: len(e[1]))
    for entry, has in entries:
        if has.issuperset(chars):
            return entry
    wanted = frozenset(chars)
    if entries and len(entries[-1][1] | wanted) <= _MAX_CHARS:
        wanted |= entries[-1][1]
    name = hashlib.sha256("".join(sorted(wanted)).encode()).hexdigest()[:16]
    final = folder / name
    tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=folder))
    try:
        variable = _variable_subset(source, wanted)
        atomic_write(tmp / _REGULAR, _static_instance(variable, (), 400, "Regular"))
        atomic_write(tmp / _BOLD, _static_instance(variable, (), 700, "Bold"))
        atomic_write(tmp / _CHARS, "".join(sorted(wanted)))
        try:
            tmp.rename(final)
        except OSError:  # another render made the same entry meanwhile
            if not (final / _CHARS).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune(folder, keep=final)
    return final


def _prune(folder: Path, keep: Path) -> None:
    """Remove the entries `keep` covers and what interrupted renders left, once they are
    old enough that no render can be about to open them. The character list goes first:
    an entry without it is never used, even if a font of it is still open elsewhere."""
    covers = _read_chars(keep / _CHARS)
    now = time.time()
    for entry in folder.iterdir():
        if entry == keep or not entry.is_dir():
            continue
        with contextlib.suppress(OSError, UnicodeDecodeError):
            if now - entry.stat().st_mtime <= _STALE:
                continue
            chars = entry / _CHARS
            if chars.is_file() and not _read_chars(chars) <= covers:
                continue
            chars.unlink(missing_ok=True)
            shutil.rmtree(entry)


def _drawable(source: Path) -> frozenset[str]:
    """The characters the font has a glyph for (kept in the cache folder)."""
    folder = None
    with contextlib.suppress(OSError):
        folder = _source_dir(source)
    if folder is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return _read_chars(folder / _DRAWABLE)
    font = TTFont(str(source), lazy=True)
    try:
        chars = frozenset(map(chr, font.getBestCmap()))
    finally:
        font.close()
    if folder is not None:
        with contextlib.suppress(OSError):
            atomic_write(folder / _DRAWABLE, "".join(sorted(chars)))
    return chars
