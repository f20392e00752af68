"""`xlsync db …` (a shared PostgreSQL history) and the `--db` option of the commands that use
a history; registered from `xlsync.cli` by `register(app)`."""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, cast, get_type_hints

import typer

from xlsync.cli_zh import ZhCommand, ZhGroup
from xlsync.stores import DB_ENV
from xlsync.terminal import console as _console

EXIT_OK, EXIT_UNUSABLE = 0, 2


DB_HELP = (
    "历史记录所在的 PostgreSQL 数据库，如 postgresql://xlsync@db.example.com/xlsync"
    f"（默认：环境变量 {DB_ENV}；都没有时用登记表旁边的 SQLite）。"
)
# the commands whose history may live in the shared database
DB_COMMANDS = ("check", "sync", "watch", "who", "history", "restore", "monthly", "daily",
               "board", "serve")  # fmt: skip

Db = Annotated[str | None, typer.Option("--db", help=DB_HELP, show_default=False)]
Url = Annotated[
    str | None,
    typer.Option("--db", help=DB_HELP.replace("（默认", "（必需；默认"), show_default=False),
]

db_app = typer.Typer(help="共享的 PostgreSQL 历史库：建库、迁移、导入各办事处的 SQLite 历史。",
                     cls=ZhGroup, no_args_is_help=True)  # fmt: skip


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _url(db: str | None) -> str:
    url = db or os.environ.get(DB_ENV)
    if not url:
        _err(f"xlsync: 请用 --db postgresql://… 或环境变量 {DB_ENV} 指定数据库")
        raise typer.Exit(EXIT_UNUSABLE)
    from xlsync.stores.postgres import is_database_url

    if not is_database_url(url):
        _err(f"xlsync: --db 只接受 postgresql://… 形式的地址，而不是 {url!r}")
        raise typer.Exit(EXIT_UNUSABLE)
    return url


@db_app.command("init", cls=ZhCommand)
def db_init(db: Url = None) -> None:
    """建立或升级数据库结构（按编号执行尚未执行的迁移）。"""
    from xlsync.cli import _guard
    from xlsync.stores.postgres import connect, migrate, schema_version, shown_url

    url = _url(db)

    def run() -> tuple[list[str], int]:
        conn = connect(url)
        try:
            applied = migrate(conn)
            return [m.name for m in applied], schema_version(conn)
        finally:
            conn.close()

    applied, version = _guard(run, shown_url(url))
    console = _console()
    for name in applied:
        console.print(f"已执行迁移：{name}")
    console.print(
        f"数据库 {shown_url(url)} 的结构版本：{version}" + ("" if applied else "（已是最新）")
    )


_TABLE_NAMES = {
    "syncs": "同步",
    "events": "事件",
    "snapshots": "行快照",
    "reservations": "编号预留",
}


@db_app.command("import", cls=ZhCommand)
def db_import(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH", help="办事处的登记表文件夹（或其中的登记表、或 history.sqlite）。"
        ),
    ],
    db: Url = None,
    office: Annotated[
        str | None, typer.Option("--office", help="办事处名称（默认：文件夹名）。")
    ] = None,
) -> None:
    """把一个办事处的 SQLite 历史记录导入数据库：逐行核对，一条不差才提交。"""
    from xlsync.cli import _guard
    from xlsync.stores.importing import import_sqlite
    from xlsync.stores.postgres import shown_url

    url = _url(db)
    report = _guard(lambda: import_sqlite(path, url, office), path)
    console = _console()
    console.print(f"已导入 {report.office} 的历史记录：{report.source} → {shown_url(url)}")
    for check in report.checks:
        console.print(
            f"  {_TABLE_NAMES[check.table]}：SQLite {check.source} 行，数据库 {check.imported} 行，"
            f"逐行核对 {'一致' if check.mismatches == 0 else f'{check.mismatches} 行不一致'}"
        )
    console.print(f"  编号高水位：{report.mark}")


def with_db_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`command` with a `--db` option that chooses the history database for its run."""
    hints = get_type_hints(command, include_extras=True)
    signature = inspect.signature(command)
    params = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()
    ]
    params.append(
        inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Db)
    )

    @functools.wraps(command)
    def run(*args: Any, db: str | None = None, **kwargs: Any) -> Any:
        if db:
            os.environ[DB_ENV] = db  # every Workspace.of of this run (one process) uses it
        return command(*args, **kwargs)

    cast(Any, run).__signature__ = signature.replace(parameters=params)  # read by typer
    run.__annotations__ = {**hints, "db": Db}
    del run.__wrapped__  # typer reads the new signature, not the wrapped one
    return run


def register(app: typer.Typer) -> None:
    """Add `xlsync db` and give the history commands (also of sub-apps) their `--db`."""
    apps = [app, *(group.typer_instance for group in app.registered_groups)]
    for each in apps:
        if each is None:
            continue
        for info in each.registered_commands:
            name = info.name or (info.callback.__name__ if info.callback else "")
            if info.callback is not None and name in DB_COMMANDS:
                info.callback = with_db_option(info.callback)
    app.add_typer(db_app, name="db")
