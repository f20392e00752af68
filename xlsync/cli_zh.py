"""The command line's own words in Chinese: help sections, the usage line and usage errors.

Typer (0.28) vendors its click and builds most of its words in two ways: some through the
gettext alias `_` in `typer.core` (section titles, `default`, `required`), which we replace
with a catalog; the rest as fixed English inside its exceptions, which we never parse for
meaning: `usage_error_line` builds the Chinese line from the exception's type and fields
(the parameter, its type, the option name). Only the plain `UsageError`s raised with a
ready sentence (extra arguments, no such command) are matched against click's templates,
and a rejected value is quoted from the start of click's sentence, where its types put it.

Typer is held below 0.29: that release validates every parameter through a pydantic
TypeAdapter, which costs every command some 0.2 s of start-up (pydantic's import and one
adapter per parameter), 40 % of a 50-row `check`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import typer.core
from typer._click import exceptions as click_exc
from typer._click.core import Command
from typer.core import TyperCommand, TyperGroup

# typer.core's gettext messages
CATALOG: dict[str, str] = {
    "Arguments": "参数",
    "Options": "选项",
    "Commands": "命令",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "(dynamic)": "（动态）",
    "env var: {var}": "环境变量：{var}",
    "Missing command.": "缺少命令。",
    "Aborted!": "已中止。",
}

USAGE = "用法："
HELP_OPTION_HELP = "显示本帮助并退出。"

# What a value of click's number types must be, in Chinese (by the type's name; the
# command line has no other typed option)
_EXPECTED = {"int": "应为整数", "float": "应为数字"}

# The rejected value, as click's types quote it first in their sentence
_QUOTED = re.compile(r"^'((?:[^'\\]|\\.)*)'")

# Plain usage errors click raises with a finished English sentence
_TEMPLATES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)"),
        lambda m: f"多余的参数：{m.group(1)}",
    ),
    (
        re.compile(r"No such command '(.*?)'\.?(?: Did you mean (.*)\?)?$"),
        lambda m: (
            f"没有命令 '{m.group(1)}'" + (f"（是不是要用 {m.group(2)}？）" if m.group(2) else "")
        ),
    ),
    (
        re.compile(r"Option '(.*?)' requires an argument\."),
        lambda m: f"选项 '{m.group(1)}' 需要一个值",
    ),
    (
        re.compile(r"Option '(.*?)' requires (\d+) arguments\."),
        lambda m: f"选项 '{m.group(1)}' 需要 {m.group(2)} 个值",
    ),
    (
        re.compile(r"Option '(.*?)' does not take a value\."),
        lambda m: f"选项 '{m.group(1)}' 不接受值",
    ),
]


class _Translate:
    """typer's gettext alias, with the Chinese catalog in front."""

    def __init__(self, original: Callable[[str], str]) -> None:
        self.original = original

    def __call__(self, message: str) -> str:
        return CATALOG.get(message) or self.original(message)


def install() -> None:
    """Replace typer's gettext alias with the Chinese catalog (idempotent: no flag of our
    own, the alias installed is recognised)."""
    # typer's core calls its module-level gettext alias `_`: swapping it is the hook.
    # typer.core imports it privately (`from gettext import gettext as _`), so its inline
    # types do not export it: hence attr-defined on the two lines that touch it.
    original = typer.core._  # type: ignore[attr-defined]
    if not isinstance(original, _Translate):
        typer.core._ = _Translate(original)  # type: ignore[attr-defined]


class _Chinese(Command):
    """Mixed into typer's command classes (before them, so that these two win): the usage
    line and the help option in Chinese."""

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION_HELP
        return option


class ZhCommand(_Chinese, TyperCommand):
    pass


class ZhGroup(_Chinese, TyperGroup):
    pass


def _hint(exc: click_exc.BadParameter) -> str:
    if exc.param_hint is not None:
        hint = exc.param_hint
        return hint if isinstance(hint, str) else " / ".join(repr(h) for h in hint)
    if exc.param is not None and exc.ctx is not None:
        return exc.param.get_error_hint(exc.ctx)
    return ""


def _param_kind(exc: click_exc.BadParameter) -> str:
    kind = getattr(exc, "param_type", None) or (
        exc.param.param_type_name if exc.param is not None else "parameter"
    )
    return {"option": "选项", "argument": "参数"}.get(kind, "参数")


def _rejected(exc: click_exc.BadParameter) -> str:
    """Why a value was refused, in Chinese, from the parameter's type."""
    param_type = getattr(exc.param, "type", None)
    expected = _EXPECTED.get(str(getattr(param_type, "name", "")), "格式不对")
    quoted = _QUOTED.match(exc.message)
    shown = f" '{quoted.group(1)}'" if quoted else ""
    return f"值{shown} 无效：{expected}"


def usage_error_line(exc: click_exc.UsageError) -> str:
    """One Chinese line for a usage error, `错误：…。` plus where to find the usage."""
    if isinstance(exc, click_exc.MissingParameter):
        hint = _hint(exc)
        kind = _param_kind(exc)
        text = f"缺少{kind} {hint}" if hint else f"缺少{kind}"
    elif isinstance(exc, click_exc.NoSuchOption):
        text = f"没有选项 '{exc.option_name}'"
        if exc.possibilities:
            text += f"（是不是要用 {'、'.join(sorted(exc.possibilities))}？）"
    elif isinstance(exc, click_exc.BadParameter):
        hint = _hint(exc)
        text = f"{_param_kind(exc)} {hint} 的{_rejected(exc)}"
    else:
        message = exc.format_message().strip()
        text = message
        for pattern, build in _TEMPLATES:
            found = pattern.search(message)
            if found:
                text = build(found)
                break
    text = text.rstrip("。.") + "。"
    if exc.ctx is not None:
        text += f"（运行 {exc.ctx.command_path} --help 查看用法）"
    return f"错误：{text}"
