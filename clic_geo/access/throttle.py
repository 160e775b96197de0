"""Sign-in throttling per client address: growing holds, so guessing is slow.

The account side lives in the store (``users.failed_logins``, ``users.locked_until``,
:func:`clic_geo.access.auth.login`): after ``max_failures`` wrong passwords in a row
an account is held for ``lockout_minutes`` (one minute by default). That alone let
anyone lock any known account at will, five tries at a time. So each client address
is throttled too, and harder: after ``free`` failures in a row, the address is held
for 1 s, then 2 s, 4 s... up to ``max_hold_s``; attempts during a hold are refused at
once, without a password check (no CPU spent), and count as failures. One address
guessing at an officer's account therefore falls ever further behind: its holds soon
outlast the account's, and the account is open most of the time
(``tests/test_throttle.py`` measures it).

The state is kept in memory, per server process (one :class:`ClientThrottle`, made
by the app at start-up and passed to :func:`~clic_geo.access.auth.login`): a restart
forgets it, which costs an attacker nothing they could not get by waiting. Addresses
are kept only as a SHA-256 prefix, for at most ``forget_after_s`` after their last
failure.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["ClientThrottle", "ThrottledError"]


class ThrottledError(Exception):
    """Raised by :meth:`ClientThrottle.check` while the client is held."""

    def __init__(self, seconds: float) -> None:
        self.seconds = max(1, int(seconds + 0.999))
        super().__init__(
            f"too many failed sign-ins from this address; try again in {self.seconds} s"
        )


@dataclass
class _Entry:
    failures: int
    last_failure: datetime
    held_until: datetime | None


class ClientThrottle:
    """Failed sign-ins per client address, with growing holds (thread-safe).

    Examples
    --------
    >>> from datetime import datetime
    >>> t = ClientThrottle(free=2, max_hold_s=60)
    >>> now = datetime(2026, 1, 1)
    >>> [t.failed("10.0.0.1", now) for _ in range(4)]
    [0.0, 0.0, 1.0, 2.0]
    """

    def __init__(
        self, *, free: int = 5, max_hold_s: float = 3600, forget_after_s: float = 3600
    ) -> None:
        self.free = free
        self.max_hold_s = max_hold_s
        self.forget_after_s = forget_after_s
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(client: str) -> str:
        return hashlib.sha256(str(client).encode("utf-8", "replace")).hexdigest()[:24]

    def _prune(self, now: datetime) -> None:
        cutoff = now - timedelta(seconds=self.forget_after_s)
        for k in [k for k, e in self._entries.items() if e.last_failure < cutoff]:
            del self._entries[k]

    def hold(self, client: str | None, now: datetime) -> float:
        """Seconds left of the client's hold (0: it may try)."""
        if not client:
            return 0.0
        with self._lock:
            self._prune(now)
            e = self._entries.get(self._key(client))
            if e is None or e.held_until is None:
                return 0.0
            return max(0.0, (e.held_until - now).total_seconds())

    def check(self, client: str | None, now: datetime) -> None:
        """Raise :class:`ThrottledError` (and count a failure) while the client is held."""
        left = self.hold(client, now)
        if left > 0:
            self.failed(client, now)
            raise ThrottledError(self.hold(client, now))

    def failed(self, client: str | None, now: datetime) -> float:
        """Count a failure; returns the hold it starts (seconds, 0 for none)."""
        if not client:
            return 0.0
        with self._lock:
            self._prune(now)
            key = self._key(client)
            e = self._entries.get(key) or _Entry(0, now, None)
            e.failures += 1
            e.last_failure = now
            over = e.failures - self.free
            hold = 0.0 if over <= 0 else float(min(self.max_hold_s, 2 ** min(over - 1, 30)))
            if hold:
                end = now + timedelta(seconds=hold)
                e.held_until = max(end, e.held_until) if e.held_until else end
            self._entries[key] = e
            return hold

    def __len__(self) -> int:
        return len(self._entries)
