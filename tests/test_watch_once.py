"""`xlsync watch --once`, `xlsync demo`, the jobs' date under --as-of, one 冲突/问题 layout,
and the `check --json` output against the shipped JSON Schema."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from xlsync.sync import sync
from xlsync.watch import WatchConfig, Watcher

from .helpers import customer, run_cli, write_register
from .test_warm_cold import checks_alive

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_registers" / "demo.xlsx"
SCHEMA = ROOT / "xlsync" / "schema" / "check.schema.json"
AS_OF = dt.date(2026, 11, 1)


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _refs(obj: dict) -> list[dict]:
    refs = [r for g in obj["groups"] for r in g["rows"]]
    for c in obj["conflicts"]:
        refs += c["claims"] + ([c["owner"]] if c["owner"] else [])
    return refs + obj["problems"] + obj["moves"]


def test_check_json_of_the_demo_matches_the_schema() -> None:
    run = run_cli("check", SAMPLE, "--json", "--as-of", "2026-11-01")
    assert run.code == 1
    out = run.json()
    _validator().validate(out)
    assert out["conflicts"] and out["problems"] and out["moves"]


def test_check_json_of_a_folder_matches_the_schema_and_names_files(tmp_path: Path) -> None:
    write_register(tmp_path / "一部.xlsx", [
        customer(customer="格林电子", rep="张伟", sampled=dt.date(2026, 10, 3), status="送样"),
        customer(customer="华美涂料", rep="张伟", visited="2026-13-01", status="拜访"),
    ])  # fmt: skip
    write_register(tmp_path / "二部.xlsx", [
        customer(customer="深圳市格林电子有限公司", rep="李娜", visited=dt.date(2026, 10, 20),
                 status="拜访"),
    ])  # fmt: skip
    run = run_cli("check", tmp_path, "--json", "--as-of", "2026-11-01")
    out = run.json()
    _validator().validate(out)
    assert out["conflicts"] and out["problems"]
    assert all(r.get("file") in ("一部.xlsx", "二部.xlsx") for r in _refs(out))


def test_the_schema_rejects_what_breaks_the_contract() -> None:
    out = json.loads(run_cli("check", SAMPLE, "--json", "--as-of", "2026-11-01").stdout)
    validator = _validator()
    broken = json.loads(json.dumps(out))
    broken["conflicts"][0]["claims"][0]["verdict"] = "maybe"
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(out))
    del broken["problems"][0]["row"]
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(out))
    del broken["problems"][0]["code"]
    assert not validator.is_valid(broken)
    broken["problems"][0]["code"] = "bad_date"  # not dotted
    assert not validator.is_valid(broken)
    extended = json.loads(json.dumps(out))  # later fields are welcome
    extended["possible"] = []
    extended["problems"][0]["hint"] = "..."
    assert validator.is_valid(extended)


def test_alternating_sync_file_and_watch_folder_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "客户登记表.xlsx"
    shutil.copy(SAMPLE, path)
    assert any(f.written for f in sync(path, AS_OF).files)
    data = path.read_bytes()
    assert not any(f.written for f in sync(tmp_path, AS_OF).files)  # the folder
    assert not any(f.written for f in sync(path, AS_OF).files)  # the file again
    run = run_cli("watch", tmp_path, "--once", "--as-of", "2026-11-01")
    assert run.code == 0, run.stdout + run.stderr
    assert path.read_bytes() == data
    assert not any(f.written for f in sync(path, AS_OF).files)


def test_scheduled_jobs_run_for_the_as_of_date(tmp_path: Path, monkeypatch) -> None:
    from xlsync.reports import jobs

    calls: list[tuple[str, object, object]] = []
    monkeypatch.setattr(
        jobs, "run_monthly",
        lambda t, m, o, log, today=None, workspace=None: calls.append(("m", m, today))
        or [o / "m.pdf"],
    )  # fmt: skip
    monkeypatch.setattr(
        jobs,
        "run_daily",
        lambda t, d, o, log, workspace=None: calls.append(("d", d, None)) or [o / "d.xlsx"],
    )
    write_register(tmp_path / "r.xlsx", [customer(customer="格林电子", rep="张伟")])
    clock = dt.datetime(2027, 3, 9, 19, 0)  # the real clock, months later
    config = WatchConfig(scheduled=True)
    Watcher(tmp_path, config, today=lambda: AS_OF, now=lambda: clock)._scheduled()
    assert calls == [("m", "2026-10", AS_OF), ("d", AS_OF, None)]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_watch_once_syncs_renders_and_says_where(tmp_path: Path) -> None:
    path = tmp_path / "客户登记表.xlsx"
    shutil.copy(SAMPLE, path)
    before = _digest(path)
    run = run_cli("watch", tmp_path, "--once", "--as-of", "2026-11-01")
    assert run.code == 0, run.stdout + run.stderr
    assert _digest(path) != before
    out = run.stdout.replace("\n", "")
    reports = tmp_path / "reports"
    board = next(reports.glob("*-看板.html"))
    pdf = next(reports.glob("*-2026-10.pdf"))  # the 1st: last month's handout is due
    for shown in (path, board, pdf):
        assert str(shown.resolve()) in out
    assert "已更新 客户登记表.xlsx" in out
    assert "Traceback" not in run.stderr and "INFO" not in run.stdout


def test_watch_once_on_an_open_register_says_to_run_it_again(tmp_path: Path) -> None:
    path = tmp_path / "客户登记表.xlsx"
    shutil.copy(SAMPLE, path)
    (tmp_path / f"~${path.name}").write_bytes(b"\x02\x00" + "王芳".encode("utf-16-le") + b"\0" * 60)
    run = run_cli("watch", tmp_path, "--once", "--as-of", "2026-11-01")
    assert run.code == 3
    assert "请关闭后重新运行 xlsync watch" in run.stdout.replace("\n", "")


def test_demo_copies_syncs_and_shows_the_three_results(tmp_path: Path) -> None:
    before = _digest(SAMPLE)
    run = run_cli("demo", cwd=tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    folder = tmp_path / "xlsync-demo"
    register = folder / "客户登记表.xlsx"
    board = next((folder / "reports").glob("*-看板.html"))
    pdf = next((folder / "reports").glob("*-2026-10.pdf"))
    tail = run.stdout.replace("\n", "").split("先看这三样")[-1]
    for shown in (register, board, pdf):
        assert str(shown.resolve()) in tail
    assert pdf.read_bytes().startswith(b"%PDF")
    assert _digest(SAMPLE) == before  # the repository's copy is never touched
    again = run_cli("demo", cwd=tmp_path)  # refuses to overwrite
    assert again.code == 2 and "xlsync-demo" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["新文件夹", "a/b"])
def test_demo_into_a_named_folder(tmp_path: Path, name: str) -> None:
    run = run_cli("demo", name, cwd=tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert (tmp_path / name / "客户登记表.xlsx").is_file()


def test_watch_once_lets_go_of_its_sync_before_the_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`watch --once` prints its sync and drops the outcome; the watcher lets its own go
    (a whole check of the registers) before the due reports read the registers again
    (`Schedule.before_reports`); the count stays."""
    from xlsync.reports import jobs

    write_register(tmp_path / "r.xlsx", [customer(customer="格林电子", rep="张伟")])
    watcher = Watcher(tmp_path, WatchConfig(), today=lambda: dt.date(2026, 11, 1))
    outcome = watcher.sync_pass()
    assert outcome is not None and len(watcher.syncs) == 1

    assert checks_alive(tmp_path) == 1
    del outcome
    assert checks_alive(tmp_path) == 1  # the watcher keeps it ...
    seen: list[int] = []

    def report(*args: object, **kwargs: object) -> list[Path]:
        seen.append(checks_alive(tmp_path))  # ... and no longer while a report runs
        return []

    monkeypatch.setattr(jobs, "run_monthly", report)
    monkeypatch.setattr(jobs, "run_daily", report)
    watcher.reports_due()
    assert seen == [0, 0]  # the monthly, then the daily
    assert len(watcher.syncs) == 1
    with pytest.raises(IndexError):
        watcher.syncs[-1]
