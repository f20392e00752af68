"""`xlsync serve` and `xlsync users`: the look-up over the office network, and its accounts.

Registered from `xlsync.cli` with `register(app)`."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xlsync.cli_zh import ZhCommand, ZhGroup
from xlsync.errors import UnusableInput
from xlsync.terminal import console as _console

if TYPE_CHECKING:
    from xlsync.server.accounts import AccountStore

EXIT_OK, EXIT_UNUSABLE = 0, 2


Accounts = Annotated[
    Path | None,
    typer.Option(
        "--accounts",
        help="账户文件（默认：本机用户配置目录下的 xlsync/accounts.json）；不能放在共享文件夹里。",
    ),
]
Target = Annotated[Path, typer.Argument(metavar="PATH", help="登记表文件，或放登记表的文件夹。")]
Name = Annotated[str, typer.Argument(metavar="NAME", help="业务员姓名（须在「设置」的名单里）。")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="从标准输入读取密码（一行），不在终端提示。")
]

users_app = typer.Typer(help="xlsync serve 的账户：添加、列出、删除、重设密码、查看访问记录。",
                        cls=ZhGroup, no_args_is_help=True)  # fmt: skip


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _fail(exc: UnusableInput) -> typer.Exit:
    _err(exc.line())
    return typer.Exit(EXIT_UNUSABLE)


def _need_serve_extra() -> None:
    """`serve` and `users` need the optional extra: say so in one line, not a traceback."""
    from importlib.util import find_spec

    for module in ("argon2", "multipart", "platformdirs", "starlette", "uvicorn"):
        if find_spec(module) is None:
            _err(f'xlsync: 缺少 {module}：请先安装 pip install "xlsync[serve]"')
            raise typer.Exit(EXIT_UNUSABLE)


def _accounts_path(accounts: Path | None, target: Path) -> Path:
    """The account store for `target`'s set: refused inside the set's shared folder."""
    _need_serve_extra()
    from xlsync.server.accounts import default_accounts_path, outside_shared
    from xlsync.workspace import Workspace

    if not target.exists():
        _err(f"xlsync: {target}: 文件或文件夹不存在")
        raise typer.Exit(EXIT_UNUSABLE)
    path = accounts if accounts is not None else default_accounts_path()
    try:
        outside_shared(path, Workspace.of(target).folder)
    except UnusableInput as exc:
        raise _fail(exc) from None
    return path


def _roster(target: Path) -> dict[str, str]:
    from xlsync.register_set import load_set

    try:
        return load_set(target).settings.roster
    except UnusableInput as exc:
        raise _fail(exc) from None


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return str(typer.prompt("密码", hide_input=True, confirmation_prompt="再输入一次密码"))


def _store(path: Path) -> AccountStore:
    from xlsync.server.accounts import AccountStore

    return AccountStore(path)


@users_app.command("add", cls=ZhCommand)
def users_add(
    path: Target,
    name: Name,
    password_stdin: PasswordStdin = False,
    manager: Annotated[
        bool,
        typer.Option("--manager", help="经理：可以看到本部门（无部门时为全公司）客户的全部信息。"),
    ] = False,
    accounts: Accounts = None,
) -> None:
    """添加一个账户；密码以 argon2 散列保存在本机，不进共享文件夹。"""
    store_path = _accounts_path(accounts, path)
    roster = _roster(path)
    if not roster:
        _err(f"xlsync: {path}: 「设置」里没有业务员名单，不能添加账户")
        raise typer.Exit(EXIT_UNUSABLE)
    if name not in roster:
        _err(f"xlsync: {path}: {name} 不在「设置」的业务员名单里")
        raise typer.Exit(EXIT_UNUSABLE)
    try:
        _store(store_path).add(name, _password(password_stdin), manager)
    except UnusableInput as exc:
        raise _fail(exc) from None
    role = "经理" if manager else "业务员"
    _console(soft_wrap=True).print(
        f"已添加账户 {name}（{roster[name] or '无部门'}，{role}）：{store_path}"
    )


@users_app.command("list", cls=ZhCommand)
def users_list(path: Target, accounts: Accounts = None) -> None:
    """列出账户：姓名、部门、是否经理、添加和改密码的时间。"""
    store_path = _accounts_path(accounts, path)
    roster = _roster(path)
    try:
        found = _store(store_path).all()
    except UnusableInput as exc:
        raise _fail(exc) from None
    console = _console(soft_wrap=True)
    if not found:
        console.print(f"还没有账户（{store_path}）。用 xlsync users add 添加。")
        return
    from rich.table import Table

    table = Table("姓名", "部门", "经理", "添加于", "密码修改于", title=str(store_path))
    for a in found:
        dept = roster.get(a.name, "（已不在名单里）")
        table.add_row(a.name, dept, "是" if a.manager else "", a.created, a.changed)
    console.print(table)


@users_app.command("remove", cls=ZhCommand)
def users_remove(path: Target, name: Name, accounts: Accounts = None) -> None:
    """删除账户；正在使用的会话在下一次请求时失效。"""
    store_path = _accounts_path(accounts, path)
    try:
        _store(store_path).remove(name)
    except UnusableInput as exc:
        raise _fail(exc) from None
    _console(soft_wrap=True).print(f"已删除账户 {name}。")


@users_app.command("reset", cls=ZhCommand)
def users_reset(
    path: Target, name: Name, password_stdin: PasswordStdin = False, accounts: Accounts = None
) -> None:
    """重设密码；这个账户已登录的会话全部失效。"""
    store_path = _accounts_path(accounts, path)
    try:
        _store(store_path).set_password(name, _password(password_stdin))
    except UnusableInput as exc:
        raise _fail(exc) from None
    _console(soft_wrap=True).print(f"已重设 {name} 的密码。")


@users_app.command("log", cls=ZhCommand)
def users_log(
    path: Target,
    rep: Annotated[str | None, typer.Option("--rep", help="只看这个人的记录。")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="从这一天起，格式 YYYY-MM-DD。")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="最多显示多少条（最新的）。")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON。")] = False,
    accounts: Accounts = None,
) -> None:
    """访问记录：每次登录（成功或失败）、每次查询（谁、何时、查什么、几条结果）和被拒绝的请求。"""
    from xlsync.cli import _day
    from xlsync.server.accounts import audit_path_for
    from xlsync.server.audit import KIND_LABELS, AuditLog

    store_path = _accounts_path(accounts, path)
    day = _day(since, "--since") if since else None
    audit_path = audit_path_for(store_path)
    if not audit_path.exists():
        _console(soft_wrap=True).print("还没有访问记录。")
        return
    log = AuditLog(audit_path, writer=False)
    try:
        entries = log.entries(rep, day, limit)
    finally:
        log.close()
    if as_json:
        rows = [
            {"at": e.at.isoformat(), "kind": e.kind.value, "name": e.name, "address": e.address,
             "path": e.path, "query": e.query, "count": e.count, "detail": e.detail}
            for e in entries
        ]  # fmt: skip
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    from rich.table import Table

    table = Table("时间", "账户", "地址", "动作", "查询", "结果", "说明")
    for e in entries:
        count = "" if e.count is None else str(e.count)
        table.add_row(
            e.at.strftime("%Y-%m-%d %H:%M:%S"), e.name, e.address, KIND_LABELS[e.kind],
            e.query, count, e.detail or (e.path if e.kind.value in ("denied", "not_found") else ""),
        )  # fmt: skip
    _console(soft_wrap=True).print(table)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    path: Annotated[
        Path, typer.Argument(metavar="DIR_OR_PATH", help="放登记表的文件夹，或一个登记表。")
    ],
    host: Annotated[
        str, typer.Option("--host", help="监听的地址；默认只有本机能访问，局域网用 0.0.0.0。")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口。")] = 8765,
    cert: Annotated[Path | None, typer.Option("--cert", help="TLS 证书文件（PEM）。")] = None,
    key: Annotated[Path | None, typer.Option("--key", help="TLS 私钥文件（PEM）。")] = None,
    accounts: Accounts = None,
    lookups: Annotated[
        int,
        typer.Option("--lookups-per-minute", help="每个账户每分钟最多查询几次（0 = 不限）。"),
    ] = 60,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="把这一天当作“今天”来套用所有日期规则（默认：今天）。"),
    ] = None,
) -> None:
    """手机上的查询页：登录后输入客户名称或电话，看能不能联系；每人只看到自己该看的。"""
    import logging

    import uvicorn

    from xlsync.cli import _day, console_logging
    from xlsync.runtime import tune_for_long_run
    from xlsync.server import ServeConfig, create_app
    from xlsync.server.accounts import audit_path_for

    tune_for_long_run()

    store_path = _accounts_path(accounts, path)
    if (cert is None) != (key is None):
        _err("xlsync: --cert 和 --key 要一起给出")
        raise typer.Exit(EXIT_UNUSABLE)
    for f in (cert, key):
        if f is not None and not f.is_file():
            _err(f"xlsync: {f}: 文件不存在")
            raise typer.Exit(EXIT_UNUSABLE)
    fixed = _day(as_of, "--as-of") if as_of else None
    console_logging(logging.StreamHandler())
    log = logging.getLogger("xlsync.serve")
    tls = cert is not None
    if not tls and not _loopback(host):
        log.warning(
            "警告：在 %s 上不加密（没有 --cert/--key）提供服务：密码和查询会以明文经过网络。"
            "只在可信的局域网或 VPN 内这样做，最好配上 TLS 证书。", host,
        )  # fmt: skip
    try:
        if not _store(store_path).all():
            log.warning("还没有任何账户：先用 xlsync users add %s 姓名 添加。", path)
    except UnusableInput as exc:
        raise _fail(exc) from None
    config = ServeConfig(
        target=path.resolve(), accounts=store_path, audit=audit_path_for(store_path), secure=tls,
        today=(lambda: fixed) if fixed else dt.date.today, lookup_limit=max(lookups, 0),
    )  # fmt: skip
    app = create_app(config)
    # The index is rebuilt in a worker process, but a thread of this one still unpickles the
    # new snapshot (a quarter of a second at 10,000 rows). At CPython's default 5 ms switch
    # interval every request waiting on the GIL meanwhile queues behind it again and again;
    # 1 ms keeps answers quick while it does.
    sys.setswitchinterval(0.001)
    scheme = "https" if tls else "http"
    log.info("xlsync serve：%s://%s:%d/（账户 %s）", scheme, host, port, store_path)
    uvicorn.run(
        app, host=host, port=port, ssl_certfile=cert, ssl_keyfile=key, access_log=False,
        proxy_headers=False, server_header=False, log_level="warning",
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command("serve", cls=ZhCommand)(serve)
    app.add_typer(users_app, name="users")
