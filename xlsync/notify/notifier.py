"""The notifier: what the watcher calls after each sync and each scheduled report.

It turns what happened into messages (`compose`), puts one delivery per channel and
address into the outbox, and sends from the outbox in a thread of its own (`start`), or
when asked (`drain`, what the tests call with an injected clock). Sending retries with
backoff; a delivery that fails for good is logged once and shown on the board.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import takewhile
from pathlib import Path
from urllib.parse import quote

from xlsync.notify.channels import (
    WECOM_FILE_LIMIT,
    WECOM_FILE_MIN,
    ChannelDown,
    DeliveryError,
    Mail,
    Permanent,
    Post,
    RateWindow,
    RobotChannel,
    SmtpChannel,
    Temporary,
)
from xlsync.notify.compose import (
    CHANNEL_NAMES,
    conflict_notices,
    handover_notices,
    links_markdown,
    message,
    ruling_notices,
)
from xlsync.notify.config import DeliveryConfig, Robot, redact
from xlsync.notify.model import DailyNotice, Kind, Message, MonthlyNotice, Notice, TestNotice
from xlsync.notify.outbox import Delivery, Form, NewDelivery, Outbox
from xlsync.settings import Settings
from xlsync.sync import SyncOutcome
from xlsync.workspace import Workspace

log = logging.getLogger("xlsync.watch.notify")

_MOBILE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


def mask_mobiles(text: str) -> str:
    """Every mobile number in `text` as 138****5678 (for log lines)."""
    return _MOBILE.sub(r"\1****\2", text)


@dataclass(frozen=True, slots=True)
class TestResult:
    channel: str
    to: str  # an address, or 群 for a robot
    ok: bool
    reason: str = ""


class Notifier:
    """Delivery for one workspace. Without a channel configured, every call does nothing."""

    def __init__(
        self,
        workspace: Workspace,
        config: DeliveryConfig,
        *,
        clock: Callable[[], float] = time.time,
        now: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        self.workspace = workspace
        self.config = config
        self.clock = clock
        self.now = now
        self._secrets = config.secrets()
        self._outbox: Outbox | None = None
        # the channels' send times are kept in the outbox: a restart still knows the minute
        smtp = config.smtp
        self._smtp = (
            SmtpChannel(smtp, RateWindow(smtp.per_minute, clock, "smtp", self._times))
            if smtp is not None
            else None
        )
        self._robots = [RobotChannel(r, clock, store=self._times) for r in config.robots]
        self._said: dict[str, str] = {}  # channel -> the last channel-wide error logged
        self._unreachable: set[str] = set()  # reps already said to have no address
        self._drain_lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0
        self._last: SyncOutcome | None = None  # the latest sync (its board shows failures)

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    @property
    def outbox(self) -> Outbox:
        with self._open_lock:  # the watcher's and the sender's threads both get here
            if self._outbox is None:
                self._outbox = Outbox(self.workspace.outbox_path)
            return self._outbox

    def _times(self) -> Outbox:
        return self.outbox

    def close(self) -> None:
        self.stop()
        for robot in self._robots:
            robot.close()
        if self._outbox is not None:
            self._outbox.close()
            self._outbox = None

    # -- logging -----------------------------------------------------------------------

    def _clean(self, text: str) -> str:
        return mask_mobiles(redact(text, self._secrets))

    # -- what happened -----------------------------------------------------------------

    def synced(self, outcome: SyncOutcome) -> int:
        """After a sync: its new conflicts and new rulings, to the reps involved. Returns
        how many deliveries were new."""
        if not self.enabled:
            return 0
        self._last = outcome
        settings = outcome.result.registers.settings
        events = [e for f in outcome.files for e in f.events]
        try:
            result = outcome.result
            notices: list[Notice] = [
                *conflict_notices(result),
                *ruling_notices(events),
                *handover_notices(result),
            ]
            return self.enqueue([message(n) for n in notices], settings)
        except Exception as exc:  # delivery must never stop the watcher
            log.error("通知未生成：%s", self._clean(f"{exc.__class__.__name__}: {exc}"))
            return 0

    def reported(self, kind: str, period: str, files: Sequence[Path]) -> int:
        """After a scheduled report ("daily" with its ISO date, "monthly" with YYYY-MM)."""
        if not self.enabled:
            return 0
        try:
            if kind == "daily":
                return self._daily(dt.date.fromisoformat(period), tuple(files))
            if kind == "monthly":
                return self._monthly(period, files)
        except Exception as exc:  # delivery must never stop the reports
            log.error("通知未生成（%s %s）：%s", kind, period, self._clean(str(exc)))
        return 0

    def _daily(self, day: dt.date, published: tuple[Path, ...] = ()) -> int:
        from xlsync.reports.build import daily_report, report_base, safe_name
        from xlsync.reports.content import DailyReport
        from xlsync.reports.daily_xlsx import write_daily_xlsx
        from xlsync.reports.html import render_daily_html

        report, settings = daily_report(self.workspace.target, day, workspace=self.workspace)
        folder = self.files
        messages: list[Message] = []
        for head in settings.heads():
            dept = settings.roster.get(head, "")
            lines = [
                line for line in report.lines
                if not dept or (line.department or settings.roster.get(line.rep, "")) == dept
            ]  # fmt: skip
            if not lines:
                continue
            part = DailyReport(report.company, report.day, report.generated, report.register,
                               lines)  # fmt: skip
            stem = f"{report_base(self.workspace.target)}-{day.isoformat()}-{safe_name(dept or '全公司')}"
            xlsx = write_daily_xlsx(part, folder / f"{stem}.xlsx")
            page = render_daily_html(part, folder / f"{stem}.html")
            counts: dict[str, int] = {}
            for line in lines:
                counts[line.rep or "（未填）"] = counts.get(line.rep or "（未填）", 0) + 1
            notice = DailyNotice(day, head, dept, len(lines), tuple(counts.items()),
                                 page.read_text("utf-8"), (xlsx,), published)  # fmt: skip
            messages.append(message(notice))
        return self.enqueue(messages, settings)

    def _monthly(self, month: str, files: Sequence[Path]) -> int:
        from xlsync.register_set import load_set

        settings = load_set(self.workspace.target).settings
        pdfs = tuple(p for p in files if p.suffix.lower() == ".pdf") or tuple(files)
        reps = tuple(settings.roster)
        notice = MonthlyNotice(month, reps, pdfs, tuple(files))
        return self.enqueue([message(notice)], settings)

    # -- into the outbox ---------------------------------------------------------------

    def deliveries(self, msg: Message, settings: Settings) -> list[NewDelivery]:
        """One delivery per channel and address: a mail to each rep with an 邮箱, a post to
        each robot (@-mentioning the reps' 手机 where it can)."""
        out: list[NewDelivery] = []
        files = msg.attachments

        def new(channel: str, rep: str, address: str, mentions: tuple[str, ...]) -> NewDelivery:
            key = f"{msg.key}|{channel}|{address}"
            return NewDelivery(key, msg.key, msg.kind.value, channel, rep, address, mentions,
                               msg.subject, msg.markdown, msg.html, files)  # fmt: skip

        reached: set[str] = set()
        if self._smtp is not None:
            for rep in msg.reps:
                email = settings.contact(rep).email
                if email:
                    out.append(new("smtp", rep, email, ()))
                    reached.add(rep)
        mentions: tuple[str, ...] = ()
        if msg.kind is not Kind.MONTHLY:
            mentions = tuple(m for m in (settings.contact(r).mobile for r in msg.reps) if m)
        links = links_markdown(self._links(msg.published))
        for robot in self._robots:
            rep = msg.reps[0] if len(msg.reps) == 1 else ""
            post = new(robot.name, rep, "", mentions)
            if links:  # the reports on the office's web server
                post = replace(post, markdown=f"{msg.markdown}\n\n{links}")
            out.append(post)
            reached.update(msg.reps)
            if robot.config.robot is Robot.WECOM:
                out += self._wecom_files(msg, rep)
        for rep in msg.reps:
            if rep not in reached and rep not in self._unreachable:
                self._unreachable.add(rep)
                log.info("无法通知 %s：花名册（设置）中没有 TA 的邮箱", rep)
        return out

    def _links(self, files: Sequence[Path]) -> list[tuple[str, str]]:
        """(name, address) of each file in reports/ on the web server `reports_url`."""
        base = self.config.reports_url
        if not base:
            return []
        root = self.workspace.reports.resolve()
        out = []
        for path in files:
            try:
                parts = path.resolve().relative_to(root).parts
            except ValueError:  # not in reports/: not published
                continue
            out.append((path.name, base.rstrip("/") + "/" + "/".join(quote(p) for p in parts)))
        return out

    def _wecom_files(self, msg: Message, rep: str) -> list[NewDelivery]:
        """WeCom's robot takes files: the day's list and the handout follow the summary post,
        each as a message of its own; a file over 20 MB is left to the summary."""
        if msg.kind not in (Kind.DAILY, Kind.MONTHLY):
            return []
        out = []
        for path in msg.attachments:
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if size > WECOM_FILE_LIMIT or size < WECOM_FILE_MIN:
                log.warning("企业微信：文件 %s 大小 %.1f MB，超出群机器人的 20 MB 限制，只发摘要",
                            path.name, size / 1024 / 1024)  # fmt: skip
                continue
            key = f"{msg.key}|wecom|file:{path.name}"
            out.append(NewDelivery(key, msg.key, msg.kind.value, Robot.WECOM.value, rep, "", (),
                                   f"{msg.subject}（文件 {path.name}）", "", "", (path,),
                                   Form.FILE))  # fmt: skip
        return out

    def enqueue(self, messages: Iterable[Message], settings: Settings) -> int:
        items = [d for m in messages for d in self.deliveries(m, settings)]
        if not items:
            return 0
        added = self.outbox.add(items, self.clock())
        if added:
            log.info("待发送通知 %d 条", added)
            self._wake.set()
        return added

    # -- sending -----------------------------------------------------------------------

    def drain(self) -> int:
        """Send every delivery that is due now; how many went out."""
        if not self.enabled:
            return 0
        with self._drain_lock:
            now = self.clock()
            self.outbox.give_up(now - self.config.give_up_hours * 3600, now)
            sent = 0
            if self._smtp is not None:
                sent += self._drain_mail(self._smtp)
            for robot in self._robots:
                sent += self._drain_robot(robot)
            self._report_failures()
            if now - self._last_purge > 3600:
                self._last_purge = now
                self._purge(now - self.config.keep_days * 86400)
            return sent

    @property
    def files(self) -> Path:
        """Where the per-department daily lists are written for attaching."""
        return self.workspace.hidden / "outbox-files"

    def _purge(self, before: float) -> None:
        """Past `keep_days`: the texts of done deliveries, and the files made to attach."""
        self.outbox.purge(before)
        if self.files.is_dir():
            for path in self.files.iterdir():
                try:
                    if path.stat().st_mtime < before:
                        path.unlink()
                except OSError:
                    continue

    def _backoff(self, d: Delivery) -> float:
        wait: float = self.config.retry_seconds * 2.0 ** min(d.attempts, 20)
        return self.clock() + min(wait, self.config.max_retry_seconds)

    def _say(self, channel: str, error: str) -> None:
        """A channel-wide problem, logged once until it changes."""
        if self._said.get(channel) != error:
            self._said[channel] = error
            log.error("%s：%s", CHANNEL_NAMES.get(channel, channel), self._clean(error))

    def _fine(self, channel: str) -> None:
        if self._said.pop(channel, None) is not None:
            log.info("%s：恢复正常", CHANNEL_NAMES.get(channel, channel))

    def _drain_mail(self, smtp: SmtpChannel) -> int:
        sent = 0
        due = self.outbox.due(self.clock(), "smtp")
        try:
            for i, d in enumerate(due):
                mail = Mail(d.address, d.rep, d.subject, d.html, _plain(d.markdown), d.attachments)
                try:
                    smtp.send(mail)
                except Permanent as exc:
                    self.outbox.fail([d.key], self._clean(exc.reason), self.clock())
                    continue
                except Temporary as exc:
                    if exc.rate_limited:  # XLSYNC_SMTP_PER_MINUTE: the rest wait their turn
                        self.outbox.hold("smtp", self.clock() + exc.wait)
                        break
                    reason = self._clean(exc.reason)
                    self._say("smtp", reason)
                    if isinstance(exc, ChannelDown):  # the server or the login: all wait
                        for rest in due[i:]:
                            self.outbox.retry([rest.key], reason, self._backoff(rest))
                        break
                    self.outbox.retry([d.key], reason, self._backoff(d))
                    continue
                self.outbox.sent([d.key], self.clock())
                self._fine("smtp")
                sent += 1
        finally:
            smtp.close()
        return sent

    def _drain_robot(self, robot: RobotChannel) -> int:
        sent = 0
        while True:
            wait = robot.window.wait()
            if wait > 0:  # our own count of the platform's limit: hold the channel
                if self.outbox.due(self.clock(), robot.name, limit=1):
                    self.outbox.hold(robot.name, self.clock() + wait)
                return sent
            due = self.outbox.due(self.clock(), robot.name, limit=self.config.batch)
            if not due:
                return sent
            if due[0].form is Form.FILE:  # a file goes alone (WeCom)
                batch = due[:1]
            else:
                batch = _batch(list(takewhile(lambda d: d.form is Form.POST, due)), robot)
            try:
                if batch[0].form is Form.FILE:
                    robot.send_file(batch[0].attachments[0])
                else:
                    robot.send(_post(batch))
            except Permanent as exc:
                self.outbox.fail([d.key for d in batch], self._clean(exc.reason), self.clock())
                continue
            except Temporary as exc:
                reason = self._clean(exc.reason)
                if exc.rate_limited:
                    self.outbox.hold(robot.name, self.clock() + max(exc.wait, 0.001))
                    if not exc.local:  # the server said so: worth a line
                        log.warning("%s，%d 秒后重试", reason, int(exc.wait))
                    return sent
                self._say(robot.name, reason)
                for d in batch:
                    self.outbox.retry([d.key], reason, self._backoff(d))
                return sent
            self.outbox.sent([d.key for d in batch], self.clock())
            self._fine(robot.name)
            sent += len(batch)

    def _report_failures(self) -> None:
        """Each failed delivery once in the log; the board is rendered again so that its
        footer lists it (from the latest sync's result)."""
        failed = self.outbox.unreported()
        for d in failed:
            to = d.address or d.rep or "群"
            log.error("通知未送达（%s → %s）：%s：%s", CHANNEL_NAMES.get(d.channel, d.channel),
                      to, d.subject, self._clean(d.error))  # fmt: skip
        if failed and self._last is not None:
            from xlsync.board import BoardPart

            BoardPart(self.workspace, self.now)(self._last)

    # -- in the background -------------------------------------------------------------

    def start(self) -> None:
        if not self.enabled or (self._thread is not None and self._thread.is_alive()):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="xlsync-notify", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.drain()
            except Exception as exc:  # sending must never stop the watcher
                log.error("发送通知出错：%s", self._clean(f"{exc.__class__.__name__}: {exc}"))
            nxt = self.outbox.next_due()
            wait = 30.0 if nxt is None else min(30.0, max(0.05, nxt - self.clock()))
            self._wake.wait(wait)

    # -- `xlsync notify test` ----------------------------------------------------------

    def test(self, settings: Settings) -> list[TestResult]:
        """One test message through every channel to the department heads (every rep with
        an address when no head is named), sent now, not through the outbox."""
        heads = settings.heads() or list(settings.roster)
        msg = message(TestNotice(tuple(heads), self.now()))
        results: list[TestResult] = []
        if self._smtp is not None:
            down = ""  # the server or the login failed: the next addresses would fail alike
            for head in heads:
                email = settings.contact(head).email
                if not email:
                    results.append(
                        TestResult("smtp", head, False, "花名册（设置）中没有 TA 的邮箱")
                    )
                    continue
                if down:
                    results.append(TestResult("smtp", email, False, f"未尝试：{down}"))
                    continue
                try:
                    self._smtp.send(Mail(email, head, msg.subject, msg.html, _plain(msg.markdown)))
                    results.append(TestResult("smtp", email, True))
                except DeliveryError as exc:
                    results.append(TestResult("smtp", email, False, self._clean(exc.reason)))
                    if isinstance(exc, Temporary):
                        down = self._clean(exc.reason)
            self._smtp.close()
        mentions = tuple(m for m in (settings.contact(h).mobile for h in heads) if m)
        for robot in self._robots:
            try:
                robot.send(Post(msg.subject, msg.markdown, _plain(msg.markdown), mentions))
                results.append(TestResult(robot.name, "群", True))
            except DeliveryError as exc:
                results.append(TestResult(robot.name, "群", False, self._clean(exc.reason)))
        return results


def _plain(markdown: str) -> str:
    """Markdown as plain text: headings and separators without their marks."""
    lines = []
    for line in markdown.splitlines():
        stripped = line.lstrip("#").strip() if line.startswith("#") else line
        if stripped == "---":
            stripped = "——"
        lines.append(stripped)
    return "\n".join(lines).strip()


def _batch(due: list[Delivery], robot: RobotChannel) -> list[Delivery]:
    """As many due deliveries as one post holds (at least one)."""
    batch = [due[0]]
    mentions = set(due[0].mentions)
    size = len(due[0].markdown.encode("utf-8"))
    for d in due[1:]:
        size += len(d.markdown.encode("utf-8")) + len(SEPARATOR.encode("utf-8"))
        mentions.update(d.mentions)
        if not robot.fits(size, tuple(mentions)):
            break
        batch.append(d)
    return batch


SEPARATOR = "\n\n---\n\n"


def _post(batch: Sequence[Delivery]) -> Post:
    if len(batch) == 1:
        d = batch[0]
        return Post(d.subject, d.markdown, _plain(d.markdown), d.mentions)
    markdown = SEPARATOR.join(d.markdown for d in batch)
    mentions = tuple(dict.fromkeys(m for d in batch for m in d.mentions))
    return Post(f"{len(batch)} 条通知", markdown, _plain(markdown), mentions)
