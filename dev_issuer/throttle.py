"""Sign-in throttling: repeated wrong passwords slow a guesser down, per user and per address.

Two sliding windows over the failures the store counts (shared by every worker): a user
with ``USER_LIMIT`` failures in ``WINDOW`` seconds, or an address with ``ADDRESS_LIMIT``, is
refused with 429 and ``Retry-After`` (the seconds until the oldest counted failure leaves the
window) before the password is even looked at, so a locked account cannot be probed. A
successful sign-in clears the user's count; the address's count only ages out, so one
address cannot lock many users in turn without being slowed down itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .store import StateStore

WINDOW = 300.0
USER_LIMIT = 5
ADDRESS_LIMIT = 20


@dataclass(frozen=True, slots=True)
class SignInThrottle:
    store: StateStore

    def retry_after(self, user_id: str | None, address: str | None) -> int | None:
        """Seconds to wait before another attempt may be judged, or None to go ahead."""
        waits = [self._wait(subject, limit) for subject, limit in self._subjects(user_id, address)]
        longest = max((w for w in waits if w is not None), default=None)
        return longest

    def failed(self, user_id: str | None, address: str | None) -> None:
        self.store.add_failure([subject for subject, _ in self._subjects(user_id, address)], WINDOW)

    def succeeded(self, user_id: str) -> None:
        self.store.clear_failures(f"user:{user_id}")

    def _wait(self, subject: str, limit: int) -> int | None:
        failures = self.store.recent_failures(subject, WINDOW)
        if len(failures) < limit:
            return None
        oldest_counted = failures[-limit]
        return max(1, math.ceil(oldest_counted + WINDOW - self.store.clock()))

    @staticmethod
    def _subjects(user_id: str | None, address: str | None) -> list[tuple[str, int]]:
        subjects = [(f"address:{address}", ADDRESS_LIMIT)] if address else []
        if user_id:
            subjects.append((f"user:{user_id}", USER_LIMIT))
        return subjects
