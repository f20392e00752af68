"""One answer, whatever is asked: the same queries through `xlsync who --json` and through
the blackboard's search box in Chromium give the same verdict, the same customers found and
the same look-alikes; the page's query key equals xlsync.lookup.query_key on every name."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xlsync.lookup import query_key

from .helpers import run_cli
from .test_report_html import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "sample_registers" / "demo.xlsx"
AS_OF = "2026-11-01"


@pytest.fixture(scope="module")
def demo_board(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("demo")
    register = folder / "demo.xlsx"
    shutil.copy(DEMO, register)
    run = run_cli("report", "board", register, "--out", folder / "out", "--as-of", AS_OF)
    assert run.code == 0, run.stderr
    return register, next((folder / "out").glob("*.html"))


@pytest.fixture(scope="module")
def board_page(demo_board: tuple[Path, Path]) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(demo_board[1].as_uri())
        yield page
        browser.close()


def _demo_rows():  # type: ignore[no-untyped-def]
    from xlsync.register_set import load_set

    return [r for reg in load_set(DEMO).registers for r in reg.rows]


def _demo_names() -> list[str]:
    return [r.customer for r in _demo_rows() if r.customer]


def _demo_phones() -> list[str]:
    return [r.phone_text for r in _demo_rows() if r.phone_text][:40]


def _queries() -> list[str]:
    names = _demo_names()
    picked = names[::7][:45]
    variants = []
    for n in picked[:15]:
        variants.append(n.replace("有限公司", ""))  # a rep drops the legal form
        variants.append(n[: max(2, len(n) // 3)])  # only the start of the name
    odd = ["格林", "某公司", "不存在的客户名称", "深圳市", "有限公司", "ＡＢＣ电子", "<script>x"]
    return picked + variants + _demo_phones() + odd


def _who(register: Path, query: str) -> dict[str, Any]:
    run = run_cli("who", register, query, "--as-of", AS_OF, "--json")
    assert run.code in (0, 1), run.stderr
    data: dict[str, Any] = run.json()
    return data


def test_who_and_the_board_give_the_same_answer(
    demo_board: tuple[Path, Path], board_page: Any
) -> None:
    register, _html = demo_board
    import datetime as dt

    from xlsync.check import run_check
    from xlsync.lookup import LookupIndex

    index = LookupIndex.from_check(run_check(register, dt.date.fromisoformat(AS_OF)))
    queries = _queries()
    # the library answer (what who prints) for every query; a few through the real CLI too
    for q in queries[:6]:
        data = _who(register, q)
        answer = index.find(q)
        assert data["verdict"] == answer.verdict()
        assert data["answer"] == answer.answer().value
    disagreements = []
    stops = 0
    for q in queries:
        answer = index.find(q)
        page = board_page.evaluate(
            "q => { const r = window.xlsyncBoard.search(q); return {verdict: r.verdict,"
            " answer: r.answer, same: r.same.map(h => h.c.name),"
            " maybe: r.maybe.map(h => h.c.name)}; }",
            q,
        )
        mine = {
            "verdict": answer.verdict(),
            "answer": answer.answer().value,
            "same": [h.customer.name for h in answer.same],
            "maybe": [h.customer.name for h in answer.maybe],
        }
        stops += mine["answer"] == "stop"
        if page != mine:
            disagreements.append((q, mine, page))
    assert disagreements == []
    assert stops >= 10  # the comparison covers real stop answers, not only free ones


def test_the_page_computes_the_same_query_key_as_python(board_page: Any) -> None:
    names = _demo_names()
    corpus = REPO / "tests" / "matching_corpus" / "corpus.jsonl"
    lines = corpus.read_text("utf-8").splitlines()
    names += [json.loads(line)["name"] for line in lines[::5]]
    names += ["格林電子（深圳）有限公司", "ＧＲＥＥＮ格林电子", "广东省深圳市 格林电子 有限公司"]
    page_keys = board_page.evaluate("ns => ns.map(n => window.xlsyncBoard.queryKey(n))", names)
    wrong = [
        (n, query_key(n), k) for n, k in zip(names, page_keys, strict=True) if query_key(n) != k
    ]
    assert wrong == []


def test_a_phone_typed_as_the_name_is_searched_as_a_phone(demo_board: tuple[Path, Path]) -> None:
    register, _ = demo_board
    phone = _demo_phones()[3]
    data = _who(register, phone)
    assert data["customers"], data
    assert data["customers"][0]["match"] in ("phone", "local_phone")


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("+86 10 6234 5678", "01062345678"),
        ("+86 755 8888 1234", "075588881234"),
        ("0086-0755-88881234", "075588881234"),
        ("+86-157-2486-6357", "15724866357"),
        ("(+86) 138 1234 5678", "13812345678"),
        ("0755-88881234转801", "075588881234"),
        ("８８８８１２３４", "88881234"),
    ],
)
def test_a_typed_phone_query_reads_like_the_register(
    typed: str, number: str, board_page: Any
) -> None:
    from xlsync.lookup import is_phone_query, query_digits
    from xlsync.register.cells import parse_phones

    assert is_phone_query(typed)
    assert query_digits(typed) == number == parse_phones(typed)[0][0]
    assert board_page.evaluate("q => window.xlsyncBoard.queryDigits(q)", typed) == number
