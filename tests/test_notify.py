"""Delivery (issue 15) against real servers: aiosmtpd on the loopback (plain, STARTTLS,
SSL, with login) and an HTTP server speaking the WeCom, DingTalk and Feishu robot APIs.
Time is injected (`Clock`): no test sleeps to wait for anything."""

from __future__ import annotations

import datetime as dt
import logging
import re
import urllib.parse
from dataclasses import replace
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from tests.helpers import customer, write_register
from tests.notify_servers import Clock, MailServer, RobotServer, free_port
from xlsync.notify.config import (
    DeliveryConfig,
    Robot,
    RobotConfig,
    Security,
    SmtpConfig,
    default_config_path,
    load_config,
)
from xlsync.notify.notifier import Notifier
from xlsync.notify.outbox import Outbox, Status, failure_lines
from xlsync.schedule import Schedule
from xlsync.sync import sync
from xlsync.workspace import Workspace

AS_OF = dt.date(2026, 11, 1)
PASSWORD = "s3cret-Passw0rd!"
ROSTER = [
    ["业务员", "部门", "手机", "邮箱", "负责人"],
    ["张伟", "业务一部", "13800138000", "zhang.wei@example.cn", "是"],
    ["李娜", "业务二部", "13900139000", "li.na@example.cn", ""],
    ["王芳", "业务二部", "13700137000", "wang.fang@example.cn", "是"],
]


def register(folder: Path, rows: list[list[object]] | None = None) -> Path:
    rows = rows or [
        customer(customer="格林电子", rep="张伟", department="业务一部",
                 sampled=dt.date(2026, 10, 3), status="送样"),
        customer(customer="深圳市格林电子有限公司", rep="李娜", department="业务二部",
                 visited=dt.date(2026, 10, 20), status="拜访"),
    ]  # fmt: skip
    return write_register(
        folder / "客户登记表.xlsx", rows, settings=[["保护天数", 90], [], *ROSTER]
    )


def smtp_config(server: MailServer, **kw: object) -> SmtpConfig:
    security = Security(server.security)
    values: dict[str, object] = dict(
        host="127.0.0.1", port=server.port, security=security, sender="xlsync <xlsync@example.cn>",
        cafile=str(server.cert) if security is not Security.NONE else "", timeout=10.0,
    )  # fmt: skip
    values.update(kw)
    return SmtpConfig(**values)  # type: ignore[arg-type]


def by_recipient(server: MailServer) -> dict[str, list]:
    out: dict[str, list] = {}
    for r in server.mails():
        for to in r.recipients:
            out.setdefault(to, []).append(r.message)
    return out


# ------------------------------------------------------------------ mail


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_new_conflict_reaches_both_reps_once_by_mail(tmp_path: Path, security: str) -> None:
    path = register(tmp_path)
    ws = Workspace.of(path)
    clock = Clock()
    with MailServer(tmp_path, security=security, user="xlsync", password=PASSWORD) as server:
        config = DeliveryConfig(smtp=smtp_config(server, user="xlsync", password=PASSWORD))
        notifier = Notifier(ws, config, clock=clock)
        outcome = sync(path, AS_OF, workspace=ws)
        assert notifier.synced(outcome) == 2
        assert notifier.drain() == 2
        mails = by_recipient(server)
        assert set(mails) == {"zhang.wei@example.cn", "li.na@example.cn"}
        assert all(len(m) == 1 for m in mails.values())
        stop = mails["li.na@example.cn"][0]
        assert stop["Subject"] == "请停止跟进：深圳市格林电子有限公司（已由 张伟 保护）" or (
            "请停止跟进" in stop["Subject"] and "张伟" in stop["Subject"]
        )
        assert str(stop["To"]) == "李娜 <li.na@example.cn>"
        body = stop.get_body(("plain",)).get_content()
        assert "张伟：送样 2026-10-03，保护至 2027-01-01。" in body
        assert "你的登记：客户登记表.xlsx · 跟进中 第 3 行" in body
        owner = mails["zhang.wei@example.cn"][0]
        assert "李娜" in owner["Subject"]
        assert "<html" in owner.get_body(("html",)).get_content()
        # a re-sync, and a restart (a new notifier on the same outbox): nothing new
        notifier.close()
        again = Notifier(ws, config, clock=clock)
        assert again.synced(sync(path, AS_OF, workspace=Workspace.of(path))) == 0
        assert again.drain() == 0
        again.close()
        assert len(server.mails()) == 2


def test_daily_list_to_each_head_with_a_chinese_attachment_name(tmp_path: Path) -> None:
    path = register(tmp_path)
    ws = Workspace.of(path)
    with MailServer(tmp_path, security="starttls") as server:
        notifier = Notifier(ws, DeliveryConfig(smtp=smtp_config(server)), clock=Clock())
        sync(path, AS_OF, workspace=ws)
        schedule = Schedule(ws, daily_hour=0, today=lambda: dt.date(2026, 10, 20),
                            now=lambda: dt.datetime(2026, 10, 20, 18),
                            on_report=notifier.reported)  # fmt: skip
        schedule.run_due()
        notifier.drain()
        mails = by_recipient(server)
        # the September handout, due too: to every rep, the PDF attached
        for to in ("zhang.wei@example.cn", "li.na@example.cn", "wang.fang@example.cn"):
            (handout,) = [m for m in mails[to] if m["Subject"] == "2026-09 月度客户清单"]
            (pdf,) = list(handout.iter_attachments())
            assert pdf.get_filename() == "客户登记表-2026-09.pdf"
            assert pdf.get_content().startswith(b"%PDF")
        daily = {to: [m for m in ms if "新登记客户" in m["Subject"]] for to, ms in mails.items()}
        # 张伟 heads 业务一部 (no new row on 10-20); 王芳 heads 业务二部: 李娜's visit
        assert {to for to, ms in daily.items() if ms} == {"wang.fang@example.cn"}
        (mail,) = daily["wang.fang@example.cn"]
        assert mail["Subject"] == "2026-10-20 新登记客户（业务二部，1 家）"
        (attachment,) = list(mail.iter_attachments())
        assert attachment.get_filename() == "客户登记表-2026-10-20-业务二部.xlsx"
        (raw_bytes,) = [r.raw for r in server.mails() if r.message is mail]
        raw = raw_bytes.decode("ascii")  # 7-bit on the wire
        assert re.search(r"filename\*(0\*)?=utf-8''%E5%AE%A2", raw)  # RFC 2231
        # and the RFC 2047 name= that Outlook and Foxmail write themselves
        name = attachment.get_param("name")
        assert str(make_header(decode_header(name))) == "客户登记表-2026-10-20-业务二部.xlsx"
        assert 'name="=?utf-8?b?' in raw
        assert attachment.get_content_type() == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip
        assert "=?utf-8?" in raw.split("\n\n", 1)[0]  # the subject: RFC 2047
        from io import BytesIO

        import openpyxl

        book = openpyxl.load_workbook(BytesIO(attachment.get_content()))
        cells = [c.value for row in book.active.iter_rows() for c in row]
        assert "深圳市格林电子有限公司" in cells and "格林电子" not in cells


def test_the_server_down_then_up_delivers_once_and_survives_a_restart(tmp_path: Path) -> None:
    path = register(tmp_path)
    ws = Workspace.of(path)
    port = free_port()
    clock = Clock()
    config = DeliveryConfig(smtp=SmtpConfig("127.0.0.1", port, security=Security.NONE,
                                            sender="xlsync@example.cn", timeout=5))  # fmt: skip
    notifier = Notifier(ws, config, clock=clock)
    notifier.synced(sync(path, AS_OF, workspace=ws))
    assert notifier.drain() == 0  # nobody listens on the port
    with Outbox(ws.outbox_path) as box:
        pending = box.listing((Status.PENDING,))
        assert len(pending) == 2 and all(d.attempts == 1 for d in pending)
        assert all(d.next_at > clock() for d in pending)
        assert "连不上邮件服务器" in pending[0].error
    assert notifier.drain() == 0  # not due yet: backoff
    notifier.close()  # the watcher stops with messages pending
    with MailServer(tmp_path, port=port) as server:
        clock.advance(config.retry_seconds * 2 + 1)
        restarted = Notifier(ws, config, clock=clock)
        assert restarted.synced(sync(path, AS_OF, workspace=Workspace.of(path))) == 0
        assert restarted.drain() == 2
        clock.advance(3600)
        assert restarted.drain() == 0
        restarted.close()
        assert sorted(r.recipients[0] for r in server.mails()) == [
            "li.na@example.cn", "zhang.wei@example.cn"]  # fmt: skip


def test_a_wrong_password_is_said_clearly_and_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = register(tmp_path)
    ws = Workspace.of(path)
    with MailServer(tmp_path, security="starttls", user="xlsync", password=PASSWORD) as server:
        config = DeliveryConfig(
            smtp=smtp_config(server, user="xlsync", password="wrong-" + PASSWORD)
        )
        notifier = Notifier(ws, config, clock=Clock())
        notifier.synced(sync(path, AS_OF, workspace=ws))
        with caplog.at_level(logging.INFO, logger="xlsync"):
            assert notifier.drain() == 0
            assert notifier.drain() == 0
        assert "拒绝登录：用户名或密码错误" in caplog.text
        assert caplog.text.count("拒绝登录") == 1  # said once, not at every retry
        assert PASSWORD not in caplog.text
        with Outbox(ws.outbox_path) as box:
            assert box.counts()[Status.PENDING] == 2  # kept: fixing the password sends them
            assert all(PASSWORD not in d.error for d in box.listing())
        results = notifier.test(sync(path, AS_OF, workspace=ws).result.registers.settings)
        assert not results[0].ok and "用户名或密码错误" in results[0].reason
        # every head's address is listed, the ones after the refused login not tried
        assert [(r.to, r.ok) for r in results] == [
            ("zhang.wei@example.cn", False), ("wang.fang@example.cn", False)]  # fmt: skip
        assert results[1].reason.startswith("未尝试：") and "用户名或密码错误" in results[1].reason
        notifier.close()
        assert server.mails() == []


def test_a_refused_address_fails_once_and_shows_on_the_board(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    roster = [list(r) for r in ROSTER]
    roster[2][3] = "li.na@nowhere.invalid"
    path = write_register(tmp_path / "客户登记表.xlsx", [
        customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 10, 3), status="送样"),
        customer(customer="格林电子", rep="李娜", visited=dt.date(2026, 10, 20), status="拜访"),
    ], settings=[["保护天数", 90], [], *roster])  # fmt: skip
    ws = Workspace.of(path)
    clock = Clock()
    with MailServer(tmp_path) as server:
        notifier = Notifier(ws, DeliveryConfig(smtp=smtp_config(server)), clock=clock)
        notifier.synced(sync(path, AS_OF, workspace=ws))
        with caplog.at_level(logging.INFO, logger="xlsync"):
            assert notifier.drain() == 1
            clock.advance(86400)
            assert notifier.drain() == 0
        (line,) = [r.message for r in caplog.records if "通知未送达" in r.message]
        assert "li.na@nowhere.invalid" in line
        assert "拒收地址" in caplog.text
        notifier.close()
    (line,) = failure_lines(ws.outbox_path)
    assert "李娜" in line and "拒收地址" in line
    # the drain that found it rendered the board again: its footer lists it
    (page,) = ws.reports.glob("*-看板.html")
    text = page.read_text("utf-8")
    assert "通知未送达" in text and "li.na@nowhere.invalid" in text
    from xlsync.board import BoardPart

    board = BoardPart(ws)
    board(sync(path, AS_OF, workspace=ws))  # and every later board too
    assert board.path == page and "li.na@nowhere.invalid" in page.read_text("utf-8")


# ------------------------------------------------------------------ robots


def robots(server: RobotServer, per_minute: int = 20, secret: str | None = None) -> DeliveryConfig:
    s = server.state
    return DeliveryConfig(robots=(
        RobotConfig(Robot.WECOM, server.wecom, per_minute=per_minute),
        RobotConfig(Robot.DINGTALK, server.dingtalk, secret=s.secret if secret is None else secret,
                    per_minute=per_minute),
        RobotConfig(Robot.FEISHU, server.feishu, per_minute=per_minute),
    ))  # fmt: skip


def test_robots_post_markdown_and_mention_the_rep_by_mobile(tmp_path: Path) -> None:
    path = register(tmp_path)
    ws = Workspace.of(path)
    clock = Clock()
    with RobotServer(clock) as server:
        notifier = Notifier(ws, robots(server), clock=clock)
        notifier.synced(sync(path, AS_OF, workspace=ws))
        assert notifier.drain() == 6  # two messages, three robots
        notifier.close()
        wecom = server.state.accepted("wecom")
        # one post for both (they fit in one), @-mentioning both reps by mobile
        assert len(wecom) == 1
        assert wecom[0].body["msgtype"] == "text"
        assert sorted(wecom[0].body["text"]["mentioned_mobile_list"]) == [
            "13800138000",
            "13900139000",
        ]
        (ding,) = server.state.accepted("dingtalk")
        assert ding.body["at"]["atMobiles"] and "请停止跟进" in ding.body["markdown"]["text"]
        (feishu,) = server.state.accepted("feishu")
        assert feishu.body["content"]["post"]["zh_cn"]["title"] == "2 条通知"
        assert server.state.rejected == 0


def test_dingtalk_signature_checked_and_a_rejection_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = register(tmp_path)
    ws = Workspace.of(path)
    clock = Clock()
    with RobotServer(clock) as server:
        config = DeliveryConfig(robots=(
            RobotConfig(Robot.DINGTALK, server.dingtalk, secret="SECnot-the-secret"),))  # fmt: skip
        notifier = Notifier(ws, config, clock=clock)
        notifier.synced(sync(path, AS_OF, workspace=ws))
        with caplog.at_level(logging.INFO, logger="xlsync"):
            assert notifier.drain() == 0
            clock.advance(7200)
            assert notifier.drain() == 0
        notifier.close()
        assert server.state.rejected == 1 and not server.state.posts
        # one post carried both messages: each is reported once, as not delivered
        assert caplog.text.count("钉钉机器人拒绝了消息（310000") == 2
        with Outbox(ws.outbox_path) as box:
            assert box.counts()[Status.FAILED] == 2
        for secret in ("SECnot-the-secret", server.state.token):
            assert secret not in caplog.text
        assert "13900139000" not in caplog.text


def test_robot_down_then_up_and_rate_limit_answers_are_retried(tmp_path: Path) -> None:
    path = register(tmp_path)
    ws = Workspace.of(path)
    clock = Clock()
    with RobotServer(clock) as server:
        notifier = Notifier(ws, robots(server), clock=clock)
        notifier.synced(sync(path, AS_OF, workspace=ws))
        server.state.mode = "down"
        assert notifier.drain() == 0
        server.state.mode = "ok"
        server.state.ratelimit_next = 3  # each robot answers "too fast" once
        clock.advance(31)
        assert notifier.drain() == 0
        assert server.state.limited == 3
        clock.advance(61)
        assert notifier.drain() == 6
        clock.advance(3600)
        assert notifier.drain() == 0
        notifier.close()
        assert [len(server.state.accepted(r)) for r in ("wecom", "dingtalk", "feishu")] == [1, 1, 1]


def test_500_conflicts_respect_the_robots_rate_limits(tmp_path: Path) -> None:
    rows = []
    for i in range(500):
        name = f"客户{i:03d}号{'甲乙丙丁戊己庚辛'[i % 8]}科技"
        rows.append(customer(customer=name, rep="张伟", phone=f"0755{20000000 + i}",
                             sampled=dt.date(2026, 10, 3), status="送样"))  # fmt: skip
        rows.append(customer(customer=name, rep="李娜", phone=f"0755{20000000 + i}",
                             visited=dt.date(2026, 10, 20), status="拜访"))  # fmt: skip
    path = register(tmp_path, rows)
    ws = Workspace.of(path)
    clock = Clock()
    with RobotServer(clock) as server:
        server.state.per_minute = 6  # the server enforces it and would answer "too fast"
        notifier = Notifier(ws, robots(server, per_minute=6), clock=clock)
        outcome = sync(path, AS_OF, workspace=ws)
        assert len(outcome.result.conflicts) == 500
        assert notifier.synced(outcome) == 3000  # 1000 messages on three robots
        rounds = 0
        while True:
            notifier.drain()
            with Outbox(ws.outbox_path) as box:
                left = box.counts()[Status.PENDING]
                nxt = box.next_due()
            if not left:
                break
            assert nxt is not None
            clock.to(nxt)  # time passes to the next moment a post is allowed
            rounds += 1
            assert rounds < 1000
        notifier.close()
        assert server.state.limited == 0 and server.state.rejected == 0
        for robot in ("wecom", "dingtalk", "feishu"):
            posts = server.state.accepted(robot)
            times = sorted(p.at for p in posts)
            assert all(times[i + 6] - times[i] >= 60 for i in range(len(times) - 6))
            text = str([p.body for p in posts])
            assert text.count("请停止跟进：") == 500, robot
            assert text.count("重复登记") == 500, robot
        with Outbox(ws.outbox_path) as box:
            assert box.counts() == {Status.PENDING: 0, Status.SENT: 3000, Status.FAILED: 0}


# ------------------------------------------------------------------ configuration


def test_configuration_from_toml_and_environment(tmp_path: Path) -> None:
    toml = tmp_path / "notify.toml"
    toml.write_text(
        '[smtp]\nhost = "smtp.example.cn"\nuser = "a@example.cn"\npassword = "from-file"\n'
        'security = "ssl"\n[dingtalk]\nwebhook = "https://oapi.dingtalk.com/robot/send?access_token=abcdef123456"\n'
        'secret = "SECxyz"\n[delivery]\nkeep_days = 7\n',
        "utf-8",
    )
    config = load_config(toml, env={"XLSYNC_SMTP_PASSWORD": "from-env", "XLSYNC_SMTP_PORT": "2465"})
    assert config.smtp is not None
    assert (config.smtp.port, config.smtp.password, config.smtp.security) == (
        2465,
        "from-env",
        Security.SSL,
    )
    assert config.channels() == ["smtp", "dingtalk"] and config.keep_days == 7
    assert "from-env" not in repr(config) and "abcdef123456" not in repr(config)
    assert {"from-env", "abcdef123456", "SECxyz"} <= set(config.secrets())
    assert not load_config(None, env={}).enabled or default_config_path().exists()
    from xlsync.errors import UnusableInput

    with pytest.raises(UnusableInput, match="starttls、ssl 或 none"):
        load_config(toml, env={"XLSYNC_SMTP_SECURITY": "tls1.3"})
    url = "http://intranet.example.cn/xlsync/reports/"
    assert load_config(toml, env={"XLSYNC_REPORTS_URL": url}).reports_url == url
    with pytest.raises(UnusableInput, match="XLSYNC_REPORTS_URL / \\[delivery\\] reports_url"):
        load_config(toml, env={"XLSYNC_REPORTS_URL": "intranet/reports"})
    toml.write_text("[smtp\n", "utf-8")
    with pytest.raises(UnusableInput, match="配置文件格式错误"):
        load_config(toml, env={})


def test_a_ruling_reaches_the_rep_it_names_once(tmp_path: Path) -> None:
    header = ["日期", "裁决", "客户", "另一客户", "业务员", "保护天数", "经办人", "备注"]
    path = write_register(
        tmp_path / "客户登记表.xlsx",
        [customer(customer="格林电子", rep="张伟", visited=dt.date(2026, 10, 1), status="拜访")],
        settings=[["保护天数", 90], [], *ROSTER],
        extra_sheets={"裁决": [header, [dt.date(2026, 10, 20), "指派", "格林电子", None, "李娜",
                                        "长期", "王经理", "老板交代"]]},
    )  # fmt: skip
    ws = Workspace.of(path)
    with MailServer(tmp_path) as server:
        notifier = Notifier(ws, DeliveryConfig(smtp=smtp_config(server)), clock=Clock())
        notifier.synced(sync(path, AS_OF, workspace=ws))
        notifier.drain()
        notifier.synced(sync(path, AS_OF, workspace=ws))  # recorded once: nothing new
        notifier.drain()
        notifier.close()
        mails = by_recipient(server)
        (ruling,) = [m for m in mails["li.na@example.cn"] if "裁决" in m["Subject"]]
        assert ruling["Subject"] == "裁决：指派 格林电子"
        body = ruling.get_body(("plain",)).get_content()
        assert "指派 格林电子，长期保护" in body and "经办人：王经理" in body
        assert "备注：老板交代" in body
        # 张伟 must stop: the manager assigned the customer to 李娜
        (stop,) = mails["zhang.wei@example.cn"]
        assert "请停止跟进" in stop["Subject"] and "李娜" in stop["Subject"]


def test_a_head_of_all_gets_the_whole_office_list(tmp_path: Path) -> None:
    day = dt.date(2026, 10, 20)
    path = write_register(tmp_path / "客户登记表.xlsx", [
        customer(customer="格林电子", rep="张伟", visited=day, status="拜访"),
        customer(customer="华美涂料", rep="李娜", contacted=day, status="电话"),
        customer(customer="雅玛西电子", rep="李娜", contacted=dt.date(2026, 10, 19)),
    ], settings=[["保护天数", 90], [], *ROSTER, ["赵总", "", "", "boss@example.cn", "是"]])  # fmt: skip
    ws = Workspace.of(path)
    with MailServer(tmp_path) as server:
        notifier = Notifier(ws, DeliveryConfig(smtp=smtp_config(server)), clock=Clock())
        assert notifier.reported("daily", day.isoformat(), []) == 3
        notifier.drain()
        notifier.close()
        subjects = {to: [str(m["Subject"]) for m in ms] for to, ms in by_recipient(server).items()}
    assert subjects == {
        "zhang.wei@example.cn": ["2026-10-20 新登记客户（业务一部，1 家）"],
        "wang.fang@example.cn": ["2026-10-20 新登记客户（业务二部，1 家）"],
        "boss@example.cn": ["2026-10-20 新登记客户（全公司，2 家）"],
    }


def test_texts_are_kept_for_keep_days_and_undeliverable_ones_given_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = register(tmp_path)
    ws = Workspace.of(path)
    clock = Clock()
    with RobotServer(clock) as server:
        config = DeliveryConfig(robots=(RobotConfig(Robot.FEISHU, server.feishu),), keep_days=2,
                                give_up_hours=5)  # fmt: skip
        notifier = Notifier(ws, config, clock=clock)
        outcome = sync(path, AS_OF, workspace=ws)
        notifier.synced(outcome)
        assert notifier.drain() == 2
        server.state.mode = "down"
        rows = [customer(customer="华美涂料", rep="张伟", sampled=dt.date(2026, 10, 3), status="送样"),
                customer(customer="华美涂料", rep="王芳", visited=dt.date(2026, 10, 9), status="拜访")]  # fmt: skip
        (tmp_path / "b").mkdir()
        other = register(tmp_path / "b", rows)  # another conflict, through the same notifier
        notifier.synced(sync(other, AS_OF, workspace=Workspace.of(other)))
        with caplog.at_level(logging.INFO, logger="xlsync"):
            for _ in range(12):  # an hour at a time: the server stays down
                clock.advance(3600)
                notifier.drain()
            clock.advance(2 * 86400)  # past keep_days
            notifier.drain()
        with Outbox(ws.outbox_path) as box:
            done = box.listing((Status.SENT,))
            assert len(done) == 2 and all(d.markdown == "" and d.html == "" for d in done)
            failed = box.listing((Status.FAILED,))
            assert len(failed) == 2 and all("多次重试仍未送达" in d.error for d in failed)
        assert caplog.text.count("通知未送达") == 2  # each once
        assert caplog.text.count("飞书机器人服务器错误（502）") == 3  # once + twice in the reports
        # a purged item still blocks a second send
        assert notifier.synced(outcome) == 0
        notifier.close()


def test_a_freed_customer_is_offered_to_the_suggested_rep_once(tmp_path: Path) -> None:
    rules = [["地区", "部门", "业务员"], ["深圳", "业务二部", ""]]
    path = write_register(
        tmp_path / "客户登记表.xlsx",
        [
            # 李娜's protection ended 2026-10-23: freed lately, offered to 王芳 (same department)
            customer(customer="深圳格林电子", region="深圳", rep="李娜",
                     visited=dt.date(2026, 7, 25), status="拜访"),
            # ended in April: long freed, not news
            customer(customer="深圳华美涂料", region="深圳", rep="李娜",
                     visited=dt.date(2026, 1, 5), status="拜访"),
        ],
        settings=[["保护天数", 90], [], *ROSTER, [], *rules],
    )  # fmt: skip
    ws = Workspace.of(path)
    with MailServer(tmp_path) as server:
        notifier = Notifier(ws, DeliveryConfig(smtp=smtp_config(server)), clock=Clock())
        notifier.synced(sync(path, AS_OF, workspace=ws))
        notifier.drain()
        notifier.synced(sync(path, AS_OF, workspace=ws))  # the same hand-over: not again
        notifier.drain()
        notifier.close()
        mails = by_recipient(server)
    assert set(mails) == {"wang.fang@example.cn"}
    (offer,) = mails["wang.fang@example.cn"]
    assert offer["Subject"] == "可接手客户：深圳格林电子"
    body = offer.get_body(("plain",)).get_content()
    assert "建议由你接手客户 深圳格林电子（深圳）" in body
    assert "李娜 的保护已于 2026-10-23 结束" in body


# ------------------------------------------------------------------ files on the robots

REPORTS_URL = "http://intranet.example.cn/xlsync/reports/"


def test_wecom_gets_the_files_and_the_others_a_link_to_the_published_reports(
    tmp_path: Path,
) -> None:
    path = register(tmp_path)
    ws = Workspace.of(path)
    clock = Clock()
    with RobotServer(clock) as server:
        config = replace(robots(server), reports_url=REPORTS_URL)
        notifier = Notifier(ws, config, clock=clock)
        sync(path, AS_OF, workspace=ws)
        schedule = Schedule(ws, daily_hour=0, today=lambda: dt.date(2026, 10, 20),
                            now=lambda: dt.datetime(2026, 10, 20, 18),
                            on_report=notifier.reported)  # fmt: skip
        schedule.run_due()  # the September handout and the list of 10-20 (业务二部 only)
        notifier.drain()
        again = Notifier(ws, config, clock=clock)  # a restart: nothing is sent twice
        again.reported("daily", "2026-10-20", [p for k, p in schedule.written if k == "daily"])
        assert again.drain() == 0
        again.close()
        notifier.close()
        state = server.state
        assert state.rejected == 0 and state.limited == 0
        # WeCom: the summaries (in one post: both waited), then each file uploaded and sent
        # as a `file` message; a file never goes before its summary
        kinds = [p.body["msgtype"] for p in state.accepted("wecom")]
        assert kinds == ["text", "file", "file"]
        handout, daily = (p.body["file"]["media_id"] for p in state.accepted("wecom")[1:])
        name, data = state.uploads[handout]
        assert name == "客户登记表-2026-09.pdf" and data.startswith(b"%PDF")
        name, data = state.uploads[daily]
        assert name == "客户登记表-2026-10-20-业务二部.xlsx" and data.startswith(b"PK")
        assert len(state.uploads) == 2
        quoted = "%E5%AE%A2%E6%88%B7%E7%99%BB%E8%AE%B0%E8%A1%A8"  # 客户登记表
        text = state.accepted("wecom")[0].body["text"]
        assert "2026-10-20 新登记客户（业务二部，1 家）" in text["content"]
        assert text["mentioned_mobile_list"] == ["13700137000"]  # 王芳 heads 业务二部
        # a text message cannot link: the address follows the name
        assert (
            f"客户登记表-2026-10-20.xlsx：{REPORTS_URL}{quoted}-2026-10-20.xlsx" in text["content"]
        )
        # DingTalk: the summary with a markdown link to the office's list on the web server
        (ding,) = [p.body["markdown"]["text"] for p in state.accepted("dingtalk")]
        assert f"[客户登记表-2026-09.pdf]({REPORTS_URL}{quoted}-2026-09.pdf)" in ding
        assert f"[客户登记表-2026-10-20.xlsx]({REPORTS_URL}{quoted}-2026-10-20.xlsx)" in ding
        # Feishu: the same links as `a` elements of its rich-text post
        hrefs = [e["href"] for p in state.accepted("feishu")
                 for line in p.body["content"]["post"]["zh_cn"]["content"]
                 for e in line if e["tag"] == "a"]  # fmt: skip
        assert f"{REPORTS_URL}{quoted}-2026-09.pdf" in hrefs
        assert f"{REPORTS_URL}{quoted}-2026-10-20.xlsx" in hrefs
        for href in hrefs:  # each names a file that is really in reports/
            rel = urllib.parse.unquote(href.removeprefix(REPORTS_URL))
            assert (ws.reports / rel).is_file(), rel


def test_a_file_over_wecoms_20_mb_is_left_to_the_summary(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = register(tmp_path)
    ws = Workspace.of(path)
    ws.reports.mkdir(parents=True, exist_ok=True)
    big = ws.reports / "客户登记表-2026-09.pdf"
    with big.open("wb") as f:
        f.write(b"%PDF-1.7\n")
        f.truncate(20 * 1024 * 1024 + 1)
    clock = Clock()
    with RobotServer(clock) as server:
        config = DeliveryConfig(robots=(RobotConfig(Robot.WECOM, server.wecom),))
        notifier = Notifier(ws, config, clock=clock)
        with caplog.at_level(logging.INFO, logger="xlsync"):
            assert notifier.reported("monthly", "2026-09", [big]) == 1  # the summary only
            assert notifier.drain() == 1
        notifier.close()
        (post,) = server.state.accepted("wecom")
        assert post.body["msgtype"] == "markdown" and "2026-09 月度客户清单" in str(post.body)
        assert server.state.uploads == {}
    assert "客户登记表-2026-09.pdf" in caplog.text and "只发摘要" in caplog.text


def test_an_outbox_from_before_files_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    from xlsync.notify.outbox import SCHEMA, Form

    old = tmp_path / "outbox.sqlite"
    conn = sqlite3.connect(old)
    conn.executescript(
        SCHEMA.split("CREATE TABLE IF NOT EXISTS send_time")[0]
        .replace(",\n    form TEXT NOT NULL DEFAULT 'post'", "")
        .replace("CREATE INDEX IF NOT EXISTS delivery_message ON delivery (message, channel);", "")
    )
    conn.execute(
        "INSERT INTO delivery VALUES ('k', 'm', 'conflict', 'wecom', '', '', '[]', 's', 'md',"
        " '', '[]', 'pending', 0, 1, 1, NULL, '', 0)"
    )
    conn.commit()
    conn.close()
    with Outbox(old) as box:
        (d,) = box.due(2.0)
        assert d.key == "k" and d.form is Form.POST


# ------------------------------------------------------------------ rate windows across restarts


def conflicts(folder: Path, n: int) -> Path:
    rows = []
    for i in range(n):
        name = f"客户{i:03d}号{'甲乙丙丁戊己庚辛'[i % 8]}科技"
        rows.append(customer(customer=name, rep="张伟", phone=f"0755{20000000 + i}",
                             sampled=dt.date(2026, 10, 3), status="送样"))  # fmt: skip
        rows.append(customer(customer=name, rep="李娜", phone=f"0755{20000000 + i}",
                             visited=dt.date(2026, 10, 20), status="拜访"))  # fmt: skip
    return register(folder, rows)


def within_limit(times: list[float], per_minute: int) -> bool:
    times = sorted(times)
    return all(times[i + per_minute] - times[i] >= 60 for i in range(len(times) - per_minute))


def test_the_robots_rate_count_survives_a_restart(tmp_path: Path) -> None:
    path = conflicts(tmp_path, 1)  # 2 messages
    ws = Workspace.of(path)
    clock = Clock()
    names = ("wecom", "dingtalk", "feishu")
    with RobotServer(clock) as server:
        server.state.per_minute = 3  # the platform counts too: it would answer "too fast"
        config = replace(robots(server, per_minute=3), batch=1)  # one message a post
        first = Notifier(ws, config, clock=clock)
        assert first.synced(sync(path, AS_OF, workspace=ws)) == 6
        assert first.drain() == 6  # two posts on each robot, nothing left waiting
        first.close()  # the watcher restarts
        clock.advance(10)
        conflicts(tmp_path, 3)  # two more conflicts: 4 new messages
        restarted = Notifier(ws, config, clock=clock)
        assert restarted.synced(sync(path, AS_OF, workspace=Workspace.of(path))) == 12
        # the minute still holds the two posts sent before the restart: one more each
        assert restarted.drain() == 3
        assert [len(server.state.accepted(r)) for r in names] == [3] * 3
        rounds = 0
        while restarted.outbox.counts()[Status.PENDING]:
            nxt = restarted.outbox.next_due()
            assert nxt is not None and nxt >= clock()
            clock.to(nxt)
            restarted.drain()
            rounds += 1
            assert rounds < 50
        restarted.close()
        assert server.state.limited == 0 and server.state.rejected == 0
        for robot in names:
            posts = server.state.accepted(robot)
            assert len(posts) == 6
            assert within_limit([p.at for p in posts], 3), robot


def test_an_smtp_per_minute_limit_spaces_the_mails(tmp_path: Path) -> None:
    path = conflicts(tmp_path, 4)  # 8 mails
    ws = Workspace.of(path)
    clock = Clock()
    with MailServer(tmp_path) as server:
        config = DeliveryConfig(smtp=smtp_config(server, per_minute=3))
        notifier = Notifier(ws, config, clock=clock)
        assert notifier.synced(sync(path, AS_OF, workspace=ws)) == 8
        sent_at: list[float] = []
        rounds = 0
        while True:
            before = len(server.mails())
            notifier.drain()
            sent_at += [clock()] * (len(server.mails()) - before)
            if not notifier.outbox.counts()[Status.PENDING]:
                break
            if rounds == 0:
                notifier.close()  # a restart within the first minute: it still counts
                notifier = Notifier(ws, config, clock=clock)
                assert notifier.drain() == 0
            nxt = notifier.outbox.next_due()
            assert nxt is not None and nxt > clock()
            clock.to(nxt)
            rounds += 1
            assert rounds < 20
        notifier.close()
        assert len(sent_at) == 8 and sent_at[:3] == [sent_at[0]] * 3
        assert within_limit(sent_at, 3)
        assert sorted({to for r in server.mails() for to in r.recipients}) == [
            "li.na@example.cn", "zhang.wei@example.cn"]  # fmt: skip
    # off by default; XLSYNC_SMTP_PER_MINUTE / [smtp] per_minute turns it on
    env = {"XLSYNC_SMTP_HOST": "smtp.example.cn"}
    toml = tmp_path / "notify.toml"
    toml.write_text("", "utf-8")
    smtp = load_config(toml, env=env).smtp
    assert smtp is not None and smtp.per_minute == 0
    smtp = load_config(toml, env={**env, "XLSYNC_SMTP_PER_MINUTE": "30"}).smtp
    assert smtp is not None and smtp.per_minute == 30
    toml.write_text('[smtp]\nhost = "smtp.example.cn"\nper_minute = "x"\n', "utf-8")
    from xlsync.errors import UnusableInput

    with pytest.raises(UnusableInput, match=r"\[smtp\] per_minute 应当是数字"):
        load_config(toml, env={})


def test_feishu_signature_checked_and_a_head_without_mail_listed_by_notify_test(
    tmp_path: Path,
) -> None:
    roster = [list(r) for r in ROSTER]
    roster[3][3] = ""  # 王芳 heads 业务二部 but has no 邮箱
    path = write_register(tmp_path / "客户登记表.xlsx", [customer(customer="格林电子", rep="张伟")],
                          settings=[["保护天数", 90], [], *roster])  # fmt: skip
    ws = Workspace.of(path)
    clock = Clock()
    settings = sync(path, AS_OF, workspace=ws).result.registers.settings
    with RobotServer(clock) as server, MailServer(tmp_path) as mail:
        server.state.feishu_secret = "feishu-signing-secret"
        for secret, ok in (("feishu-signing-secret", True), ("not-the-secret", False)):
            config = DeliveryConfig(
                smtp=smtp_config(mail),
                robots=(RobotConfig(Robot.FEISHU, server.feishu, secret=secret),),
            )
            notifier = Notifier(ws, config, clock=clock)
            results = notifier.test(settings)
            notifier.close()
            assert [(r.channel, r.to, r.ok) for r in results] == [
                ("smtp", "zhang.wei@example.cn", True), ("smtp", "王芳", False),
                ("feishu", "群", ok)]  # fmt: skip
            assert "没有 TA 的邮箱" in results[1].reason
            if not ok:
                assert "19021" in results[2].reason and secret not in results[2].reason
        assert len(server.state.accepted("feishu")) == 1 and server.state.rejected == 1
