"""For the `xlsync serve` tests: a register with two departments, a department head, a
manager and hostile cell values; accounts; and the real application served by uvicorn in a
thread on a free port, ready when uvicorn says it started."""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from argon2 import PasswordHasher

from xlsync.server import ServeConfig, create_app
from xlsync.server.accounts import AccountStore, audit_path_for
from xlsync.server.app import Server
from xlsync.server.audit import Entry, Kind

from .helpers import customer, write_register

AS_OF = dt.date(2026, 11, 1)
PASSWORD = "correct horse 1"
XSS_NAME = "<script>alert(1)</script>电子"
XSS_CONTACT = '"><img src=x onerror=alert(2)>'
XSS_NOTES = "<svg onload=alert(3)>报价"
# 25 customers with the same local landline number in 25 cities: one query, 25 answers
AREAS = ["020", "021", "010", "022", "023", "024", "025", "027", "028", "029", "0755", "0769",
         "0757", "0760", "0756", "0752", "0754", "0750", "0751", "0753", "0758", "0759", "0762",
         "0763", "0766"]  # fmt: skip
BRANDS = ["宏远", "鑫达", "华美", "金鹏", "天和", "永盛", "瑞丰", "恒通", "嘉禾", "博雅", "思源",
          "立信", "凯旋", "南方", "东兴", "新华", "百川", "正泰", "银河", "星光", "长城", "海川",
          "绿源", "晨光", "万家"]  # fmt: skip
SHARED_LOCAL = "88776655"


def make_register(folder: Path) -> Path:
    """跟进中 with one customer per rep (张伟 heads 业务一部; 刘洋 will be a manager)."""
    rows = [
        customer(customer="东莞市格林电子有限公司", contact="陈经理", phone="13812345678",
                 rep="张伟", department="业务一部", visited=dt.date(2026, 10, 1),
                 notes="老客户介绍，月底报价", sample="BL-466", status="拜访"),
        customer(customer="深圳市华强科技有限公司", contact="李小姐", phone="0755-88881234",
                 rep="王芳", department="业务一部", sampled=dt.date(2026, 10, 10),
                 notes="王芳的备注", status="送样"),
        customer(customer=XSS_NAME, contact=XSS_CONTACT, phone="13900001111", rep="李娜",
                 department="业务二部", visited=dt.date(2026, 10, 15), notes=XSS_NOTES,
                 status="拜访"),
        customer(customer="东莞宏达模具有限公司", contact="刘总", phone="0769-22334455",
                 rep="刘洋", department="业务二部", visited=dt.date(2026, 10, 20),
                 notes="刘洋的秘密备注", status="拜访"),
        customer(customer="佛山市旧识五金有限公司", contact="赵工", phone="13700002222",
                 rep="王芳", department="业务一部", contacted=dt.date(2026, 8, 1),
                 last_follow_up=dt.date(2026, 8, 20), status="电话"),
    ]  # fmt: skip
    for area, brand in zip(AREAS, BRANDS, strict=True):
        rows.append(
            customer(
                customer=f"{brand}贸易有限公司",
                phone=f"{area}-{SHARED_LOCAL}",
                rep="刘洋",
                department="业务二部",
                contacted=dt.date(2026, 10, 2),
                status="电话",
            )
        )
    settings = [
        ["保护天数", 90], ["跟进提醒天数", 30], [],
        ["业务员", "部门", "负责人"],
        ["张伟", "业务一部", "是"], ["王芳", "业务一部", None],
        ["李娜", "业务二部", None], ["刘洋", "业务二部", None],
    ]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    return write_register(folder / "客户登记表.xlsx", rows, [], settings=settings)


def add_accounts(accounts: Path) -> None:
    """王芳, 张伟 (head by the roster), 李娜: reps; 刘洋: --manager. A cheap argon2 cost
    keeps the tests quick; the stored hash names its parameters."""
    store = AccountStore(accounts, PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    for name in ("王芳", "张伟", "李娜"):
        store.add(name, PASSWORD, False)
    store.add("刘洋", PASSWORD, True)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Served:
    base: str
    port: int
    server: Server
    config: ServeConfig
    clock: FakeClock

    def client(self, source: str | None = None) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=source) if source else None
        return httpx.Client(base_url=self.base, transport=transport, follow_redirects=False,
                            timeout=30)  # fmt: skip

    def audit(self, kind: Kind | None = None, name: str | None = None) -> list[Entry]:
        return [e for e in self.server.audit.entries(name) if kind is None or e.kind is kind]


def login(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in the way a browser does: fetch the form (its token and cookie), post it."""
    page = client.get("/login")
    token = csrf_of(page.text)
    return client.post("/login", data={"name": name, "password": password, "csrf": token})


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


@contextmanager
def served(
    folder: Path, *, poll: float = 0.05, secure: bool = False, cert: Path | None = None,
    key: Path | None = None, lookup_limit: int = 60,
) -> Iterator[Served]:  # fmt: skip
    """The app for the register set in `folder`, served by uvicorn on a free port."""
    shared = folder / "shared"
    register = make_register(shared)
    accounts = folder / "local" / "accounts.json"
    add_accounts(accounts)
    clock = FakeClock()
    config = ServeConfig(
        target=register, accounts=accounts, audit=audit_path_for(accounts), secure=secure,
        poll=poll, clock=clock, today=lambda: AS_OF, lookup_limit=lookup_limit,
    )  # fmt: skip
    app = create_app(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            ssl_certfile=cert,
            ssl_keyfile=key,
            lifespan="on",
            proxy_headers=False,  # as `xlsync serve` runs it
        )
    )
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not uv.started:
        assert thread.is_alive(), "uvicorn stopped before it started"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)  # poll: uvicorn.Server.started
    scheme = "https" if cert else "http"
    try:
        yield Served(f"{scheme}://127.0.0.1:{port}", port, app.state.server, config, clock)
    finally:
        uv.should_exit = True
        thread.join(timeout=30)
        sock.close()


def raw_get(port: int, target: str, cookie: str = "") -> tuple[int, bytes]:
    """A GET with the request target sent exactly as given (no client normalises it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        extra = f"Cookie: {cookie}\r\n" if cookie else ""
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _sep, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body
