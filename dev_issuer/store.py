"""What the issuer remembers between requests: consent, pending codes, failed sign-ins.

Kept in one SQLite file in the issuer's folder rather than in memory, so every gunicorn
worker and thread sees the same consent and the same codes, consent survives a restart (as it
does in a real tenant; ``dev-issuer forget-consent`` clears it), and taking a code is a single
``DELETE ... RETURNING``: two exchanges racing for one code cannot both win. Codes are stored
as SHA-256 hashes, so the file never holds a code that could be redeemed. Failed sign-ins
are counted here too, so a throttle holds across every worker.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from service_kit.files import create_private

_SCHEMA = """
CREATE TABLE IF NOT EXISTS consent (
    user_id   TEXT NOT NULL,
    client_id TEXT NOT NULL,
    audience  TEXT NOT NULL,
    scopes    TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id, audience)
);
CREATE TABLE IF NOT EXISTS sign_in_failures (
    subject   TEXT NOT NULL,
    failed_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_failures_by_subject ON sign_in_failures (subject, failed_at);
CREATE TABLE IF NOT EXISTS codes (
    code_hash      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    audience       TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at     REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class PendingCode:
    """What an authorization code stands for, bound at /authorize time."""

    client_id: str
    redirect_uri: str
    user_id: str
    audience: str
    scopes: tuple[str, ...]
    code_challenge: str
    expires_at: float


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


class StateStore:
    """Consent and authorization codes in the SQLite file at ``path``."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        create_private(self.path)
        with closing(self._connect()) as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # One short-lived connection per operation: nothing to share between threads or
        # to carry across gunicorn's fork.
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def check(self) -> None:
        """Readiness: the store file answers a query."""
        with closing(self._connect()) as db:
            db.execute("SELECT 1 FROM consent LIMIT 1").fetchall()

    def consented(self, user_id: str, client_id: str, audience: str) -> frozenset[str]:
        """Scopes ``user_id`` has allowed ``client_id`` on ``audience`` (empty if never asked)."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT scopes FROM consent WHERE user_id = ? AND client_id = ? AND audience = ?",
                (user_id, client_id, audience),
            ).fetchone()
        return frozenset(row[0].split()) if row else frozenset()

    def add_consent(
        self, user_id: str, client_id: str, audience: str, scopes: Iterable[str]
    ) -> frozenset[str]:
        """Add ``scopes`` to what was allowed before; return the new whole."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT scopes FROM consent WHERE user_id = ? AND client_id = ? AND audience = ?",
                (user_id, client_id, audience),
            ).fetchone()
            granted = frozenset(row[0].split() if row else []).union(scopes)
            db.execute(
                "INSERT INTO consent VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
                "SET scopes = excluded.scopes, granted_at = excluded.granted_at",
                (user_id, client_id, audience, " ".join(sorted(granted)), int(self.clock())),
            )
        return granted

    def forget_consent(self, user_id: str | None = None) -> int:
        """Drop remembered consent (one user's, or everyone's); return how many were dropped."""
        with self._transaction() as db:
            if user_id is None:
                return db.execute("DELETE FROM consent").rowcount
            return db.execute("DELETE FROM consent WHERE user_id = ?", (user_id,)).rowcount

    def save_code(self, code: str, pending: PendingCode) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM codes WHERE expires_at < ?", (self.clock(),))
            db.execute(
                "INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _hash(code),
                    pending.client_id,
                    pending.redirect_uri,
                    pending.user_id,
                    pending.audience,
                    " ".join(pending.scopes),
                    pending.code_challenge,
                    pending.expires_at,
                ),
            )

    def take_code(self, code: str) -> PendingCode | None:
        """Remove and return the code's record: a code can be taken exactly once."""
        with self._transaction() as db:
            rows = db.execute(
                "DELETE FROM codes WHERE code_hash = ? RETURNING client_id, redirect_uri, "
                "user_id, audience, scopes, code_challenge, expires_at",
                (_hash(code),),
            ).fetchall()
        if not rows:
            return None
        client_id, redirect_uri, user_id, audience, scopes, challenge, expires_at = rows[0]
        return PendingCode(
            client_id, redirect_uri, user_id, audience, tuple(scopes.split()), challenge, expires_at
        )

    def recent_failures(self, subject: str, window: float) -> list[float]:
        """When ``subject`` (a user or an address) failed to sign in, within ``window`` s."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT failed_at FROM sign_in_failures WHERE subject = ? AND failed_at > ? "
                "ORDER BY failed_at",
                (subject, self.clock() - window),
            ).fetchall()
        return [row[0] for row in rows]

    def add_failure(self, subjects: Iterable[str], window: float) -> None:
        """Count a failed sign-in against each subject; forget failures older than ``window``."""
        now = self.clock()
        with self._transaction() as db:
            db.execute("DELETE FROM sign_in_failures WHERE failed_at <= ?", (now - window,))
            db.executemany(
                "INSERT INTO sign_in_failures VALUES (?, ?)", [(s, now) for s in subjects]
            )

    def clear_failures(self, subject: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM sign_in_failures WHERE subject = ?", (subject,))
