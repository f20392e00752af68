"""HTML reports, the daily .xlsx and the blackboard page, checked in a real browser.

The browser tests drive Debian's Chromium (/usr/bin/chromium) with Playwright's Python
package (no `playwright install`: the system browser is used); they are skipped when either
is missing. Screenshots go to the test's tmp dir, and also to $XLSYNC_SHOTS_DIR if set.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import os
import re
import shutil
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xlsync.reports.content import (
    Board,
    BoardCustomer,
    BoardEntry,
    ConflictLine,
    CustomerLine,
    DailyReport,
    MonthlyReport,
    Score,
)
from xlsync.reports.daily_xlsx import write_daily_xlsx
from xlsync.reports.html import (
    BOARD_VERSION_FILE,
    render_board,
    render_daily_html,
    render_monthly_html,
)

AS_OF = dt.date(2026, 11, 1)
GENERATED = dt.datetime(2026, 11, 1, 8, 30)
EVIL = "<script>alert(1)</script>"
BREAKOUT = "</script><b>x</b>"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def line(customer: str, **kw: Any) -> CustomerLine:
    values: dict[str, Any] = {
        "customer": customer,
        "rep": "张伟",
        "department": "销售一部",
        "phone": "138****5678",
        "region": "深圳",
        "status": "送样",
        "contacted": dt.date(2026, 9, 20),
        "visited": dt.date(2026, 10, 1),
        "sampled": dt.date(2026, 10, 3),
        "sample": "BL-466",
        "last_follow_up": dt.date(2026, 10, 20),
        "won": None,
        "protected_until": dt.date(2027, 1, 1),
        "protection": "送样 2026-10-03，保护至 2027-01-01",
        "sheet": "跟进中",
        "row": 5,
    }
    values.update(kw)
    return CustomerLine(**values)


def monthly(zone1_size: int = 4) -> MonthlyReport:
    zone1 = [
        line("深圳市格林电子科技有限公司"),
        line(EVIL, rep="王芳", department="销售二部"),
        line(BREAKOUT, rep="李娜"),
        line("=1+1", rep="李娜"),
    ]
    zone1 += [
        line(f"东莞市第{i}号五金制品有限公司", rep=("张伟", "李娜", "王芳")[i % 3], row=10 + i)
        for i in range(max(0, zone1_size - len(zone1)))
    ]
    won = line(
        "东莞雅玛西电子有限公司",
        rep="李娜",
        status="已合作",
        won=dt.date(2026, 10, 18),
        protected_until=None,
        marked=True,
    )
    old = line("佛山市金达机械有限公司", rep="王芳", status="已合作", won=dt.date(2025, 3, 2))
    free = line(
        "惠州市新隆塑胶制品厂",
        rep="赵强",
        sampled=dt.date(2026, 7, 10),
        protected_until=dt.date(2026, 10, 8),
        note="您好，陈先生，我是本公司的，我了解到我公司之前有业务员赵强联系过您，"
        "并在三个月前给您送过 BL-466 的样品，不知您试用后效果如何？",
    )
    return MonthlyReport(
        company="华南照明器材有限公司",
        month="2026-10",
        as_of=AS_OF,
        generated=GENERATED,
        register="客户登记表.xlsx",
        zone1=zone1,
        zone2=[won, old],
        reps=[
            Score("张伟", "销售一部", 12, 5, 3, 1, 4, 2),
            Score(EVIL, "销售二部", 3, 1, 0, 0, 0, 0),
        ],
        departments=[Score("销售一部", "", 20, 8, 4, 1, 6, 3)],
        follow_ups_due=[line("中山市宏达灯饰有限公司", note="已 35 天未跟进")],
        ending_soon=[line("江门市恒通照明有限公司", protected_until=dt.date(2026, 11, 10))],
        free=[free],
        conflicts=[
            ConflictLine("格林电子", "张伟", "送样 2026-10-03", "李娜（须停止跟进）", False),
            ConflictLine("金达机械", "王芳", "已合作", "赵强（保护已过期）", True),
        ],
    )


def entry(customer: str, keys: list[str], **kw: Any) -> BoardEntry:
    rep = kw.get("rep", "张伟")
    verdict = kw.pop("verdict", None) or f"请勿联系：已由 {rep} 送样保护至 2027-01-01"
    owner = kw.pop("owner", rep)
    return BoardEntry(line=line(customer, **kw), keys=keys, owner=owner, verdict=verdict)


def customers_of(entries: list[BoardEntry]) -> list[BoardCustomer]:
    """One searchable customer per entry, keyed the way xlsync.lookup keys register rows."""
    from xlsync.lookup import query_key
    from xlsync.matching import analyse

    return [
        BoardCustomer(
            name=e.line.customer,
            verdict=e.verdict,
            stop=not e.verdict.startswith("可以联系"),
            keys=[k for k in dict.fromkeys([query_key(e.line.customer),
                                             analyse(e.line.customer).core]) if len(k) >= 2],
            phones=[k for k in e.keys if k.isdigit()],
            entries=[i],
        )
        for i, e in enumerate(entries)
    ]  # fmt: skip


def board(fingerprint: str = "v1", extra: list[BoardEntry] | None = None) -> Board:
    zone1 = [
        entry(
            "深圳市格林电子科技有限公司",
            ["格林电子", "格林", "13812345678"],
            phone="138 1234 5678",
        ),
        entry(EVIL, ["scriptalert1script"], rep="王芳", department="销售二部"),
        entry(BREAKOUT, ["scriptbx"], rep="李娜"),
        entry(
            "广州市白云区鑫隆包装材料有限公司",
            ["鑫隆包装材料", "鑫隆", "02088889999"],
            rep="李娜",
            region="广州白云",
            visited=dt.date(2026, 10, 12),
            sampled=None,
            sample="",
            protected_until=dt.date(2027, 1, 10),
            verdict="请勿联系：已由 李娜 拜访保护至 2027-01-10",
        ),
        *(extra or []),
    ]
    zone2 = [
        entry(
            "东莞雅玛西电子有限公司",
            ["雅玛西电子", "雅玛西", "076922223333"],
            rep="李娜",
            status="已合作",
            won=dt.date(2026, 9, 15),
            protected_until=None,
            verdict="请勿联系：李娜 的合作客户（2026-09-15 成交）",
        )
    ]
    others = [
        entry(
            "佛山市南海区金达机械厂",
            ["金达机械", "金达", "13922223333"],
            rep="赵强",
            status="电话",
            visited=None,
            sampled=None,
            protected_until=None,
            owner="",
            verdict="可以联系（赵强 仅电话联系过，不受保护）",
        )
    ]
    return Board(
        company="华南照明器材有限公司",
        as_of=AS_OF,
        generated=GENERATED,
        register="客户登记表.xlsx",
        zone1=zone1,
        zone2=zone2,
        others=others,
        customers=customers_of(zone1 + zone2 + others),
        conflicts=[
            ConflictLine(
                "格林电子",
                "张伟",
                "送样 2026-10-03，保护至 2027-01-01",
                "李娜（须停止跟进）",
                False,
            ),
            ConflictLine(EVIL, "王芳", "拜访 2026-10-01", BREAKOUT, False),
        ],
        fingerprint=fingerprint,
    )


def assert_escaped(text: str) -> None:
    assert "<script>alert" not in text
    assert "</script><b>" not in text
    assert "<b>x</b>" not in text
    assert htmllib.escape(EVIL, quote=True) in text or "&lt;script&gt;alert(1)" in text


def no_external_resources(text: str) -> None:
    assert "<link" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "@import" not in text
    assert "url(" not in text


# ---------------------------------------------------------------- without a browser


def test_monthly_html_escapes_and_prints_a4(tmp_path: Path) -> None:
    out = render_monthly_html(monthly(), tmp_path / "m.html")
    text = out.read_text("utf-8")
    assert_escaped(text)
    for heading in (
        "一、本月拜访/送样客户（未合作）",
        "二、合作客户",
        "三、业绩排行",
        "四、待跟进",
        "五、保护即将到期（14天内）",
        "六、可转交客户",
        "七、本月冲突",
        "送样成交率",
        "本月新成交",
        "已解决",
        "未解决",
        "2026年10月",
    ):
        assert heading in text, heading
    assert "size: A4" in text
    assert "counter(page)" in text and "@top-center" in text and "@bottom-center" in text
    assert "thead { display: table-header-group; }" in text
    assert "break-inside: avoid" in text
    assert "50%（2/4）" in text  # 张伟: 2 of 4 sampled customers won
    assert "9 天" in text  # protection ends 2026-11-10, as of 2026-11-01
    assert "我了解到我公司之前有业务员赵强联系过您" in text
    no_external_resources(text)
    # a folder as dest: a default name inside it
    assert render_monthly_html(monthly(), tmp_path).name == "客户登记表-2026-10.html"


def test_company_name_cannot_break_the_stylesheet(tmp_path: Path) -> None:
    report = replace(monthly(), company='x"; } body { display: none } </style><script>alert(2)')
    text = render_monthly_html(report, tmp_path / "m.html").read_text("utf-8")
    assert text.count("</style>") == 1
    assert "<script>alert(2)" not in text
    style = text[text.index("<style>") : text.index("</style>")]
    assert "display: none" not in style and "x\\000022" in style


def daily() -> DailyReport:
    return DailyReport(
        company="华南照明器材有限公司",
        day=dt.date(2026, 10, 3),
        generated=GENERATED,
        register="客户登记表.xlsx",
        lines=[
            line("=1+1"),
            line("+86 138", rep="-李娜", department="@销售二部", sample='=HYPERLINK("x")'),
            line(EVIL, phone="-"),
            line(BREAKOUT, sampled=None, visited=None, status="电话", protected_until=None),
        ],
    )


def test_daily_html_escapes(tmp_path: Path) -> None:
    text = render_daily_html(daily(), tmp_path / "d.html").read_text("utf-8")
    assert_escaped(text)
    assert "=1+1" in text and "共 4 家" in text
    no_external_resources(text)


def test_daily_xlsx_keeps_text_as_text(tmp_path: Path) -> None:
    path = write_daily_xlsx(daily(), tmp_path / "d.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws is not None
    headers = [c.value for c in ws[1]]
    assert headers[:4] == ["客户名称", "业务员", "部门", "电话"]
    col = {h: i + 1 for i, h in enumerate(headers)}
    formula_like = ws.cell(2, col["客户名称"])
    assert formula_like.value == "=1+1"
    assert formula_like.data_type == "s"
    for name, value in (("客户名称", "+86 138"), ("业务员", "-李娜"), ("部门", "@销售二部")):
        cell = ws.cell(3, col[name])
        assert (cell.value, cell.data_type) == (value, "s")
    assert ws.cell(3, col["样品"]).data_type == "s"
    assert ws.cell(4, col["客户名称"]).value == EVIL
    assert ws.cell(5, col["客户名称"]).value == BREAKOUT
    sampled = ws.cell(2, col["送样日期"])
    assert sampled.is_date and sampled.value.date() == dt.date(2026, 10, 3)
    assert ws.cell(5, col["送样日期"]).value is None
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(headers))}5"
    assert ws.column_dimensions["A"].width > 20
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet and "<f " not in sheet  # no formula anywhere


def board_json(text: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="board-data">(.*?)</script>', text, re.S)
    assert m is not None
    assert "</" not in m.group(1) and "<" not in m.group(1)
    data: dict[str, Any] = json.loads(m.group(1))
    return data


def test_board_embeds_entries_safely(tmp_path: Path) -> None:
    page = render_board(board(), tmp_path / "board.html")
    text = page.read_text("utf-8")
    assert_escaped(text)
    no_external_resources(text)
    assert text.count("<script") == 2  # the JSON block and the page's own script
    data = board_json(text)
    names = [e["name"] for e in data["entries"]]
    assert EVIL in names and BREAKOUT in names
    assert data["fingerprint"] == "v1"
    assert "有限公司" in data["words"]["tails"] and "深圳市" in data["words"]["places"]
    green = [c for c in data["customers"] if not c["stop"]]
    assert [e["name"] for e in green] == ["佛山市南海区金达机械厂"]
    version = (tmp_path / BOARD_VERSION_FILE).read_text("utf-8")
    assert version.strip() == 'window.XLSYNC_BOARD_VERSION = "v1";'
    # a folder as dest
    assert render_board(board("v2"), tmp_path).name == "board.html"
    assert '"v2"' in (tmp_path / BOARD_VERSION_FILE).read_text("utf-8")


def test_board_version_file_escapes_fingerprint(tmp_path: Path) -> None:
    render_board(board('"</script>\u2028'), tmp_path / "board.html")
    version = (tmp_path / BOARD_VERSION_FILE).read_text("utf-8")
    assert "</script>" not in version and "\u2028" not in version
    assert json.loads(version.split("=", 1)[1].strip().rstrip(";")) == '"</script>\u2028'


# ---------------------------------------------------------------- in a real browser


def save_shot(png: Path) -> None:
    """Keep a copy of a screenshot where a person can look at it, when asked to."""
    folder = os.environ.get("XLSYNC_SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(folder) / png.name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert dialogs == [], "a customer name ran as script"
    assert errors == [], errors


def search(pg: Any, text: str) -> str:
    pg.fill("#q", text)
    result: str = pg.inner_text("#result")
    return result


def test_board_search_in_browser(page: Any, tmp_path: Path) -> None:
    html = render_board(board(), tmp_path / "board.html")
    page.goto(html.as_uri())
    assert page.title() == "华南照明器材有限公司 客户公告板"
    # the evil names are shown as text, not run or parsed as markup
    assert EVIL in page.inner_text("#zone1") and BREAKOUT in page.inner_text("#zone1")
    assert page.locator("#zone1 b").count() == 0
    shot = tmp_path / "board.png"
    page.screenshot(path=str(shot), full_page=True)
    save_shot(shot)

    # the same customer, written differently: typed like a rep would
    page.locator("#q").press_sequentially("格林电子（深圳）有限公司")
    result = page.inner_text("#result")
    assert "深圳市格林电子科技有限公司" in result
    assert "请勿联系：已由 张伟 送样保护至 2027-01-01" in result
    assert page.locator("#result .banner.stop").count() == 1
    assert page.locator("#result .card.stop").first.is_visible()
    assert page.locator("#zone1 tr.hit").count() == 1
    shot = tmp_path / "board-search-taken.png"
    page.screenshot(path=str(shot))
    save_shot(shot)

    # full-width and traditional spacing, a place in front, a legal form behind
    assert "张伟" in search(page, "广东省深圳市 格林电子 有限公司")
    # a phone in another format, with the country code
    result = search(page, "138-1234-5678")
    assert "深圳市格林电子科技有限公司" in result and "电话相同" in result
    assert "深圳市格林电子科技有限公司" in search(page, "+86 138 1234 5678")
    # a landline without its area code
    assert "鑫隆包装材料" in search(page, "8888 9999")
    # a cooperating customer, found by its short name
    result = search(page, "雅玛西电子厂")
    assert "李娜 的合作客户" in result
    # a phone-only customer is free: green
    result = search(page, "金达机械")
    assert "可以联系" in result and page.locator("#result .banner.go").count() == 1
    # nobody has it
    result = search(page, "北京星辰软件有限公司")
    assert "可以联系" in result and "没有找到" in result
    assert page.locator("#result .banner.go").count() == 1
    shot = tmp_path / "board-search-free.png"
    page.screenshot(path=str(shot))
    save_shot(shot)
    # the evil name is searchable and still only text
    assert EVIL in search(page, "script alert 1 script")
    assert page.locator("#result b").count() == 0


def test_board_reloads_when_the_register_changes(page: Any, tmp_path: Path) -> None:
    html = render_board(board("v1"), tmp_path / "board.html")
    page.goto(html.as_uri() + "?refresh=0.3")
    search(page, "格林电子")
    assert "新客户" not in page.inner_text("#zone1")
    page.wait_for_timeout(800)  # a few checks against the same version: no reload
    assert page.evaluate("window.XLSYNC_BOARD_VERSION") == "v1"
    newer = entry("珠海市新客户照明有限公司", ["新客户照明", "新客户"], rep="陈静")
    start = time.monotonic()
    render_board(board("v2", extra=[newer]), html)
    page.wait_for_function(
        "document.getElementById('zone1').innerText.includes('珠海市新客户照明有限公司')",
        timeout=10_000,
    )
    assert time.monotonic() - start < 10
    assert page.locator('meta[name="xlsync-fingerprint"]').get_attribute("content") == "v2"
    # the rep's query survives the reload
    assert page.input_value("#q") == "格林电子"
    assert "张伟" in page.inner_text("#result")
    assert "陈静" in search(page, "新客户照明")


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def test_monthly_prints_to_a4_pdf(page: Any, tmp_path: Path) -> None:
    html = render_monthly_html(monthly(zone1_size=90), tmp_path / "monthly.html")
    page.goto(html.as_uri())
    assert "一、本月拜访/送样客户（未合作）" in page.inner_text("h2 >> nth=0")
    assert page.locator("#zone1 tbody tr").count() == 90
    assert EVIL in page.inner_text("#zone1")
    shot = tmp_path / "monthly.png"
    page.screenshot(path=str(shot))
    save_shot(shot)
    pdf = tmp_path / "monthly.pdf"
    page.pdf(path=str(pdf), format="A4")
    save_shot(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert pdf_pages(data) > 1
    # the short handout fits on fewer pages than the long one
    short = render_monthly_html(monthly(zone1_size=4), tmp_path / "short.html")
    page.goto(short.as_uri())
    assert pdf_pages(page.pdf(format="A4")) < pdf_pages(data)


# ---------------------------------------------------------------- one handout, two formats


def _html_sections(text: str) -> list[dict[str, Any]]:
    """Each section of the HTML handout as a reader sees it: title, tables' headers, and
    what it says when empty."""
    import lxml.html

    doc = lxml.html.fromstring(text)
    out = []
    for section in doc.iter("section"):
        h2 = section.find("h2")
        title = (h2.text or "").strip()
        headers = [
            [th.text_content().strip() for th in t.iter("th")] for t in section.iter("table")
        ]
        none = [p.text_content().strip() for p in section.find_class("none")]
        out.append({"title": title, "headers": headers, "empty": none})
    return out


def _pdf_text(path: Path) -> tuple[str, str]:
    pypdf = pytest.importorskip("pypdf")
    text = "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(path).pages)
    return text, re.sub(r"\s+", "", text)


def test_html_and_pdf_are_one_handout(tmp_path: Path) -> None:
    from xlsync.reports.pdf import render_monthly_pdf

    empty = MonthlyReport(
        company="华南照明器材有限公司",
        month="2026-03",
        as_of=dt.date(2026, 3, 31),
        generated=GENERATED,
        register="客户登记表.xlsx",
    )
    for report in (replace(monthly(), month="2026-03"), empty):
        html = render_monthly_html(report, tmp_path / "m.html").read_text("utf-8")
        text, flat = _pdf_text(render_monthly_pdf(report, tmp_path / "m.pdf"))
        sections = _html_sections(html)
        assert len(sections) == 7
        for section in sections:
            assert section["title"] in text, section["title"]
            for headers in section["headers"]:
                assert "".join(headers) in flat, (section["title"], headers)
            for none in section["empty"]:
                assert none in text, (section["title"], none)
        assert "华南照明器材有限公司 2026年3月 客户清单" in text
        assert "华南照明器材有限公司 2026年3月 客户清单" in html
        assert "2026年03月" not in text and "2026年03月" not in html
    # the empty handout says the same thing in both formats, section by section
    assert all(s["empty"] and not s["headers"] for s in sections)


def test_monthly_columns_are_not_squeezed_in_a_browser(page: Any, tmp_path: Path) -> None:
    """At an ordinary window width and on A4, 客户名称 keeps room and short words stay on
    one line (部门, 业务员, 地区, dates, phones, models)."""
    report = monthly(zone1_size=30)
    for i, c in enumerate(report.zone1):
        c.region = ("东莞市塘厦镇", "深圳市南山区")[i % 2]
        c.sample = "EP-526/AC-759"
        c.phone = "0755-****7546 / 138****1711"
        c.department = "华南事业部"
    html = render_monthly_html(report, tmp_path / "wide.html")
    script = """() => [...document.querySelectorAll('#zone1 tbody tr')].map(tr =>
        [...tr.cells].map(td => { const r = document.createRange(); r.selectNodeContents(td);
            return {cls: td.className, h: r.getBoundingClientRect().height,
                    w: td.getBoundingClientRect().width}; }))"""
    line_h = 8.8 * 96 / 72 * 1.45  # one line of table text, px
    for width, media in ((1280, "screen"), (794, "print")):
        page.set_viewport_size({"width": width, "height": 1000})
        page.emulate_media(media=media)
        page.goto(html.as_uri())
        rows = page.evaluate(script)
        assert rows
        for cells in rows:
            for cell in cells:
                if cell["cls"].split()[0] in ("short", "date", "index", "code", "phone"):
                    if cell["cls"].startswith(("code", "phone")) and media == "print":
                        continue  # two numbers may stack, each whole
                    assert cell["h"] < 2 * line_h, (width, cell)
            name = next(c for c in cells if c["cls"].startswith("name"))
            assert name["w"] >= 8 * 8.8 * 96 / 72, (width, name)  # at least 8 characters wide
        shot = tmp_path / f"monthly-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        save_shot(shot)


@pytest.mark.parametrize("batch", [1, 2, 1000])
def test_the_board_data_is_written_in_pieces_exactly_as_tojson_writes_it(batch: int) -> None:
    """The blackboard's embedded JSON goes to the file a batch of entries at a time (a
    100,000-row board is never one string); the pieces are what `|tojson` wrote whole,
    hostile text included."""
    from jinja2.utils import htmlsafe_json_dumps

    from xlsync.reports.html import environment, json_parts

    hostile = "</script><script>alert('x')</script> & <!-- 王' \u2028 \\"
    data: dict[str, object] = {
        "fingerprint": "abc",
        "entries": [{"name": f"{hostile}{i}", "keys": [hostile, str(i)]} for i in range(5)],
        "customers": [],
        "words": ["有限公司", hostile],
        "limits": {"a": 1, "b": 0.5},
    }
    options = environment().policies["json.dumps_kwargs"]
    whole = htmlsafe_json_dumps(data, dumps=json.dumps, **options)
    assert "".join(json_parts(data, batch=batch)) == whole
    assert json.loads("".join(json_parts(data, batch=batch))) == data
