"""Accounts of `xlsync serve`: names from the roster, argon2 password hashes, on the serving
machine only.

The store is one JSON file, by default in the user's configuration folder
(`platformdirs.user_config_path("xlsync") / "accounts.json"`), or the file given with
`--accounts`. It is written atomically (a temporary file renamed over it) and readable by
its owner only. It must not live in the shared folder beside the registers (everyone who
can open the registers could copy the hashes): `outside_shared` refuses that.

Passwords are hashed with argon2id (`argon2-cffi`'s `PasswordHasher`, its default cost:
memory-hard, salted, parameters stored in the hash). A hash keeps the parameters it was made
with; `xlsync users reset` hashes anew with the current ones. At most two hashes are
computed at once (`VERIFY_SLOTS`): each takes 64 MiB, and a burst of sign-ins must not take
the server's memory. A name with no account is verified against a dummy hash, so a sign-in takes
as long whether the name exists or not.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from xlsync.errors import UnusableInput

MIN_PASSWORD = 8
VERIFY_SLOTS = 2
ACCOUNTS_FILE = "accounts.json"


def default_accounts_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("xlsync", appauthor=False) / ACCOUNTS_FILE


def audit_path_for(accounts: Path) -> Path:
    """The audit database lives beside the account store."""
    return accounts.with_name(accounts.stem + ".audit.sqlite")


def outside_shared(accounts: Path, shared_folder: Path) -> None:
    """Raise when the account store would sit in (or under) the register set's folder."""
    store = accounts.resolve()
    shared = shared_folder.resolve()
    if store == shared or shared in store.parents:
        raise UnusableInput(
            accounts,
            "账户文件不能放在共享文件夹里（能打开登记表的人都能复制它）；"
            "请用默认位置，或用 --accounts 指定本机上的其他位置",
        )


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    hash: str
    manager: bool = False
    created: str = ""
    changed: str = ""


class AccountStore:
    """The account file; re-read whenever it changed on disk (another process's
    `xlsync users ...`), so that a removed account or a reset password takes effect at once."""

    def __init__(
        self, path: Path, hasher: PasswordHasher | None = None, recheck: float = 1.0
    ) -> None:
        self.path = path
        self.recheck = recheck  # seconds between looks at the file (a removal takes this long)
        self._looked = -1e9
        self.hasher = hasher or PasswordHasher()
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._accounts: dict[str, Account] = {}
        self._dummy = ""  # made at the first sign-in (costs one hash)
        self._slots = threading.BoundedSemaphore(VERIFY_SLOTS)

    # -- reading ----------------------------------------------------------------------

    def _load(self) -> dict[str, Account]:
        now = time.monotonic()
        if self._stamp is not None and now - self._looked < self.recheck:
            return self._accounts
        self._looked = now
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._accounts = None, {}
            return self._accounts
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                raw = data["accounts"]
                accounts = {
                    name: Account(
                        name,
                        str(a["hash"]),
                        bool(a.get("manager")),
                        str(a.get("created", "")),
                        str(a.get("changed", "")),
                    )
                    for name, a in raw.items()
                }
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                raise UnusableInput(self.path, f"账户文件无法读取：{exc}") from exc
            self._stamp, self._accounts = stamp, accounts
        return self._accounts

    def get(self, name: str) -> Account | None:
        with self._lock:
            return self._load().get(name)

    def all(self) -> list[Account]:
        with self._lock:
            return sorted(self._load().values(), key=lambda a: a.name)

    def verify(self, name: str, password: str) -> Account | None:
        """The account when `password` is right, else None (same work either way)."""
        account = self.get(name)
        with self._slots:
            if account is None and not self._dummy:
                self._dummy = self.hasher.hash("xlsync-no-such-account")
            try:
                self.hasher.verify(account.hash if account else self._dummy, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None
        return account

    # -- writing ----------------------------------------------------------------------

    def add(self, name: str, password: str, manager: bool) -> Account:
        check_password(password)
        now = _now()
        with self._lock:
            accounts = dict(self._load())
            if name in accounts:
                raise UnusableInput(self.path, f"账户 {name} 已存在（改密码请用 users reset）")
            accounts[name] = Account(name, self.hasher.hash(password), manager, now, now)
            self._save(accounts)
            return accounts[name]

    def set_password(self, name: str, password: str) -> Account:
        check_password(password)
        with self._lock:
            accounts = dict(self._load())
            old = accounts.get(name)
            if old is None:
                raise UnusableInput(self.path, f"没有账户 {name}")
            accounts[name] = Account(
                name, self.hasher.hash(password), old.manager, old.created, _now()
            )
            self._save(accounts)
            return accounts[name]

    def remove(self, name: str) -> None:
        with self._lock:
            accounts = dict(self._load())
            if accounts.pop(name, None) is None:
                raise UnusableInput(self.path, f"没有账户 {name}")
            self._save(accounts)

    def _save(self, accounts: dict[str, Account]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": 1,
            "accounts": {
                a.name: {
                    "hash": a.hash,
                    "manager": a.manager,
                    "created": a.created,
                    "changed": a.changed,
                }
                for a in accounts.values()
            },
        }
        fd, temp = tempfile.mkstemp(prefix=".accounts-", dir=self.path.parent)
        try:
            os.chmod(temp, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, indent=1)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self._stamp = None  # read back on the next access


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UnusableInput(Path("-"), f"密码太短：至少 {MIN_PASSWORD} 个字符")


def _now() -> str:
    return dt.datetime.now().replace(microsecond=0).isoformat()
