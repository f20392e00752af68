"""Cross-office matching through the shared database.

Every sync publishes the office's rows to `office_rows` (the fields the rules read, and
the protection as the office computed it) and their block keys to `office_keys`, in the
sync's history transaction. A check of one office asks only for the rows of other offices
that share a block key with its own rows (`OtherOffices.candidates`): never every office's
rows, so its memory does not grow with the number of offices.

The block keys are the matcher's blocks (see `xlsync.matching.group`): the core name, the
trade name, the trade name with one character replaced by its sound, and each phone. The
rows found are grouped with the office's own rows as read-only rows of their office: their
`file` is `上海办/客户登记表.xlsx` and their rep `上海办 的 陈刚`, so a hint reads
`与 上海办 的 陈刚 冲突…`, and a 陈刚 in two offices are two people.

When the database cannot be reached, `candidates` answers from the last rows it fetched
(the last cross-office data it had) and says since when (`stale_since`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from xlsync.matching.group import homophone_keys
from xlsync.matching.normalize import analyse
from xlsync.records import OfficeAgent, OfficeRuling, OtherRows, Row
from xlsync.register.schema import SheetKind, Status

if TYPE_CHECKING:
    import psycopg

    from xlsync.agents import Listing
    from xlsync.stores.postgres import PostgresBackend
    from xlsync.workspace import Workspace

log = logging.getLogger(__name__)

_ROW_COLUMNS = (
    "file, sheet, row, kind, id, customer, contact, phone_text, phones, region, rep,"
    " department, contacted, visited, sampled, last_follow_up, status, won"
)


def block_keys(customer: str, phones: Iterable[str]) -> set[str]:
    """The keys under which the matcher could compare this row with another."""
    keys = {f"p:{number}" for number in phones if number}
    key = analyse(customer) if customer and customer.strip() else None
    if key is None or not key.core or key.person:
        return keys
    keys.add(f"c:{key.core}")
    keys.add(f"t:{key.trade}")
    keys.update(f"s:{bucket}" for bucket in homophone_keys(key))
    return keys


def office_rep(office: str, rep: str) -> str:
    """How a rep of another office is named (and told apart from a namesake here)."""
    return f"{office} 的 {rep}" if rep else f"{office} 的业务员"


# -- publishing ---------------------------------------------------------------------------


def publish(
    conn: psycopg.Connection[Any],
    office_id: int,
    file: str,
    rows: Sequence[tuple[Row, str]],
    protection_days: int,
    as_of: dt.date,
    now: dt.datetime,
    limits: Mapping[tuple[str, int], str] | None = None,
) -> None:
    """Replace what `file` of the office published with `rows` (each with its 编号);
    `limits`: the office rule that took a row's protection, by (sheet, row)."""
    from xlsync.rules import protection

    conn.execute("DELETE FROM office_rows WHERE office_id = %s AND file = %s", (office_id, file))
    seen: set[tuple[str, int]] = set()
    with conn.cursor() as cur:
        with cur.copy(
            f"COPY office_rows (office_id, {_ROW_COLUMNS}, protected, protected_until,"
            " protection_days, office_limit, published_at) FROM STDIN"
        ) as copy:
            for row, row_id in rows:
                if (row.sheet, row.row) in seen:
                    continue
                seen.add((row.sheet, row.row))
                p = protection(row, protection_days, as_of)
                copy.write_row((
                    office_id, file, row.sheet, row.row, row.kind.value, row_id, row.customer,
                    row.contact, row.phone_text, list(row.phones), row.region, row.rep,
                    row.department, row.contacted, row.visited, row.sampled,
                    row.last_follow_up, row.status.value if row.status else None, row.won,
                    p.protected, p.until, protection_days,
                    (limits or {}).get((row.sheet, row.row), ""), now,
                ))  # fmt: skip
        with cur.copy("COPY office_keys (office_id, file, sheet, row, key) FROM STDIN") as copy:
            done: set[tuple[str, int]] = set()
            for row, _ in rows:
                if (row.sheet, row.row) in done:
                    continue
                done.add((row.sheet, row.row))
                for key in block_keys(row.customer, row.phones):
                    copy.write_row((office_id, file, row.sheet, row.row, key))
    conn.execute("SELECT pg_notify('xlsync_published', %s)", (str(office_id),))


def publish_rulings(
    conn: psycopg.Connection[Any],
    office_id: int,
    rulings: Sequence[OfficeRuling],
    now: dt.datetime,
) -> None:
    """Replace the office's published rulings with `rulings` (those applied, as resolved)."""
    conn.execute("DELETE FROM office_rulings WHERE office_id = %s", (office_id,))
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY office_rulings (office_id, file, sheet, row, kind, date, rep, until, ids,"
            " other_ids, published_at) FROM STDIN"
        ) as copy,
    ):
        for r in rulings:
            copy.write_row((office_id, r.file, r.sheet, r.row, r.kind, r.date, r.rep,
                            r.until, list(r.ids), list(r.other_ids), now))  # fmt: skip


def agent_keys(listing: Listing) -> set[str]:
    """The keys under which a listing can serve a row: its phones and its core name (the
    ones `agents.agent_for` compares)."""
    keys = {f"p:{number}" for number in listing.phones if number}
    core = analyse(listing.name).core if listing.name.strip() else ""
    return keys | {f"c:{core}"} if core else keys


def publish_agents(
    conn: psycopg.Connection[Any],
    office_id: int,
    listings: Sequence[Listing],
    now: dt.datetime,
) -> None:
    """Replace the office's published agent listings (代理商) with `listings`."""
    conn.execute("DELETE FROM office_agents WHERE office_id = %s", (office_id,))
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY office_agents (office_id, file, sheet, row, name, phones, region, agent, until,"
            " keys, published_at) FROM STDIN"
        ) as copy,
    ):
        for a in listings:
            copy.write_row((office_id, a.file, a.sheet, a.row, a.name, list(a.phones),
                            a.region, a.agent, a.until, sorted(agent_keys(a)), now))  # fmt: skip


# -- asking -------------------------------------------------------------------------------


class OtherOffices:
    """Asks the database for the other offices' candidate rows; remembers the last answer
    for when the database cannot be reached. One per workspace (a watcher keeps it)."""

    def __init__(self, backend: PostgresBackend, workspace: Workspace) -> None:
        self.backend = backend
        self.workspace = workspace
        self._lock = threading.Lock()
        self._last: list[tuple[Row, frozenset[str]]] = []
        self._last_rulings: list[OfficeRuling] = []
        self._last_agents: list[OfficeAgent] = []
        self._fetched_at: dt.datetime | None = None
        self._keys: list[str] = []  # the block keys of the last check's own rows
        self._ids: list[str] = []  # and their 编号
        self._digest = ""  # of the rows that check was given

    def candidates(self, rows: list[Row]) -> OtherRows:
        keys = {k for r in rows for k in block_keys(r.customer, r.phones)}
        from xlsync.history import DatabaseUnavailable

        try:
            own_ids = [r.id for r in rows if r.id]
            found, rulings, agents = self._answer(sorted(keys), own_ids)
            self._keys, self._ids = sorted(keys), own_ids
            self._digest = _digest(found) + repr((rulings, agents))
        except DatabaseUnavailable as exc:
            return self._stale(keys, exc.message)
        except Exception as exc:  # psycopg.OperationalError mid-query: the link is down
            if type(exc).__module__.startswith(("psycopg", "psycopg_pool")):
                return self._stale(keys, str(exc))
            raise
        with self._lock:
            self._last = [(r, frozenset(block_keys(r.customer, r.phones))) for r in found]
            self._last_rulings, self._last_agents = rulings, agents
            self._fetched_at = dt.datetime.now()
        return OtherRows(found, rulings=rulings, agents=agents)

    def _answer(
        self, keys: list[str], own_ids: list[str]
    ) -> tuple[list[Row], list[OfficeRuling], list[OfficeAgent]]:
        """The candidates, the other offices' rulings naming them or this office's rows, and
        the agent listings sharing a key with either."""
        found = self._fetch_chained(keys)
        ids = sorted({*own_ids, *(r.id for r in found if r.id)})
        rulings = self._fetch_rulings(ids) if ids else []
        every = sorted({*keys, *(k for r in found for k in block_keys(r.customer, r.phones))})
        agents = self._fetch_agents(every) if every else []
        return found, rulings, agents

    def changed(self) -> bool:
        """Whether another office's rows that share a key with this office's rows, or their
        rulings or agent listings, changed since the last check (a watcher then checks
        again); False when unreachable."""
        keys, ids, digest = self._keys, self._ids, self._digest
        if not keys:
            return False
        try:
            found, rulings, agents = self._answer(keys, ids)
            return _digest(found) + repr((rulings, agents)) != digest
        except Exception as exc:
            if type(exc).__module__.startswith(("psycopg", "psycopg_pool", "xlsync")):
                return False
            raise

    def _stale(self, keys: set[str], why: str) -> OtherRows:
        with self._lock:
            last, since = list(self._last), self._fetched_at
            rulings, agents = list(self._last_rulings), list(self._last_agents)
        log.info("其他办事处数据暂不可用（%s）", why.splitlines()[0] if why else "")
        rows = [r for r, row_keys in last if row_keys & keys]
        second = {k for r in rows for k in block_keys(r.customer, r.phones)} - keys
        rows += [r for r, row_keys in last if row_keys & second and not row_keys & keys]
        return OtherRows(rows, since or dt.datetime.min, rulings, agents)

    def _fetch_agents(self, keys: list[str]) -> list[OfficeAgent]:
        """The other offices' agent listings that share a key with `keys`."""
        office = self.backend.office_of(self.workspace)
        conn, release = self.backend.connection(self.workspace)
        try:
            found = conn.execute(
                "SELECT o.name, a.file, a.sheet, a.row, a.name, a.phones, a.region, a.agent,"
                " a.until FROM office_agents a JOIN offices o USING (office_id)"
                " WHERE o.name <> %s AND a.keys && %s ORDER BY o.name, a.file, a.sheet, a.row",
                (office, keys),
            ).fetchall()
        finally:
            release(conn)
        return [
            OfficeAgent(name, file, sheet, row, listed, tuple(phones), region, agent, until)
            for name, file, sheet, row, listed, phones, region, agent, until in found
        ]

    def _fetch_rulings(self, ids: list[str]) -> list[OfficeRuling]:
        """The other offices' rulings that name one of `ids` (编号 are unique across offices)."""
        office = self.backend.office_of(self.workspace)
        conn, release = self.backend.connection(self.workspace)
        try:
            found = conn.execute(
                "SELECT o.name, r.file, r.sheet, r.row, r.kind, r.date, r.rep, r.until, r.ids,"
                " r.other_ids FROM office_rulings r JOIN offices o USING (office_id)"
                " WHERE o.name <> %s AND (r.ids && %s OR r.other_ids && %s)"
                " ORDER BY o.name, r.file, r.sheet, r.row",
                (office, ids, ids),
            ).fetchall()
        finally:
            release(conn)
        return [
            OfficeRuling(file, sheet, row, kind, date, rep, until, tuple(a), tuple(b), name)
            for name, file, sheet, row, kind, date, rep, until, a, b in found
        ]

    def _fetch_chained(self, keys: list[str]) -> list[Row]:
        """The candidates sharing a key with `keys`, then (a second round) those sharing a
        key with the candidates found: two rows of other offices that match this office's
        customer only through each other (a chain) are decided together here too."""
        found = self._fetch(keys)
        more = {k for r in found for k in block_keys(r.customer, r.phones)} - set(keys)
        if not more:
            return found
        seen = {(r.file, r.sheet, r.row) for r in found}
        found += [r for r in self._fetch(sorted(more)) if (r.file, r.sheet, r.row) not in seen]
        found.sort(key=lambda r: (r.file, r.sheet, r.row))
        return found

    def _fetch(self, keys: list[str]) -> list[Row]:
        office = self.backend.office_of(self.workspace)
        conn, release = self.backend.connection(self.workspace)
        try:
            found = conn.execute(
                "WITH hit AS (SELECT DISTINCT k.office_id, k.file, k.sheet, k.row"
                "  FROM office_keys k JOIN offices o USING (office_id)"
                "  WHERE k.key = ANY(%s) AND o.name <> %s)"
                f" SELECT o.name, {', '.join('r.' + c.strip() for c in _ROW_COLUMNS.split(','))},"
                " r.protection_days, r.office_limit"
                " FROM hit JOIN office_rows r USING (office_id, file, sheet, row)"
                " JOIN offices o USING (office_id)"
                " ORDER BY o.name, r.file, r.sheet, r.row",
                (keys, office),
            ).fetchall()
        finally:
            release(conn)
        return [_row(*values) for values in found]


def _row(office: str, file: str, sheet: str, number: int, kind: str, *rest: Any) -> Row:
    (id_, customer, contact, phone_text, phones, region, rep, department, contacted,
     visited, sampled, last_follow_up, status, won, protection_days, limit) = rest  # fmt: skip
    return Row(
        file=f"{office}/{file}",
        sheet=sheet,
        kind=SheetKind(kind),
        row=number,
        id=id_,
        customer=customer,
        contact=contact,
        phone_text=phone_text,
        phones=tuple(phones),
        region=region,
        rep=office_rep(office, rep),
        department=department,
        contacted=contacted,
        visited=visited,
        sampled=sampled,
        last_follow_up=last_follow_up,
        status=Status(status) if status else None,
        won=won,
        office=office,
        protection_days=protection_days,
        office_limit=limit,
    )


def _digest(rows: list[Row]) -> str:
    return repr([(r.file, r.sheet, r.row, r.kind, r.id, r.customer, r.phones, r.rep,
                  r.contacted, r.visited, r.sampled, r.last_follow_up, r.status, r.won,
                  r.protection_days, r.office_limit)
                 for r in rows])  # fmt: skip


def listen(
    url: str,
    office: str,
    on_published: Callable[[], None],
    on_back: Callable[[], None],
    stop: threading.Event,
) -> None:
    """Until `stop`: call `on_published` when another office publishes (LISTEN/NOTIFY);
    reconnect after an outage, and call `on_back` once the database is back."""
    import psycopg

    lost = False
    while not stop.is_set():
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                row = conn.execute("SELECT office_id FROM offices WHERE name = %s",
                                   (office,)).fetchone()  # fmt: skip
                own = str(row[0]) if row else ""
                conn.execute("LISTEN xlsync_published")
                if lost:
                    lost = False
                    on_back()  # the database is back: history and other offices' rows
                while not stop.is_set():
                    for note in conn.notifies(timeout=1.0):
                        if note.payload != own:
                            on_published()
        except psycopg.Error as exc:
            if not lost:
                reason = str(exc).strip().splitlines()
                log.info("其他办事处数据暂不可用（%s）", reason[0] if reason else exc)
            lost = True
            stop.wait(2.0)
