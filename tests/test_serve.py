"""`xlsync serve` and `xlsync users`: the index follows the syncs (and never reads the
workbook per request), the command line manages accounts outside the shared folder, the
audit log is shown, TLS makes cookies Secure, and serving without TLS beyond this machine
warns."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openpyxl
import pytest

from xlsync.server.audit import Kind
from xlsync.sync import sync

from .helpers import run_cli
from .serve_helpers import AS_OF, PASSWORD, login, make_register, served


def test_the_index_follows_each_sync_and_never_reads_the_workbook_per_request(
    tmp_path: Path,
) -> None:
    with served(tmp_path) as app, app.client() as c:
        assert login(c, "王芳").status_code == 303
        register = app.config.target
        live = app.server.live
        builds = live.builds
        assert c.get("/api/who", params={"q": "新星光电"}).json()["customers"] == []
        # requests answer from memory: a broken workbook does not change a thing
        saved = register.read_bytes()
        register.write_bytes(b"not a workbook")
        for _ in range(5):
            assert c.get("/api/who", params={"q": "格林电子"}).json()["answer"] == "stop"
        assert live.builds == builds
        register.write_bytes(saved)
        # a rep adds a customer and the watcher (here: a sync) applies it
        wb = openpyxl.load_workbook(register)
        wb["跟进中"].append([None, "新星光电有限公司", "周先生", "13611112222", None, "张伟",
                             "业务一部", None, AS_OF, None, None, None, None, "拜访"])  # fmt: skip
        wb.save(register)
        sync(register, AS_OF)
        assert live.wait_for_build(builds + 1, timeout=60)
        data = c.get("/api/who", params={"q": "新星光电"}).json()
        assert data["answer"] == "stop" and data["customers"][0]["owner"] == "张伟"
        assert "最近一次同步" in data["data"]["text"] and data["data"]["synced"]
        assert "最近一次同步" in c.get("/").text


def test_every_answer_is_in_the_audit_file_before_it_is_sent(tmp_path: Path) -> None:
    import sqlite3

    def lookups_in_the_file() -> int:  # another connection: only what was committed
        con = sqlite3.connect(f"file:{app.config.audit}?mode=ro", uri=True)
        try:
            return int(
                con.execute("SELECT count(*) FROM audit WHERE kind = 'lookup'").fetchone()[0]
            )
        finally:
            con.close()

    with served(tmp_path) as app, app.client() as c:
        assert login(c, "王芳").status_code == 303
        for n in range(1, 11):
            assert c.get("/api/who", params={"q": "格林电子"}).status_code == 200
            assert lookups_in_the_file() == 2 * n - 1
            assert "格林电子" in c.get("/", params={"q": "格林电子"}).text
            assert lookups_in_the_file() == 2 * n


def test_a_watcher_in_the_same_process_hands_its_check_over(tmp_path: Path) -> None:
    from xlsync.server.index import LiveIndex

    register = make_register(tmp_path / "shared")
    live = LiveIndex(register, today=lambda: AS_OF)
    live.on_synced(sync(register, AS_OF))
    assert live.builds == 1 and live.snapshot is not None
    assert live.snapshot.synced is not None  # the sync's time, from the history
    assert live.snapshot.index.find("格林电子").same
    assert not live.due()  # nothing new since that sync


def _users(*args: str | Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlsync", "users", *map(str, args)],
                          input=stdin, capture_output=True, text=True, timeout=120)  # fmt: skip


def test_the_worker_process_builds_the_same_snapshot_as_this_process(tmp_path: Path) -> None:
    import gc
    import pickle

    from xlsync.server.index import LiveIndex, _dumps
    from xlsync.server.view import Viewer, filtered_json

    from .data_gen import make_register as generated

    folder = tmp_path / "shared"
    folder.mkdir()
    generated(folder / "r.xlsx", rows=400, seed=7)
    sync(folder / "r.xlsx", AS_OF)
    here = LiveIndex(folder, today=lambda: AS_OF, in_process=True).refresh()
    worker = LiveIndex(folder, today=lambda: AS_OF)
    try:
        there = worker.refresh()
    finally:
        worker.close()
    assert here is not None and there is not None and worker.builds == 1
    assert there.mine == here.mine and there.settings == here.settings
    reps = list(here.settings.roster)[:3]
    asked = 0
    for c in here.index.customers[::7]:
        for q in (c.name, c.name[1:-1], *(c.phones[:1])):
            for rep in reps:
                for manager in (False, True):
                    viewer = Viewer.of(rep, manager, here.settings)
                    mine = filtered_json(here.index.find(q), viewer, here.settings, here.folder)
                    theirs = filtered_json(
                        there.index.find(q), viewer, there.settings, there.folder
                    )
                    assert json.dumps(theirs, default=str) == json.dumps(mine, default=str), q
                    asked += 1
    assert asked > 100
    # no reference cycles in a snapshot: the one a rebuild replaces is freed at once, which
    # is what lets the server keep the collector off it (gc.freeze)
    data = _dumps(here)
    gc.collect()
    copy = pickle.loads(data)
    assert copy.index.find(here.index.customers[0].name).same
    del copy
    assert gc.collect() == 0


def test_a_set_the_worker_cannot_read_keeps_the_last_snapshot(tmp_path: Path) -> None:
    from xlsync.server.index import LiveIndex

    register = make_register(tmp_path / "shared")
    live = LiveIndex(register, today=lambda: AS_OF)
    try:
        first = live.refresh()
        assert first is not None and live.builds == 1 and live.error == ""
        saved = register.read_bytes()
        register.write_bytes(b"not a workbook")
        assert live.refresh() is first and live.builds == 1
        assert live.error  # the pages say they show the data from before
        register.write_bytes(saved)
        again = live.refresh()
        assert again is not first and live.builds == 2 and live.error == ""
        assert again is not None and again.index.find("格林电子").same
    finally:
        live.close()


def test_users_are_managed_on_this_machine_never_in_the_shared_folder(tmp_path: Path) -> None:
    register = make_register(tmp_path / "shared")
    store = tmp_path / "local" / "accounts.json"
    acc = ["--accounts", str(store)]
    r = _users("add", register, "王芳", "--password-stdin", *acc, stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert "已添加账户 王芳（业务一部，业务员）" in r.stdout
    data = json.loads(store.read_text(encoding="utf-8"))
    assert data["accounts"]["王芳"]["hash"].startswith("$argon2id$")
    assert PASSWORD not in store.read_text(encoding="utf-8")
    if os.name == "posix":
        assert store.stat().st_mode & 0o077 == 0  # its owner's only
    r = _users("add", register, "刘洋", "--password-stdin", "--manager", *acc, stdin=PASSWORD)
    assert r.returncode == 0 and "经理" in r.stdout
    # refusals, one Chinese line each
    shared_store = register.parent / "accounts.json"
    for args, stdin, words in [
        (["add", register, "无名氏", "--password-stdin", *acc], PASSWORD, "不在「设置」的业务员名单里"),
        (["add", register, "李娜", "--password-stdin", *acc], "short", "密码太短"),
        (["add", register, "王芳", "--password-stdin", *acc], PASSWORD, "已存在"),
        (["add", register, "李娜", "--password-stdin", "--accounts", shared_store], PASSWORD,
         "账户文件不能放在共享文件夹里"),
        (["remove", register, "无名氏", *acc], None, "没有账户 无名氏"),
    ]:  # fmt: skip
        r = _users(*args, stdin=stdin)
        assert r.returncode == 2, args
        assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr
    assert not shared_store.exists()
    listed = _users("list", register, *acc)
    assert listed.returncode == 0 and "王芳" in listed.stdout and "刘洋" in listed.stdout
    old = json.loads(store.read_text(encoding="utf-8"))["accounts"]["王芳"]["hash"]
    assert (
        _users("reset", register, "王芳", "--password-stdin", *acc, stdin="another pass").returncode
        == 0
    )
    assert json.loads(store.read_text(encoding="utf-8"))["accounts"]["王芳"]["hash"] != old
    assert _users("remove", register, "刘洋", *acc).returncode == 0
    assert "刘洋" not in _users("list", register, *acc).stdout


def test_users_log_shows_sign_ins_and_look_ups(tmp_path: Path) -> None:
    with served(tmp_path) as app, app.client() as c:
        assert login(c, "王芳", "wrong password").status_code == 401
        assert login(c, "王芳").status_code == 303
        c.get("/api/who", params={"q": "格林电子"})
        c.get("/api/who", params={"q": "电"})
        register, store = app.config.target, app.config.accounts
    r = _users("log", register, "--accounts", store, "--rep", "王芳", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [(e["kind"], e["query"], e["count"]) for e in rows] == [
        (Kind.LOGIN_FAILED.value, "", None), (Kind.LOGIN.value, "", None),
        (Kind.LOOKUP.value, "格林电子", 1), (Kind.LOOKUP_REFUSED.value, "电", None),
    ]  # fmt: skip
    assert all(e["address"] == "127.0.0.1" and e["at"] for e in rows)
    table = _users("log", register, "--accounts", store, "--since", "2000-01-01")
    assert table.returncode == 0 and "登录失败" in table.stdout and "格林电子" in table.stdout
    later = _users("log", register, "--accounts", store, "--since", "2999-01-01", "--json")
    assert json.loads(later.stdout) == []
    bad = _users("log", register, "--accounts", store, "--since", "yesterday")
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_under_tls_the_cookies_are_secure(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=127.0.0.1", "-keyout", key, "-out", cert],
        check=True, capture_output=True,
    )  # fmt: skip
    with served(tmp_path / "app", secure=True, cert=cert, key=key) as app:
        assert app.base.startswith("https://")
        with httpx.Client(base_url=app.base, verify=False, follow_redirects=False) as c:
            r = login(c, "王芳")
            assert r.status_code == 303
            cookie = next(v for v in r.headers.get_list("set-cookie") if "xlsync_session=" in v)
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
            assert r.headers["strict-transport-security"].startswith("max-age=")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_serve_binds_this_machine_by_default_and_warns_without_tls_beyond_it(
    tmp_path: Path, host: str
) -> None:
    register = make_register(tmp_path / "shared")
    store = tmp_path / "local" / "accounts.json"
    port = _free_port()
    args = ["serve", register, "--port", str(port), "--accounts", store, "--as-of", "2026-11-01"]
    if host != "127.0.0.1":
        args += ["--host", host]
    proc = subprocess.Popen([sys.executable, "-m", "xlsync", *map(str, args)],
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        status = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code
                break
            except httpx.TransportError:
                time.sleep(0.1)  # poll: until the server answers
        assert status == 200
    finally:
        proc.terminate()  # our own child, by its handle
        _out, err = proc.communicate(timeout=60)
    assert "还没有任何账户" in err
    assert f"http://{host}:{port}/" in err
    warned = "不加密" in err
    assert warned is (host == "0.0.0.0")
    assert "Traceback" not in err


def test_serve_refuses_an_account_store_in_the_shared_folder(tmp_path: Path) -> None:
    register = make_register(tmp_path / "shared")
    run = run_cli("serve", register, "--accounts", register.parent / ".xlsync" / "a.json")
    assert run.code == 2 and "账户文件不能放在共享文件夹里" in run.stderr
    run = run_cli("serve", register, "--cert", tmp_path / "c.pem")
    assert run.code == 2 and "--cert 和 --key 要一起给出" in run.stderr


def test_a_managers_reach_comes_from_the_roster() -> None:
    from xlsync.records import Row
    from xlsync.register.schema import SheetKind
    from xlsync.server.view import Viewer
    from xlsync.settings import RepContact, Settings

    settings = Settings(
        roster={"老板": "", "张伟": "业务一部", "王芳": "业务一部", "李娜": "业务二部"},
        contacts={"张伟": RepContact(head=True)},
    )
    rows = {
        rep: Row("r.xlsx", "跟进中", SheetKind.FOLLOWING, 2, rep=rep) for rep in settings.roster
    }
    seen = {
        name: sorted(r for r, row in rows.items() if Viewer.of(name, manager, settings).sees(row, settings))
        for name, manager in [("老板", True), ("张伟", False), ("王芳", False), ("已离职", True)]
    }  # fmt: skip
    assert seen == {
        "老板": ["张伟", "李娜", "王芳", "老板"],  # --manager with a blank 部门: the office
        "张伟": ["张伟", "王芳"],  # 负责人 of 业务一部
        "王芳": ["王芳"],
        "已离职": [],  # a manager account no longer in the roster: nothing of anyone's
    }


def test_a_folders_settings_keep_every_registers_heads(tmp_path: Path) -> None:
    """A folder of registers joins the rosters; the 负责人 marks come along (a head listed
    only in the second register still heads their department for `serve`)."""
    from xlsync.register_set import load_set

    make_register(tmp_path)  # 张伟 heads 业务一部
    from .helpers import customer, write_register

    write_register(
        tmp_path / "二部.xlsx",
        [customer(customer="华南五金", rep="赵敏", department="业务三部", status="电话")],
        settings=[["业务员", "部门", "负责人"], ["赵敏", "业务三部", "是"]],
    )
    settings = load_set(tmp_path).settings
    assert settings.roster["赵敏"] == "业务三部"
    assert sorted(settings.heads()) == ["张伟", "赵敏"]
