"""`xlsync notify test|status`, and the delivery `watch` uses (`delivery_for`)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xlsync.cli_zh import ZhCommand, ZhGroup
from xlsync.terminal import console as _console

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from xlsync.notify.notifier import Notifier
    from xlsync.workspace import Workspace


def _table(*headers: str) -> Table:
    from rich.table import Table

    return Table(*headers)


log = logging.getLogger("xlsync.watch.notify")

notify_app = typer.Typer(help="通知：邮件和企业微信、钉钉、飞书群机器人。", cls=ZhGroup)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="通知配置文件（TOML）；默认用户配置目录下的 notify.toml。环境变量优先。",
    ),
]
Target = Annotated[Path, typer.Argument(metavar="PATH", help="登记表文件，或放登记表的文件夹。")]


def delivery_for(
    workspace: Workspace, config: Path | None, console: Console, off: bool = False
) -> Notifier | None:
    """The watcher's notifier; None when delivery is turned off (`--no-notify`, said
    nowhere) or no channel is configured (said once, on the console and in the log)."""
    from xlsync.notify.config import default_config_path, load_config
    from xlsync.notify.notifier import Notifier

    if off:
        return None
    loaded = load_config(config)
    if not loaded.enabled:
        where = config or default_config_path()
        line = f"通知未配置：不发送邮件和群消息（设置 XLSYNC_SMTP_HOST 等环境变量，或写 {where}）"
        console.print(line)
        log.info("%s", line)
        return None
    line = f"通知已开启：{'、'.join(_names(loaded.channels()))}（配置来自 {loaded.source}）"
    console.print(line)
    log.info("%s", line)
    return Notifier(workspace, loaded)


def _names(channels: list[str]) -> list[str]:
    from xlsync.notify.compose import CHANNEL_NAMES

    return [CHANNEL_NAMES.get(c, c) for c in channels]


@notify_app.command("test", cls=ZhCommand)
def notify_test(path: Target, config: ConfigOption = None) -> None:
    """通过每个已配置的渠道给各部门负责人发一条测试消息，逐个显示是否发出。"""
    from xlsync.cli import EXIT_FINDINGS, EXIT_UNUSABLE, _err, _guard
    from xlsync.notify.config import load_config
    from xlsync.notify.notifier import Notifier
    from xlsync.register_set import load_set
    from xlsync.workspace import Workspace

    if not path.exists():
        _err(f"xlsync: {path}: 文件或文件夹不存在")
        raise typer.Exit(EXIT_UNUSABLE)
    loaded = _guard(lambda: load_config(config), config or path)
    if not loaded.enabled:
        _err(
            "xlsync: 通知未配置：请设置 XLSYNC_SMTP_HOST 或群机器人的 webhook（见 docs/delivery.md）"
        )
        raise typer.Exit(EXIT_UNUSABLE)
    settings = _guard(lambda: load_set(path).settings, path)
    notifier = Notifier(Workspace.of(path.resolve()), loaded)
    try:
        results = _guard(lambda: notifier.test(settings), path)
    finally:
        notifier.close()
    console = _console(soft_wrap=True)
    table = _table("渠道", "收件人", "结果")
    for r in results:
        table.add_row(
            _names([r.channel])[0], r.to or "—", "已发送" if r.ok else f"未发送：{r.reason}"
        )
    console.print(table)
    raise typer.Exit(0 if results and all(r.ok for r in results) else EXIT_FINDINGS)


@notify_app.command("status", cls=ZhCommand)
def notify_status(
    path: Target,
    all_: Annotated[
        bool, typer.Option("--all", help="也列出已发送的（默认只列待发和失败的）。")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="最多列出多少条。")] = 50,
) -> None:
    """列出发件箱：待发送、失败（和 --all 时已发送）的通知。"""
    from xlsync.cli import EXIT_UNUSABLE, _err
    from xlsync.notify.compose import CHANNEL_NAMES
    from xlsync.notify.notifier import mask_mobiles
    from xlsync.notify.outbox import Outbox, Status
    from xlsync.workspace import Workspace

    if not path.exists():
        _err(f"xlsync: {path}: 文件或文件夹不存在")
        raise typer.Exit(EXIT_UNUSABLE)
    ws = Workspace.of(path.resolve())
    console = _console(soft_wrap=True)
    if not ws.outbox_path.exists():
        console.print("发件箱是空的（还没有发送过通知）。")
        return
    labels = {Status.PENDING: "待发送", Status.SENT: "已发送", Status.FAILED: "失败"}
    with Outbox(ws.outbox_path) as outbox:
        counts = outbox.counts()
        shown = tuple(Status) if all_ else (Status.PENDING, Status.FAILED)
        rows = outbox.listing(shown, limit)
    console.print("，".join(f"{labels[s]} {counts[s]} 条" for s in Status))
    if not rows:
        return
    table = _table("状态", "渠道", "收件人", "内容", "尝试", "下次/完成", "原因")
    for d in rows:
        when = d.next_at if d.status is Status.PENDING else (d.done_at or d.created)
        table.add_row(
            labels[d.status], CHANNEL_NAMES.get(d.channel, d.channel),
            d.address or d.rep or "群", d.subject, str(d.attempts),
            dt.datetime.fromtimestamp(when).strftime("%m-%d %H:%M:%S"), mask_mobiles(d.error),
        )  # fmt: skip
    console.print(table)
