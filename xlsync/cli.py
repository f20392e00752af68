"""The command line: parse arguments, call the library, print. Nothing else lives here."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from xlsync.cli_zh import ZhCommand, ZhGroup, install, usage_error_line
from xlsync.errors import UnusableInput
from xlsync.terminal import console as _console

if TYPE_CHECKING:
    from rich.console import Console

    from xlsync.sync import SyncOutcome
    from xlsync.watch import Watcher

install()

app = typer.Typer(
    name="xlsync",
    help="共享 Excel 客户登记表的客户归属规则：检查、同步、查询、报表。",
    cls=ZhGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE, EXIT_DEFERRED = 0, 1, 2, 3
T = TypeVar("T")

AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="把这一天当作“今天”来套用所有日期规则，格式 YYYY-MM-DD（默认：今天）。"
    ),
]
Register = Annotated[Path, typer.Argument(metavar="PATH", help="登记表文件，或放登记表的文件夹。")]


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _as_of(value: str | None) -> dt.date:
    return dt.date.today() if value is None else _day(value, "--as-of")


def _day(value: str, option: str) -> dt.date:
    """A date option's value; a bad one ends the command naming that option (exit 2)."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        _err(f"xlsync: {option} {value!r}：不是有效日期，格式应为 YYYY-MM-DD")
        raise typer.Exit(EXIT_UNUSABLE) from None


def _guard(action: Callable[[], T], target: Path | str) -> T:
    """Run a library call; turn every failure into one line on stderr and exit code 2."""
    try:
        return action()
    except UnusableInput as exc:
        _err(exc.line())
        raise typer.Exit(EXIT_UNUSABLE) from None
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except Exception as exc:
        if os.environ.get("XLSYNC_DEBUG"):
            raise
        _err(
            f"xlsync: {target}: 内部错误 {type(exc).__name__}: {exc}（设置 XLSYNC_DEBUG=1 可查看详情）"
        )
        raise typer.Exit(EXIT_UNUSABLE) from None


@app.command(cls=ZhCommand)
def init(
    path: Annotated[Path, typer.Argument(help="新登记表的文件名（.xlsx）。")],
    as_of: AsOf = None,
) -> None:
    """新建一个空登记表：表头、下拉列表、冻结窗格和「设置」表（不会覆盖已有文件）。"""
    from xlsync.register.create import create_register

    _as_of(as_of)  # accepted like everywhere; a new register has no dates to judge

    written = _guard(lambda: create_register(path), path)
    _console().print(f"已创建登记表：{written}")


@app.command(cls=ZhCommand)
def check(
    path: Register,
    as_json: Annotated[
        bool, typer.Option("--json", help="输出 JSON（格式见 docs/check-json.md）。")
    ] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="显示全部条目，而不只是前 40 条。")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """只读检查：列出重复登记、冲突、问题和待移到「已合作」的行，不改任何文件。"""
    from xlsync.check import check_json, run_check

    day = _as_of(as_of)
    result = _guard(lambda: run_check(path, day), path)
    for bad in result.registers.unusable:
        _err(bad.line())
    if result.others_stale is not None:
        from xlsync.check import others_note

        _err(f"xlsync: {path}: {others_note(result)}")
    if as_json:
        sys.stdout.write(json.dumps(check_json(result), ensure_ascii=False, indent=2) + "\n")
    else:
        from xlsync.console import print_check

        print_check(result, _console(), show_all=show_all)
    raise typer.Exit(EXIT_FINDINGS if result.has_findings else EXIT_OK)


@app.command(cls=ZhCommand)
def sync(
    path: Register,
    backups: Annotated[int, typer.Option("--backups", help="每个登记表保留的备份份数。")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出做了什么。")] = False,
    as_of: AsOf = None,
) -> None:
    """同步：编号、移动已成交的行、在行内写提示、更新「冲突」「问题」表；先备份，后记历史。"""
    from xlsync.sync import sync as run_sync
    from xlsync.sync import sync_json

    day = _as_of(as_of)
    outcome = _guard(lambda: run_sync(path, day, backups=backups), path)
    for bad in outcome.result.registers.unusable:
        _err(bad.line())
    if as_json:
        sys.stdout.write(json.dumps(sync_json(outcome), ensure_ascii=False, indent=2) + "\n")
    else:
        from xlsync.console import print_sync

        print_sync(outcome, _console(soft_wrap=True), rerun=f"xlsync sync {path}")
    if outcome.deferred:
        raise typer.Exit(EXIT_DEFERRED)
    if outcome.refused:
        _err_refused(outcome)
        raise typer.Exit(EXIT_UNUSABLE)
    raise typer.Exit(EXIT_OK)


def console_logging(handler: logging.Handler, *, quiet: bool = False) -> None:
    """xlsync's own INFO lines on the console (only warnings when `quiet`); other
    libraries' only from WARNING (fontTools alone logs some 500 INFO lines for every PDF
    font subset)."""
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(logging.WARNING if quiet else logging.INFO)
    handler.addFilter(_ours_or_warning)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("xlsync").setLevel(logging.INFO)


@app.command(cls=ZhCommand)
def watch(
    path: Annotated[Path, typer.Argument(help="放登记表的文件夹，或一个登记表。")],
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="只做一遍：同步、生成看板和到期的报表，告诉你结果在哪里，然后退出。"
        ),
    ] = False,
    poll: Annotated[
        bool, typer.Option("--poll", help="用轮询代替文件事件（SMB 共享、云盘）。")
    ] = False,
    rescan: Annotated[
        float, typer.Option("--rescan", help="两次全面复查之间的秒数（大小、时间、哈希）。")
    ] = 30.0,
    debounce: Annotated[
        float, typer.Option("--debounce", help="最后一次保存后静候多少秒再同步。")
    ] = 0.4,
    backups: Annotated[int, typer.Option("--backups", help="每个登记表保留的备份份数。")] = 20,
    as_of: AsOf = None,
    config_file: ConfigOption = None,
    no_notify: Annotated[
        bool, typer.Option("--no-notify", help="不发送任何通知（邮件、群消息）。")
    ] = False,
) -> None:
    """每次保存后自动同步，并按时生成报表，直到停止（Ctrl-C 或 SIGTERM）；--once 只做一遍。"""
    import signal
    import threading

    from rich.logging import RichHandler

    from xlsync.runtime import tune_for_long_run
    from xlsync.watch import WatchConfig, Watcher, file_logging
    from xlsync.workspace import Workspace

    tune_for_long_run()

    if not path.exists():
        _err(f"xlsync: {path}: 文件或文件夹不存在")
        raise typer.Exit(EXIT_UNUSABLE)
    fixed = _as_of(as_of) if as_of else None
    console = _console(soft_wrap=True)  # paths stay whole for copying
    console_logging(RichHandler(console=console, show_path=False, markup=False), quiet=once)
    workspace = Workspace.of(path.resolve())
    config = WatchConfig(poll=poll, rescan=rescan, debounce=debounce, backups=backups)
    today = (lambda: fixed) if fixed else dt.date.today
    if once:
        with file_logging(workspace.watch_log), console.status("同步中…"):
            notifier = _guard(
                lambda: delivery_for(workspace, config_file, console, no_notify), path
            )
            watcher = Watcher(path, config, today=today, workspace=workspace, notifier=notifier)
            outcome = _guard(watcher.sync_pass, path)
        code, results = _print_synced(console, path, outcome)
        # the due reports read the registers again, not on top of the sync's rows: the
        # watcher lets its own hold go first (Schedule.before_reports), and so does this
        del outcome
        with file_logging(workspace.watch_log), console.status("生成报表…"):
            _guard(watcher.reports_due, path)
            if notifier is not None:
                notifier.drain()  # what cannot go now stays in the outbox for the next run
                notifier.close()
        raise typer.Exit(_print_results(console, watcher, code, results))
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()  # the loop finishes the sync it is in, then stops: never half a write

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with file_logging(workspace.watch_log), console.status("启动中…") as status:
        notifier = _guard(lambda: delivery_for(workspace, config_file, console, no_notify), path)
        watcher = Watcher(
            path, config, today=today, on_status=lambda text: status.update(text),
            workspace=workspace, notifier=notifier,
        )  # fmt: skip
        if notifier is not None:
            notifier.start()
        try:
            _guard(lambda: watcher.run(stop), path)
        finally:
            if notifier is not None:
                notifier.close()
    console.print(f"已停止（共同步 {len(watcher.syncs)} 次）。")


def _ours_or_warning(record: object) -> bool:
    """Console log filter: xlsync's own lines, and anyone's warnings and errors."""
    import logging

    assert isinstance(record, logging.LogRecord)
    return record.name.startswith("xlsync") or record.levelno >= logging.WARNING


_REPORT_LABELS = {
    ("monthly", ".pdf"): "月度清单 PDF",
    ("monthly", ".html"): "月度清单网页",
    ("daily", ".xlsx"): "每日新登记清单",
    ("daily", ".html"): "每日新登记清单网页",
}


def _print_synced(
    console: Console, path: Path, outcome: SyncOutcome | None
) -> tuple[int | None, list[str]]:
    """What the sync of `watch --once` did; its exit code (None: nothing could be synced)
    and the lines saying where each register and side-car is."""
    from xlsync.console import print_sync

    if outcome is None:
        console.print("没有可同步的登记表。", style="bold red")
        return None, []
    code = EXIT_OK
    for bad in outcome.result.registers.unusable:
        _err(bad.line())
        code = EXIT_UNUSABLE
    print_sync(outcome, console, rerun=f"xlsync watch {path} --once")
    results: list[str] = []
    for f in outcome.files:
        label = "登记表（已同步）" if f.written or f.plan.empty else "登记表（未写入）"
        results.append(f"  {label}：{f.path.resolve()}")
        if f.sidecar:
            results.append(f"  冲突和问题：{Path(f.sidecar).resolve()}")
    if outcome.deferred:
        code = EXIT_DEFERRED
    elif outcome.refused:
        code = EXIT_UNUSABLE
    return code, results


def _print_results(console: Console, watcher: Watcher, code: int | None, results: list[str]) -> int:
    """Where to open each result of `watch --once`; the exit code."""
    if code is None:
        return EXIT_UNUSABLE
    console.print()
    console.print("结果在这里：", style="bold")
    for line in results:
        console.print(line)
    if watcher.board is not None:
        console.print(f"  看板页面：{watcher.board.resolve()}")
    for job, report in watcher.reports:
        console.print(f"  {_REPORT_LABELS.get((job, report.suffix), '报表')}：{report.resolve()}")
    return code


@app.command(cls=ZhCommand)
def history(
    path: Register,
    row_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="某一行的编号。")] = None,
    limit: Annotated[int, typer.Option("--limit", help="最多显示多少条记录。")] = 50,
    show_all: Annotated[bool, typer.Option("--all", help="显示全部记录。")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON。")] = False,
    as_of: AsOf = None,
) -> None:
    """行的历史：新登记、修改、移动、删除、恢复。"""
    _as_of(as_of)  # accepted like everywhere; the history is what it is
    from xlsync.history import event_json
    from xlsync.workspace import Workspace

    if not path.exists():
        _err(f"xlsync: {path}: 文件不存在")
        raise typer.Exit(EXIT_UNUSABLE)
    workspace = Workspace.of(path)
    shown = _guard(lambda: workspace.recent_events(row_id, None if show_all else limit), path)
    if shown is None:
        _console().print("还没有同步记录（先运行 xlsync sync）。")
        raise typer.Exit(EXIT_OK)
    events, total = shown
    if as_json:
        rows = [event_json(e) for e in events]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        from xlsync.console import print_history

        print_history(events, _console(), folder=path.is_dir(), total=total)


@app.command(cls=ZhCommand)
def restore(
    path: Annotated[Path, typer.Argument(help="登记表（或它所在的文件夹）。")],
    row_id: Annotated[str, typer.Argument(metavar="ID", help="被删除的行的编号。")],
    as_of: AsOf = None,
) -> None:
    """把被删除的行放回原工作表末尾（与 sync 一样安全写入）。"""
    from xlsync.console import print_sync
    from xlsync.sync import restore_row

    day = _as_of(as_of)
    done = _guard(lambda: restore_row(path, row_id, day), path)
    outcome = done.restored
    console = _console(soft_wrap=True)  # paths stay whole for copying
    print_sync(outcome, console, rerun=f"xlsync restore {path} {row_id}")
    if outcome.deferred:
        raise typer.Exit(EXIT_DEFERRED)
    if outcome.refused:
        _err_refused(outcome)
        raise typer.Exit(EXIT_UNUSABLE)
    console.print(f"已恢复编号 {row_id}。")
    if done.after is not None and done.after.written:  # the row's conflicts and problems
        print_sync(done.after, console, rerun=f"xlsync sync {path}")


def _err_refused(outcome: SyncOutcome) -> None:
    """The reason a register was not written, on stderr (the one-line exit-2 contract)."""
    for f in outcome.refused:
        _err(f"xlsync: {f.path}: 不能写入：{f.refused}")


@app.command(cls=ZhCommand)
def who(
    path: Register,
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="客户名称，照平时的写法；也可以直接写电话。")
    ],
    phone: Annotated[str | None, typer.Option("--phone", help="客户的电话号码。")] = None,
    rep: Annotated[
        str | None, typer.Option("--rep", help="你自己的名字：自己的客户总是可以联系。")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON。")] = False,
    as_of: AsOf = None,
) -> None:
    """打电话前查一查：这个客户归谁、从何时到何时受保护、我能不能联系。"""
    from xlsync.who import answer_json
    from xlsync.who import who as find

    day = _as_of(as_of)
    result, answer = _guard(lambda: find(path, name, phone, day), path)
    for bad in result.registers.unusable:
        _err(bad.line())
    folder = result.registers.is_folder
    if as_json:
        sys.stdout.write(
            json.dumps(answer_json(answer, rep, folder), ensure_ascii=False, indent=2) + "\n"
        )
    else:
        from xlsync.console import print_who

        print_who(answer, _console(), rep=rep, folder=folder)
    raise typer.Exit(EXIT_OK if answer.may_call(rep) else EXIT_FINDINGS)


from xlsync.cli_notify import ConfigOption, delivery_for, notify_app  # noqa: E402

app.add_typer(notify_app, name="notify")

report_app = typer.Typer(help="报表：月度打印清单、每日新登记清单、看板页面。", cls=ZhGroup)
app.add_typer(report_app, name="report")

OutDir = Annotated[Path, typer.Option("--out", help="报表文件写入的文件夹。")]


@report_app.command("monthly", cls=ZhCommand)
def report_monthly(
    path: Register,
    month: Annotated[str, typer.Option("--month", help="月份，格式 YYYY-MM。")],
    out: OutDir,
    show_phones: Annotated[
        bool, typer.Option("--show-phones", help="完整显示电话号码（默认部分隐藏）。")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """月度打印清单：OUT/<名称>-<月份>.html 和 .pdf。"""
    from xlsync.reports.build import monthly
    from xlsync.reports.data import month_bounds

    try:
        month_bounds(month)
    except ValueError:
        _err(f"xlsync: --month {month!r}：不是有效月份，格式应为 YYYY-MM")
        raise typer.Exit(EXIT_UNUSABLE) from None
    day = _as_of(as_of)
    mask = False if show_phones else None
    paths = _guard(lambda: monthly(path, month, out, today=day, mask=mask), path)
    for written in paths:
        _console().print(f"已生成：{written}")


@report_app.command("daily", cls=ZhCommand)
def report_daily(
    path: Register,
    date: Annotated[str, typer.Option("--date", help="日期，格式 YYYY-MM-DD。")],
    out: OutDir,
    as_of: AsOf = None,
) -> None:
    """当天的新登记客户：OUT/<名称>-<日期>.xlsx 和 .html。"""
    from xlsync.reports.build import daily

    day = _day(date, "--date")
    rules_day = _as_of(as_of) if as_of else day
    paths = _guard(lambda: daily(path, day, out, as_of=rules_day), path)
    for written in paths:
        _console().print(f"已生成：{written}")


@report_app.command("board", cls=ZhCommand)
def report_board(
    path: Register,
    out: OutDir,
    as_of: AsOf = None,
) -> None:
    """看板页面：一个独立的 HTML 文件，带搜索框；重新生成后打开的页面会自动刷新。"""
    from xlsync.reports.build import board

    day = _as_of(as_of)
    written = _guard(lambda: board(path, out, today=day), path)
    _console().print(f"已生成：{written}")


DEMO_AS_OF = dt.date(2026, 11, 1)  # the date sample_registers/demo.xlsx was built for
DEMO_MONTH = "2026-10"  # its last whole month: the handout a newcomer sees


def demo_source() -> Path:
    """The shipped demo register: package data when installed, the checkout's folder when not."""
    from importlib import resources

    try:
        shipped = resources.files("xlsync.sample_registers") / "demo.xlsx"
        if shipped.is_file():
            return Path(str(shipped))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "sample_registers" / "demo.xlsx"


@app.command(cls=ZhCommand)
def demo(
    folder: Annotated[
        Path | None,
        typer.Argument(help="放演示文件的新文件夹（默认：当前目录下的 xlsync-demo）。"),
    ] = None,
) -> None:
    """第一次使用：把演示登记表复制到一个新文件夹，在那里同步一遍，生成看板和月度清单。"""
    import shutil

    from xlsync.reports.build import monthly

    target = folder if folder is not None else Path("xlsync-demo")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        _err(f"xlsync: {target}: 已存在且不是空文件夹；请换一个文件夹名，例如 xlsync demo 新文件夹")
        raise typer.Exit(EXIT_UNUSABLE)
    source = demo_source()
    if not source.is_file():
        _err(f"xlsync: 找不到演示登记表 {source}（安装不完整？）")
        raise typer.Exit(EXIT_UNUSABLE)
    target.mkdir(parents=True, exist_ok=True)
    register = target / "客户登记表.xlsx"
    shutil.copyfile(source, register)
    console = _console(soft_wrap=True)  # paths stay whole for copying
    console.print(
        f"已把演示登记表复制到 {register.resolve()}，"
        f"以 {DEMO_AS_OF.isoformat()} 为“今天”同步一遍（原文件不变）。\n"
    )
    # the demo's reps are made up: nothing goes to the office's mail or group chats
    args = ["watch", str(target), "--once", "--as-of", DEMO_AS_OF.isoformat(), "--no-notify"]
    code = _run(args)
    if code not in (EXIT_OK, EXIT_FINDINGS):
        raise typer.Exit(code)
    # the handout of the demo's month, in case the schedule did not make it (already made: kept)
    out = target / "reports"
    pdf = next(iter(sorted(out.glob(f"*-{DEMO_MONTH}.pdf"))), None)
    if pdf is None:
        paths = _guard(lambda: monthly(target, DEMO_MONTH, out, today=DEMO_AS_OF), target)
        pdf = next(p for p in paths if p.suffix == ".pdf")
    board = next(iter(sorted(out.glob("*-看板.html"))), None)
    console.print()
    console.print("先看这三样：", style="bold")
    console.print(
        f"  同步后的登记表（用 Excel/WPS 打开，看「xlsync提示」列和「冲突」「问题」表）：{register.resolve()}"
    )
    if board is not None:
        console.print(f"  看板（用浏览器打开，试试搜索框）：{board.resolve()}")
    console.print(f"  {DEMO_MONTH} 月度清单（打印用 PDF）：{pdf.resolve()}")
    console.print(
        f"\n再试试：xlsync who {register} {_demo_query(target)} --as-of {DEMO_AS_OF.isoformat()}；"
        "所有命令见 xlsync --help。"
    )


def _demo_query(folder: Path) -> str:
    """A customer of the demo that `who` answers with 请勿联系: the trade name and industry
    words of the first protected customer that two reps registered (the way a rep would
    ask), else of any protected customer."""
    from xlsync.check import run_check
    from xlsync.matching import analyse

    result = run_check(folder, DEMO_AS_OF)
    held = [g for g in result.groups if g.decision.owner is not None]
    held.sort(key=lambda g: not g.decision.is_conflict)
    for group in held:
        key = analyse(group.name)
        if key.core and not key.person:
            return key.core
    return next((r.customer for r in result.rows if r.customer), "客户名称")


def _run(args: list[str]) -> int:
    """Run one of our own commands in this process; its exit code."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="xlsync", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    return int(result or 0)


from xlsync.cli_serve import register as register_serve  # noqa: E402

register_serve(app)


def main() -> None:
    """The entry point: click's own usage errors become one Chinese line (exit 2)."""
    from typer._click import exceptions as click_exc

    from xlsync.runtime import tune_for_one_run

    tune_for_one_run()  # `watch` and `serve` switch to the long-running setting
    command = typer.main.get_command(app)
    try:
        result = command.main(standalone_mode=False)
    except click_exc.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(EXIT_UNUSABLE)
    except click_exc.UsageError as exc:
        _err(usage_error_line(exc))
        sys.exit(EXIT_UNUSABLE)
    except click_exc.ClickException as exc:
        _err(f"错误：{exc.format_message()}")
        sys.exit(EXIT_UNUSABLE)
    except typer.Abort:
        _err("已中止。")
        sys.exit(130)
    sys.exit(int(result or 0))


from xlsync import cli_db  # noqa: E402  (after every command: it adds their --db)

cli_db.register(app)
