"""Delivery inside `watch`: a save that creates a conflict reaches both reps within the
watcher's run; the daily job caught up after downtime sends each list once; the command
line says when delivery is off, `notify status` lists the outbox and `notify test` reports
per channel and address."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest

from tests.helpers import customer, run_cli, write_register
from tests.notify_servers import Clock, MailServer
from tests.test_notify import PASSWORD, ROSTER, by_recipient, register, smtp_config
from tests.test_watch import FAST, add_row, excel_save, wait_for
from xlsync.notify.config import DeliveryConfig
from xlsync.notify.notifier import Notifier
from xlsync.notify.outbox import Outbox, Status
from xlsync.schedule import Schedule
from xlsync.watch import WatchConfig, Watcher
from xlsync.workspace import Workspace

AS_OF = dt.date(2026, 11, 1)
ENV_NAMES = ("XLSYNC_SMTP_HOST", "XLSYNC_SMTP_PORT", "XLSYNC_SMTP_USER", "XLSYNC_SMTP_PASSWORD",
             "XLSYNC_SMTP_SECURITY", "XLSYNC_MAIL_FROM", "XLSYNC_SMTP_CAFILE",
             "XLSYNC_WECOM_WEBHOOK", "XLSYNC_DINGTALK_WEBHOOK", "XLSYNC_DINGTALK_SECRET",
             "XLSYNC_FEISHU_WEBHOOK", "XLSYNC_FEISHU_SECRET", "XLSYNC_SMTP_PER_MINUTE",
             "XLSYNC_REPORTS_URL")  # fmt: skip


@pytest.fixture(autouse=True)
def no_outside_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the machine's environment nor its config directory leaks into a test."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))


def test_a_save_that_creates_a_conflict_reaches_both_reps_once(tmp_path: Path) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    path = write_register(folder / "客户登记表.xlsx", [
        customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 10, 3), status="送样"),
    ], settings=[["保护天数", 90], [], *ROSTER])  # fmt: skip
    ws = Workspace.of(folder.resolve())
    with MailServer(tmp_path) as server:
        notifier = Notifier(ws, DeliveryConfig(smtp=smtp_config(server)))
        watcher = Watcher(folder, WatchConfig(**FAST), today=lambda: AS_OF, workspace=ws,
                          notifier=notifier)  # fmt: skip
        stop = threading.Event()
        thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
        notifier.start()
        thread.start()
        try:
            wait_for(lambda: len(watcher.syncs) >= 1)
            assert server.mails() == []  # no conflict yet
            excel_save(path, add_row(None, "深圳格林电子有限公司", None, None, None, "李娜",
                                     None, None, dt.date(2026, 10, 20), None, None, None,
                                     None, "拜访"))  # fmt: skip
            wait_for(lambda: len(server.mails()) >= 2, timeout=30)
            syncs = len(watcher.syncs)
            excel_save(path, add_row(None, "华美涂料", None, None, None, "王芳"))
            wait_for(lambda: len(watcher.syncs) > syncs and watcher.idle, timeout=30)
            wait_for(lambda: notifier.outbox.counts()[Status.PENDING] == 0)
        finally:
            stop.set()
            thread.join(timeout=10)
            notifier.close()
        mails = by_recipient(server)
        assert {to: len(ms) for to, ms in mails.items()} == {
            "li.na@example.cn": 1, "zhang.wei@example.cn": 1}  # fmt: skip
        assert "请停止跟进" in mails["li.na@example.cn"][0]["Subject"]


def test_the_daily_job_caught_up_after_downtime_sends_each_list_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = register(tmp_path)
    ws = Workspace.of(path)
    sync_rows = run_cli("sync", path, "--as-of", "2026-10-18")
    assert sync_rows.code in (0, 1)
    state = {"monthly": "2026-09", "daily": "2026-10-18"}  # stopped since the 18th
    ws.schedule_file.write_text(json.dumps(state), "utf-8")
    with MailServer(tmp_path) as server:
        notifier = Notifier(ws, DeliveryConfig(smtp=smtp_config(server)), clock=Clock())
        when = dt.datetime(2026, 10, 22, 19, 0)

        def schedule() -> Schedule:
            return Schedule(ws, today=lambda: when.date(), now=lambda: when,
                            on_report=notifier.reported)  # fmt: skip

        first = schedule()
        first.run_due()
        assert [p.name for k, p in first.written if p.suffix == ".xlsx"] == [
            f"客户登记表-2026-10-{d}.xlsx" for d in (19, 20, 21, 22)]  # fmt: skip
        notifier.drain()
        # the watcher died before it recorded the catch-up: it is done again, nothing resent
        ws.schedule_file.write_text(json.dumps(state), "utf-8")
        schedule().run_due()
        schedule().run_due()
        notifier.drain()
        notifier.close()
        subjects = sorted(str(r.message["Subject"]) for r in server.mails())
        assert subjects == ["2026-10-20 新登记客户（业务二部，1 家）"]


def test_watch_says_once_that_delivery_is_off(tmp_path: Path) -> None:
    path = register(tmp_path)
    run = run_cli("watch", path, "--once", "--as-of", "2026-11-01")
    assert run.stdout.count("通知未配置") == 1, run.stdout + run.stderr
    assert not Workspace.of(path).outbox_path.exists()


def test_watch_once_delivers_and_notify_status_lists_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = register(tmp_path)
    with MailServer(tmp_path, security="starttls", user="xlsync", password=PASSWORD) as server:
        for name, value in {
            "XLSYNC_SMTP_HOST": "127.0.0.1", "XLSYNC_SMTP_PORT": str(server.port),
            "XLSYNC_SMTP_USER": "xlsync", "XLSYNC_SMTP_PASSWORD": PASSWORD,
            "XLSYNC_SMTP_SECURITY": "starttls", "XLSYNC_MAIL_FROM": "xlsync@example.cn",
            "XLSYNC_SMTP_CAFILE": str(server.cert),
        }.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        run = run_cli("watch", path, "--once", "--as-of", "2026-11-01")
        assert "通知已开启：邮件" in run.stdout, run.stdout + run.stderr
        assert len(server.mails()) >= 2
        status = run_cli("notify", "status", path, "--all")
        assert status.code == 0
        assert "待发送 0 条" in status.stdout and "li.na@example.cn" in status.stdout
        # a wrong password: said per address, clearly, and never printed or logged
        monkeypatch.setenv("XLSYNC_SMTP_PASSWORD", "not-" + PASSWORD)
        test = run_cli("notify", "test", path)
        assert test.code == 1
        assert "用户名或密码错误" in test.stdout
        assert "zhang.wei@example.cn" in test.stdout and "wang.fang@example.cn" in test.stdout
        log = Workspace.of(path).watch_log.read_text("utf-8")
        for text in (test.stdout, test.stderr, run.stdout, run.stderr, log):
            assert PASSWORD not in text
        monkeypatch.setenv("XLSYNC_SMTP_PASSWORD", PASSWORD)
        before = len(server.mails())
        test = run_cli("notify", "test", path)
        assert test.code == 0, test.stdout + test.stderr
        assert test.stdout.count("已发送") == 2  # the two heads: 张伟 and 王芳
        assert len(server.mails()) == before + 2
    with Outbox(Workspace.of(path).outbox_path) as box:
        assert box.counts()[Status.PENDING] == 0


def test_the_demo_never_delivers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`xlsync demo` on a machine whose delivery is configured: its made-up reps reach no
    mail server and no group chat."""
    with MailServer(tmp_path) as server:
        monkeypatch.setenv("XLSYNC_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("XLSYNC_SMTP_PORT", str(server.port))
        monkeypatch.setenv("XLSYNC_SMTP_SECURITY", "none")
        run = run_cli("demo", tmp_path / "demo")
        assert run.code == 0, run.stdout + run.stderr
        assert "通知" not in run.stdout
        assert not Workspace.of(tmp_path / "demo").outbox_path.exists()
        assert server.mails() == []
