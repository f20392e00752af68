"""Write sample_registers/demo.xlsx and its README from the deterministic generator.

Run from the repo root:  python scripts/make_sample_registers.py
The output is byte-for-byte reproducible: running it again changes nothing.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import openpyxl  # noqa: E402

from tests.data_gen import (  # noqa: E402
    COOPERATING,
    EXTRA_HEADER,
    FOLLOWING,
    HEADERS,
    PROTECTION_DAYS,
    GeneratedInfo,
    make_register,
)

OUT_DIR = ROOT / "sample_registers"
DEMO = OUT_DIR / "demo.xlsx"
ROWS = 300
SEED = 7

_KIND_TEXT = {
    "impossible_date": "a date that does not exist",
    "unknown_status": "a status that is not 电话/拜访/送样/已合作",
    "missing_customer": "no customer name",
    "missing_rep": "no rep",
    "unknown_rep": "a rep who is not on the 设置 roster",
    "future_date": "a visit/sample date after as-of",
    "missing_sample_date": "status 送样 without a 送样日期",
    "bad_phone": "a phone that cannot be a phone number",
    "duplicate_id": "an 编号 already used by an earlier row",
}
_VARIANT_TEXT = {
    "short": "short name",
    "brackets": "city in brackets",
    "traditional": "traditional characters",
    "fullwidth": "full-width letters",
    "spaces": "extra spaces",
    "city": "city prefix dropped/added",
    "same_name": "same name, phone in another format",
}


def _cell(value: object) -> str:
    if value is None:
        return "(empty)"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "`" + text.replace("|", "\\|") + "`"


def readme(info: GeneratedInfo) -> str:
    wb = openpyxl.load_workbook(info.path)
    name_col = HEADERS.index("客户名称") + 1
    rep_col = HEADERS.index("业务员") + 1

    def name(sheet: str, row: int) -> str:
        return _cell(wb[sheet].cell(row, name_col).value)

    def rep(sheet: str, row: int) -> str:
        return str(wb[sheet].cell(row, rep_col).value)

    groups = info.duplicate_groups()
    coop_dups = sum(d.original.sheet == COOPERATING for d in info.duplicate_details)
    lines = [
        "# Sample registers",
        "",
        "`demo.xlsx` is a realistic, deliberately messy customer register written by the",
        "deterministic generator in `tests/data_gen.py`. Regenerate it (byte-for-byte the same",
        "file, given the same openpyxl/Faker versions) with:",
        "",
        "```",
        "python scripts/make_sample_registers.py",
        "```",
        "",
        f"Parameters: `rows={ROWS}`, `seed={SEED}`, `as_of={info.as_of.isoformat()}`, messy, title",
        "row. Use `--as-of " + info.as_of.isoformat() + "` with xlsync to get the results below;",
        f"protection is {PROTECTION_DAYS} days, so contacts spread over the 8 months before",
        "as-of leave some claims protected and some expired.",
        "",
        "## What is inside",
        "",
        f"- `{FOLLOWING}`: title row 1 (`{info.title}`, merged), headers in row"
        f" {info.header_rows[FOLLOWING]}, {info.data_rows[FOLLOWING]} customer rows"
        f" (rows {info.data_row_numbers[FOLLOWING][0]}-{info.data_row_numbers[FOLLOWING][-1]}),"
        f" blank rows {', '.join(str(b.row) for b in info.blank_rows)},"
        f" and a `合计` row at row {info.total_row.row if info.total_row else '-'}.",
        f"  The extra column `{EXTRA_HEADER}` (unknown to xlsync) must survive every write.",
        f"- `{COOPERATING}`: {info.data_rows[COOPERATING]} won customers (rows 2-"
        f"{info.data_rows[COOPERATING] + 1}), each with a 成交日期.",
        f"- `设置`: 保护天数 90, 跟进提醒天数 30, 公司名称, and a roster of {len(info.roster)} reps"
        " in 业务一部 / 业务二部.",
        f"- {len(info.prefilled_ids)} rows already carry an 编号; the rest get one from"
        " `xlsync sync`.",
        "- Dates are mostly real Excel dates, some typed as text (`2026/10/3`, `2026.10.3`,"
        " `2026年10月3日`, `2026-10-03`); phones come in every form reps type (plain, dashes,"
        " spaces, +86, landlines, two numbers split by `/`, a number stored as a number).",
        "",
        f"## Planted duplicate claims ({len(info.duplicates)} pairs in {len(groups)} groups,"
        f" {coop_dups} against {COOPERATING})",
        "",
        "| original | duplicate | how it is written | same phone | same rep |",
        "|---|---|---|---|---|",
    ]
    for d in info.duplicate_details:
        o, u = d.original, d.duplicate
        lines.append(
            f"| {o.sheet} {o.row}: {name(o.sheet, o.row)} ({rep(o.sheet, o.row)})"
            f" | {u.sheet} {u.row}: {name(u.sheet, u.row)} ({rep(u.sheet, u.row)})"
            f" | {_VARIANT_TEXT[d.variant]} | {'yes' if d.same_phone else 'no'}"
            f" | {'yes' if d.same_rep else 'no'} |"
        )
    lines += [
        "",
        f"## Planted problems ({len(info.problems)}, one per row)",
        "",
        "| sheet | row | kind | column | value |",
        "|---|---|---|---|---|",
    ]
    for p in info.problems:
        column, value = info.problem_cells[(p.sheet, p.row)]  # type: ignore[index]
        lines.append(
            f"| {p.sheet} | {p.row} | {p.kind} ({_KIND_TEXT[p.kind]}) | {column} | {_cell(value)} |"
        )
    lines += [
        "",
        f"Besides these, `check` asks for the 成交日期 of the {len(info.won_date_missing)} moves"
        " marked 已合作 without one (rows "
        + ", ".join(str(r.row) for r in info.won_date_missing)
        + ").",
    ]
    variants = Counter(info.move_variants.values())
    lines += [
        "",
        f"## Planted moves ({len(info.moves)} rows of {FOLLOWING} that belong in {COOPERATING})",
        "",
        f"{variants['status_and_date']} with status 已合作 and a 成交日期, "
        f"{variants['status_only']} with status 已合作 only, "
        f"{variants['date_only']} with a 成交日期 only.",
        "",
        "| row | customer | rep | signal |",
        "|---|---|---|---|",
    ]
    for m in info.moves:
        lines.append(
            f"| {m.row} | {name(m.sheet, m.row)} | {rep(m.sheet, m.row)}"
            f" | {info.move_variants[m]} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    OUT_DIR.mkdir(exist_ok=True)
    info = make_register(DEMO, rows=ROWS, seed=SEED, messy=True, title_row=True)
    (OUT_DIR / "README.md").write_text(readme(info), encoding="utf-8")
    print(
        f"wrote {DEMO.relative_to(ROOT)}: {info.data_rows[FOLLOWING]} + "
        f"{info.data_rows[COOPERATING]} rows, {len(info.duplicates)} duplicates, "
        f"{len(info.problems)} problems, {len(info.moves)} moves"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
