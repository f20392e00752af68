"""The channels: SMTP mail and the group robots of WeCom, DingTalk and Feishu.

A channel either delivers or raises `Temporary` (try again later: the network, the server,
a rate limit) or `Permanent` (this message will never go: a bad address, a rejected
webhook). Error texts are Chinese, for the log and the board; they never carry a secret
(see `config.redact`), a webhook address or a whole phone number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import mimetypes
import re
import smtplib
import socket
import ssl
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Protocol

import httpx

from xlsync.notify.config import Robot, RobotConfig, Security, SmtpConfig

logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines name the webhook URL
logging.getLogger("httpcore").setLevel(logging.WARNING)


class DeliveryError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Temporary(DeliveryError):
    """Try again later."""

    def __init__(
        self, reason: str, *, rate_limited: bool = False, wait: float = 0.0, local: bool = False
    ) -> None:
        super().__init__(reason)
        self.rate_limited = rate_limited
        self.wait = wait  # at least this many seconds (a rate limit's window)
        self.local = local  # our own rate window said so, not the server


class Permanent(DeliveryError):
    """This message cannot be delivered; do not retry it."""


class ChannelDown(Temporary):
    """The channel itself cannot be used now (the server is unreachable): every message
    waits, and the error is said once until it changes."""


class Misconfigured(ChannelDown):
    """The channel's settings are wrong (a wrong password, no STARTTLS): as ChannelDown,
    until someone fixes the setting."""


# ------------------------------------------------------------------ mail


@dataclass(frozen=True, slots=True)
class Mail:
    to: str  # an address
    to_name: str
    subject: str
    html: str
    text: str
    attachments: tuple[Path, ...] = ()


def build_mail(mail: Mail, sender: str) -> EmailMessage:
    """An RFC 5322 message: the subject and names RFC 2047-encoded, attachment file names
    RFC 2231-encoded (as Outlook and Foxmail read them), a text part and an HTML part."""
    msg = EmailMessage()
    msg["Subject"] = mail.subject
    name, addr = parseaddr(sender)
    msg["From"] = formataddr((name, addr)) if name else addr
    msg["To"] = Address(display_name=mail.to_name, addr_spec=mail.to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=addr.rpartition("@")[2] or None)
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    for path in mail.attachments:
        ctype, _ = mimetypes.guess_type(path.name)
        maintype, subtype = (ctype or "application/octet-stream").split("/", 1)
        msg.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
        part = list(msg.iter_attachments())[-1]
        # Content-Disposition carries the RFC 2231 file name (the standard); Content-Type
        # also gets name="=?utf-8?b?...?=" (RFC 2047), the form Outlook and Foxmail write
        # themselves and every client reads. Set raw, pre-folded: the default policy would
        # re-encode the parameter (and, for a long type, mangle it).
        encoded = Header(path.name, "utf-8").encode(maxlinelen=70, splitchars=" ")
        del part["Content-Type"]
        part.set_raw("Content-Type", f'\n {maintype}/{subtype};\n name="{encoded}"')
    return msg


class SmtpChannel:
    """One connection per batch of mails; `send` may be called many times inside `session`."""

    name = "smtp"

    def __init__(self, config: SmtpConfig, window: RateWindow | None = None) -> None:
        self.config = config
        # XLSYNC_SMTP_PER_MINUTE: many company mail servers cap how fast one account sends
        self.window = window or RateWindow(config.per_minute, time.time, self.name)
        self._conn: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.cafile or None)

    def open(self) -> None:
        c = self.config
        where = f"{c.host}:{c.port}"
        try:
            if c.security is Security.SSL:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout, context=self._context()
                )
            else:
                conn = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
                if c.security is Security.STARTTLS:
                    conn.starttls(context=self._context())
                    conn.ehlo()
        except ssl.SSLError as exc:
            raise Misconfigured(
                f"邮件服务器 {where} 的加密连接失败（{exc.reason or exc}）"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise Misconfigured(
                f"邮件服务器 {where} 不支持 STARTTLS，请把 XLSYNC_SMTP_SECURITY 设为 ssl 或 none"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelDown(f"连不上邮件服务器 {where}（{_os_reason(exc)}）") from None
        if c.user:
            try:
                conn.login(c.user, c.password)
            except smtplib.SMTPAuthenticationError as exc:
                _quit(conn)
                raise Misconfigured(
                    f"邮件服务器 {where} 拒绝登录：用户名或密码错误（{exc.smtp_code}），"
                    "请检查 XLSYNC_SMTP_USER / XLSYNC_SMTP_PASSWORD"
                ) from None
            except smtplib.SMTPNotSupportedError:
                _quit(conn)
                raise Misconfigured(
                    f"邮件服务器 {where} 不支持登录（未加密的连接上常见），请使用 starttls 或 ssl"
                ) from None
            except (OSError, smtplib.SMTPException) as exc:
                _quit(conn)
                raise ChannelDown(f"登录邮件服务器 {where} 失败（{_os_reason(exc)}）") from None
        self._conn = conn

    def close(self) -> None:
        if self._conn is not None:
            _quit(self._conn)
            self._conn = None

    def send(self, mail: Mail) -> None:
        wait = self.window.wait()
        if wait > 0:
            raise Temporary("发送太快，等待限流窗口", rate_limited=True, wait=wait, local=True)
        if self._conn is None:
            self.open()
        assert self._conn is not None
        try:
            msg = build_mail(mail, self.config.from_address)
        except OSError as exc:
            raise Permanent(f"附件无法读取（{_os_reason(exc)}）") from None
        try:
            self.window.note()
            self._conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code, _text = next(iter(exc.recipients.values()))
            if 500 <= code < 600:
                raise Permanent(f"邮件服务器拒收地址 {mail.to}（{code}）") from None
            raise Temporary(f"邮件服务器暂时不收 {mail.to}（{code}）") from None
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600 and exc.smtp_code not in (530, 535):
                raise Permanent(f"邮件服务器拒收这封邮件（{exc.smtp_code}）") from None
            self.close()
            raise Temporary(f"邮件服务器暂时不收（{exc.smtp_code}）") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise Temporary(f"发送中断（{_os_reason(exc)}）") from None


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (OSError, smtplib.SMTPException):
        conn.close()


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "超时"
    if isinstance(exc, socket.gaierror):
        return "找不到主机"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "服务器断开了连接"
    return exc.__class__.__name__


# ------------------------------------------------------------------ robots


@dataclass(frozen=True, slots=True)
class Post:
    """One robot message: markdown, a plain-text fallback, and mobiles to @-mention."""

    title: str
    markdown: str
    text: str
    mentions: tuple[str, ...] = ()


class SendTimes(Protocol):
    """Where a channel's send times are kept (the outbox): so that a restart still knows
    how many posts the last minute saw."""

    def send_times(self, channel: str, since: float) -> list[float]: ...

    def note_send(self, channel: str, at: float) -> None: ...


class RateWindow:
    """At most `per_minute` sends in any 60 seconds (the platforms' limit per robot; an
    optional limit for mail). The times are kept in `store` when given (the outbox, so
    they survive a restart), else in memory."""

    def __init__(
        self, per_minute: int, clock: Callable[[], float], channel: str = "",
        store: Callable[[], SendTimes] | None = None,
    ) -> None:  # fmt: skip
        self.per_minute = per_minute
        self.clock = clock
        self.channel = channel
        self.store = store
        self._sent: deque[float] = deque()

    def _recent(self, now: float) -> list[float]:
        if self.store is not None:
            return self.store().send_times(self.channel, now - 60.0)
        while self._sent and self._sent[0] <= now - 60.0:
            self._sent.popleft()
        return list(self._sent)

    def wait(self) -> float:
        """Seconds until one more send is allowed (0: now)."""
        if self.per_minute <= 0:
            return 0.0
        now = self.clock()
        sent = self._recent(now)
        if len(sent) < self.per_minute:
            return 0.0
        return max(sent[-self.per_minute] + 60.0 - now, 0.001)

    def note(self) -> None:
        if self.per_minute <= 0:
            return
        if self.store is not None:
            self.store().note_send(self.channel, self.clock())
        else:
            self._sent.append(self.clock())


# a message's size limit in bytes (WeCom: markdown 4096, text 2048; DingTalk 20000; Feishu ~30k)
MARKDOWN_LIMIT: dict[Robot, int] = {Robot.WECOM: 4000, Robot.DINGTALK: 18000, Robot.FEISHU: 28000}
TEXT_LIMIT: dict[Robot, int] = {Robot.WECOM: 2000, Robot.DINGTALK: 18000, Robot.FEISHU: 28000}
# errcodes / codes that mean "too fast": WeCom 45009, DingTalk 130101 and 660026, Feishu 9499, 11232
RATE_LIMITED = {45009, 130101, 660026, 9499, 11232}
# WeCom's upload_media takes a file of 5 B to 20 MB
WECOM_FILE_MIN = 5
WECOM_FILE_LIMIT = 20 * 1024 * 1024
BUSY = {-1}


class RobotChannel:
    """A group robot webhook. `clock` gives the time for the rate window and the signature."""

    def __init__(
        self, config: RobotConfig, clock: Callable[[], float] = time.time,
        client: httpx.Client | None = None, store: Callable[[], SendTimes] | None = None,
    ) -> None:  # fmt: skip
        self.config = config
        self.name = config.robot.value
        self.clock = clock
        self.window = RateWindow(config.per_minute, clock, self.name, store)
        self._client = client or httpx.Client(timeout=config.timeout, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def fits(self, size: int, mentions: Sequence[str]) -> bool:
        """Whether a post of `size` bytes of markdown (a little less as plain text) with
        these mentions fits in one message."""
        limit = (TEXT_LIMIT if self._as_text(mentions) else MARKDOWN_LIMIT)[self.config.robot]
        return size + 24 * len(mentions) <= limit

    def _as_text(self, mentions: Sequence[str]) -> bool:
        # WeCom's markdown cannot @-mention by mobile; its text message can
        return self.config.robot is Robot.WECOM and bool(mentions)

    def payload(self, post: Post) -> dict[str, object]:
        robot = self.config.robot
        if robot is Robot.WECOM:
            if post.mentions:  # a text message: a link as 名称：网址
                text = LINK.sub(lambda m: f"{m[1]}：{m[2]}", post.text)
                return {"msgtype": "text", "text": {
                    "content": text, "mentioned_mobile_list": list(post.mentions)}}  # fmt: skip
            return {"msgtype": "markdown", "markdown": {"content": post.markdown}}
        if robot is Robot.DINGTALK:
            # DingTalk highlights an @ only when the text names the mobile
            ats = " ".join(f"@{m}" for m in post.mentions)
            text = f"{post.markdown}\n\n{ats}" if ats else post.markdown
            return {
                "msgtype": "markdown",
                "markdown": {"title": post.title, "text": text},
                "at": {"atMobiles": list(post.mentions), "isAtAll": False},
            }
        # Feishu: a rich-text post (its webhook cannot @ by mobile: the names are in the text)
        lines = [_feishu_line(line) for line in post.text.splitlines()]
        body: dict[str, object] = {
            "msg_type": "post",
            "content": {"post": {"zh_cn": {"title": post.title, "content": lines}}},
        }
        if self.config.secret:
            stamp = str(int(self.clock()))
            body["timestamp"] = stamp
            body["sign"] = feishu_sign(stamp, self.config.secret)
        return body

    def url(self) -> str:
        if self.config.robot is Robot.DINGTALK and self.config.secret:
            stamp = str(int(self.clock() * 1000))
            sign = dingtalk_sign(stamp, self.config.secret)
            sep = "&" if "?" in self.config.webhook else "?"
            query = urllib.parse.urlencode({"timestamp": stamp, "sign": sign})
            return f"{self.config.webhook}{sep}{query}"
        return self.config.webhook

    def send(self, post: Post) -> None:
        self._check_window()
        self.window.note()
        self._answer(self._post(self.url(), json=self.payload(post)))

    def _check_window(self) -> None:
        wait = self.window.wait()
        if wait > 0:
            raise Temporary("发送太快，等待限流窗口", rate_limited=True, wait=wait, local=True)

    def send_file(self, path: Path) -> None:
        """A file as a message of its own (WeCom only): uploaded to `upload_media`, then
        sent as a `file` message. Files over WECOM_FILE_LIMIT are refused (Permanent)."""
        if self.config.robot is not Robot.WECOM:
            raise Permanent(f"{self.config.name}机器人不能发送文件")
        self._check_window()
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise Permanent(f"文件无法读取（{_os_reason(exc)}）") from None
        if not WECOM_FILE_MIN <= size <= WECOM_FILE_LIMIT:
            raise Permanent(f"文件 {path.name} 的大小不在企业微信允许的 5 B～20 MB 之内")
        parts = urllib.parse.urlsplit(self.config.webhook)
        key = dict(urllib.parse.parse_qsl(parts.query)).get("key", "")
        upload = urllib.parse.urlunsplit((
            parts.scheme, parts.netloc, parts.path.rsplit("/", 1)[0] + "/upload_media",
            urllib.parse.urlencode({"key": key, "type": "file"}), "",
        ))  # fmt: skip
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        try:
            with path.open("rb") as handle:
                answer = self._answer(
                    self._post(upload, files={"media": (path.name, handle, ctype)})
                )
        except OSError as exc:
            raise Permanent(f"文件无法读取（{_os_reason(exc)}）") from None
        media = answer.get("media_id") if isinstance(answer, dict) else None
        if not isinstance(media, str) or not media:
            raise Temporary(f"{self.config.name}机器人没有返回 media_id")
        self.window.note()
        self._answer(self._post(self.url(), json={"msgtype": "file", "file": {"media_id": media}}))

    def _post(self, url: str, **kw: Any) -> httpx.Response:
        name = self.config.name
        try:
            return self._client.post(url, **kw)
        except httpx.TimeoutException:
            raise Temporary(f"{name}机器人超时") from None
        except httpx.HTTPError as exc:
            raise Temporary(f"连不上{name}机器人（{exc.__class__.__name__}）") from None

    def _answer(self, response: httpx.Response) -> object:
        """The platform's answer when it accepted; else Temporary or Permanent."""
        name = self.config.name
        if response.status_code == 429:
            raise Temporary(f"{name}机器人限流（429）", rate_limited=True, wait=60.0)
        if response.status_code >= 500:
            raise Temporary(f"{name}机器人服务器错误（{response.status_code}）")
        if response.status_code in (404, 403, 401, 400):
            raise Permanent(
                f"{name}机器人拒绝了请求（HTTP {response.status_code}），请检查 webhook 地址"
            )
        try:
            answer = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise Temporary(f"{name}机器人的回答不是 JSON（HTTP {response.status_code}）") from None
        code, why = _answer_code(answer)
        if code == 0:
            return answer
        if code in RATE_LIMITED:
            raise Temporary(f"{name}机器人限流（{code}）", rate_limited=True, wait=60.0)
        if code in BUSY:
            raise Temporary(f"{name}机器人繁忙（{code}）")
        raise Permanent(f"{name}机器人拒绝了消息（{code}：{why[:80]}）")


# a markdown link [名称](网址): robot posts link the published reports
LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")


def _feishu_line(line: str) -> list[dict[str, str]]:
    """One line of a Feishu rich-text post: text, with its markdown links as `a` tags."""
    out: list[dict[str, str]] = []
    at = 0
    for m in LINK.finditer(line):
        if m.start() > at:
            out.append({"tag": "text", "text": line[at : m.start()]})
        out.append({"tag": "a", "text": m[1], "href": m[2]})
        at = m.end()
    if at < len(line) or not out:
        out.append({"tag": "text", "text": line[at:]})
    return out


def _answer_code(answer: object) -> tuple[int, str]:
    if not isinstance(answer, dict):
        return -2, "unexpected answer"
    for key, msg in (("errcode", "errmsg"), ("code", "msg"), ("StatusCode", "StatusMessage")):
        if key in answer:
            try:
                return int(answer[key]), str(answer.get(msg, ""))
            except (TypeError, ValueError):
                return -2, "unexpected answer"
    return -2, "unexpected answer"


def dingtalk_sign(timestamp: str, secret: str) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(timestamp: str, secret: str) -> str:
    """Feishu's signature: base64(HMAC-SHA256(key="timestamp\\nsecret", message=""))."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
