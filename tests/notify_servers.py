"""Real servers for the delivery tests: an SMTP server on the loopback (aiosmtpd, plain,
STARTTLS or SSL, with AUTH LOGIN/PLAIN) and an HTTP server speaking the WeCom, DingTalk
and Feishu group robots' webhook APIs (their success and error JSON, DingTalk's signature
check, and their rate-limit answers)."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import io
import ipaddress
import json
import socket
import ssl
import threading
import urllib.parse
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (made with `cryptography`)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes  # as it came over the wire


class _Handler:
    def __init__(self, box: list[Received], lock: threading.Lock) -> None:
        self.box = box
        self.lock = lock

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        with self.lock:
            self.box.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), msg, envelope.content)
            )
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.endswith("@nowhere.invalid"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class MailServer:
    """aiosmtpd on 127.0.0.1. `security`: none, starttls or ssl; with `user`, AUTH is
    required (over TLS when there is TLS)."""

    def __init__(
        self, folder: Path, *, security: str = "none", user: str = "", password: str = "",
        port: int | None = None,
    ) -> None:  # fmt: skip
        self.received: list[Received] = []
        self.port = port or free_port()
        self.security = security
        self.cert, key = self_signed(folder) if security != "none" else (folder / "-", folder)
        self._lock = threading.Lock()
        kwargs: dict[str, Any] = {}
        if security != "none":
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(self.cert, key)
            if security == "ssl":
                kwargs["ssl_context"] = ctx
            else:
                kwargs["tls_context"] = ctx
                kwargs["require_starttls"] = True
        if user:

            def check(
                server: Any, session: Any, envelope: Any, mechanism: str, data: Any
            ) -> AuthResult:
                ok = isinstance(data, LoginPassword) and (
                    data.login.decode(), data.password.decode()) == (user, password)  # fmt: skip
                return AuthResult(success=ok, handled=False)

            kwargs["authenticator"] = check
            kwargs["auth_required"] = True
            # aiosmtpd sees STARTTLS only: over implicit TLS it would refuse AUTH
            kwargs["auth_require_tls"] = security == "starttls"
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
        self.controller = Controller(
            _Handler(self.received, self._lock), hostname="127.0.0.1", port=self.port, **kwargs
        )

    def __enter__(self) -> MailServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def mails(self) -> list[Received]:
        with self._lock:
            return list(self.received)


# ------------------------------------------------------------------ the robots


def dingtalk_sign(timestamp: str, secret: str) -> str:
    """DingTalk's documented signature, computed the server's way (independent of xlsync)."""
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def feishu_sign(timestamp: str, secret: str) -> str:
    """Feishu's documented signature: HMAC-SHA256 keyed with "timestamp\\nsecret" over an
    empty message, Base64 (computed the server's way, independent of xlsync)."""
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


@dataclass
class Post:
    robot: str
    body: dict[str, Any]
    at: float  # the test clock's time when it arrived


@dataclass
class RobotState:
    clock: Callable[[], float]
    key: str = "wecom-key-0123456789"
    token: str = "dingtalk-token-0123456789"
    secret: str = "SECdingtalk-secret-abcdef"
    hook: str = "feishu-hook-0123456789abcdef"
    feishu_secret: str = ""  # Feishu's 签名校验, when the group's robot has it on
    per_minute: int = 20  # the server's own limit, per robot
    mode: str = "ok"  # ok | down (HTTP 502) | error (an error JSON)
    posts: list[Post] = field(default_factory=list)
    limited: int = 0  # rate-limit answers given
    rejected: int = 0  # error answers given
    ratelimit_next: int = 0  # answer the next N posts with a rate-limit answer
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # media_id: name, data
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self, robot: str) -> list[Post]:
        with self.lock:
            return [p for p in self.posts if p.robot == robot]


class _RobotHandler(BaseHTTPRequestHandler):
    state: RobotState

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        s = self.state
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        if url.path == "/cgi-bin/webhook/upload_media":
            self._upload(query, raw)
            return
        body = json.loads(raw or b"{}")
        if url.path == "/cgi-bin/webhook/send":
            robot, ok_key = "wecom", query.get("key") == s.key
            ok, bad, limit = {"errcode": 0, "errmsg": "ok"}, {"errcode": 93000, "errmsg": "invalid webhook url"}, {"errcode": 45009, "errmsg": "api freq out of limit"}  # fmt: skip
        elif url.path == "/robot/send":
            robot, ok_key = "dingtalk", query.get("access_token") == s.token
            ok, bad, limit = {"errcode": 0, "errmsg": "ok"}, {"errcode": 300001, "errmsg": "token is not exist"}, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}  # fmt: skip
            stamp, sign = query.get("timestamp", ""), query.get("sign", "")
            fresh = stamp.isdigit() and abs(int(stamp) / 1000 - s.clock()) < 3600
            if ok_key and not (fresh and sign == dingtalk_sign(stamp, s.secret)):
                with s.lock:
                    s.rejected += 1
                self._answer(200, {"errcode": 310000, "errmsg": "sign not match"})
                return
        elif url.path.startswith("/open-apis/bot/v2/hook/"):
            robot, ok_key = "feishu", url.path.rsplit("/", 1)[1] == s.hook
            ok, bad, limit = {"code": 0, "msg": "success", "data": {}}, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}, {"code": 11232, "msg": "frequency limited"}  # fmt: skip
            if ok_key and s.feishu_secret:
                stamp, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
                fresh = stamp.isdigit() and abs(int(stamp) - s.clock()) < 3600
                if not (fresh and sign == feishu_sign(stamp, s.feishu_secret)):
                    with s.lock:
                        s.rejected += 1
                    self._answer(200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"})  # fmt: skip
                    return
        else:
            self._answer(404, {"error": "not found"})
            return
        if s.mode == "down":
            self._answer(502, {"error": "bad gateway"})
            return
        with s.lock:
            now = s.clock()
            recent = [p for p in s.posts if p.robot == robot and p.at > now - 60]
            if s.ratelimit_next > 0 or len(recent) >= s.per_minute:
                s.ratelimit_next = max(0, s.ratelimit_next - 1)
                s.limited += 1
                answer, status = limit, 200
            elif not ok_key or s.mode == "error" or not _well_formed(robot, body, s.uploads):
                s.rejected += 1
                answer, status = bad, 200
            else:
                s.posts.append(Post(robot, body, now))
                answer, status = ok, 200
        self._answer(status, answer)

    def _upload(self, query: dict[str, str], raw: bytes) -> None:
        """WeCom's `upload_media?key=KEY&type=file`: a multipart form whose `media` field is
        the file (5 B to 20 MB); answers a media_id for a `file` message."""
        from python_multipart import parse_form

        s = self.state
        if query.get("key") != s.key or query.get("type") != "file":
            self._answer(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
            return
        found: list[tuple[str, bytes]] = []

        def on_file(f: Any) -> None:
            if f.field_name == b"media":
                f.file_object.seek(0)
                found.append((f.file_name.decode("utf-8"), f.file_object.read()))

        headers = {"Content-Type": self.headers["Content-Type"].encode()}
        parse_form(headers, io.BytesIO(raw), lambda _f: None, on_file)
        if len(found) != 1 or not 5 <= len(found[0][1]) <= 20 * 1024 * 1024:
            with s.lock:
                s.rejected += 1
            self._answer(200, {"errcode": 40006, "errmsg": "invalid media size"})
            return
        with s.lock:
            media = f"media-{len(s.uploads) + 1}"
            s.uploads[media] = found[0]
        self._answer(200, {"errcode": 0, "errmsg": "ok", "type": "file", "media_id": media,
                           "created_at": str(int(s.clock()))})  # fmt: skip


def _well_formed(robot: str, body: dict[str, Any], uploads: dict[str, Any]) -> bool:
    """The documented request shapes."""
    if robot == "wecom":
        kind = body.get("msgtype")
        if kind == "file":
            return body["file"].get("media_id") in uploads
        return (kind == "markdown" and len(body["markdown"]["content"].encode()) <= 4096) or (
            kind == "text" and len(body["text"]["content"].encode()) <= 2048
        )
    if robot == "dingtalk":
        return body.get("msgtype") == "markdown" and bool(body["markdown"].get("title"))
    if body.get("msg_type") != "post" or "zh_cn" not in body["content"]["post"]:
        return False
    # a rich-text post: lines of text and a (links) elements
    lines = body["content"]["post"]["zh_cn"]["content"]
    return all(
        (e.get("tag") == "text" and "text" in e) or (e.get("tag") == "a" and e.get("href"))
        for line in lines
        for e in line
    )


class RobotServer:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.state = RobotState(clock)
        handler = type("Handler", (_RobotHandler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> RobotServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def wecom(self) -> str:
        return f"{self.base}/cgi-bin/webhook/send?key={self.state.key}"

    @property
    def dingtalk(self) -> str:
        return f"{self.base}/robot/send?access_token={self.state.token}"

    @property
    def feishu(self) -> str:
        return f"{self.base}/open-apis/bot/v2/hook/{self.state.hook}"


class Clock:
    """An injected clock: tests move time instead of sleeping."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.t

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.t += seconds

    def to(self, moment: float) -> None:
        with self._lock:
            self.t = max(self.t, moment)
