"""The monthly handout's caches give what the work they save would give: pinyin sort keys,
text widths and glyph encodings, the rows of the HTML tables, the table text written
without fpdf2's `text()`, and the static fonts kept in the cache folder."""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faker import Faker
from fpdf import FPDF
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

from tests.conftest import examples
from tests.test_report_pdf import LONG_NAME, SCRIPT_NAME, build_report
from xlsync.reports import pdf_fonts, pdf_table
from xlsync.reports.content import MonthlyReport
from xlsync.reports.data import pinyin
from xlsync.reports.handout import Cell, Column, Line, Table, build_handout
from xlsync.reports.html import _tbodies, environment
from xlsync.reports.pdf import _render, render_monthly_pdf
from xlsync.reports.pdf_fonts import CACHE_ENV, FAMILY, font_cache, font_path
from xlsync.reports.pdf_table import BODY_PT, Measure

pypdf = pytest.importorskip("pypdf")

TRICKY = [
    "", " ", "重庆银行", "长沙长城汽车", "银行行长", "行长 银行", "abc 行长", "A重B", "ÉCOLE中文",
    "中文123行", "〇〇电子", "𠀀字号", "x\ny", "（东莞）重型机械有限公司", "乐乐音乐", "単位",
    SCRIPT_NAME, LONG_NAME, "张伟", "曾经的曾", "单单 单", "-", "你好，世界！",
]  # fmt: skip


def _names() -> list[str]:
    fake = Faker("zh_CN")
    fake.seed_instance(18)
    made = [fake.company() for _ in range(300)] + [fake.name() for _ in range(300)]
    return TRICKY + made + [fake.city() + fake.street_name() for _ in range(100)]


def _uncached(text: str) -> str:
    return " ".join(lazy_pinyin(text))


def test_pinyin_keys_are_pypinyins_own() -> None:
    names = _names()
    assert [pinyin(n) for n in names] == [_uncached(n) for n in names]
    assert [pinyin(n) for n in names] == [_uncached(n) for n in names]  # cached this time
    assert sorted(names, key=pinyin) == sorted(names, key=_uncached)
    assert pinyin("李娜") < pinyin("张伟")


_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_ANY = st.one_of(_HAN, st.characters(codec="utf-8", exclude_categories=("Cs",)))


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.text(_ANY, max_size=12), min_size=1, max_size=20))
def test_pinyin_keys_sort_as_pypinyin_does(names: list[str]) -> None:
    assert [pinyin(n) for n in names] == [_uncached(n) for n in names]
    assert sorted(names, key=pinyin) == sorted(names, key=_uncached)


# -- the PDF: widths, glyph encodings, the table text ----------------------------------------


@pytest.fixture(scope="module")
def fonts() -> Iterator[tuple[Path, Path]]:
    chars = set("".join(_names())) | set("".join(chr(c) for c in range(0x20, 0x7F)))
    with pdf_fonts._fonts(chars, chars, Path(str(font_path()))) as paths:
        yield paths


def _pdf(fonts: tuple[Path, Path]) -> FPDF:
    pdf = FPDF(unit="mm", format="A4")
    pdf.add_font(FAMILY, "", str(fonts[0]))
    pdf.add_font(FAMILY, "B", str(fonts[1]))
    pdf.set_font(FAMILY, "", BODY_PT)
    pdf.add_page()
    return pdf


def test_cached_widths_are_fpdfs_own(fonts: tuple[Path, Path]) -> None:
    pdf = _pdf(fonts)
    measure = Measure(pdf, BODY_PT)
    texts = [*_names(), "2026-10-31", "185****8672 / 0769-****3732", "BL-466", "…", "?"]
    for _ in range(2):  # measured, then from the cache
        for bold in (False, True):
            pdf.set_font(FAMILY, "B" if bold else "", BODY_PT)
            for text in texts:
                assert measure.width(text, bold) == pytest.approx(
                    pdf.get_string_width(text), abs=1e-9
                ), text


def test_cached_glyph_encodings_are_fpdfs_own(fonts: tuple[Path, Path]) -> None:
    """Each string encoded once per font gives what fpdf2 gives, in the same order of first
    uses (a character's glyph number is the order it was first drawn in)."""
    theirs, ours = _pdf(fonts), _pdf(fonts)
    measure = Measure(ours, BODY_PT)
    texts = _names()
    sequence = texts + texts[::-1] + texts[::3]
    for bold, key in ((False, FAMILY.lower()), (True, FAMILY.lower() + "B")):
        font = theirs.fonts[key]
        for text in sequence:
            assert measure.encoded(text, bold) == font.encode_text(text), text


def test_remembered_break_points_are_cell_tokens_own_and_bounded(
    fonts: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The break points a handout remembers are `cell_tokens`' own, and no more than
    `TOKENS_KEPT` texts are kept (all of a 100,000-row handout's had taken some 90 MB)."""
    monkeypatch.setattr(pdf_table, "TOKENS_KEPT", 50)
    measure = Measure(_pdf(fonts), BODY_PT)
    texts = _names()
    kept = []
    for kind in ("name", "text", "short"):
        for text in texts + texts[::7]:
            assert measure.tokens(text, kind) == pdf_table.cell_tokens(text, kind), text
            kept.append(len(measure._tokens))
    assert max(kept) == 50 and min(kept[50:]) < 50


def _page_streams(path: Path) -> list[bytes]:
    return [p.get_contents().get_data() for p in pypdf.PdfReader(path).pages]


def test_table_text_is_written_as_fpdfs_text_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = build_report(n_zone1=60, n_zone2=30)
    direct = _page_streams(render_monthly_pdf(report, tmp_path / "direct.pdf"))
    monkeypatch.setattr(pdf_table, "_plain_text", lambda pdf: False)  # every line via text()
    through_fpdf = _page_streams(render_monthly_pdf(report, tmp_path / "fpdf.pdf"))
    assert direct == through_fpdf
    assert len(direct) > 2


# -- the HTML rows -------------------------------------------------------------------------

# The loop monthly.html had before `_tbodies` wrote the rows.
_LOOP = """\
  {% for line in t.lines %}
  <tbody class="group{% if t.zebra and loop.index is even %} z1{% endif %}">
  <tr{% if line.style or line.detail %} class="{{ line.style }}\
{% if line.detail %} has-detail{% endif %}"{% endif %}>
    {% for cell in line.cells %}
    {% set kind = t.columns[loop.index0].kind %}
    <td class="{{ kind }}{% if cell.bold and kind != 'name' %} bold{% endif %}">
      {%- if cell.tag and cell.text -%}<span class="chip {{ cell.tag }}">{{ cell.text }}</span>
      {%- elif kind in ("phone", "code") -%}{% for part in cell.text|parts %}\
{% if not loop.first %}<wbr>{% endif %}<span>{{ part }}</span>{% endfor %}
      {%- else -%}{{ cell.text }}{%- endif -%}
    </td>
    {% endfor %}
  </tr>
  {% if line.detail %}
  <tr class="detail{% if line.style %} {{ line.style }}{% endif %}"><td></td>\
<td class="detail" colspan="{{ t.columns|length - 1 }}">{{ line.detail }}</td></tr>
  {% endif %}
  </tbody>
  {% endfor %}
"""


def _hostile_table(zebra: bool) -> Table:
    evil = ["<b>&amp;</b>", "\"'", "a&b<c>d", SCRIPT_NAME, "185****8672 / <0769>-3732"]
    columns = (Column("序号", "index"), Column("客户", "name"), Column("电话", "phone"),
               Column("样品", "code"), Column("备注", "tag"), Column("说明", "text"))  # fmt: skip
    lines = []
    for i, text in enumerate(evil * 3):
        cells = [Cell(str(i)), Cell(text, bold=True), Cell(text), Cell(f"{text}、BL-466"),
                 Cell(text if i % 2 else "", tag="new\"<x>" if i % 3 else ""), Cell(text, bold=i % 2 == 0)]  # fmt: skip
        style = ["", "marked", "open", 'x"<y>'][i % 4]
        lines.append(Line(cells, style=style, detail=text if i % 3 == 1 else ""))
    return Table(columns, lines, zebra=zebra)


@pytest.mark.parametrize("zebra", [True, False])
def test_html_rows_are_what_the_template_loop_wrote(zebra: bool) -> None:
    table = _hostile_table(zebra)
    loop = environment().from_string(_LOOP).render(t=table)
    assert str(_tbodies(table)) + "\n" == loop
    assert "<script>" not in loop and "&lt;script&gt;" in loop


def test_html_rows_of_a_whole_handout(tmp_path: Path) -> None:
    handout = build_handout(build_report(n_zone1=40, n_zone2=20))
    for section in handout.sections:
        for table in section.tables:
            if table.lines:
                loop = environment().from_string(_LOOP).render(t=table)
                assert str(_tbodies(table)) + "\n" == loop


# -- the font cache ------------------------------------------------------------------------


def _fonts_of(path: Path) -> dict[str, object]:
    """Each embedded font's glyphs as drawn: outlines, advance widths and character map."""
    from fontTools.ttLib import TTFont

    out: dict[str, object] = {}
    page = pypdf.PdfReader(path).pages[0]
    for name, ref in page["/Resources"]["/Font"].items():
        desc = ref.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        font = TTFont(io.BytesIO(desc["/FontFile2"].get_object().get_data()))
        glyf = font["glyf"]
        out[name] = [
            (g, glyf[g].getCoordinates(glyf)[0].array.tobytes() if glyf[g].numberOfContours
             else b"", font["hmtx"][g]) for g in font.getGlyphOrder()
        ] + sorted(font.getBestCmap().items())  # fmt: skip
    return out


def _entries(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("fonts/*/*") if p.is_dir() and not p.name.startswith("."))


def _small(seed: int) -> MonthlyReport:
    return build_report(n_zone1=12, n_zone2=6, seed=seed)


def test_the_cache_gives_the_pdf_a_fresh_font_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _small(3)
    monkeypatch.setenv(CACHE_ENV, "")  # no cache: fonts made for this handout alone
    assert font_cache() is None
    fresh = render_monthly_pdf(report, tmp_path / "fresh.pdf")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    render_monthly_pdf(_small(4), tmp_path / "other.pdf")  # the cache has other characters
    render_monthly_pdf(report, tmp_path / "grown.pdf")  # ... now a bigger set than needed
    assert len(_entries(tmp_path / "cache")) == 2
    cached = render_monthly_pdf(report, tmp_path / "cached.pdf")
    assert _page_streams(cached) == _page_streams(fresh)
    assert _fonts_of(cached) == _fonts_of(fresh)


def test_a_handout_whose_characters_are_cached_makes_no_font(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    render_monthly_pdf(_small(5), tmp_path / "first.pdf")
    (entry,) = _entries(tmp_path / "cache")

    def no(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("a font was made although the cache has every character")

    monkeypatch.setattr(pdf_fonts, "_static_instance", no)
    monkeypatch.setattr(pdf_fonts, "_variable_subset", no)
    render_monthly_pdf(_small(5), tmp_path / "again.pdf")
    assert _entries(tmp_path / "cache") == [entry]


def test_the_cache_grows_and_drops_what_the_new_entry_covers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    render_monthly_pdf(_small(6), tmp_path / "a.pdf")
    (old,) = _entries(tmp_path / "cache")
    old_chars = set((old / "chars.txt").read_bytes().decode("utf-8"))
    monkeypatch.setattr(pdf_fonts, "_STALE", -1.0)  # nobody can be opening the old one
    report = _small(7)
    report.company = "鑫淼犇骉有限公司"  # characters the first handout did not have
    render_monthly_pdf(report, tmp_path / "b.pdf")
    (new,) = _entries(tmp_path / "cache")
    new_chars = set((new / "chars.txt").read_bytes().decode("utf-8"))
    assert new != old and old_chars < new_chars and set("鑫淼犇骉") <= new_chars


def test_an_unusable_cache_folder_still_gives_the_pdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv(CACHE_ENV, str(blocker))
    report = _small(8)
    done = _render(report, tmp_path / "h.pdf")
    assert done.dest.is_file() and blocker.read_text() == "x"
    assert "华泰精密电子有限公司" in "".join(
        p.extract_text() or "" for p in pypdf.PdfReader(done.dest).pages
    )


def test_the_tests_font_cache_is_not_the_users() -> None:
    root = font_cache()
    assert root is not None and os.environ[CACHE_ENV] in str(root)


def test_the_check_is_let_go_before_the_pages_are_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 100,000-row register's handout stays under 1 GB because the check it is made from
    (every row, group and item) is not alive while HTML and PDF are drawn."""
    from tests.test_warm_cold import checks_alive
    from xlsync.reports import build, html
    from xlsync.reports import pdf as pdf_module

    register = tmp_path / "demo.xlsx"
    register.write_bytes(
        (Path(__file__).parents[1] / "sample_registers" / "demo.xlsx").read_bytes()
    )
    run_check = build.run_check
    at_check: list[int] = []

    def checked(*args: Any, **kwargs: Any) -> Any:
        result = run_check(*args, **kwargs)
        at_check.append(checks_alive(register))  # what the count below sees of it
        return result

    at_draw: list[int] = []
    draw_html, draw_pdf = html.render_monthly_html, pdf_module.render_monthly_pdf

    def html_seen(*args: Any, **kwargs: Any) -> Path:
        at_draw.append(checks_alive(register))
        return draw_html(*args, **kwargs)

    def pdf_seen(*args: Any, **kwargs: Any) -> Path:
        at_draw.append(checks_alive(register))
        return draw_pdf(*args, **kwargs)

    monkeypatch.setattr(build, "run_check", checked)
    monkeypatch.setattr(html, "render_monthly_html", html_seen)
    monkeypatch.setattr(pdf_module, "render_monthly_pdf", pdf_seen)
    written = build.monthly(register, "2026-10", tmp_path / "out", today=dt.date(2026, 11, 5))
    assert [p.suffix for p in written] == [".html", ".pdf"]
    assert at_check == [1] and at_draw == [0, 0]
    assert checks_alive(register) == 0
