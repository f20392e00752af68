"""The command line: parse arguments, call the library, print. Nothing else lives here."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from xlsync.errors import UnusableInput

app = typer.Typer(
    name="xlsync",
    help="Customer-ownership rules for a shared Excel sales register.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE, EXIT_DEFERRED = 0, 1, 2, 3
T = TypeVar("T")

AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="'Today' for every date rule, YYYY-MM-DD (default: today)."),
]


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _as_of(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        _err(f"xlsync: --as-of {value!r}: 日期格式应为 YYYY-MM-DD")
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


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="The new register file.")],
    as_of: AsOf = None,
) -> None:
    """Write a new empty register (never overwrites an existing file)."""
    from xlsync.register.create import create_register

    _as_of(as_of)  # accepted like everywhere; a new register has no dates to judge

    written = _guard(lambda: create_register(path), path)
    Console().print(f"已创建登记表：{written}")


@app.command()
def check(
    path: Annotated[Path, typer.Argument(help="A register file or a folder of registers.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the contract's JSON.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Show every row, not the first 40.")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """Read only: print duplicate groups, conflicts, problems and pending moves."""
    from xlsync.check import check_json, run_check

    day = _as_of(as_of)
    result = _guard(lambda: run_check(path, day), path)
    for bad in result.registers.unusable:
        _err(bad.line())
    if as_json:
        sys.stdout.write(json.dumps(check_json(result), ensure_ascii=False, indent=2) + "\n")
    else:
        from xlsync.console import print_check

        print_check(result, Console(), show_all=show_all)
    raise typer.Exit(EXIT_FINDINGS if result.has_findings else EXIT_OK)


@app.command()
def sync(
    path: Annotated[Path, typer.Argument(help="A register file or a folder of registers.")],
    backups: Annotated[int, typer.Option("--backups", help="Backups kept per register.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was done as JSON.")] = False,
    as_of: AsOf = None,
) -> None:
    """Apply: ids, moves, hints in the rows, the 冲突/问题 sheets; backup and history."""
    from xlsync.sync import sync as run_sync

    day = _as_of(as_of)
    outcome = _guard(lambda: run_sync(path, day, backups=backups), path)
    for bad in outcome.result.registers.unusable:
        _err(bad.line())
    if as_json:
        sys.stdout.write(json.dumps(_sync_json(outcome), ensure_ascii=False, indent=2) + "\n")
    else:
        from xlsync.console import print_sync

        print_sync(outcome, Console())
    if outcome.deferred:
        raise typer.Exit(EXIT_DEFERRED)
    if outcome.refused:
        _err_refused(outcome)
        raise typer.Exit(EXIT_UNUSABLE)
    raise typer.Exit(EXIT_OK)


def console_logging(handler: logging.Handler) -> None:
    """xlsync's own INFO lines on the console; other libraries' only from WARNING (fontTools
    alone logs some 500 INFO lines for every PDF font subset)."""
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("xlsync").setLevel(logging.INFO)


@app.command()
def watch(
    path: Annotated[Path, typer.Argument(help="A folder of registers, or one register.")],
    poll: Annotated[
        bool, typer.Option("--poll", help="Poll the folder instead of file events (SMB, cloud).")
    ] = False,
    rescan: Annotated[
        float, typer.Option("--rescan", help="Seconds between full rescans (size, time, hash).")
    ] = 30.0,
    debounce: Annotated[
        float, typer.Option("--debounce", help="Quiet seconds before a sync.")
    ] = 0.4,
    backups: Annotated[int, typer.Option("--backups", help="Backups kept per register.")] = 20,
    as_of: AsOf = None,
) -> None:
    """Run sync after every save, and the scheduled reports, until stopped (Ctrl-C, SIGTERM)."""
    import signal
    import threading

    from rich.logging import RichHandler

    from xlsync.sync import HIDDEN
    from xlsync.watch import WatchConfig, Watcher

    if not path.exists():
        _err(f"xlsync: {path}: 文件或文件夹不存在")
        raise typer.Exit(EXIT_UNUSABLE)
    fixed = _as_of(as_of) if as_of else None
    console = Console()
    console_logging(RichHandler(console=console, show_path=False, markup=False))
    folder = path if path.is_dir() else path.parent
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()  # the loop finishes the sync it is in, then stops: never half a write

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with console.status("启动中…") as status:
        watcher = Watcher(
            path,
            WatchConfig(poll=poll, rescan=rescan, debounce=debounce, backups=backups),
            today=(lambda: fixed) if fixed else __import__("datetime").date.today,
            on_status=lambda text: status.update(text),
            log_file=folder / HIDDEN / "watch.log",
        )
        _guard(lambda: watcher.run(stop), path)
    console.print(f"已停止（共同步 {len(watcher.syncs)} 次）。")


@app.command()
def history(
    path: Annotated[Path, typer.Argument(help="A register file or a folder of registers.")],
    row_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="One row's 编号.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Show at most this many events.")] = 50,
    show_all: Annotated[bool, typer.Option("--all", help="Show every event.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_of: AsOf = None,
) -> None:
    """What happened to rows: new, changed, moved, deleted, restored."""
    _as_of(as_of)  # accepted like everywhere; the history is what it is
    from xlsync.history import SqliteHistory
    from xlsync.sync import HIDDEN

    folder = path if path.is_dir() else path.parent
    store = folder / HIDDEN / "history.sqlite"
    if not path.exists():
        _err(f"xlsync: {path}: 文件不存在")
        raise typer.Exit(EXIT_UNUSABLE)
    if not store.exists():
        Console().print("还没有同步记录（先运行 xlsync sync）。")
        raise typer.Exit(EXIT_OK)

    def load():  # type: ignore[no-untyped-def]
        with SqliteHistory(store, wal=False) as db:
            file = None if path.is_dir() else path.name
            shown = db.events(file=file, id=row_id, limit=None if show_all else limit)
            return shown, db.count_events(file=file, id=row_id)

    events, total = _guard(load, store)
    if as_json:
        rows = [
            {"at": e.at.isoformat(), "id": e.id, "file": e.file, "kind": e.kind,
             "sheet": e.sheet, "row": e.row, "detail": e.detail}
            for e in events
        ]  # fmt: skip
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        from xlsync.console import print_history

        print_history(events, Console(), folder=path.is_dir(), total=total)


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="The register (or its folder).")],
    row_id: Annotated[str, typer.Argument(metavar="ID", help="The 编号 of the deleted row.")],
    as_of: AsOf = None,
) -> None:
    """Put a deleted row back at the end of its sheet (through the same safe write as sync)."""
    from xlsync.console import print_sync
    from xlsync.sync import sync as run_sync

    day = _as_of(as_of)
    outcome = _guard(lambda: run_sync(path, day, restore=row_id.strip().upper()), path)
    console = Console()
    print_sync(outcome, console)
    if outcome.deferred:
        raise typer.Exit(EXIT_DEFERRED)
    if outcome.refused:
        _err_refused(outcome)
        raise typer.Exit(EXIT_UNUSABLE)
    console.print(f"已恢复编号 {row_id}。")
    # the restored row now takes part in the checks: show its conflicts and problems too
    again = _guard(lambda: run_sync(path, day), path)
    if any(f.written for f in again.files):
        print_sync(again, console)


def _err_refused(outcome) -> None:  # type: ignore[no-untyped-def]
    """The reason a register was not written, on stderr (the one-line exit-2 contract)."""
    for f in outcome.refused:
        _err(f"xlsync: {f.path}: 不能写入：{f.refused}")


def _sync_json(outcome) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "as_of": outcome.result.as_of.isoformat(),
        "files": [
            {
                "file": f.path.name,
                "written": f.written,
                "backup": str(f.backup) if f.backup else None,
                "deferred": f.deferred.describe() if f.deferred else None,
                "refused": f.refused,
                "sidecar": str(f.sidecar) if f.sidecar else None,
                "plan": f.plan.summary(),
                "events": [
                    {"id": e.id, "kind": e.kind, "sheet": e.sheet, "row": e.row} for e in f.events
                ],
            }
            for f in outcome.files
        ],
    }


@app.command()
def who(
    path: Annotated[Path, typer.Argument(help="A register file or a folder of registers.")],
    name: Annotated[str, typer.Argument(help="The customer's name, as you would write it.")],
    phone: Annotated[
        str | None, typer.Option("--phone", help="A phone number of the customer.")
    ] = None,
    rep: Annotated[
        str | None, typer.Option("--rep", help="Your own name: your own customers are fine.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_of: AsOf = None,
) -> None:
    """Before a call: who owns this customer, since when, until when, may I call."""
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

        print_who(answer, Console(), rep=rep, folder=folder)
    raise typer.Exit(EXIT_OK if answer.may_call(rep) else EXIT_FINDINGS)


report_app = typer.Typer(help="The printed monthly handout, the daily list, the blackboard.")
app.add_typer(report_app, name="report")

OutDir = Annotated[Path, typer.Option("--out", help="Folder the report files are written to.")]


@report_app.command("monthly")
def report_monthly(
    path: Annotated[Path, typer.Argument(help="A register file or a folder of registers.")],
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM.")],
    out: OutDir,
    show_phones: Annotated[
        bool, typer.Option("--show-phones", help="Print phone numbers in full (default: masked).")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """The printed handout: OUT/<name>-<month>.html and .pdf."""
    from xlsync.reports.data import month_bounds
    from xlsync.reports.run import monthly

    try:
        month_bounds(month)
    except ValueError:
        _err(f"xlsync: --month {month!r}: 月份格式应为 YYYY-MM")
        raise typer.Exit(EXIT_UNUSABLE) from None
    day = _as_of(as_of)
    mask = False if show_phones else None
    paths = _guard(lambda: monthly(path, month, out, today=day, mask=mask), path)
    for written in paths:
        Console().print(f"已生成：{written}")


@report_app.command("daily")
def report_daily(
    path: Annotated[Path, typer.Argument(help="A register file or a folder of registers.")],
    date: Annotated[str, typer.Option("--date", help="The day, YYYY-MM-DD.")],
    out: OutDir,
    as_of: AsOf = None,
) -> None:
    """The day's new registrations: OUT/<name>-<date>.xlsx and .html."""
    from xlsync.reports.run import daily

    day = _as_of(date)
    rules_day = _as_of(as_of) if as_of else day
    paths = _guard(lambda: daily(path, day, out, as_of=rules_day), path)
    for written in paths:
        Console().print(f"已生成：{written}")


@report_app.command("board")
def report_board(
    path: Annotated[Path, typer.Argument(help="A register file or a folder of registers.")],
    out: OutDir,
    as_of: AsOf = None,
) -> None:
    """The live blackboard page (self-contained HTML; it reloads itself when re-rendered)."""
    from xlsync.reports.run import board

    day = _as_of(as_of)
    written = _guard(lambda: board(path, out, today=day), path)
    Console().print(f"已生成：{written}")


def main() -> None:
    app()
