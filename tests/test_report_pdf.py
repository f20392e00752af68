"""The monthly handout as a PDF: Chinese text that extracts, embedded subset fonts, clean pages."""

from __future__ import annotations

import datetime as dt
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from faker import Faker

from xlsync.reports.content import ConflictLine, CustomerLine, MonthlyReport, Score
from xlsync.reports.pdf import _render, render_monthly_pdf
from xlsync.reports.pdf_table import cell_tokens, column_widths, wrap

pypdf = pytest.importorskip("pypdf")

SCRIPT_NAME = "<script>alert(1)</script>"
LONG_NAME = (
    "深圳市南山区粤海街道高新技术产业园区科技南十二路"
    + "华南国际工业原料城电子元器件及精密五金塑胶制品贸易有限公司" * 4
    + "（第二分公司）"
)
SECTION_TITLES = [
    "一、本月拜访/送样客户（未合作）",
    "二、合作客户",
    "三、业绩排行",
    "四、待跟进",
    "五、保护即将到期（14天内）",
    "六、可转交客户",
    "七、本月冲突",
]
REPS = [
    ("张伟", "业务一部"), ("王芳", "业务一部"), ("李娜", "业务二部"), ("刘洋", "业务二部"),
    ("陈静", "华南事业部"), ("杨帆", "华南事业部"), ("赵磊", "外贸部"), ("黄晓燕", "外贸部"),
]  # fmt: skip
SAMPLES = ["BL-466", "BL-520", "GT-1000", "XK-35A", "PV-2200S", ""]


def _masked(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}****{rng.randint(0, 9999):04d}"


def build_report(n_zone1: int = 320, n_zone2: int = 120, seed: int = 6) -> MonthlyReport:
    """A realistic month of one sales office, made by hand (no register needed)."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    month_start = dt.date(2026, 10, 1)
    as_of = dt.date(2026, 10, 31)

    def day(lo: int, hi: int) -> dt.date:
        return month_start + dt.timedelta(days=rng.randint(lo, hi))

    def line(name: str, **extra: object) -> CustomerLine:
        rep, dept = rng.choice(REPS)
        visited = day(0, 30) if rng.random() < 0.7 else None
        sampled = day(0, 30) if visited is None or rng.random() < 0.5 else None
        latest = max(d for d in (visited, sampled) if d is not None)
        until = latest + dt.timedelta(days=90)
        values: dict[str, object] = {
            "customer": name,
            "rep": rep,
            "department": dept,
            "phone": _masked(rng),
            "region": fake.city(),
            "status": "送样" if sampled else "拜访",
            "contacted": latest - dt.timedelta(days=rng.randint(3, 40)),
            "visited": visited,
            "sampled": sampled,
            "sample": rng.choice(SAMPLES) if sampled else "",
            "last_follow_up": latest + dt.timedelta(days=rng.randint(0, 5)),
            "won": None,
            "protected_until": until,
            "protection": f"{'送样' if sampled else '拜访'} {latest}，保护至 {until}",
        }
        values.update(extra)
        return CustomerLine(**values)  # type: ignore[arg-type]

    names = [SCRIPT_NAME, LONG_NAME] + [fake.company() for _ in range(n_zone1 - 2)]
    zone1 = [line(name) for name in names]

    zone2: list[CustomerLine] = []
    for i in range(n_zone2):
        won = day(0, 30) if i % 6 == 0 else dt.date(2026, rng.randint(1, 9), rng.randint(1, 28))
        zone2.append(
            line(
                fake.company(),
                status="已合作",
                won=won,
                protected_until=None,
                protection="已合作，长期保护",
                marked=won >= month_start,
            )
        )

    reps: list[Score] = []
    for name, dept in REPS:
        sampled_total = rng.randint(0, 30)
        reps.append(
            Score(
                name=name,
                department=dept,
                calls=rng.randint(10, 90),
                visits=rng.randint(0, 25),
                samples=rng.randint(0, 15),
                won=rng.randint(0, 5),
                sampled_total=sampled_total,
                sampled_won=rng.randint(0, sampled_total),
            )
        )
    reps[-1].sampled_total = reps[-1].sampled_won = 0  # no samples yet: rate "—"
    reps.sort(key=lambda s: (-s.won, -s.samples))
    departments: list[Score] = []
    for dept in dict.fromkeys(d for _, d in REPS):
        members = [s for s in reps if s.department == dept]
        departments.append(
            Score(
                name=dept,
                department="",
                calls=sum(s.calls for s in members),
                visits=sum(s.visits for s in members),
                samples=sum(s.samples for s in members),
                won=sum(s.won for s in members),
                sampled_total=sum(s.sampled_total for s in members),
                sampled_won=sum(s.sampled_won for s in members),
            )
        )
    departments.sort(key=lambda s: -s.won)

    follow_ups = []
    for src in zone1[2:40]:
        assert src.last_follow_up is not None
        gap = (as_of - src.last_follow_up).days + 30
        follow_ups.append(
            line(
                src.customer, note=f"已 {gap} 天未跟进（提醒天数 30 天），请尽快联系或更新跟进情况"
            )
        )
    ending = [line(n) for n in (fake.company() for _ in range(12))]
    for e in ending:
        e.protected_until = as_of + dt.timedelta(days=rng.randint(0, 14))

    free = []
    for _ in range(25):
        contact = fake.last_name()
        old = line(fake.company())
        old.protected_until = as_of - dt.timedelta(days=rng.randint(1, 60))
        old.note = (
            f"您好，{contact}先生，我是{fake.company_prefix()}公司的，我了解到我公司之前有业务员"
            f"{old.rep}联系过您，并在两个月前给您送过 {old.sample or 'BL-466'} 的样品，"
            "不知您试用后效果如何？如果方便的话，我想再约您十分钟，当面听听您的意见。"
        )
        free.append(old)

    conflicts = [
        ConflictLine(
            customer=fake.company(),
            owner=rng.choice(REPS)[0],
            reason=f"送样 2026-10-{rng.randint(1, 28):02d}，保护至 2027-01-{rng.randint(1, 28):02d}",
            others=f"{rng.choice(REPS)[0]}（须停止跟进）、{rng.choice(REPS)[0]}（保护已过期）",
            settled=i % 3 != 0,
        )
        for i in range(9)
    ]
    conflicts.append(
        ConflictLine("格林电子", "", "双方均只打过电话", "张伟（仅电话）、李娜（仅电话）", True)
    )

    return MonthlyReport(
        company="华泰精密电子有限公司",
        month="2026-10",
        as_of=as_of,
        generated=dt.datetime(2026, 11, 1, 8, 0),
        register="客户登记表.xlsx",
        zone1=zone1,
        zone2=zone2,
        reps=reps,
        departments=departments,
        follow_ups_due=follow_ups,
        ending_soon=ending,
        free=free,
        conflicts=conflicts,
    )


def _text(reader: pypdf.PdfReader) -> str:
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[MonthlyReport, Path]:
    report = build_report()
    dest = tmp_path_factory.mktemp("pdf") / "handout-2026-10.pdf"
    assert render_monthly_pdf(report, dest) == dest
    return report, dest


def test_text_extracts_with_headers_customers_and_page_numbers(
    rendered: tuple[MonthlyReport, Path],
) -> None:
    report, dest = rendered
    reader = pypdf.PdfReader(dest)
    assert len(reader.pages) > 1
    text = _text(reader)
    flat = _squash(text)
    assert _squash("华泰精密电子有限公司 2026年10月 客户清单") in flat
    for title in SECTION_TITLES:
        assert _squash(title) in flat, title
    for name in [SCRIPT_NAME, LONG_NAME, *(c.customer for c in report.zone1[2:300:37])]:
        assert _squash(name) in flat, name
    for line in report.zone2[:5] + report.free[:3]:
        assert _squash(line.customer) in flat
    assert "第 1 页" in text
    assert f"共 {len(reader.pages)} 页" in text
    first = reader.pages[0].extract_text()
    assert "第 1 页" in first and "华泰精密电子有限公司" in first
    last = reader.pages[-1].extract_text()
    assert f"第 {len(reader.pages)} 页 / 共 {len(reader.pages)} 页" in last
    assert "本月新成交" in flat and "已解决" in flat and "未解决" in flat
    assert "—" in text  # the rep with no samples has no rate
    for line in report.zone1[2:40:7] + report.follow_ups_due[:3]:
        assert line.phone in flat, line.phone  # masked phones printed as given
    assert _squash("建议开场白：您好，") in flat
    # no replacement characters, no private-use code points from the font
    bad = [ch for ch in text if ch == "\ufffd" or 0xE000 <= ord(ch) <= 0xF8FF or ord(ch) >= 0xF0000]
    assert not bad


def test_headings_repeat_on_every_page_of_a_long_table(
    rendered: tuple[MonthlyReport, Path],
) -> None:
    _, dest = rendered
    reader = pypdf.PdfReader(dest)
    pages_with_zone1 = [p for p in reader.pages if "拜访日期" in (p.extract_text() or "")]
    assert len(pages_with_zone1) >= 3
    for page in pages_with_zone1:
        flat = _squash(page.extract_text())
        assert "序号客户名称地区业务员部门电话拜访日期送样日期样品保护至" in flat or "剩余" in flat


def test_every_font_is_an_embedded_subset(rendered: tuple[MonthlyReport, Path]) -> None:
    _, dest = rendered
    reader = pypdf.PdfReader(dest)
    seen: dict[str, bool] = {}
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            base = str(font["/BaseFont"])
            if font["/Subtype"] == "/Type0":
                descendant = font["/DescendantFonts"][0].get_object()
                descriptor = descendant["/FontDescriptor"].get_object()
                assert font.get("/ToUnicode") is not None, base
            else:
                descriptor = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, base  # TrueType outlines, embedded
            assert re.fullmatch(r"/?[A-Z]{6}\+\S+", base), base
            seen[base] = True
    assert len(seen) == 2  # regular and bold, nothing else


def test_empty_sections_say_none(tmp_path: Path) -> None:
    report = MonthlyReport(
        company="空白公司",
        month="2026-02",
        as_of=dt.date(2026, 2, 28),
        generated=dt.datetime(2026, 3, 1, 9, 30),
        register="空.xlsx",
    )
    dest = render_monthly_pdf(report, tmp_path / "out" / "empty.pdf")
    reader = pypdf.PdfReader(dest)
    text = _text(reader)
    assert len(reader.pages) == 1
    for empty in ("本月没有新的拜访或送样记录。", "暂无合作客户。", "本月没有业务员记录。",
                  "没有需要跟进的客户。", "14 天内没有到期的保护。", "本月没有可转交的客户。",
                  "本月没有冲突。"):  # fmt: skip
        assert empty in text
    assert "空白公司 2026年2月 客户清单" in text
    assert "第 1 页 / 共 1 页" in text


def test_text_the_font_lacks_is_replaced_not_dropped(tmp_path: Path) -> None:
    report = build_report(n_zone1=3, n_zone2=1)
    report.zone1[0].customer = "笑脸😀贸易\x07公司\n（新）"
    reader = pypdf.PdfReader(render_monthly_pdf(report, tmp_path / "odd.pdf"))
    flat = _squash(_text(reader))
    assert "笑脸?贸易公司（新）" in flat


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_a_handout_of_thousands_of_pages_numbers_them_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 100,000-row register prints some 3,000 pages: the footer's page count has room for
    four digits and more (fpdf2 warned, and squeezed the number, beyond 999)."""
    import warnings
    from collections.abc import Callable

    from fpdf import FPDF

    from xlsync.reports import pdf as pdf_module
    from xlsync.reports.handout import Handout

    title_block = pdf_module._title_block

    def title_then_pages(pdf: FPDF, handout: Handout, clean: Callable[[str], str]) -> None:
        title_block(pdf, handout, clean)  # the real one, then 1,000 pages
        for _ in range(1000):
            pdf.add_page()

    monkeypatch.setattr(pdf_module, "_title_block", title_then_pages)
    report = MonthlyReport(company="大公司", month="2026-02", as_of=dt.date(2026, 2, 28),
                           generated=dt.datetime(2026, 3, 1, 9, 30), register="大.xlsx")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dest = render_monthly_pdf(report, tmp_path / "big.pdf")
    reader = pypdf.PdfReader(dest)
    pages = len(reader.pages)
    assert pages > 1000
    assert f"第 {pages} 页 / 共 {pages} 页" in reader.pages[-1].extract_text()
    assert f"第 1 页 / 共 {pages} 页" in reader.pages[0].extract_text()


def test_pages_rasterise(rendered: tuple[MonthlyReport, Path]) -> None:
    _, dest = rendered
    reader = pypdf.PdfReader(dest)
    out = dest.parent / "page"
    last = len(reader.pages)
    for number in (1, last):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                str(number),
                "-l",
                str(number),
                str(dest),
                str(out),
            ],
            check=True,
            capture_output=True,
        )
    pngs = sorted(dest.parent.glob("page*.png"))
    assert len(pngs) == 2
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 10_000


def test_chinese_lines_break_between_characters_not_inside_codes() -> None:
    tokens = cell_tokens("送过 BL-466 的样品，不知（试用）效果2026-10-03如何？", "text")
    assert "BL-466" in tokens  # a model number is never split
    assert "品，" in tokens  # no line starts with a comma
    assert "（试" in tokens and "用）" in tokens  # brackets stay with their text
    assert "效" in tokens and "果2026-10-03" not in tokens


def test_a_big_month_renders_every_row(tmp_path: Path) -> None:
    """3,000 table rows over many pages: every customer is printed once (the speed of this
    is measured in benchmarks/, not asserted here)."""
    report = build_report(n_zone1=2000, n_zone2=1000)
    dest = render_monthly_pdf(report, tmp_path / "big.pdf")
    pages = pypdf.PdfReader(dest).pages
    assert len(pages) > 50
    text = re.sub(r"\s", "", "".join(page.extract_text() for page in pages))
    names = [line.customer for zone in (report.zone1, report.zone2) for line in zone]
    missing = [name for name in names if name not in text]
    assert len(names) == 3000 and not missing, missing[:5]


def test_numbers_codes_and_places_are_never_broken() -> None:
    """`东莞市塘厦/镇`, `EP-526/AC-/759`, `0755-****754/6`: the breaks the handout had."""
    assert cell_tokens("东莞市塘厦镇", "short") == ("东莞市塘厦镇",)
    assert cell_tokens("0755-****7546", "phone") == ("0755-****7546",)
    assert cell_tokens("138****1711 / 0769-****3271", "phone") == (
        "138****1711 / ",
        "0769-****3271",
    )
    assert cell_tokens("EP-526/AC-759", "code") == ("EP-526/", "AC-759")
    assert cell_tokens("2026-10-24", "date") == ("2026-10-24",)
    name = cell_tokens("东莞市塘厦镇宏达五金制品有限公司", "name")
    assert name[:2] == ("东莞市", "塘厦镇") and name[-1] == "有限公司"
    assert "EP-526/" in cell_tokens("送过 EP-526/AC-759 的样品", "text")

    class Mono:  # every character 1 mm wide
        def width(self, text: str, bold: bool = False) -> float:
            return float(len(text))

    m = Mono()
    assert wrap("东莞市塘厦镇", 8, m, False, 9, "short") == ["东莞市塘厦镇"]
    assert wrap("EP-526/AC-759", 8, m, False, 9, "code") == ["EP-526/", "AC-759"]
    assert wrap("138****1711 / 0769-****3271", 15, m, False, 9, "phone") == [
        "138****1711 /",
        "0769-****3271",
    ]
    wrapped = wrap("东莞市塘厦镇宏达五金有限公司", 7, m, False, 9, "name")
    assert wrapped[0].startswith("东莞市塘厦镇") and wrapped[-1].endswith("有限公司")
    assert wrap("东莞市塘厦镇宏达五金有限公司", 5, m, False, 9, "name") == [
        "东莞市",
        "塘厦镇宏达",
        "五金",
        "有限公司",
    ]


def test_columns_are_sized_from_their_content() -> None:
    kinds = ["index", "name", "short", "phone", "date", "text"]
    mins = [8.0, 12.0, 14.0, 20.0, 18.0, 12.0]
    maxs = [8.0, 60.0, 14.0, 40.0, 18.0, 30.0]
    widths = column_widths(kinds, mins, maxs, 190.0)
    assert abs(sum(widths) - 190.0) < 1e-6
    assert widths[2] == 14.0 and widths[4] == 18.0 and widths[0] == 8.0  # words: as wide as needed
    assert widths[3] == 40.0  # room for both numbers
    assert widths[1] > 60.0 - 1e-6 and widths[5] > 30.0 - 1e-6  # the rest to names and notes
    tight = column_widths(kinds, mins, maxs, 110.0)
    assert tight[2] == 14.0 and tight[4] == 18.0  # a word column never shrinks below its word
    assert all(w >= lo - 1e-9 for w, lo in zip(tight, mins, strict=True))


def test_cells_break_only_betweentokens(tmp_path: Path) -> None:
    report = build_report(n_zone1=60, n_zone2=30)
    for i, line in enumerate(report.zone1 + report.zone2):
        line.region = ("东莞市塘厦镇", "深圳市南山区", "广州市番禺区")[i % 3]
        line.sample = "EP-526/AC-759" if i % 2 else "UV-613/AC-320/BL-466"
        line.phone = "0755-****7546 / 138****1711" if i % 3 else "0769-****3271"
    reader = pypdf.PdfReader(render_monthly_pdf(report, tmp_path / "t.pdf"))
    lines = _text(reader).splitlines()
    for token in ("东莞市塘厦镇", "深圳市南山区", "EP-526/", "AC-759", "UV-613/", "0755-****7546",
                  "138****1711", "0769-****3271"):  # fmt: skip
        inside = sum(token in line for line in lines)
        assert inside >= 20, (token, inside)
    for fragment in ("东莞市塘厦", "AC-", "0755-****754", "0769-****327"):
        for line in lines:
            stripped = line.rstrip()
            assert not stripped.endswith(fragment), (fragment, line)


def test_no_row_is_split_across_pages(tmp_path: Path) -> None:
    report = build_report(n_zone1=260, n_zone2=90)
    for i, line in enumerate(report.zone1[::9]):  # some tall rows: names of five lines
        line.customer = f"第{i}号" + LONG_NAME[: 60 + i * 3]
    done = _render(report, tmp_path / "rows.pdf")
    reader = pypdf.PdfReader(done.dest)
    assert len(reader.pages) >= 8
    pages = {page for page, _, _ in done.rows}
    assert len(pages) >= 6
    expected = sum(
        len(s)
        for s in (
            report.zone1,
            report.zone2,
            report.follow_ups_due,
            report.ending_soon,
            report.free,
            report.conflicts,
        )
    )
    expected += len(report.reps) + len(report.departments) + 1  # and the 合计 row
    assert len(done.rows) == expected
    for page, top, bottom in done.rows:
        assert done.page_top - 1e-6 <= top < bottom <= done.page_bottom + 1e-6, (page, top)
    # and in the PDF itself: each tall row's name is whole on one page
    flat_pages = [_squash(p.extract_text() or "") for p in reader.pages]
    for line in report.zone1[::9]:
        assert sum(_squash(line.customer) in flat for flat in flat_pages) >= 1, line.customer


def test_font_subsetting_stays_quiet_on_the_watch_console(tmp_path: Path) -> None:
    """`watch` logs its own INFO lines; fontTools' ~500 INFO lines per subset stay out."""
    import logging

    from xlsync.cli import console_logging

    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    root, ours = logging.getLogger(), logging.getLogger("xlsync")
    saved = (root.level, ours.level)
    handler = Keep()
    try:
        console_logging(handler)
        render_monthly_pdf(build_report(n_zone1=5, n_zone2=2), tmp_path / "quiet.pdf")
        logging.getLogger("xlsync.watch").info("已同步 r.xlsx")
        logging.getLogger("fontTools.subset").warning("a real problem")
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        ours.setLevel(saved[1])
    assert [(r.name, r.getMessage()) for r in seen] == [
        ("xlsync.watch", "已同步 r.xlsx"),
        ("fontTools.subset", "a real problem"),
    ]
