"""HTML reports (monthly handout, daily list, blackboard) and the daily .xlsx.

Every template is rendered with autoescaping on; cell text is never marked safe. Values
that go into other contexts have their own escapers: `tojson` for the blackboard's embedded
data (escapes `<`, `>`, `&`, `'`), `css_string` for the print header in the stylesheet.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FunctionLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

import xlsync
from xlsync.fileio import atomic_write, atomic_write_parts
from xlsync.reports.content import (
    Board,
    BoardEntry,
    DailyReport,
    MonthlyReport,
    Score,
)
from xlsync.reports.handout import Handout, Table, build_handout, month_label, parts

BOARD_VERSION_FILE = "board-version.js"
# How often the blackboard checks board-version.js (seconds); `?refresh=N` overrides it.
BOARD_REFRESH_SECONDS = 30


# ------------------------------------------------------------------ templates


def _template_roots() -> list[Traversable]:
    roots: list[Traversable] = []
    # The source checkout the running code comes from goes first: an editable install of
    # another checkout maps xlsync.templates there, and its templates would not match.
    checkout = Path(xlsync.__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        roots.append(checkout / "templates")
    with contextlib.suppress(ModuleNotFoundError):
        roots.append(resources.files("xlsync.templates"))
    return roots


def _load_template(name: str) -> str:
    for root in _template_roots():
        candidate = root / name
        if candidate.is_file():
            return candidate.read_text("utf-8")
    raise FileNotFoundError(f"report template not found: {name}")


def _date(value: dt.date | None, fmt: str = "%Y-%m-%d") -> str:
    return value.strftime(fmt) if value is not None else ""


_CSS_PLAIN = re.compile(r"[0-9A-Za-z \u3400-\u9fff\u3000-\u303f\uff01-\uff5e]")


def _css_string(value: object) -> Markup:
    """A double-quoted CSS string: every character that could end the string, the rule or
    the <style> element is written as a hex escape."""
    out = [c if _CSS_PLAIN.fullmatch(c) else f"\\{ord(c):06x}" for c in str(value)]
    return Markup('"' + "".join(out) + '"')


# What markupsafe.escape (the templates' autoescape) replaces, as a plain str translation.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&#39;", '"': "&#34;"})


def _esc(text: str) -> str:
    return text.translate(_ESCAPES)


def _tbodies(table: Table) -> Markup:
    """The rows of a handout table, one `<tbody>` per line (a line and its detail stay
    together on a printed page): what a loop in the template would write, made here because
    a handout has thousands of cells. Every text is escaped; nothing is marked safe."""
    kinds = [c.kind for c in table.columns]
    span = len(table.columns) - 1
    out: list[str] = []
    add = out.append
    for n, line in enumerate(table.lines, 1):
        add(
            '  <tbody class="group z1">\n'
            if table.zebra and n % 2 == 0
            else '  <tbody class="group">\n'
        )
        if line.style or line.detail:
            extra = " has-detail" if line.detail else ""
            add(f'  <tr class="{_esc(line.style)}{extra}">\n')
        else:
            add("  <tr>\n")
        for cell, kind in zip(line.cells, kinds, strict=False):
            bold = " bold" if cell.bold and kind != "name" else ""
            if cell.tag and cell.text:
                inner = f'<span class="chip {_esc(cell.tag)}">{_esc(cell.text)}</span>'
            elif kind in ("phone", "code"):
                inner = "<wbr>".join(f"<span>{_esc(part)}</span>" for part in parts(cell.text))
            else:
                inner = _esc(cell.text)
            add(f'    <td class="{_esc(kind)}{bold}">{inner}</td>\n')
        add("  </tr>\n")
        if line.detail:
            style = f" {_esc(line.style)}" if line.style else ""
            add(f'  <tr class="detail{style}"><td></td><td class="detail" colspan="{span}">'
                f"{_esc(line.detail)}</td></tr>\n")  # fmt: skip
        add("  </tbody>\n")
    return Markup("".join(out)[:-1])  # the template's own line break ends the last one


@cache
def environment() -> Environment:
    env = Environment(
        loader=FunctionLoader(_load_template),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["d"] = _date
    env.filters["rate"] = Score.rate_text
    env.filters["css_string"] = _css_string
    env.filters["month_label"] = month_label
    env.filters["parts"] = parts
    env.filters["tbodies"] = _tbodies
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    return env


def _render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


# ------------------------------------------------------------------ writing files


def _target(dest: Path, default_name: str) -> Path:
    """`dest` itself, or `dest/default_name` when dest is a folder."""
    dest = Path(dest)
    if dest.is_dir():
        return dest / default_name
    return dest


def _write_atomic(path: Path, data: str | bytes) -> None:
    atomic_write(path, data)


# ------------------------------------------------------------------ monthly and daily


def render_monthly_html(report: MonthlyReport, dest: Path, handout: Handout | None = None) -> Path:
    """The printed handout as one self-contained HTML page with A4 print CSS; `handout` is
    `build_handout(report)` when the caller has it already."""
    path = _target(dest, f"{Path(report.register).stem or 'report'}-{report.month}.html")
    h = handout or build_handout(report)
    _write_atomic(path, _render("monthly.html", r=report, h=h))
    return path


def render_daily_html(report: DailyReport, dest: Path) -> Path:
    """The day's new registrations as one self-contained HTML page."""
    path = _target(dest, f"{Path(report.register).stem or 'report'}-{report.day.isoformat()}.html")
    _write_atomic(path, _render("daily.html", r=report))
    return path


# ------------------------------------------------------------------ blackboard


def _entry_data(entry: BoardEntry, zone: str) -> dict[str, object]:
    line = entry.line
    return {
        "name": line.customer,
        "rep": line.rep,
        "dept": line.department,
        "phone": line.phone,
        "region": line.region,
        "status": line.status,
        "zone": zone,
        "visited": _date(line.visited),
        "sampled": _date(line.sampled),
        "won": _date(line.won),
        "until": _date(line.protected_until),
    }


def board_data(board: Board) -> dict[str, object]:
    """What the blackboard page's script searches: the customers of xlsync.lookup (keys,
    phones, verdicts) and the rows they stand for; the script asks them as `who` does."""
    from xlsync.lookup import CHECK_FIRST, MAYBE_LIMIT, MAYBE_SCORE, MIN_KEY, MIN_PHONE_DIGITS
    from xlsync.lookup import search_words as words
    from xlsync.rules import call_verdict

    entries = [
        *(_entry_data(e, "zone1") for e in board.zone1),
        *(_entry_data(e, "zone2") for e in board.zone2),
        *(_entry_data(e, "expired") for e in board.expired),
        *(_entry_data(e, "other") for e in board.others),
    ]
    customers = [
        {"name": c.name, "verdict": c.verdict, "stop": c.stop, "keys": c.keys,
         "phones": c.phones, "entries": c.entries}
        for c in board.customers
    ]  # fmt: skip
    return {
        "fingerprint": board.fingerprint,
        "refresh": BOARD_REFRESH_SECONDS,
        "versionFile": BOARD_VERSION_FILE,
        "words": words(),
        "limits": {
            "maybeScore": MAYBE_SCORE,
            "maybeLimit": MAYBE_LIMIT,
            "minKey": MIN_KEY,
            "minPhone": MIN_PHONE_DIGITS,
        },
        "texts": {"free": call_verdict(None), "check": CHECK_FIRST},
        "customers": customers,
        "entries": entries,
    }


def json_parts(data: Mapping[str, object], batch: int = 1000) -> Iterator[Markup]:
    """`data|tojson` as the templates write it (json.dumps under the environment's policy,
    then <, >, & and ' as unicode escapes), in pieces: a long list a batch of items at a
    time, so that a board of 100,000 rows is never one string."""
    options = environment().policies["json.dumps_kwargs"]

    def safe(text: str) -> Markup:
        return Markup(_html_safe_json(text))

    yield Markup("{")
    for n, (key, value) in enumerate(data.items()):
        head = (", " if n else "") + json.dumps(key, **options) + ": "
        if not isinstance(value, list) or len(value) <= batch:
            yield safe(head + json.dumps(value, **options))
            continue
        yield safe(head + "[")
        for start in range(0, len(value), batch):
            items = json.dumps(value[start : start + batch], **options)[1:-1]
            yield safe((", " if start else "") + items)
        yield Markup("]")
    yield Markup("}")


def _html_safe_json(text: str) -> str:
    """What jinja2's `tojson` does to the JSON text (htmlsafe_json_dumps)."""
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
    )


def _js_string(value: str) -> str:
    # JSON is a JS string literal; escape what could end a script or a line terminator
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_board(board: Board, dest: Path) -> Path:
    """The blackboard page (one self-contained file) and, beside it, board-version.js.

    The page polls board-version.js and reloads itself when the fingerprint it names is not
    its own, so the version file is written last: once it changes, the new page is there.
    """
    path = _target(dest, "board.html")
    data = json_parts(board_data(board))
    atomic_write_parts(path, environment().get_template("board.html").generate(b=board, data=data))
    version = f"window.XLSYNC_BOARD_VERSION = {_js_string(board.fingerprint)};\n"
    _write_atomic(path.parent / BOARD_VERSION_FILE, version)
    return path
