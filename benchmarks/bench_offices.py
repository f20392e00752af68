"""Several offices in one PostgreSQL: one office's check, full sync and `who` against the
others, compared with the same office alone on SQLite; memory as offices are added.

    python benchmarks/bench_offices.py [--offices 20] [--rows 20000] [--db postgresql://…]

Without --db a throwaway cluster is started (tests/pg.py: initdb + pg_ctl, as the
`postgres` user when run as root). Office 0's register is a generated one
(benchmarks/out/register-N.xlsx). The other offices' rows are published straight into the
database (as a sync of theirs would publish them): office 0's rows with a prefix on every
name and other phone numbers, except every 50th row, which keeps its customer (2% shared
customers: real cross-office conflicts).

Goal (issue 17): an office's check with cross-office conflicts within 2x its SQLite check,
and memory independent of the number of other offices.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import shutil
import sys
import time

from _common import OUT, ROOT, measure, register_of

AS_OF = dt.date(2026, 11, 1)
STEMS, BRANCHES = "甲乙丙丁戊己庚辛壬癸", "子丑寅卯辰巳午未申酉戌亥"  # prefixes, not places

CHECK = """
import datetime as dt
from xlsync.check import run_check
def run():
    result = run_check({path!r}, dt.date(2026, 11, 1))
    return [len(result.rows), len(result.others), len(result.conflicts)]
"""

SYNC = """
import datetime as dt, shutil
from pathlib import Path
from xlsync.sync import sync
folder = Path({folder!r})
shutil.rmtree(folder / ".xlsync", ignore_errors=True)
shutil.copy({source!r}, folder / "register.xlsx")
def run():
    outcome = sync(folder, dt.date(2026, 11, 1))
    return [sum(len(f.events) for f in outcome.files), len(outcome.result.others)]
"""

WHO = """
import datetime as dt
from xlsync.who import who
def run():
    result, answer = who({path!r}, {name!r}, None, dt.date(2026, 11, 1))
    return [len(result.others)]
"""


def other_rows(rows: list, office: int) -> list:  # type: ignore[type-arg]
    """Office `office`'s rows: office 0's, renamed and renumbered but for every 50th."""
    prefix = STEMS[office % 10] + BRANCHES[office // 10 % 12]
    out = []
    for i, row in enumerate(rows):
        if i % 50 == 0:
            out.append(row)
            continue
        phones = tuple(p[:-4] + f"{(int(p[-4:]) + office * 1013) % 10000:04d}"
                       if p[-4:].isdigit() else p for p in row.phones)  # fmt: skip
        out.append(dataclasses.replace(row, customer=prefix + row.customer, phones=phones,
                                       id=""))  # fmt: skip
    return out


def publish_office(url: str, name: str, rows: list) -> None:  # type: ignore[type-arg]
    from xlsync.stores.postgres import PostgresHistory, connect

    with PostgresHistory(connect(url), name) as store, store.transaction():
        store.publish("register.xlsx", [(r, r.id) for r in rows], 90, AS_OF, dt.datetime.now())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--offices", type=int, default=20)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--db")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.pg import Cluster
    from xlsync.register.reader import read_register
    from xlsync.stores.postgres import connect, migrate

    cluster = None if args.db else Cluster()
    url = args.db or (cluster.new_schema() if cluster else "")
    try:
        source = register_of(args.rows)
        folder = OUT / "offices" / "office00"
        shutil.rmtree(folder.parent, ignore_errors=True)
        folder.mkdir(parents=True)
        path = folder / "register.xlsx"
        shutil.copy(source, path)
        rows = read_register(source).rows
        name = rows[len(rows) // 2].customer
        with connect(url) as conn:
            migrate(conn)

        os.environ.pop("XLSYNC_DB", None)
        print(f"{args.rows} rows an office; {args.offices} offices; times best of {args.repeat}")
        print(f"{'what':<44} {'seconds':>8} {'peak MB':>8}  result")

        def line(what: str, code: str) -> dict[str, float]:
            found = measure(code, repeat=args.repeat)
            print(f"{what:<44} {found['seconds']:>8.3f} {found['peak_mb']:>8.0f}  "
                  f"{found['value']}", flush=True)  # fmt: skip
            return found

        alone = line("check, SQLite (office alone)", CHECK.format(path=str(path)))
        line("who, SQLite", WHO.format(path=str(path), name=name))
        line("full sync, SQLite (first sync)", SYNC.format(folder=str(folder), source=str(source)))

        os.environ["XLSYNC_DB"] = url
        started = time.perf_counter()
        publish_office(url, "office01", other_rows(rows, 1))
        print(f"  (published office01 in {time.perf_counter() - started:.1f} s)")
        two = line("check, PostgreSQL, 1 other office", CHECK.format(path=str(path)))
        started = time.perf_counter()
        for office in range(2, args.offices):
            publish_office(url, f"office{office:02d}", other_rows(rows, office))
        print(f"  (published {args.offices - 2} more offices in "
              f"{time.perf_counter() - started:.1f} s)")  # fmt: skip
        many = line(f"check, PostgreSQL, {args.offices - 1} other offices",
                    CHECK.format(path=str(path)))  # fmt: skip
        line("who, PostgreSQL", WHO.format(path=str(path), name=name))
        line("full sync, PostgreSQL (first sync)",
             SYNC.format(folder=str(folder), source=str(source)))  # fmt: skip
        print(
            f"check PostgreSQL / SQLite: {many['seconds'] / alone['seconds']:.2f}x; "
            f"peak memory {two['peak_mb']:.0f} MB with 1 other office, "
            f"{many['peak_mb']:.0f} MB with {args.offices - 1}"
        )
    finally:
        os.environ.pop("XLSYNC_DB", None)
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
