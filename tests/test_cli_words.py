"""The command line speaks the users' language: help and usage errors in Chinese, every
bad option named, every missing column named, and messages that say what is true."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .helpers import HEADERS, customer, run_cli, write_register

SAMPLE = Path(__file__).resolve().parent.parent / "sample_registers" / "demo.xlsx"
CJK = re.compile(r"[\u4e00-\u9fff]")
COMMANDS = [
    [], ["init"], ["check"], ["sync"], ["watch"], ["history"], ["restore"], ["who"], ["demo"],
    ["report"], ["report", "monthly"], ["report", "daily"], ["report", "board"],
    ["serve"], ["users"], ["users", "add"], ["users", "log"],
]  # fmt: skip
ENGLISH = ("Usage", "Options", "Arguments", "Commands", "Show this message", "required",
           "default:", "Error")  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "xlsync")
def test_help_is_chinese(command: list[str]) -> None:
    run = run_cli(*command, "--help")
    assert run.code == 0, run.stderr
    text = run.stdout
    assert text.startswith("用法：")
    for word in ENGLISH:
        assert word not in text, word
    # the description and every option's and argument's help line are Chinese
    lines = [line for line in text.splitlines() if line.strip()]
    assert CJK.search(lines[1])
    entries = [line for line in lines if re.match(r"\s{2}(--|[A-Z]+\b|\w+\s{2})", line)]
    assert entries
    for line in entries:
        assert CJK.search(line), line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["report", "daily", "x.xlsx", "--out", "o"], "错误：缺少选项 '--date'。"),
        (["check", "x.xlsx", "--bogus"], "错误：没有选项 '--bogus'"),
        (
            ["sync", "x.xlsx", "--backups", "abc"],
            "错误：选项 '--backups' 的值 'abc' 无效：应为整数",
        ),
        (
            ["watch", "folder", "--rescan", "zz"],
            "错误：选项 '--rescan' 的值 'zz' 无效：应为数字",
        ),
        (["check"], "错误：缺少参数 'PATH'"),
        (["check", "a.xlsx", "b.xlsx"], "错误：多余的参数：b.xlsx"),
        (["chek", "a.xlsx"], "错误：没有命令 'chek'"),
        (["check", "a.xlsx", "--as-of"], "错误：选项 '--as-of' 需要一个值"),
    ],
)
def test_usage_errors_are_one_chinese_line(args: list[str], expected: str) -> None:
    run = run_cli(*args)
    assert run.code == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(expected), lines[0]
    assert "Traceback" not in run.stderr and "Error" not in run.stderr


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["report", "daily", "r.xlsx", "--date", "2026-13-01", "--out", "o"], "--date"),
        (["report", "daily", "r.xlsx", "--date", "2026-11-01", "--out", "o", "--as-of", "x"],
         "--as-of"),
        (["report", "monthly", "r.xlsx", "--month", "2026-13", "--out", "o"], "--month"),
        (["check", "r.xlsx", "--as-of", "2026-02-30"], "--as-of"),
        (["who", "r.xlsx", "格林", "--as-of", "昨天"], "--as-of"),
    ],
)  # fmt: skip
def test_a_bad_date_names_its_own_option(tmp_path: Path, args: list[str], option: str) -> None:
    write_register(tmp_path / "r.xlsx", [customer(customer="格林电子", rep="张伟")])
    run = run_cli(*args, cwd=tmp_path)
    assert run.code == 2
    line = run.stderr.strip()
    assert len(line.splitlines()) == 1
    assert f" {option} " in line, line
    others = {"--date", "--as-of", "--month"} - {option}
    assert not any(f" {o} " in line for o in others), line


def test_every_missing_column_is_named_in_chinese(tmp_path: Path) -> None:
    headers = [h for h in HEADERS if h not in ("客户名称", "业务员")]
    path = write_register(tmp_path / "r.xlsx", [["x"] * len(headers)], headers=headers)
    run = run_cli("check", path)
    assert run.code == 2
    line = run.stderr.strip()
    assert "「客户名称」" in line and "「业务员」" in line, line
    assert "（customer）" not in line and "（rep）" not in line
    assert "也可写作 customer" in line


def test_a_deferred_manual_sync_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    shutil.copy(SAMPLE, path)
    (tmp_path / f"~${path.name}").write_bytes(b"\x02\x00" + "王芳".encode("utf-16-le") + b"\0" * 60)
    run = run_cli("sync", path, "--as-of", "2026-11-01")
    assert run.code == 3
    assert "关闭后会再同步" not in run.stdout
    assert "请关闭后重新运行 xlsync sync" in run.stdout.replace("\n", "")
