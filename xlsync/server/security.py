"""Sessions, CSRF tokens and the sign-in rate limit of `xlsync serve`.

Why server-side sessions (and not Starlette's `SessionMiddleware`, a signed cookie): a
signed cookie stays valid until it expires, whatever the server does, so a cookie copied
from a phone would still work after its owner signed out. Here the cookie holds only a
random token (32 bytes from `secrets`); the server keeps the session under the token's
SHA-256, and signing out deletes it: the copied cookie is then worth nothing (and the
attempt is recorded as `ended`). Sessions end after `idle` seconds without a request and
at `absolute` seconds after sign-in, whichever comes first; removing an account or
resetting its password ends its sessions at the next request.

CSRF: every session has its own random token, put in every form (a hidden `csrf` field)
and required on every POST (the field, or the `X-CSRF-Token` header for scripts),
compared in constant time. The sign-in form, used before there is a session, carries a
token bound to a short-lived pre-session cookie (double submit). The cookies are also
SameSite=Strict, so a browser never sends them with another site's request.

The rate limit counts failed sign-ins per name and per address over a sliding window; at
`limit` failures either one refuses further attempts (429) until the oldest failure leaves
the window. A refused attempt does not check the password at all.

Time comes from `clock` (seconds), so that tests move it instead of waiting.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_token(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


@dataclass(slots=True)
class Session:
    name: str
    csrf: str
    created: float
    seen: float
    account_hash: str  # the password hash at sign-in: a reset ends the session
    manager: bool = False  # the account's --manager, as at sign-in


class SessionStore:
    def __init__(
        self, idle: float = 30 * 60, absolute: float = 12 * 3600, clock: Clock = time.time
    ) -> None:
        self.idle = idle
        self.absolute = absolute
        self.clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._ended: dict[str, float] = {}  # digests of tokens signed out or expired -> when

    def create(self, name: str, account_hash: str, manager: bool = False) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(name, secrets.token_urlsafe(32), now, now, account_hash, manager)
        with self._lock:
            self._sessions[_digest(token)] = session
        return token, session

    def get(self, token: str | None) -> tuple[Session | None, str]:
        """The live session of `token` (its idle time restarts) and "", or None and why:
        "none" (no cookie), "unknown", "ended" (signed out), "idle" or "expired"."""
        if not token:
            return None, "none"
        key = _digest(token)
        now = self.clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None, "ended" if key in self._ended else "unknown"
            if now - session.seen > self.idle:
                self._end(key, now)
                return None, "idle"
            if now - session.created > self.absolute:
                self._end(key, now)
                return None, "expired"
            session.seen = now
            return session, ""

    def end(self, token: str | None) -> Session | None:
        if not token:
            return None
        key = _digest(token)
        with self._lock:
            session = self._sessions.get(key)
            self._end(key, self.clock())
            return session

    def end_all(self, name: str) -> None:
        now = self.clock()
        with self._lock:
            for key in [k for k, s in self._sessions.items() if s.name == name]:
                self._end(key, now)

    def _end(self, key: str, now: float) -> None:
        self._sessions.pop(key, None)
        self._ended[key] = now
        # a token is kept as "ended" for as long as a session could have lived
        for old in [k for k, t in self._ended.items() if now - t > self.absolute]:
            del self._ended[old]

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)


class Throttle:
    """Failures per key over a sliding window."""

    def __init__(self, limit: int = 5, window: float = 600, clock: Clock = time.time) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        return hits

    def limited(self, *keys: str) -> bool:
        now = self.clock()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.limit for k in keys)

    def hit(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def retry_after(self, *keys: str) -> int:
        """Seconds until one more attempt would be let through."""
        now = self.clock()
        with self._lock:
            waits = [
                self.window - (now - hits[0])
                for k in keys
                if len(hits := self._recent(k, now)) >= self.limit
            ]
        return max(1, int(max(waits, default=1)) + 1)
