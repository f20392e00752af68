"""Property: after any sync of any register, nothing a rep typed is lost."""

import datetime as dt
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from xlsync.check import run_check
from xlsync.register.reader import read_register
from xlsync.register.schema import Status
from xlsync.sync import sync

from .conftest import examples
from .helpers import customer, write_register

NAMES = ["深圳市格林电子科技有限公司", "格林电子", "格林电器", "华美涂料", "华美涂料有限公司",
         "宏达印刷厂", "=SUM(A1)", "+86 格林", "-雅玛西"]  # fmt: skip
REPS = ["张伟", "王芳", "李娜", "", "赵六"]
DATES = st.one_of(st.none(), st.dates(dt.date(2025, 6, 1), dt.date(2026, 12, 31)),
                  st.sampled_from(["2026/10/3", "2026-13-01", "下周"]))  # fmt: skip

row = st.builds(
    lambda name, rep, visited, sampled, status, won, phone, extra: customer(
        customer=name, rep=rep, visited=visited, sampled=sampled, status=status, won=won,
        phone=phone, notes=extra,
    ),
    st.sampled_from([*NAMES, None]),
    st.sampled_from(REPS),
    DATES,
    DATES,
    st.sampled_from([None, "电话", "拜访", "送样", "已合作", "跟进"]),
    st.one_of(st.none(), st.dates(dt.date(2025, 1, 1), dt.date(2026, 11, 1))),
    st.sampled_from([None, "13812345678", "138-1234-5678", "0755-23456789", "12345"]),
    st.sampled_from([None, "回访中", "=1+1", "样品 BL-466"]),
)  # fmt: skip


def values(path: Path) -> Counter[str]:
    book = CalamineWorkbook.from_path(str(path))
    out: Counter[str] = Counter()
    for name in book.sheet_names:
        if name in ("冲突", "问题"):
            continue  # written by xlsync
        for cells in book.get_sheet_by_name(name).to_python():
            out.update(str(v) for v in cells if v not in ("", None))
    return out


@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(following=st.lists(row, max_size=12), cooperating=st.lists(row, max_size=4))
def test_sync_keeps_every_value_and_every_row(
    tmp_path_factory, following: list, cooperating: list
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    path = write_register(folder / "r.xlsx", following, cooperating)
    before_values = values(path)
    before_rows = len(read_register(path).rows)
    # the one value a sync may change: a won row's 状态 becomes 已合作 when it moves
    moved = [r.status.label for r in run_check(path, dt.date(2026, 11, 1)).moves
             if r.status is not None and r.status is not Status.COOPERATING]  # fmt: skip
    before_values = before_values - Counter(moved)
    sync(path, dt.date(2026, 11, 1))
    after_values = values(path)
    missing = before_values - after_values
    assert not missing, missing
    assert len(read_register(path).rows) == before_rows
    data = path.read_bytes()
    outcome = sync(path, dt.date(2026, 11, 1))
    assert all(f.plan.empty for f in outcome.files)
    assert path.read_bytes() == data
