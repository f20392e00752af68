"""`xlsync db import`: move an office's SQLite history into PostgreSQL, nothing lost.

Everything is copied in one transaction: the syncs (new sync ids, same order), their
events (same order, so "newest first" stays true), the snapshots (deleted rows included)
and the id reservations; the shared id counter is raised to the office's mark. Before the
transaction commits, every table is read back from PostgreSQL and compared row by row with
the SQLite file; one difference and nothing is kept. An office whose history is already in
the database is refused, so an import never records anything twice.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsync.history import HISTORY_DIR, HISTORY_FILE, HistoryError
from xlsync.stores.postgres import connect, migrate

_TABLES = ("syncs", "events", "snapshots", "reservations")


@dataclass(frozen=True, slots=True)
class TableCheck:
    table: str
    source: int  # rows in the SQLite file
    imported: int  # rows read back from PostgreSQL
    mismatches: int  # rows that differ when compared one by one

    @property
    def ok(self) -> bool:
        return self.source == self.imported and self.mismatches == 0


@dataclass(slots=True)
class ImportReport:
    source: Path
    office: str
    checks: list[TableCheck] = field(default_factory=list)
    mark: int = 0  # the office's id high-water mark

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


class ImportRefused(HistoryError):
    """The import would lose or duplicate something; nothing was written."""


def sqlite_file(path: Path) -> Path:
    """The SQLite history of PATH: the file itself, or the one beside a register / folder."""
    if path.is_file() and path.suffix == ".sqlite":
        return path
    folder = path if path.is_dir() else path.parent
    found = folder / HISTORY_DIR / HISTORY_FILE
    if not found.is_file():
        raise HistoryError(path, f"这里没有 SQLite 历史记录（找不到 {found}）")
    return found


def office_of(path: Path, source: Path) -> str:
    """The office an imported history belongs to: the name of its register folder."""
    if path.is_dir():
        return path.resolve().name
    if source == path:  # …/上海办/.xlsync/history.sqlite
        return source.resolve().parent.parent.name
    return path.resolve().parent.name


def _read_sqlite(source: Path) -> dict[str, list[tuple[Any, ...]]]:
    try:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise HistoryError(source, f"无法打开 SQLite 历史记录：{exc}") from exc
    try:
        return {
            "syncs": conn.execute(
                "SELECT sync_id, file, at, as_of, plan FROM syncs ORDER BY sync_id"
            ).fetchall(),
            "events": conn.execute(
                "SELECT sync_id, file, id, kind, sheet, row, detail FROM events ORDER BY event_id"
            ).fetchall(),
            "snapshots": conn.execute(
                "SELECT file, id, sheet, row, vals, state, sync_id FROM snapshots ORDER BY file, id"
            ).fetchall(),
            "reservations": conn.execute(
                "SELECT file, first, last, reserved_at FROM reservations ORDER BY reservation_id"
            ).fetchall(),
            "mark": conn.execute("SELECT value FROM counters WHERE name = 'id'").fetchall(),
        }
    except sqlite3.Error as exc:
        raise HistoryError(source, f"不是可用的 xlsync 历史记录：{exc}") from exc
    finally:
        conn.close()


def import_sqlite(path: Path, url: str, office: str | None = None) -> ImportReport:
    """Copy the SQLite history of `path` into the database at `url` as `office`."""
    source = sqlite_file(path)
    name = office or office_of(path, source)
    data = _read_sqlite(source)
    report = ImportReport(source, name)
    conn = connect(url, path)
    try:
        migrate(conn, path)
        with conn.transaction():
            conn.execute(
                "INSERT INTO offices (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", (name,)
            )
            row = conn.execute("SELECT office_id FROM offices WHERE name = %s", (name,)).fetchone()
            assert row is not None
            office_id = int(row[0])
            # one import per office at a time, and never on top of an existing history
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 1))", (name,))
            taken = conn.execute(
                "SELECT count(*) FROM syncs WHERE office_id = %s", (office_id,)
            ).fetchone()
            if taken and taken[0]:
                raise ImportRefused(
                    path, f"数据库中已有 {name} 的历史记录（{taken[0]} 次同步），不能重复导入"
                )
            sync_ids: dict[int, int] = {}
            for old_id, file, at, as_of, plan in data["syncs"]:
                new = conn.execute(
                    "INSERT INTO syncs (office_id, file, at, as_of, plan)"
                    " VALUES (%s, %s, %s, %s, %s) RETURNING sync_id",
                    (office_id, file, dt.datetime.fromisoformat(at),
                     dt.date.fromisoformat(as_of), plan),
                ).fetchone()  # fmt: skip
                assert new is not None
                sync_ids[int(old_id)] = int(new[0])
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO events (sync_id, office_id, file, id, kind, sheet, row, detail)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [(sync_ids[s], office_id, f, i, k, sh, r, d)
                     for s, f, i, k, sh, r, d in data["events"]],
                )  # fmt: skip
                cur.executemany(
                    "INSERT INTO snapshots (office_id, file, id, sheet, row, vals, state, sync_id)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [(office_id, f, i, sh, r, v, st, sync_ids[s])
                     for f, i, sh, r, v, st, s in data["snapshots"]],
                )  # fmt: skip
                cur.executemany(
                    "INSERT INTO reservations (office_id, file, first, last, reserved_at)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    [(office_id, *r) for r in data["reservations"]],
                )
            mark = int(data["mark"][0][0]) if data["mark"] else 0
            conn.execute(
                "UPDATE counters SET value = greatest(value, %s) WHERE name = 'id'", (mark,)
            )
            report.mark = mark
            report.checks = _compare(conn, office_id, data, sync_ids)
            if not report.ok:
                bad = "、".join(c.table for c in report.checks if not c.ok)
                raise ImportRefused(path, f"导入后核对不一致（{bad}），已全部撤销，数据库没有改动")
    finally:
        conn.close()
    return report


def _compare(
    conn: Any, office_id: int, data: dict[str, list[tuple[Any, ...]]], sync_ids: dict[int, int]
) -> list[TableCheck]:
    """Read every imported row back and compare it with its SQLite row, in order."""
    back = {
        "syncs": [
            (s, f, at.isoformat(), as_of.isoformat(), p)
            for s, f, at, as_of, p in conn.execute(
                "SELECT sync_id, file, at, as_of, plan FROM syncs WHERE office_id = %s"
                " ORDER BY sync_id",
                (office_id,),
            )
        ],
        "events": conn.execute(
            "SELECT sync_id, file, id, kind, sheet, row, detail FROM events"
            " WHERE office_id = %s ORDER BY event_id",
            (office_id,),
        ).fetchall(),
        "snapshots": conn.execute(
            "SELECT file, id, sheet, row, vals, state, sync_id FROM snapshots"
            ' WHERE office_id = %s ORDER BY file COLLATE "C", id COLLATE "C"',
            (office_id,),
        ).fetchall(),
        "reservations": conn.execute(
            "SELECT file, first, last, reserved_at FROM reservations WHERE office_id = %s"
            " ORDER BY reservation_id",
            (office_id,),
        ).fetchall(),
    }
    want = {
        "syncs": [(sync_ids[s], f, at, as_of, p) for s, f, at, as_of, p in data["syncs"]],
        "events": [(sync_ids[s], *rest) for s, *rest in data["events"]],
        "snapshots": [(*rest, sync_ids[s]) for *rest, s in data["snapshots"]],
        "reservations": data["reservations"],
    }
    checks = []
    for table in _TABLES:
        got = [tuple(r) for r in back[table]]
        expected = [tuple(r) for r in want[table]]
        mismatches = sum(1 for a, b in zip(got, expected, strict=False) if a != b)
        checks.append(TableCheck(table, len(expected), len(got), mismatches))
    return checks
