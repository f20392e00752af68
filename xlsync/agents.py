"""The manager's 代理商 sheet: customers served by regional agents or distributors.

Columns 客户名称 | 电话 | 地区 | 代理商 | 截止日期 (until, optional; the headers may also be
the register's aliases, or customer / phone / region / agent / until). A rep's claim on a
listed customer gets the verdict `agent` (see `rules.apply_agent`). A listing whose
截止日期 has passed no longer applies.

A row matches a listing by a shared phone number or by the same core name (the company
name without its place, legal form and industry words, as the duplicate search takes it
apart); the groups the matcher built then carry the verdict to every row of the customer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from xlsync.matching import analyse
from xlsync.problems import ProblemCode
from xlsync.records import Problem, Register, Row
from xlsync.register.cells import CellError, cell_text, is_blank, parse_date, parse_phones
from xlsync.register.schema import SheetKind, match_header, norm_label

_OWN_HEADERS = {
    norm_label("代理商"): "agent",
    norm_label("agent"): "agent",
    norm_label("截止日期"): "until",
    norm_label("until"): "until",
}


@dataclass(frozen=True, slots=True)
class Listing:
    file: str
    sheet: str
    row: int
    name: str
    phones: tuple[str, ...]
    region: str
    agent: str
    until: dt.date | None

    def applies(self, as_of: dt.date) -> bool:
        return self.until is None or as_of <= self.until


def _column(text: str) -> str | None:
    return _OWN_HEADERS.get(norm_label(text)) or match_header(text)


def read_agents(registers: Sequence[Register], problems: list[Problem]) -> list[Listing]:
    """Every listing of every register's 代理商 sheet; bad rows become problems there."""
    out: list[Listing] = []
    for register in registers:
        found = register.manager_grids.get(SheetKind.AGENTS)
        if found is None:
            continue
        sheet, grid = found
        header: dict[str, int] | None = None
        for r, cells in enumerate(grid, start=1):
            texts = [cell_text(v) for v in cells]
            if header is None:
                keys = {_column(t): c for c, t in enumerate(texts) if t}
                if "agent" in keys and ("customer" in keys or "phone" in keys):
                    header = {k: c for k, c in keys.items() if k}
                continue
            if not any(texts):
                continue

            def cell(
                key: str, cells: Sequence[object] = cells, header: dict[str, int] = header
            ) -> object:
                c = header.get(key)
                return cells[c] if c is not None and c < len(cells) else None

            name = cell_text(cell("customer"))
            phones, _bad = parse_phones(cell("phone"))
            agent = cell_text(cell("agent"))
            if not name and not phones:
                problems.append(
                    Problem(register.name, sheet, r, "客户名称", agent,
                            "代理商客户缺少客户名称和电话，本行不生效",
                            code=ProblemCode.AGENT_MISSING_CUSTOMER)
                )  # fmt: skip
                continue
            if not agent:
                problems.append(
                    Problem(register.name, sheet, r, "代理商", name or phones[0],
                            "缺少代理商名称，本行不生效",
                            code=ProblemCode.AGENT_MISSING_AGENT)
                )  # fmt: skip
                continue
            until: dt.date | None = None
            raw = cell("until")
            if not is_blank(raw):
                try:
                    until = parse_date(raw, date1904=register.date1904)
                except CellError as exc:
                    problems.append(
                        Problem(register.name, sheet, r, "截止日期", cell_text(raw), exc.message,
                                code=ProblemCode.AGENT_BAD_DATE)
                    )  # fmt: skip
                    continue
            region = cell_text(cell("region"))
            out.append(Listing(register.name, sheet, r, name, phones, region, agent, until))
    return out


def agent_for(rows: Sequence[Row], listings: Sequence[Listing], as_of: dt.date) -> str:
    """The agent serving the customer of `rows`, or "" (the first listing in force that
    matches any row, by sheet order)."""
    cores = {analyse(r.customer).core for r in rows if r.customer} - {""}
    phones = {p for r in rows for p in r.phones}
    for listing in listings:
        if not listing.applies(as_of):
            continue
        if phones & set(listing.phones):
            return listing.agent
        if listing.name and analyse(listing.name).core in cores:
            return listing.agent
    return ""
