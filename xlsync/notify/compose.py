"""From what happened to notices (typed), and from notices to messages (the sentences).

`conflict_notices` and `ruling_notices` read a sync's outcome; the daily list and the
handout come from the schedule's files. `message` is the one place where a notice becomes
Chinese text: a subject, markdown for the robots and HTML for mail. Every value from the
register is escaped in the HTML; no message to a group (robot) carries a phone number.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from xlsync.check import CheckResult
from xlsync.history import Event, EventKind
from xlsync.lookup import display_name
from xlsync.notify.model import (
    ConflictNotice,
    DailyNotice,
    HandoverNotice,
    Kind,
    Message,
    MonthlyNotice,
    Notice,
    Place,
    Role,
    RulingNotice,
    TestNotice,
)
from xlsync.rules import Verdict

CHANNEL_NAMES = {"smtp": "邮件", "wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}


# ------------------------------------------------------------------ what happened


def conflict_notices(result: CheckResult) -> list[ConflictNotice]:
    """For every conflict with an owner: each rep who must stop is told who owns the
    customer and until when; the owner is told who else claimed it (one notice per
    claimant). Phone-only overlaps, expired claims and an agent's customers are not
    notices. The outbox keeps only the ones not sent before."""
    out: list[ConflictNotice] = []
    for group in result.conflicts:
        owner = group.decision.owner
        if owner is None or not owner.row.rep:
            continue
        name = group.name
        prot = owner.protection
        owner_place = Place(owner.row.file, owner.row.sheet, owner.row.row)
        told: set[str] = set()
        for claim in group.decision.claims:
            rep = claim.row.rep
            if claim.verdict is not Verdict.MUST_STOP or not rep or rep == owner.row.rep:
                continue
            if rep in told:
                continue
            told.add(rep)
            place = Place(claim.row.file, claim.row.sheet, claim.row.row)
            reason = prot.reason()
            out.append(ConflictNotice(name, group.key, rep, Role.STOP, owner.row.rep, reason,
                                      prot.until, owner.row.rep, place))  # fmt: skip
            out.append(ConflictNotice(name, group.key, owner.row.rep, Role.OWNER, owner.row.rep,
                                      reason, prot.until, rep, owner_place))  # fmt: skip
    return out


HANDOVER_WINDOW_DAYS = 30  # a freed customer is offered while its protection ended recently


def handover_notices(result: CheckResult) -> list[HandoverNotice]:
    """Each freed customer the 分配规则 suggests a next rep for, to that rep, while the
    protection that ended is at most HANDOVER_WINDOW_DAYS old (turning delivery on does
    not offer every customer that expired years ago). The outbox sends each once."""
    out: list[HandoverNotice] = []
    for rows, decision in result.customers():
        suggestion = result.suggestion_for(rows)
        if suggestion is None:
            continue
        ended_claims = [c for c in decision.claims if c.protection.ever_protected and c.row.rep]
        ended = max((u for c in ended_claims if (u := c.protection.until)), default=None)
        if ended is None or (result.as_of - ended).days > HANDOVER_WINDOW_DAYS:
            continue
        previous = "、".join(dict.fromkeys(c.row.rep for c in ended_claims))
        region = next((r.region for r in rows if r.region), "")
        out.append(
            HandoverNotice(suggestion.rep, display_name(rows, None), previous, ended, region)
        )
    return out


def ruling_notices(events: Iterable[Event]) -> list[RulingNotice]:
    """A new 指派 (assign) or 释放 (release) ruling, to the rep it names."""
    out: list[RulingNotice] = []
    for e in events:
        if e.kind is not EventKind.RULING:
            continue
        d = e.detail
        rep = str(d.get("rep") or "")
        if not rep:
            continue
        out.append(
            RulingNotice(
                key=str(d.get("key") or f"{e.file}:{e.row}"),
                to=rep,
                label=str(d.get("label") or d.get("kind") or ""),
                customer=str(d.get("customer_name") or d.get("customer") or ""),
                date=str(d.get("date") or ""),
                days=str(d.get("days") or ""),
                by=str(d.get("by") or ""),
                note=str(d.get("note") or ""),
            )
        )
    return out


# ------------------------------------------------------------------ the sentences


def _where(place: Place | None) -> str:
    if place is None:
        return ""
    return f"{place.file} · {place.sheet} 第 {place.row} 行"


def _html(paragraphs: Iterable[str], footer: str = "") -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)
    foot = f'<p style="color:#888;font-size:12px">{html.escape(footer)}</p>' if footer else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head>'
        f'<body style="font-family:sans-serif">{body}{foot}</body></html>'
    )


FOOTER = "此消息由 xlsync 自动发送，请勿直接回复。"


def message(notice: Notice) -> Message:
    """The one place a notice becomes words."""
    if isinstance(notice, ConflictNotice):
        return _conflict(notice)
    if isinstance(notice, RulingNotice):
        subject = f"裁决：{notice.label} {notice.customer}"
        lines = [
            f"{notice.to}，经理的裁决与你有关：",
            f"{notice.label} {notice.customer}"
            + (f"，保护 {notice.days} 天" if notice.days and notice.days != "长期" else "")
            + ("，长期保护" if notice.days == "长期" else ""),
            f"日期：{notice.date}" + (f"；经办人：{notice.by}" if notice.by else ""),
            f"备注：{notice.note}" if notice.note else "",
        ]
        return _plain(Kind.RULING, f"ruling|{notice.key}|{notice.to}", (notice.to,), subject, lines)
    if isinstance(notice, HandoverNotice):
        subject = f"可接手客户：{notice.customer}"
        ended = notice.ended.isoformat() if notice.ended else ""
        lines = [
            f"{notice.to}，建议由你接手客户 {notice.customer}"
            + (f"（{notice.region}）" if notice.region else "")
            + "。",
            f"{notice.previous} 的保护已于 {ended} 结束。" if notice.previous else "",
        ]
        key = f"handover|{notice.customer}|{notice.to}|{ended}"
        return _plain(Kind.HANDOVER, key, (notice.to,), subject, lines)
    if isinstance(notice, DailyNotice):
        scope = notice.department or "全公司"
        subject = f"{notice.day.isoformat()} 新登记客户（{scope}，{notice.count} 家）"
        per_rep = "、".join(f"{rep} {n} 家" for rep, n in notice.reps) or "无"
        md = (
            f"### {subject}\n\n{notice.to}：{notice.day.isoformat()} {scope}新登记客户 "
            f"{notice.count} 家（{per_rep}）。明细见邮件附件或共享文件夹 reports/。"
        )
        key = f"daily|{notice.day.isoformat()}|{notice.department}|{notice.to}"
        return Message(Kind.DAILY, key, (notice.to,), subject, md, notice.html, notice.files,
                       notice.published)  # fmt: skip
    if isinstance(notice, MonthlyNotice):
        subject = f"{notice.month} 月度客户清单"
        lines = [
            f"{notice.month} 的月度客户清单已生成，请查看附件（PDF 可直接打印）。",
            "清单也在共享文件夹的 reports/ 中。",
        ]
        md = f"### {subject}\n\n{lines[0]}\n\n{lines[1]}"
        return Message(Kind.MONTHLY, f"monthly|{notice.month}", notice.to, subject, md,
                       _html(lines, FOOTER), notice.files, notice.published)  # fmt: skip
    stamp = notice.at.strftime("%Y-%m-%d %H:%M")
    lines = [f"这是 xlsync 的测试消息（{stamp}）。", "收到这条消息，说明通知渠道已配置好。"]
    return _plain(Kind.TEST, f"test|{stamp}", notice.to, "xlsync 测试消息", lines)


def links_markdown(links: Iterable[tuple[str, str]]) -> str:
    """A robot post's line linking published reports: 下载：[名称](网址) · …"""
    found = [f"[{name}]({url})" for name, url in links]
    return ("下载：" + " · ".join(found)) if found else ""


def _plain(kind: Kind, key: str, reps: tuple[str, ...], subject: str, lines: list[str]) -> Message:
    lines = [line for line in lines if line]
    md = f"### {subject}\n\n" + "\n\n".join(lines)
    return Message(kind, key, reps, subject, md, _html(lines, FOOTER))


def _conflict(n: ConflictNotice) -> Message:
    if n.role is Role.STOP:
        subject = f"请停止跟进：{n.customer}（已由 {n.owner} 保护）"
        lines = [
            f"{n.to}，你登记的客户 {n.customer} 已由 {n.owner} 保护，请停止跟进。",
            f"{n.owner}：{n.owner_reason}。",
            f"你的登记：{_where(n.place)}" if n.place else "",
            "如有异议，请找经理在「裁决」表中裁决。",
        ]
        key = f"conflict|stop|{n.group}|{n.to}|{n.owner}"
    else:
        subject = f"客户 {n.customer} 被 {n.other} 重复登记"
        lines = [
            f"{n.to}，你保护的客户 {n.customer} 也被 {n.other} 登记了。",
            f"你的保护：{n.owner_reason}。{n.other} 已被告知停止跟进。",
            f"你的登记：{_where(n.place)}" if n.place else "",
        ]
        key = f"conflict|owner|{n.group}|{n.to}|{n.other}"
    return _plain(Kind.CONFLICT, key, (n.to,), subject, lines)


__all__ = ["CHANNEL_NAMES", "TestNotice", "conflict_notices", "message", "ruling_notices"]
