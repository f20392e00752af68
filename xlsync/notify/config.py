"""Where delivery goes and with which secrets: the environment, or a TOML file.

Secrets (the SMTP password, the webhook keys, DingTalk's and Feishu's signing secrets) never
come from the workbook or the shared folder: only from the environment of the machine that
runs xlsync, or from a TOML file there (`--config`, default `notify.toml` in the user
config directory, see `default_config_path`). An environment variable wins over the file.

```toml
[smtp]
host = "smtp.exmail.qq.com"
port = 465
user = "xlsync@example.cn"
password = "..."
security = "ssl"          # starttls | ssl | none
from = "xlsync <xlsync@example.cn>"

[wecom]
webhook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."

[dingtalk]
webhook = "https://oapi.dingtalk.com/robot/send?access_token=..."
secret = "SEC..."

[feishu]
webhook = "https://open.feishu.cn/open-apis/bot/v2/hook/..."

[delivery]
keep_days = 30
reports_url = "http://intranet.example.cn/xlsync/reports/"  # robot posts link the reports
```
"""

from __future__ import annotations

import enum
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from xlsync.errors import UnusableInput

CONFIG_NAME = "notify.toml"
T = TypeVar("T", int, float)


class Security(enum.StrEnum):
    STARTTLS = "starttls"
    SSL = "ssl"
    NONE = "none"


class Robot(enum.StrEnum):
    """The office-chat group robots (webhooks)."""

    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"


ROBOT_NAMES: dict[Robot, str] = {
    Robot.WECOM: "企业微信",
    Robot.DINGTALK: "钉钉",
    Robot.FEISHU: "飞书",
}
# the platforms' documented limits for one group robot (messages per minute)
ROBOT_PER_MINUTE: dict[Robot, int] = {Robot.WECOM: 20, Robot.DINGTALK: 20, Robot.FEISHU: 100}


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    user: str = ""
    password: str = field(default="", repr=False)
    security: Security = Security.STARTTLS
    sender: str = ""  # From:, default the user
    cafile: str = ""  # a CA bundle for a server with a private certificate
    timeout: float = 30.0
    per_minute: int = 0  # at most this many mails in any 60 s; 0: no limit

    @property
    def from_address(self) -> str:
        return self.sender or self.user


@dataclass(frozen=True, slots=True)
class RobotConfig:
    robot: Robot
    webhook: str = field(repr=False)
    secret: str = field(default="", repr=False)  # DingTalk's (and Feishu's) signing secret
    per_minute: int = 20  # messages per minute this robot accepts
    timeout: float = 15.0

    @property
    def name(self) -> str:
        return ROBOT_NAMES[self.robot]


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    smtp: SmtpConfig | None = None
    robots: tuple[RobotConfig, ...] = ()
    keep_days: int = 30  # a message's text is kept this long after it is sent or given up
    give_up_hours: float = 72.0  # a message still undelivered after this long is failed
    retry_seconds: float = 30.0  # the first retry's wait; it doubles each time
    max_retry_seconds: float = 3600.0
    batch: int = 20  # robot posts: at most this many items in one message
    source: str = ""  # where it was read (for `notify status`)
    # where the shared folder's reports/ is published on a web server (an intranet), e.g.
    # http://intranet/xlsync/reports/: robot posts link the day's list and the handout
    reports_url: str = ""

    @property
    def enabled(self) -> bool:
        return self.smtp is not None or bool(self.robots)

    def channels(self) -> list[str]:
        """The configured channels' names: "smtp", "wecom", "dingtalk", "feishu"."""
        return (["smtp"] if self.smtp else []) + [r.robot.value for r in self.robots]

    def robot(self, name: str) -> RobotConfig | None:
        return next((r for r in self.robots if r.robot.value == name), None)

    def secrets(self) -> list[str]:
        """Every secret value: what a log line must never contain."""
        found: list[str] = []
        if self.smtp is not None and self.smtp.password:
            found.append(self.smtp.password)
        for r in self.robots:
            found += [s for s in (r.webhook, r.secret, *_webhook_keys(r.webhook)) if s]
        return sorted(set(found), key=len, reverse=True)


def _webhook_keys(url: str) -> list[str]:
    """The secret parts of a webhook address (its key or token)."""
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    keys = [v for _k, v in parse_qsl(parts.query) if len(v) >= 6]
    tail = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if len(tail) >= 16:  # Feishu: .../hook/<token>
        keys.append(tail)
    return keys


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("xlsync", appauthor=False)) / CONFIG_NAME


ENV_NAMES = (
    "XLSYNC_SMTP_HOST", "XLSYNC_SMTP_PORT", "XLSYNC_SMTP_USER", "XLSYNC_SMTP_PASSWORD",
    "XLSYNC_SMTP_SECURITY", "XLSYNC_MAIL_FROM", "XLSYNC_SMTP_CAFILE", "XLSYNC_WECOM_WEBHOOK",
    "XLSYNC_DINGTALK_WEBHOOK", "XLSYNC_DINGTALK_SECRET", "XLSYNC_FEISHU_WEBHOOK",
    "XLSYNC_FEISHU_SECRET", "XLSYNC_SMTP_PER_MINUTE", "XLSYNC_REPORTS_URL",
)  # fmt: skip


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> DeliveryConfig:
    """The delivery configuration: the TOML file (`path`, else the default one when it
    exists), then the environment over it. Raises UnusableInput naming the file and the
    key for anything unusable; never echoes a secret."""
    env = os.environ if env is None else env
    explicit = path is not None
    path = path if path is not None else default_config_path()
    data: dict[str, object] = {}
    source = ""
    if path.exists():
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UnusableInput(path, f"无法读取配置文件：{exc.__class__.__name__}") from None
        except tomllib.TOMLDecodeError as exc:
            raise UnusableInput(path, f"配置文件格式错误：{exc}") from None
        source = str(path)
    elif explicit:
        raise UnusableInput(path, "配置文件不存在")
    reader = _Reader(path, data, env)
    smtp = reader.smtp()
    robots = tuple(r for r in (reader.robot(kind) for kind in Robot) if r is not None)
    section = reader.section("delivery")
    used_env = [n for n in ENV_NAMES if env.get(n)]
    if used_env:
        source = f"{source} + 环境变量" if source else "环境变量"
    return DeliveryConfig(
        smtp=smtp,
        robots=robots,
        keep_days=reader.number(section, "delivery", "keep_days", 30, int),
        give_up_hours=reader.number(section, "delivery", "give_up_hours", 72.0, float),
        retry_seconds=reader.number(section, "delivery", "retry_seconds", 30.0, float),
        max_retry_seconds=reader.number(section, "delivery", "max_retry_seconds", 3600.0, float),
        batch=reader.number(section, "delivery", "batch", 20, int),
        source=source,
        reports_url=reader.url(section, "delivery", "reports_url", "XLSYNC_REPORTS_URL"),
    )


class _Reader:
    def __init__(self, path: Path, data: Mapping[str, object], env: Mapping[str, str]) -> None:
        self.path = path
        self.data = data
        self.env = env

    def section(self, name: str) -> Mapping[str, object]:
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise UnusableInput(self.path, f"[{name}] 应当是一个表（section）")
        return value

    def text(self, section: Mapping[str, object], where: str, key: str, env: str = "") -> str:
        if env and self.env.get(env):
            return self.env[env].strip()
        value = section.get(key, "")
        if not isinstance(value, str):
            raise UnusableInput(self.path, f"[{where}] {key} 应当是文字")
        return value.strip()

    def number(
        self, section: Mapping[str, object], where: str, key: str, default: T, kind: type[T],
        env: str = "",
    ) -> T:  # fmt: skip
        raw: object = self.env.get(env) if env and self.env.get(env) else section.get(key)
        if raw is None or raw == "":
            return default
        try:
            value = kind(str(raw))
        except (TypeError, ValueError):
            raise UnusableInput(self.path, f"[{where}] {key} 应当是数字：{raw!r}") from None
        if value <= 0:
            raise UnusableInput(self.path, f"[{where}] {key} 应当大于 0：{raw!r}")
        return value

    def url(self, section: Mapping[str, object], where: str, key: str, env: str) -> str:
        value = self.text(section, where, key, env)
        if value and not value.startswith(("https://", "http://")):
            raise UnusableInput(
                self.path, f"{env} / [{where}] {key} 应当是 http:// 或 https:// 开头的网址"
            )
        return value

    def smtp(self) -> SmtpConfig | None:
        s = self.section("smtp")
        host = self.text(s, "smtp", "host", "XLSYNC_SMTP_HOST")
        if not host:
            return None
        raw = self.text(s, "smtp", "security", "XLSYNC_SMTP_SECURITY").lower() or "starttls"
        try:
            security = Security(raw)
        except ValueError:
            raise UnusableInput(
                self.path,
                f"XLSYNC_SMTP_SECURITY / [smtp] security 应当是 starttls、ssl 或 none：{raw}",
            ) from None
        default_port = {Security.SSL: 465, Security.STARTTLS: 587, Security.NONE: 25}[security]
        return SmtpConfig(
            host=host,
            port=self.number(s, "smtp", "port", default_port, int, "XLSYNC_SMTP_PORT"),
            user=self.text(s, "smtp", "user", "XLSYNC_SMTP_USER"),
            password=self.text(s, "smtp", "password", "XLSYNC_SMTP_PASSWORD"),
            security=security,
            sender=self.text(s, "smtp", "from", "XLSYNC_MAIL_FROM"),
            cafile=self.text(s, "smtp", "cafile", "XLSYNC_SMTP_CAFILE"),
            timeout=self.number(s, "smtp", "timeout", 30.0, float),
            per_minute=self.number(s, "smtp", "per_minute", 0, int, "XLSYNC_SMTP_PER_MINUTE"),
        )

    def robot(self, robot: Robot) -> RobotConfig | None:
        s = self.section(robot.value)
        name = robot.value.upper()
        webhook = self.text(s, robot.value, "webhook", f"XLSYNC_{name}_WEBHOOK")
        if not webhook:
            return None
        if not webhook.startswith(("https://", "http://")):
            raise UnusableInput(
                self.path,
                f"XLSYNC_{name}_WEBHOOK / [{robot.value}] webhook 应当是 https:// 开头的网址",
            )
        return RobotConfig(
            robot=robot,
            webhook=webhook,
            secret=self.text(s, robot.value, "secret", f"XLSYNC_{name}_SECRET"),
            per_minute=self.number(s, robot.value, "per_minute", ROBOT_PER_MINUTE[robot], int),
            timeout=self.number(s, robot.value, "timeout", 15.0, float),
        )
