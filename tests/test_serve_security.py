"""`xlsync serve` under attack: each attack of issue 16 against the real application served
by uvicorn, the refusal asserted, and the audit asserted to have recorded the attempt."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from xlsync.server.audit import Kind

from .serve_helpers import (
    PASSWORD,
    SHARED_LOCAL,
    XSS_CONTACT,
    XSS_NAME,
    XSS_NOTES,
    Served,
    csrf_of,
    login,
    raw_get,
    served,
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("serve")) as s:
        yield s


def fresh(app: Served) -> None:
    """Let every sign-in failure so far leave the rate limit's window."""
    app.clock.advance(app.config.login_window + 1)


@contextmanager
def signed_in(app: Served, name: str, source: str | None = None) -> Iterator[httpx.Client]:
    with app.client(source) as client:
        assert login(client, name).status_code == 303
        yield client


# ---------------------------------------------------------------- no session, no entry

PAGES = ["/", "/mine", "/?q=格林电子"]
API = ["/api/who?q=格林电子", "/api/me"]


def test_every_route_but_sign_in_refuses_without_a_session(app: Served) -> None:
    before = len(app.audit(Kind.DENIED))
    with app.client() as c:
        for path in PAGES:
            r = c.get(path)
            assert r.status_code == 303 and r.headers["location"] == "/login", path
        for path in API:
            r = c.get(path)
            assert r.status_code == 401, path
            assert r.json()["error"] == "请先登录。"
        r = c.post("/logout", data={"csrf": "x"})
        assert r.status_code in (303, 401)
        c.cookies.set("xlsync_session", "forged-token-value")
        assert c.get("/api/me").status_code == 401
        # open without a session: the sign-in page and its assets
        assert c.get("/login").status_code == 200
        assert c.get("/static/app.css").status_code == 200
        assert c.get("/static/app.js").status_code == 200
    denied = app.audit(Kind.DENIED)[before:]
    assert len(denied) == len(PAGES) + len(API) + 2
    assert {e.path for e in denied} >= {"/", "/mine", "/api/who", "/api/me", "/logout"}
    assert denied[-1].detail == "unknown"
    assert all(e.query == "" for e in denied)  # nothing was looked up


# ---------------------------------------------------------------- brute force


def test_brute_force_on_one_name_ends_in_429_from_any_address(app: Served) -> None:
    fresh(app)
    before = len(app.audit())
    with app.client("127.0.0.2") as c:
        for attempt in range(5):
            r = login(c, "王芳", f"guess-{attempt}")
            assert r.status_code == 401, attempt
            assert "用户名或密码不正确" in r.text
        r = login(c, "王芳", "guess-5")
        assert r.status_code == 429
        assert "登录失败次数太多" in r.text and "分钟后再试" in r.text
        assert int(r.headers["retry-after"]) > 0
    with app.client("127.0.0.3") as other:  # another address: the name is still limited
        r = login(other, "王芳", PASSWORD)
        assert r.status_code == 429  # even the right password is not tried
        assert "xlsync_session" not in r.headers.get("set-cookie", "")
    kinds = [e.kind for e in app.audit()[before:]]
    assert kinds.count(Kind.LOGIN_FAILED) == 5
    assert kinds.count(Kind.LOGIN_LIMITED) == 2
    assert Kind.LOGIN not in kinds
    fresh(app)
    with app.client("127.0.0.3") as later:  # ten minutes on, the rep signs in
        assert login(later, "王芳").status_code == 303


def test_brute_force_from_one_address_ends_in_429_for_every_name(app: Served) -> None:
    fresh(app)
    with app.client("127.0.0.4") as c:
        for n in range(5):
            assert login(c, f"无此人{n}", "x" * 9).status_code == 401
        r = login(c, "李娜", PASSWORD)  # a real account, right password: this address waits
        assert r.status_code == 429
        r = c.post("/login", data={"name": "李娜", "password": PASSWORD,
                                   "csrf": csrf_of(c.get("/login").text)},
                   headers={"Accept": "application/json"})  # fmt: skip
        assert r.status_code == 429 and "分钟后再试" in r.json()["error"]
    with app.client("127.0.0.5") as elsewhere:
        assert login(elsewhere, "李娜").status_code == 303
    limited = [e for e in app.audit(Kind.LOGIN_LIMITED) if e.address == "127.0.0.4"]
    assert [e.name for e in limited] == ["李娜", "李娜"]
    failed = [e for e in app.audit(Kind.LOGIN_FAILED) if e.address == "127.0.0.4"]
    assert [e.name for e in failed] == [f"无此人{n}" for n in range(5)]


# ---------------------------------------------------------------- sessions


def test_a_cookie_copied_before_logout_is_refused_after_it(app: Served) -> None:
    fresh(app)
    with signed_in(app, "王芳") as c:
        stolen = c.cookies["xlsync_session"]
        assert c.get("/api/who", params={"q": "格林电子"}).status_code == 200
        page = c.get("/")
        r = c.post("/logout", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert 'xlsync_session=""' in r.headers["set-cookie"]
    with app.client() as thief:
        thief.cookies.set("xlsync_session", stolen)
        assert thief.get("/api/who", params={"q": "格林电子"}).status_code == 401
        assert thief.get("/").headers["location"] == "/login"
    logout = app.audit(Kind.LOGOUT, "王芳")
    assert logout
    ended = [e for e in app.audit(Kind.DENIED) if e.detail == "ended"]
    assert len(ended) >= 2


def test_sessions_end_after_inactivity_and_at_their_maximum_age(app: Served) -> None:
    fresh(app)
    with signed_in(app, "李娜") as c:
        app.clock.advance(app.config.idle - 60)
        assert c.get("/api/me").status_code == 200  # in time: the idle clock restarts
        app.clock.advance(app.config.idle + 1)
        r = c.get("/api/me")
        assert r.status_code == 401 and r.json()["reason"] == "idle"
    with signed_in(app, "李娜") as c:
        for _ in range(int(app.config.absolute // (app.config.idle - 60)) + 2):
            app.clock.advance(app.config.idle - 60)
            r = c.get("/api/me")  # active all along: only the maximum age ends it
            if r.status_code != 200:
                break
        assert r.status_code == 401 and r.json()["reason"] == "expired"
    reasons = {e.detail for e in app.audit(Kind.DENIED)}
    assert {"idle", "expired"} <= reasons


def test_a_reset_password_ends_the_sessions_of_the_account(app: Served) -> None:
    fresh(app)
    with signed_in(app, "张伟") as c:
        assert c.get("/api/me").status_code == 200
        app.server.accounts.set_password("张伟", PASSWORD)  # `xlsync users reset`
        r = c.get("/api/me")
        assert r.status_code == 401 and r.json()["reason"] == "account"


def test_cookies_are_httponly_and_samesite_strict_and_not_secure_without_tls(app: Served) -> None:
    with app.client() as c:
        page = c.get("/login")
        pre = page.headers["set-cookie"]
        assert "HttpOnly" in pre and "SameSite=strict" in pre
        r = c.post("/login", data={"name": "王芳", "password": PASSWORD,
                                   "csrf": csrf_of(page.text)})  # fmt: skip
        cookie = [v for v in r.headers.get_list("set-cookie") if v.startswith("xlsync_session=")]
        assert cookie and "HttpOnly" in cookie[0] and "SameSite=strict" in cookie[0]
        assert "Secure" not in cookie[0]
        assert "Max-Age" not in cookie[0]  # gone with the browser; the server ends it anyway


# ---------------------------------------------------------------- CSRF


def test_forms_without_the_token_are_refused(app: Served) -> None:
    fresh(app)
    before = len(app.audit(Kind.CSRF))
    with app.client() as c:  # sign-in without the form's token, or with another one
        assert c.post("/login", data={"name": "王芳", "password": PASSWORD}).status_code == 403
        c.get("/login")
        r = c.post("/login", data={"name": "王芳", "password": PASSWORD, "csrf": "forged"})
        assert r.status_code == 403 and "表单已过期" in r.text
        assert "xlsync_session" not in c.cookies
    with signed_in(app, "王芳") as c:
        assert c.post("/logout").status_code == 403
        assert c.post("/logout", data={"csrf": "forged"}).status_code == 403
        other = c.get("/login")  # a token of the sign-in form is not the session's
        assert other.status_code == 303
        assert c.get("/api/me").status_code == 200  # still signed in
        token = c.get("/api/me").json()["csrf"]
        r = c.post("/logout", headers={"X-CSRF-Token": token, "Accept": "application/json"})
        assert r.status_code == 200
    assert len(app.audit(Kind.CSRF)) - before == 4


# ---------------------------------------------------------------- XSS


def test_register_values_are_text_never_markup(app: Served) -> None:
    fresh(app)
    with signed_in(app, "李娜") as c:  # her own row: shown in full, contact and notes too
        r = c.get("/", params={"q": "<script>alert(1)</script>电子"})
        html = r.text
        assert r.status_code == 200
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "<svg" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;电子" in html
        assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
        assert "&lt;svg onload=alert(3)&gt;报价" in html
        data = c.get("/api/who", params={"q": XSS_NAME}).json()
        assert r.headers["content-type"].startswith("text/html")
        match = data["matches"][0]
        assert match["customer"] == XSS_NAME and match["details"]["contact"] == XSS_CONTACT
        assert match["details"]["notes"] == XSS_NOTES
    # the only scripts are the static file; no handler attributes, no inline style
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script src="/static/app.js" defer>']
    tags = re.findall(r"<[a-zA-Z][^>]*>", html)
    assert not [t for t in tags if re.search(r"\son\w+\s*=", t)]
    assert not [t for t in tags if t.startswith(("<img", "<svg"))]
    assert " style=" not in html
    queries = [e.query for e in app.audit(Kind.LOOKUP, "李娜")]
    assert XSS_NAME in queries


def test_every_response_carries_the_strict_headers(app: Served) -> None:
    with app.client() as c:
        for r in (c.get("/login"), c.get("/static/app.js"), c.get("/api/me"), c.get("/nope")):
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert "default-src 'none'" in csp and "unsafe" not in csp
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["x-frame-options"] == "DENY"
        assert c.get("/static/app.js").headers["content-type"].startswith("text/javascript")


# ---------------------------------------------------------------- traversal


TRAVERSALS = [
    "/static/../accounts.json",
    "/static/..%2f..%2flocal%2faccounts.json",
    "/static/%2e%2e/%2e%2e/local/accounts.json",
    "/static/..%5c..%5capp.py",
    "/static/%2e%2e%2fapp.py",
    "/static/../../../../etc/passwd",
    "/static/",
    "/static",
    "/static/.",
    "/static/app.js/..",
    "/static/%00app.js",
    "/../../etc/passwd",
    "/templates/base.html",
]


def test_static_files_allow_no_traversal_and_list_no_folder(app: Served) -> None:
    before = len(app.audit(Kind.NOT_FOUND))
    refused = 0
    for target in TRAVERSALS:
        status, body = raw_get(app.port, target)
        assert status in (303, 400, 404), (target, status)
        assert b"root:" not in body and b"argon2" not in body and b"import" not in body
        assert b"<a href" not in body  # no listing
        refused += status == 404
    status, body = raw_get(app.port, "/static/app.js")
    assert status == 200 and b"DOMContentLoaded" in body
    assert len(app.audit(Kind.NOT_FOUND)) - before == refused >= len(TRAVERSALS) - 3


# ---------------------------------------------------------------- confidentiality


def _matches(client: httpx.Client, query: str) -> list[dict[str, object]]:
    r = client.get("/api/who", params={"q": query})
    assert r.status_code == 200, r.text
    return list(r.json()["matches"])


def test_another_reps_customer_comes_back_masked(app: Served) -> None:
    fresh(app)
    with signed_in(app, "王芳") as c:
        r = c.get("/api/who", params={"q": "格林電子"})  # 张伟's, typed in traditional
        body = r.text
        data = r.json()
        assert data["answer"] == "stop" and data["customers"][0]["owner"] == "张伟"
        assert data["customers"][0]["owner_department"] == "业务一部"
        [m] = data["matches"]
        assert m["full"] is False and m["rep"] == "张伟" and m["department"] == "业务一部"
        assert m["phone"] == "138****5678"
        assert m["reason"] == "拜访 2026-10-01，保护至 2026-12-30"
        assert "details" not in m and "row" not in m and "sheet" not in m
        for secret in ("13812345678", "陈经理", "老客户介绍", "BL-466"):
            assert secret not in body
        page = c.get("/", params={"q": "+86 138-1234-5678"}).text  # the same, by phone
        assert "请勿联系" in page and "138****5678" in page
        for secret in ("13812345678", "陈经理", "老客户介绍"):
            assert secret not in page
        [own] = _matches(c, "华强科技")  # her own: in full
        assert own["full"] is True and own["phone"] == "0755-88881234"
        assert own["details"]["contact"] == "李小姐"  # type: ignore[index]
    counts = [(e.query, e.count) for e in app.audit(Kind.LOOKUP, "王芳")]
    assert ("格林電子", 1) in counts and ("+86 138-1234-5678", 1) in counts


def test_a_head_and_a_manager_see_their_department_in_full_and_no_further(app: Served) -> None:
    fresh(app)
    with signed_in(app, "张伟") as c:  # 负责人 of 业务一部 in the roster
        assert _matches(c, "华强科技")[0]["full"] is True  # 王芳's, same department
        other = _matches(c, "宏达模具")[0]  # 刘洋's, 业务二部
        assert other["full"] is False and other["phone"] == "0769-****4455"
    with signed_in(app, "刘洋") as c:  # an account added with --manager, 业务二部
        mine = _matches(c, XSS_NAME)[0]  # 李娜's
        assert mine["full"] is True and mine["details"]["notes"] == XSS_NOTES  # type: ignore[index]
        assert _matches(c, "格林电子")[0]["full"] is False
    with signed_in(app, "李娜") as c:  # a rep: a colleague of the same department is masked
        hidden = _matches(c, "宏达模具")[0]
        assert hidden["full"] is False and "刘洋的秘密备注" not in json.dumps(hidden)


# ---------------------------------------------------------------- enumeration


@pytest.mark.parametrize("query", ["电", "a", "1", " ", "", "%", "*", "（）", "有", "12345 "])
def test_one_character_queries_list_nothing(app: Served, query: str) -> None:
    fresh(app)
    with signed_in(app, "李娜") as c:
        before = len(app.audit(Kind.LOOKUP_REFUSED, "李娜"))
        r = c.get("/api/who", params={"q": query})
        if query.strip().startswith("12345"):  # five digits: a name search that finds nothing
            assert r.status_code == 200 and r.json()["customers"] == []
            return
        assert r.status_code == 400
        assert r.json()["error"] == "请至少输入两个字的客户名称，或完整的电话号码。"
        page = c.get("/", params={"q": query})
        if query.strip():
            assert "请至少输入两个字" in page.text
        refused = app.audit(Kind.LOOKUP_REFUSED, "李娜")[before:]
        assert refused and refused[0].query == query and refused[0].detail == "short"


def test_an_answer_names_at_most_twenty_customers(app: Served) -> None:
    fresh(app)
    with signed_in(app, "王芳") as c:
        data = c.get("/api/who", params={"q": SHARED_LOCAL}).json()  # 25 cities share it
        assert len(data["customers"]) == 20
        assert all(m["full"] is False for m in data["matches"])
    assert app.audit(Kind.LOOKUP, "王芳")[-1].count == 20


def test_a_script_asking_too_fast_is_slowed_down(tmp_path: Path) -> None:
    with served(tmp_path, lookup_limit=5) as s:
        with signed_in(s, "王芳") as c:
            codes = [c.get("/api/who", params={"q": "格林电子"}).status_code for _ in range(7)]
        assert codes == [200] * 5 + [429] * 2
        assert [e.detail for e in s.audit(Kind.LOOKUP_REFUSED)] == ["rate", "rate"]
