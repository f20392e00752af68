"""The Starlette application of `xlsync serve`: sign-in, the phone search page, the rep's own
list and the JSON API, every route behind a server-side session (see `security`).

Routes:

- `GET /login`, `POST /login` (form `name`, `password`, `csrf`): the only pages open
  without a session, with `/static/app.css` and `/static/app.js`;
- `POST /logout` (form or header CSRF token);
- `GET /` (the search page; `?q=` answers on the page), `GET /mine` (my list);
- `GET /api/who?q=TEXT`, `GET /api/me`.

Without a valid session a page redirects to `/login` (303) and the API answers 401. Every
response carries a strict Content-Security-Policy (scripts and styles from this server's
static files only, nothing inline, no framing), X-Content-Type-Options: nosniff,
Referrer-Policy: no-referrer and Cache-Control: no-store. Pages are Jinja2 templates with
autoescape on, so every value from the register is text, never markup.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xlsync.server.accounts import AccountStore
from xlsync.server.audit import AuditLog, Kind
from xlsync.server.index import LiveIndex, Snapshot
from xlsync.server.security import Clock, Session, SessionStore, Throttle, same_token
from xlsync.server.view import REFUSAL_TEXT, MyList, Viewer, capped, filtered_json, refusal

SESSION_COOKIE = "xlsync_session"
MAX_PASSWORD = 1024  # characters; a longer one is not worth an argon2 run
LOGIN_COOKIE = "xlsync_login"  # the sign-in form's pre-session CSRF token
HERE = Path(__file__).resolve().parent

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
TOO_MANY_LOGINS = "登录失败次数太多，请 {minutes} 分钟后再试。"
TOO_MANY_LOOKUPS = "查询太频繁，请稍后再试。"
BAD_LOGIN = "用户名或密码不正确。"
PLEASE_LOGIN = "请先登录。"
BAD_FORM = "表单已过期，请刷新页面后重试。"


@dataclass(slots=True)
class ServeConfig:
    target: Path
    accounts: Path
    audit: Path
    secure: bool = False  # served over TLS: cookies get Secure, and HSTS is sent
    idle: float = 30 * 60
    absolute: float = 12 * 3600
    login_limit: int = 5  # failed sign-ins per name and per address ...
    login_window: float = 600  # ... in this many seconds
    lookup_limit: int = 60  # look-ups per account per minute (0: no limit)
    poll: float = 2.0  # seconds between looks at the history
    clock: Clock = time.time
    today: Callable[[], dt.date] = dt.date.today
    now: Callable[[], dt.datetime] = dt.datetime.now
    static: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # filled by the app


def _static_files() -> dict[str, tuple[bytes, str]]:
    """The only files `/static/` serves, read once: a name is looked up in this table,
    never joined to a path, so no request can reach another file or list a folder."""
    types = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
    files: dict[str, tuple[bytes, str]] = {}
    folder = resources.files("xlsync.server") / "static"
    for entry in folder.iterdir():
        suffix = Path(entry.name).suffix
        if entry.is_file() and suffix in types:
            files[entry.name] = (entry.read_bytes(), types[suffix])
    return files


class SecurityHeaders:
    """Adds the security headers to every response, whatever produced it."""

    def __init__(self, app: ASGIApp, secure: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if secure:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _v in headers}
                headers += [(k, v) for k, v in self.headers if k not in names]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class Server:
    """The state behind the routes: accounts, sessions, limits, audit, the live index."""

    def __init__(self, config: ServeConfig, live: LiveIndex | None = None) -> None:
        self.config = config
        self.accounts = AccountStore(config.accounts)
        self.audit = AuditLog(config.audit)
        self.sessions = SessionStore(config.idle, config.absolute, config.clock)
        self.logins = Throttle(config.login_limit, config.login_window, config.clock)
        self.lookups = Throttle(max(config.lookup_limit, 1), 60, config.clock)
        self.live = live or LiveIndex(config.target, today=config.today, now=config.now)
        self.static = config.static or _static_files()
        loader = FileSystemLoader(str(HERE / "templates"))
        self.env = Environment(loader=loader, autoescape=select_autoescape(default=True))
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    # -- life ------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        if self.live.snapshot is None:
            await run_in_threadpool(self.live.refresh)
        self._poller = threading.Thread(
            target=self.live.run, args=(self._stop, self.config.poll), daemon=True,
            name="xlsync-serve-index",
        )  # fmt: skip
        self._poller.start()
        try:
            yield
        finally:
            self._stop.set()
            self._poller.join(timeout=10)
            self.live.close()
            self.audit.close()

    # -- helpers ---------------------------------------------------------------------

    @staticmethod
    def address(request: Request) -> str:
        return request.client.host if request.client else ""

    def record(self, request: Request, kind: Kind, name: str = "", **extra: Any) -> None:
        self.audit.record(kind, name=name, address=self.address(request), path=request.url.path,
                          at=self.config.now(), **extra)  # fmt: skip

    def session(self, request: Request) -> tuple[Session | None, str]:
        """The request's live session, checked against the account store (a removed
        account or a reset password ends it)."""
        token = request.cookies.get(SESSION_COOKIE)
        session, why = self.sessions.get(token)
        if session is None:
            return None, why
        account = self.accounts.get(session.name)
        if account is None or account.hash != session.account_hash:
            self.sessions.end(token)
            return None, "account"
        return session, ""

    def refuse(self, request: Request, why: str, api: bool) -> Response:
        """No valid session: 401 for the API, the sign-in page for pages (recorded)."""
        self.record(request, Kind.DENIED, detail=why)
        if api:
            response: Response = JSONResponse({"error": PLEASE_LOGIN, "reason": why}, 401)
        else:
            response = RedirectResponse("/login", 303)
        if request.cookies.get(SESSION_COOKIE):
            self.clear_cookie(response, SESSION_COOKIE)
        return response

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
            secure=self.config.secure,
        )  # fmt: skip

    def clear_cookie(self, response: Response, name: str) -> None:
        response.delete_cookie(
            name, path="/", httponly=True, samesite="strict", secure=self.config.secure
        )

    def snapshot(self) -> Snapshot | None:
        return self.live.snapshot

    def viewer(self, session: Session, snap: Snapshot) -> Viewer:
        return Viewer.of(session.name, session.manager, snap.settings)

    def freshness(self, snap: Snapshot | None) -> dict[str, str]:
        if snap is None:
            return {"text": "数据正在加载…", "as_of": "", "synced": "", "built": ""}
        synced = snap.synced.strftime("%m-%d %H:%M") if snap.synced else ""
        built = snap.built.strftime("%m-%d %H:%M")
        text = f"数据截至 {synced or built}（{'最近一次同步' if synced else '读取登记表'}）"
        if self.live.error:
            text += "；最近一次更新失败，显示的是之前的数据"
        return {
            "text": text,
            "as_of": snap.as_of.isoformat(),
            "synced": snap.synced.isoformat(timespec="seconds") if snap.synced else "",
            "built": snap.built.isoformat(timespec="seconds"),
        }

    def page(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(**values)
        return HTMLResponse(html, status)

    def wants_json(self, request: Request) -> bool:
        return "application/json" in request.headers.get("accept", "")

    # -- sign-in ---------------------------------------------------------------------

    def login_page(self, request: Request, message: str = "", status: int = 200) -> Response:
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
        # nothing about the data before sign-in, not even its age
        fresh = {"text": "", "as_of": ""}
        response = self.page("login.html", status, csrf=token, message=message, fresh=fresh)
        self.set_cookie(response, LOGIN_COOKIE, token, 3600)
        return response

    async def get_login(self, request: Request) -> Response:
        session, _why = self.session(request)
        if session is not None:
            return RedirectResponse("/", 303)
        return self.login_page(request)

    async def post_login(self, request: Request) -> Response:
        form = await request.form()
        name = str(form.get("name") or "").strip()[:100]
        password = str(form.get("password") or "")
        if len(password) > MAX_PASSWORD:
            password = ""  # never hashed: a wrong password like any other
        api = self.wants_json(request)
        expected = request.cookies.get(LOGIN_COOKIE) or ""
        if not expected or not same_token(str(form.get("csrf") or ""), expected):
            self.record(request, Kind.CSRF, name, detail="login")
            if api:
                return JSONResponse({"error": BAD_FORM}, 403)
            return self.login_page(request, BAD_FORM, 403)
        keys = (f"name:{name}", f"addr:{self.address(request)}")
        if self.logins.limited(*keys):
            wait = self.logins.retry_after(*keys)
            self.record(request, Kind.LOGIN_LIMITED, name)
            message = TOO_MANY_LOGINS.format(minutes=max(1, (wait + 59) // 60))
            response: Response = (
                JSONResponse({"error": message}, 429) if api
                else self.login_page(request, message, 429)
            )  # fmt: skip
            response.headers["Retry-After"] = str(wait)
            return response
        account = await run_in_threadpool(self.accounts.verify, name, password)
        if account is None:
            self.logins.hit(*keys)
            self.record(request, Kind.LOGIN_FAILED, name)
            if api:
                return JSONResponse({"error": BAD_LOGIN}, 401)
            return self.login_page(request, BAD_LOGIN, 401)
        self.logins.clear(keys[0])
        token, session = self.sessions.create(account.name, account.hash, account.manager)
        self.record(request, Kind.LOGIN, account.name)
        response = (
            JSONResponse({"name": account.name, "csrf": session.csrf}) if api
            else RedirectResponse("/", 303)
        )  # fmt: skip
        self.set_cookie(response, SESSION_COOKIE, token, None)
        self.clear_cookie(response, LOGIN_COOKIE)
        return response

    async def post_logout(self, request: Request) -> Response:
        session, why = self.session(request)
        if session is None:
            return self.refuse(request, why, self.wants_json(request))
        form = await request.form()
        given = str(form.get("csrf") or request.headers.get("x-csrf-token") or "")
        if not same_token(given, session.csrf):
            self.record(request, Kind.CSRF, session.name, detail="logout")
            return JSONResponse({"error": BAD_FORM}, 403)
        self.sessions.end(request.cookies.get(SESSION_COOKIE))
        self.record(request, Kind.LOGOUT, session.name)
        response: Response = (
            JSONResponse({"ok": True}) if self.wants_json(request)
            else RedirectResponse("/login", 303)
        )  # fmt: skip
        self.clear_cookie(response, SESSION_COOKIE)
        return response

    # -- look-ups --------------------------------------------------------------------

    def lookup(
        self, request: Request, session: Session, query: str
    ) -> tuple[dict[str, object] | None, str, int]:
        """The filtered answer, or None with the Chinese reason and the status."""
        snap = self.snapshot()
        if snap is None:
            return None, "数据正在加载，请稍候再试。", 503
        why = refusal(query)
        if why is not None:
            self.record(request, Kind.LOOKUP_REFUSED, session.name, query=query, detail=why.value)
            return None, REFUSAL_TEXT[why], 400
        key = f"lookup:{session.name}"
        if self.config.lookup_limit and self.lookups.limited(key):
            self.record(request, Kind.LOOKUP_REFUSED, session.name, query=query, detail="rate")
            return None, TOO_MANY_LOOKUPS, 429
        self.lookups.hit(key)
        answer = capped(snap.index.find(query))
        viewer = self.viewer(session, snap)
        out = filtered_json(answer, viewer, snap.settings, snap.folder)
        count = len(answer.same) + len(answer.maybe)
        self.record(request, Kind.LOOKUP, session.name, query=query, count=count)
        out["data"] = self.freshness(snap)
        return out, "", 200

    async def api_who(self, request: Request) -> Response:
        session, why = self.session(request)
        if session is None:
            return self.refuse(request, why, True)
        query = request.query_params.get("q", "")
        out, message, status = self.lookup(request, session, query)
        if out is None:
            return JSONResponse({"error": message}, status)
        await self.audit.committed()  # no answer leaves before its audit line is in the file
        return JSONResponse(out)

    async def api_me(self, request: Request) -> Response:
        session, why = self.session(request)
        if session is None:
            return self.refuse(request, why, True)
        snap = self.snapshot()
        out: dict[str, object] = {"name": session.name, "csrf": session.csrf}
        if snap is not None:
            viewer = self.viewer(session, snap)
            mine = snap.mine.get(session.name, MyList())
            out.update(
                department=viewer.department,
                manager=viewer.manager,
                protected=[_line(m) for m in mine.protected],
                follow_ups=[_line(m) for m in mine.follow_ups],
            )
        out["data"] = self.freshness(snap)
        return JSONResponse(out)

    # -- pages -----------------------------------------------------------------------

    def frame(self, session: Session, snap: Snapshot | None, **values: Any) -> dict[str, Any]:
        viewer = self.viewer(session, snap) if snap else None
        return {
            "user": session.name,
            "department": viewer.department if viewer else "",
            "csrf": session.csrf,
            "fresh": self.freshness(snap),
            **values,
        }

    async def search_page(self, request: Request) -> Response:
        session, why = self.session(request)
        if session is None:
            return self.refuse(request, why, False)
        query = request.query_params.get("q", "")
        snap = self.snapshot()
        out, message, status = (None, "", 200)
        if query.strip():
            out, message, status = self.lookup(request, session, query)
            status = 200 if status == 400 else status  # a page with advice, not an error
            if out is not None:
                await self.audit.committed()  # the answer's audit line is in the file
        return self.page("search.html", status,
                         **self.frame(session, snap, tab="search", query=query, result=out, message=message))  # fmt: skip

    async def mine_page(self, request: Request) -> Response:
        session, why = self.session(request)
        if session is None:
            return self.refuse(request, why, False)
        snap = self.snapshot()
        mine = snap.mine.get(session.name, MyList()) if snap else MyList()
        return self.page("mine.html", **self.frame(session, snap, tab="mine", mine=mine))

    async def static_file(self, request: Request) -> Response:
        name = request.path_params["name"]
        found = self.static.get(name)
        if found is None:
            return self.not_found(request)
        body, kind = found
        return Response(body, 200, media_type=kind, headers={"Cache-Control": "no-cache"})

    def not_found(self, request: Request) -> Response:
        session, _why = self.session(request)
        self.record(request, Kind.NOT_FOUND, session.name if session else "")
        return Response("未找到", 404, media_type="text/plain; charset=utf-8")

    async def favicon(self, request: Request) -> Response:
        return Response(status_code=204)  # browsers ask on their own: not worth a 404 line


def _line(m: Any) -> dict[str, object]:
    return {
        "customer": m.customer,
        "phone": m.phone,
        "basis": m.basis,
        "until": m.until.isoformat() if m.until else None,
        "note": m.note,
    }


def create_app(config: ServeConfig, live: LiveIndex | None = None) -> Starlette:
    """The ASGI application; `app.state.server` is its `Server`."""
    server = Server(config, live)

    async def not_found(request: Request, exc: Exception) -> Response:
        return server.not_found(request)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        server.record(request, Kind.NOT_FOUND, detail=f"method {request.method}")
        return Response("不支持的请求", 405, media_type="text/plain; charset=utf-8")

    routes = [
        Route("/login", server.get_login, methods=["GET"]),
        Route("/login", server.post_login, methods=["POST"]),
        Route("/logout", server.post_logout, methods=["POST"]),
        Route("/", server.search_page, methods=["GET"]),
        Route("/mine", server.mine_page, methods=["GET"]),
        Route("/api/who", server.api_who, methods=["GET"]),
        Route("/api/me", server.api_me, methods=["GET"]),
        Route("/static/{name}", server.static_file, methods=["GET"]),
        Route("/favicon.ico", server.favicon, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=server.lifespan,
        exception_handlers={404: not_found, 405: not_allowed},
    )
    app.state.server = server
    app.add_middleware(SecurityHeaders, secure=config.secure)
    return app


__all__ = ["ServeConfig", "Server", "create_app"]
