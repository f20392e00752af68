"""Rules and roster: defaults, overridden by the register's 设置 sheet."""

from __future__ import annotations

from dataclasses import dataclass, field

from xlsync.allocation import AllocationRule
from xlsync.register.schema import norm_label

DEFAULT_PROTECTION_DAYS = 90
DEFAULT_FOLLOW_UP_DAYS = 30


@dataclass(frozen=True, slots=True)
class RepContact:
    """How to reach a rep, from the roster's optional 邮箱 | 手机 | 负责人 columns."""

    email: str = ""
    mobile: str = ""  # canonical digits (a mobile), "" when none or unreadable
    head: bool = False  # 负责人 = 是: the department's head (receives its daily list)


@dataclass(slots=True)
class Settings:
    protection_days: int = DEFAULT_PROTECTION_DAYS
    follow_up_days: int = DEFAULT_FOLLOW_UP_DAYS
    company: str = ""
    mask_phones: bool = True
    roster: dict[str, str] = field(default_factory=dict)  # rep name -> department
    contacts: dict[str, RepContact] = field(default_factory=dict)  # rep name -> how to reach
    # the office rules (issue 14); None or 0: off
    max_protected: int | None = None  # 最多保护客户数: customers one rep may hold protected
    cool_down_days: int | None = (
        None  # 冷却天数: after a protection ends, days before re-protecting
    )

    # 分配规则 as typed (checked against the roster and the places by `check`)
    allocation: tuple[AllocationRule, ...] = ()

    def rep_known(self, rep: str) -> bool:
        return not self.roster or rep in self.roster

    def contact(self, rep: str) -> RepContact:
        return self.contacts.get(rep, RepContact())

    def heads(self, department: str | None = None) -> list[str]:
        """The department heads (of `department`, or all), in roster order. A head whose
        部门 is blank heads the whole office."""
        return [
            rep
            for rep, dept in self.roster.items()
            if self.contact(rep).head and (department is None or dept in (department, ""))
        ]


@dataclass(frozen=True, slots=True)
class SettingKey:
    attr: str
    label: str  # the Chinese key written into 设置
    kind: str  # "days", "text", "bool"
    note: str


SETTING_KEYS: tuple[SettingKey, ...] = (
    SettingKey("protection_days", "保护天数", "days", "拜访或送样后保护客户的天数"),
    SettingKey("follow_up_days", "跟进提醒天数", "days", "超过这么多天没有跟进就提醒"),
    SettingKey("company", "公司名称", "text", "打印清单页眉上的公司名称"),
    SettingKey("mask_phones", "打印隐藏电话", "bool", "是 = 打印时电话显示为 138****5678"),
)
# The office rules' keys: read from 设置 (blank or 0: off); `kind` "count" is a whole number
# of 0 or more. `init` writes them after SETTING_KEYS with blank values.
OFFICE_KEYS: tuple[SettingKey, ...] = (
    SettingKey(
        "max_protected", "最多保护客户数", "count", "每个业务员最多同时保护的客户数；留空不限"
    ),
    SettingKey(
        "cool_down_days",
        "冷却天数",
        "count",
        "保护到期或释放后，同一业务员须等这么多天才能再保护；留空不限",
    ),
)
SETTING_BY_LABEL: dict[str, SettingKey] = {}
for _k in SETTING_KEYS + OFFICE_KEYS:
    SETTING_BY_LABEL[norm_label(_k.label)] = _k
    SETTING_BY_LABEL[norm_label(_k.attr)] = _k

TRUE_WORDS = {norm_label(w) for w in ("是", "yes", "true", "1", "对", "y")}
FALSE_WORDS = {norm_label(w) for w in ("否", "no", "false", "0", "不", "n")}


# The roster table's columns: 业务员 | 部门, and optionally 邮箱 | 手机 | 负责人. On a data
# sheet 手机 is another name for 电话; in the roster it is the rep's own mobile.
ROSTER_COLUMNS: dict[str, str] = {}
for _key, _names in {
    "rep": ("业务员", "rep", "销售", "销售员", "跟进人"),
    "department": ("部门", "department"),
    "email": ("邮箱", "email", "e-mail", "电子邮件", "电子邮箱", "邮件"),
    "mobile": ("手机", "mobile", "手机号", "手机号码", "电话", "phone"),
    "head": ("负责人", "head", "部门负责人"),
}.items():
    for _name in _names:
        ROSTER_COLUMNS[norm_label(_name)] = _key


def roster_column(text: object) -> str | None:
    """Which roster column a header cell of the roster table names, or None."""
    return ROSTER_COLUMNS.get(norm_label(text)) if text is not None else None
