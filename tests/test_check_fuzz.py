"""`check` never raises on any workbook made of random cell values and shapes."""

import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlsync.check import check_json, run_check

from .conftest import examples
from .helpers import HEADERS, write_register

cell = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.dates(min_value=dt.date(1905, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.sampled_from(["电话", "拜访", "送样", "已合作", "2026-13-01", "138-1234-5678", "合计",
                     "=1+1", "深圳市格林电子科技有限公司", "格林电子", "张伟"]),
)  # fmt: skip
rows = st.lists(st.lists(cell, max_size=len(HEADERS) + 2), max_size=25)


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(following=rows, cooperating=rows, shuffle=st.permutations(HEADERS), date1904=st.booleans())
def test_check_never_raises(
    tmp_path: Path, following: list, cooperating: list, shuffle: list, date1904: bool
) -> None:
    path = write_register(
        tmp_path / "fuzz.xlsx", following, cooperating, headers=list(shuffle), date1904=date1904
    )
    result = run_check(path, dt.date(2026, 11, 1))
    data = check_json(result)
    assert set(data) == {"register", "as_of", "groups", "conflicts", "problems", "moves"}
    for problem in data["problems"]:
        assert problem["row"] >= 2 and problem["message"]
