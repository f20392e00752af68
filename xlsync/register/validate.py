"""Rules about rows that need more than one cell: missing names, roster, future dates,
statuses that contradict the dates, duplicate 编号."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from xlsync.problems import ProblemCode
from xlsync.records import Problem, Row
from xlsync.register.schema import DATE_FIELDS, FIELD_BY_KEY, SheetKind, Status
from xlsync.settings import Settings


def validate_rows(rows: Iterable[Row], settings: Settings, as_of: dt.date) -> list[Problem]:
    problems: list[Problem] = []
    seen_ids: dict[str, Row] = {}
    for row in rows:

        def add(code: ProblemCode, key: str, value: str, message: str, row: Row = row) -> None:
            header = FIELD_BY_KEY[key].header
            problems.append(
                Problem(row.file, row.sheet, row.row, header, value, message, code=code)
            )

        if not row.customer:
            add(ProblemCode.CUSTOMER_MISSING, "customer", "", "这一行有内容但缺少客户名称")
        if not row.rep:
            add(ProblemCode.REP_MISSING, "rep", "", "这一行缺少业务员")
        elif not settings.rep_known(row.rep):
            add(ProblemCode.REP_UNKNOWN, "rep", row.rep, "业务员不在「设置」的名单中")
        for key in DATE_FIELDS:
            value = getattr(row, key)
            if value is not None and value > as_of:
                add(
                    ProblemCode.DATE_FUTURE,
                    key,
                    value.isoformat(),
                    f"日期晚于今天（{as_of.isoformat()}）",
                )
        _check_status(row, add)
        if row.id:
            first = seen_ids.get(row.id)
            if first is None:
                seen_ids[row.id] = row
            else:
                where = f"{first.sheet} 第 {first.row} 行"
                if first.file != row.file:
                    where = f"{first.file} {where}"
                add(ProblemCode.ID_DUPLICATE, "id", row.id, f"编号重复（与 {where}相同）")
    return problems


def _check_status(row: Row, add: Callable[[ProblemCode, str, str, str], None]) -> None:
    status = row.status
    if status is None or "status" in row.unreadable:
        return
    label = status.label
    if row.is_move and status is not Status.COOPERATING:
        return  # won by its 成交日期: the sync sets 已合作 as it moves the row
    if status is Status.SAMPLED and row.sampled is None and "sampled" not in row.unreadable:
        add(ProblemCode.STATUS_MISSING_DATE, "status", label, "状态为送样，但没有填写送样日期")
    elif (
        status is Status.VISITED
        and row.visited is None
        and row.sampled is None
        and not {"visited", "sampled"} & row.unreadable
    ):
        add(ProblemCode.STATUS_MISSING_DATE, "status", label, "状态为拜访，但没有填写拜访日期")
    elif status is Status.PHONE and (row.visited or row.sampled):
        done = "送样" if row.sampled else "拜访"
        add(
            ProblemCode.STATUS_CONTRADICTS_DATES,
            "status",
            label,
            f"状态为电话，但已填写{done}日期（请把状态改为{done}）",
        )
    if status is Status.COOPERATING and row.won is None and "won" not in row.unreadable:
        add(
            ProblemCode.WON_MISSING_DATE,
            "won",
            "",
            "状态为已合作，但没有填写成交日期（请补上首单日期）",
        )
    if row.kind is SheetKind.COOPERATING and status is not Status.COOPERATING and row.won is None:
        add(
            ProblemCode.STATUS_NOT_COOPERATING,
            "status",
            label,
            "在「已合作」表中，但状态不是已合作",
        )
