"""Stable codes for validation problems.

A problem's Chinese message is for the rep and may be reworded; its code is for scripts
(`check --json`), tests and later stages, and never changes once released. Every code is
documented in docs/check-json.md (a test keeps the two in step). Codes are dotted:
`<what>.<why>`, lower case.
"""

from __future__ import annotations

from enum import StrEnum


class ProblemCode(StrEnum):
    # a customer row's cells
    DATE_INVALID = "date.invalid"  # a date cell that is no date (2026-13-01, 2026/2/30, text)
    DATE_FUTURE = "date.future"  # a date after as-of
    PHONE_UNREADABLE = "phone.unreadable"  # a phone cell, or part of it, that is no number
    STATUS_UNKNOWN = "status.unknown"  # a 状态 word that is not 电话/拜访/送样/已合作
    STATUS_MISSING_DATE = "status.missing_date"  # 送样 without 送样日期, 拜访 without a date
    STATUS_CONTRADICTS_DATES = (
        "status.contradicts_dates"  # 电话 while a visit/sample date is filled
    )
    STATUS_NOT_COOPERATING = "status.not_cooperating"  # on 已合作 with another status
    WON_MISSING_DATE = "won.missing_date"  # 已合作 without 成交日期
    CUSTOMER_MISSING = "customer.missing"  # a row with content but no 客户名称
    REP_MISSING = "rep.missing"  # no 业务员
    REP_UNKNOWN = "rep.unknown"  # 业务员 not on the 设置 roster
    ID_DUPLICATE = "id.duplicate"  # an 编号 already used by an earlier row
    # the register as a whole
    FILE_UNUSABLE = "file.unusable"  # a register of a folder that cannot be read at all
    SETTINGS_INVALID = "settings.invalid"  # a 设置 value that cannot be read
    # the manager's 裁决 sheet
    RULING_NO_HEADER = "ruling.no_header"  # 裁决 has content but no header row
    RULING_UNKNOWN_KIND = "ruling.unknown_kind"  # 裁决 blank or not 同一客户/不同客户/指派/释放
    RULING_BAD_DATE = "ruling.bad_date"  # 日期 blank or not a date
    RULING_BAD_DAYS = "ruling.bad_days"  # 保护天数 neither days nor 长期
    RULING_MISSING_CUSTOMER = "ruling.missing_customer"  # 客户 blank
    RULING_MISSING_OTHER = "ruling.missing_other"  # 同一客户/不同客户 without 另一客户
    RULING_MISSING_REP = "ruling.missing_rep"  # 指派 without 业务员
    RULING_UNKNOWN_REP = "ruling.unknown_rep"  # 业务员 not on the roster
    AGENT_MISSING_CUSTOMER = "agent.missing_customer"  # 代理商 row without 客户名称 or 电话
    AGENT_BAD_DATE = "agent.bad_date"  # 代理商 截止日期 not a date
    AGENT_MISSING_AGENT = "agent.missing_agent"  # 代理商 row without the agent's name
    # the 分配规则 table of 设置
    ALLOCATION_UNKNOWN_REP = "allocation.unknown_rep"  # 业务员 not on the roster
    ALLOCATION_UNKNOWN_DEPARTMENT = "allocation.unknown_department"  # 部门 not on the roster
    ALLOCATION_BAD_REGION = "allocation.bad_region"  # 地区 that is no place
    ALLOCATION_MISSING_REP = "allocation.missing_rep"  # neither 业务员 nor 部门
    RULING_NOT_FOUND = "ruling.not_found"  # 客户/另一客户 names no row (no such 编号 or name)
    RULING_AMBIGUOUS = "ruling.ambiguous"  # a name that fits several customers
    RULING_DELETED_ROW = "ruling.deleted_row"  # an 编号 whose row was deleted
    RULING_SAME_CUSTOMER = "ruling.same_customer"  # 客户 and 另一客户 name the same row
    # the manager's choices on 待确认
    REVIEW_BAD_CHOICE = "review.bad_choice"  # a choice other than 同一客户/不同客户
    REVIEW_ROW_GONE = "review.row_gone"  # a row of the pair is no longer in the register
