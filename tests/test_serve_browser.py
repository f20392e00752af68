"""`xlsync serve` on a phone: the system Chromium at 390×844 signs in, searches by a name
variant and by a phone typed another way, reads the answer, opens its own list, meets a
hostile customer name, and signs out. Screenshots go to the test's tmp dir, and also to
$XLSYNC_SHOTS_DIR if set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xlsync.server.audit import Kind

from .serve_helpers import PASSWORD, XSS_NAME, Served, served
from .test_report_html import CHROMIUM, CHROMIUM_ARGS, save_shot

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("serve-browser")) as s:
        yield s


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def shot(page: Any, folder: Path, name: str) -> None:
    png = folder / f"serve-{name}.png"
    page.screenshot(path=str(png), full_page=True)
    save_shot(png)


def test_a_rep_checks_customers_from_a_phone(app: Served, chromium: Any, tmp_path: Path) -> None:
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                   has_touch=True, locale="zh-CN")  # fmt: skip
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(app.base + "/")
    assert page.url.endswith("/login")  # no session: the sign-in page
    page.fill("input[name=name]", "王芳")
    page.fill("input[name=password]", PASSWORD)
    shot(page, tmp_path, "1-login")
    page.click("button[type=submit]")
    page.wait_for_url(app.base + "/")
    assert page.locator(".who").inner_text().startswith("王芳")

    # a name variant: traditional characters, no city, no legal form
    page.fill("#q", "格林電子")
    page.click("form.search button")
    page.wait_for_selector("#verdict")
    verdict = page.locator("#verdict").inner_text()
    assert "请勿联系" in verdict and "张伟" in verdict
    assert "保护至 2026-12-30" in page.locator(".customer").first.inner_text()
    shown = page.locator("ul.rows").first.inner_text()
    assert "138****5678" in shown and "13812345678" not in page.content()
    assert "业务一部" in shown
    shot(page, tmp_path, "2-name-variant")

    # the same customer by phone, typed with a country code and dashes
    page.fill("#q", "+86 138-1234-5678")
    page.press("#q", "Enter")
    page.wait_for_url("**/?q=*")
    assert "请勿联系" in page.locator("#verdict").inner_text()
    assert "电话相同" in page.locator(".customer").first.inner_text()
    shot(page, tmp_path, "3-phone")

    # her own customer: may call, everything shown
    page.fill("#q", "华强科技")
    page.press("#q", "Enter")
    page.wait_for_selector("text=李小姐")
    assert "可以联系" in page.locator("#verdict").inner_text()
    assert "0755-88881234" in page.locator("ul.rows").first.inner_text()
    shot(page, tmp_path, "4-own")

    # a hostile customer name is shown as text; no script runs
    page.fill("#q", XSS_NAME)
    page.press("#q", "Enter")
    page.wait_for_selector(".customer h2")
    assert page.locator(".customer h2").first.inner_text() == XSS_NAME
    shot(page, tmp_path, "5-hostile-name")

    # one character lists nothing
    page.fill("#q", "电")
    page.press("#q", "Enter")
    page.wait_for_selector(".alert")
    assert "至少输入两个字" in page.locator(".alert").inner_text()

    page.click("text=我的客户")
    page.wait_for_url(app.base + "/mine")
    assert "深圳市华强科技有限公司" in page.locator("main").inner_text()
    assert "已 73 天没有跟进" in page.locator("main").inner_text()  # 佛山市旧识五金
    assert "数据截至" in page.locator("#fresh").inner_text()
    shot(page, tmp_path, "6-mine")

    page.click(".logout button")
    page.wait_for_url(app.base + "/login")
    page.goto(app.base + "/")
    assert page.url.endswith("/login")  # signed out for good
    shot(page, tmp_path, "7-signed-out")
    assert dialogs == []
    assert errors == []  # nothing blocked by the Content-Security-Policy, no script error
    context.close()
    kinds = [(e.kind, e.query) for e in app.audit(name="王芳")]
    assert (Kind.LOOKUP, "格林電子") in kinds and (Kind.LOOKUP, "+86 138-1234-5678") in kinds
    assert kinds[0][0] is Kind.LOGIN and (Kind.LOGOUT, "") in kinds
