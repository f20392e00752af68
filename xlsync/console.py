"""Terminal output for people: Chinese tables with rich."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from xlsync.check import CheckResult
from xlsync.history import Event, EventKind
from xlsync.lookup import WHY_LABELS, LookupAnswer
from xlsync.register.schema import SheetKind, field_text
from xlsync.rules import VERDICT_LABELS, Verdict
from xlsync.sync import SyncOutcome

SHOW_AT_MOST = 40


def _where(file: str, sheet: str, row: int, folder: bool) -> str:
    place = f"{sheet} 第{row}行" if row else sheet
    return f"{file} {place}".strip() if folder else place


def print_check(result: CheckResult, console: Console, *, show_all: bool = False) -> None:
    folder = result.is_folder
    limit = None if show_all else SHOW_AT_MOST
    following = sum(1 for r in result.rows if r.kind is SheetKind.FOLLOWING)
    names = "、".join(r.name for r in result.registers.registers)
    console.print(
        Text.assemble(
            (f"检查 {names}", "bold"),
            f"（截至 {result.as_of.isoformat()}）：共 {len(result.rows)} 行客户，"
            f"跟进中 {following} 行，已合作 {len(result.rows) - following} 行",
        )
    )
    conflicts = result.conflicts
    console.print(
        Text.assemble(
            f"重复登记 {len(result.groups)} 组，其中 ",
            (f"冲突 {len(conflicts)} 组", "bold red"),
            "；",
            (f"问题 {len(result.problems)} 条", "bold yellow"),
            f"；待移到「已合作」 {len(result.moves)} 行",
        )
    )
    if conflicts:
        table = Table(title="冲突（同一客户被不同业务员登记）", show_lines=True)
        for title in ("客户", "归属", "原因", "各方登记"):
            table.add_column(title, overflow="fold")
        for group in conflicts[:limit]:
            owner = group.decision.owner
            claims = "\n".join(
                f"{c.row.rep or '（无业务员）'} {_where(c.row.file, c.row.sheet, c.row.row, folder)}"
                f"：{VERDICT_LABELS[c.verdict]}"
                for c in group.decision.claims
                if c.verdict is not Verdict.OWNER
            )
            agent = group.decision.agent
            why = group.reason.text()
            table.add_row(
                group.name,
                owner.row.rep if owner else (f"代理商 {agent}" if agent else "无人保护"),
                (owner.protection.reason() if owner else (
                    f"由代理商 {agent} 负责" if agent else "所有登记都不受保护"))
                + (f"\n（{why}）" if why or not agent else ""),
                claims,
            )  # fmt: skip
        console.print(table)
        _more(console, len(conflicts), limit)
    if result.problems:
        table = Table(title="问题（请在登记表中改正）")
        for title in ("位置", "列", "内容", "问题"):
            table.add_column(title, overflow="fold")
        for p in result.problems[:limit]:
            table.add_row(_where(p.file, p.sheet, p.row, folder), p.column, p.value, p.message)
        console.print(table)
        _more(console, len(result.problems), limit)
    if result.moves:
        table = Table(title="已成交，待移到「已合作」（运行 xlsync sync 完成移动）")
        for title in ("位置", "客户", "业务员"):
            table.add_column(title, overflow="fold")
        for r in result.moves[:limit]:
            table.add_row(_where(r.file, r.sheet, r.row, folder), r.customer, r.rep)
        console.print(table)
        _more(console, len(result.moves), limit)
    if not (conflicts or result.problems or result.moves):
        console.print("没有发现冲突或问题。", style="green")


def _more(console: Console, total: int, limit: int | None) -> None:
    if limit is not None and total > limit:
        console.print(f"……还有 {total - limit} 条未显示（加 --all 显示全部，或用 --json）")


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else ""


def print_who(answer: LookupAnswer, console: Console, *, rep: str | None, folder: bool) -> None:
    verdict = answer.verdict(rep)
    colour = "green" if answer.may_call(rep) and answer.same else "bold red"
    if not answer.same:
        colour = "bold yellow" if answer.maybe else "green"
    console.print(verdict, style=colour)
    if answer.same:
        table = Table(title=f"登记表中的「{answer.query}」", show_lines=True)
        for title in ("客户", "业务员", "状态", "日期", "保护", "位置"):
            table.add_column(title, overflow="fold")
        for hit in answer.same:
            for c in hit.customer.decision.claims:
                r = c.row
                dates = "\n".join(
                    f"{label} {_date(day)}"
                    for label, day in (("联系", r.contacted), ("拜访", r.visited),
                                       ("送样", r.sampled), ("成交", r.won))
                    if day is not None
                )  # fmt: skip
                table.add_row(
                    r.customer, f"{r.rep}\n{r.department}".strip(),
                    r.status.label if r.status else "", dates,
                    f"{c.protection.reason()}\n{VERDICT_LABELS[c.verdict]}",
                    _where(r.file, r.sheet, r.row, folder),
                )  # fmt: skip
        console.print(table)
    else:
        console.print(f"登记表中没有「{answer.query}」。")
    if answer.maybe:
        table = Table(title="可能是同一客户（名称相近，请核对）")
        for title in ("客户", "业务员", "归属", "相似", "位置"):
            table.add_column(title, overflow="fold")
        for hit in answer.maybe:
            found = hit.customer
            owner = found.decision.owner
            first = (owner or found.decision.claims[0]).row
            table.add_row(
                found.name, first.rep, found.verdict(rep), WHY_LABELS[hit.why],
                _where(first.file, first.sheet, first.row, folder),
            )  # fmt: skip
        console.print(table)


def print_sync(outcome: SyncOutcome, console: Console, *, rerun: str | None = None) -> None:
    """What a sync did, file by file. `rerun` is the command that finishes a deferred write
    (a manual sync does not come back by itself: only `watch` does)."""
    for f in outcome.files:
        plan = f.plan
        name = f.path.name
        if f.deferred is not None:
            again = f"请关闭后重新运行 {rerun}" if rerun else "请关闭后再同步"
            console.print(
                Text.assemble(
                    (f"暂缓写入 {name}", "bold yellow"),
                    f"：{f.deferred.describe()}。{again}。冲突和问题已写到 {f.sidecar}",
                )
            )
        elif f.refused is not None:
            console.print(
                Text.assemble(
                    (f"不能写入 {name}", "bold red"),
                    f"：{f.refused}。冲突和问题已写到 {f.sidecar}",
                )
            )
        elif f.written:
            console.print(
                Text.assemble(
                    (f"已更新 {name}", "green"),
                    f"：新编号 {len(plan.new_ids)} 个，"
                    f"移到「已合作」 {len(plan.moves)} 行，提示 {len(plan.hints)} 行，"
                    f"冲突 {len(plan.conflicts)} 条，问题 {len(plan.problems)} 条"
                    f"（备份：{f.backup}）",
                )
            )
            for note in f.notes:
                console.print(Text.assemble("  ", ("注意", "yellow"), f"：{note}"))
        else:
            console.print(f"{name}：无需改动")
        for r in plan.restores if f.written else []:
            sheet = plan.register.sheets[r.kind].name
            console.print(
                f"  恢复编号 {r.id}（{field_text(r.values, 'customer')}）→ {sheet} 第{r.row}行"
            )
        moves = plan.moves if f.written else []
        if moves:  # one print: a first sync may move a thousand rows
            console.print(
                "\n".join(
                    f"  {m.customer}（{m.rep}）：跟进中 第{m.source}行 → 已合作 第{m.target}行"
                    for m in moves
                )
            )
        for e in f.events:
            if e.kind is EventKind.DELETED:
                customer = ""
                detail = e.detail.get("values") if isinstance(e.detail, dict) else None
                if isinstance(detail, dict):
                    customer = field_text(detail, "customer")
                console.print(
                    Text.assemble(
                        "  ",
                        ("注意", "yellow"),
                        f"：编号 {e.id} {customer}（原 {e.sheet} 第{e.row}行）已被删除；"
                        f"如是误删，可用 xlsync restore {f.path} {e.id} 恢复",
                    )
                )
            elif e.kind is EventKind.RULING:
                from xlsync.rulings import ruling_sentence

                console.print(f"  记入历史：裁决第{e.row}行 {ruling_sentence(e.detail)}")


EVENT_LABELS = {EventKind.NEW: "新登记", EventKind.CHANGED: "修改", EventKind.MOVED: "移动",
                EventKind.DELETED: "删除", EventKind.RESTORED: "恢复",
                EventKind.RULING: "裁决"}  # fmt: skip


def _ruling_detail(detail: dict[str, Any]) -> str:
    """A recorded ruling in the history table: what, by whom, on which rows (编号)."""
    from xlsync.rulings import ruling_sentence

    ids = [*detail.get("ids", []), *detail.get("other_ids", [])]
    rows = f"；编号 {'、'.join(map(str, ids))}" if ids else ""
    note = f"；备注：{detail['note']}" if detail.get("note") else ""
    return f"{detail.get('date', '')} {ruling_sentence(detail)}{rows}{note}"


def print_history(
    events: list[Event], console: Console, *, folder: bool, total: int | None = None
) -> None:
    if not events:
        console.print("没有相关记录。")
        return
    table = Table(title="历史记录（最新在前）")
    for title in ("时间", "编号", "事件", "位置", "详情"):
        table.add_column(title, overflow="fold")
    for e in events:
        detail: dict[str, Any] = e.detail or {}
        if e.kind is EventKind.CHANGED:
            text = "；".join(f"{k}：{a or '（空）'} → {b or '（空）'}"
                            for k, (a, b) in detail.get("changed", {}).items())  # fmt: skip
        elif e.kind is EventKind.MOVED:
            text = f"{e.sheet} 第{e.row}行 → {detail.get('to_sheet', '')} 第{detail.get('to_row', '')}行"
        elif e.kind in (EventKind.NEW, EventKind.DELETED):
            values = detail.get("values", {})
            text = f"{field_text(values, 'customer')} {field_text(values, 'rep')}".strip()
        elif e.kind is EventKind.RULING:
            text = _ruling_detail(detail)
        else:
            text = ""
        place = f"{e.sheet} 第{e.row}行"
        table.add_row(f"{e.at:%Y-%m-%d %H:%M}", e.id, EVENT_LABELS[e.kind],
                      f"{e.file} {place}" if folder else place, text)  # fmt: skip
    console.print(table)
    if total is not None and total > len(events):
        console.print(
            f"共 {total} 条记录，以上是最新的 {len(events)} 条；还有 {total - len(events)} 条更早的"
            "（加 --all 显示全部，或 --limit N）"
        )
