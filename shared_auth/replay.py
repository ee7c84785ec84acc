"""Remembering what was already seen, across every worker of a deployment.

A DPoP proof's ``jti`` may be used once. Peers keep no store, or one per process, so a replay
sent to another gunicorn worker passes. Here the store is shared:

* ``SQLiteReplayStore``: a file in the instance folder, the default; every worker on the
  machine sees every ``jti``, with nothing else to run;
* ``RedisReplayStore``: ``REDIS_URL``, for several instances behind a load balancer;
* ``MemoryReplayStore``: one process only (tests, single-process servers).

Entries expire with the proof's acceptance window, so a store never grows without bound. The
same store keeps the secret DPoP nonces are derived from, so every worker issues and accepts
the same nonces.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

SECRET_BYTES = 32
_PURGE_EVERY = 256


class ReplayStore(Protocol):
    def first_use(self, value: str, ttl: float) -> bool:
        """True the first time ``value`` is seen within ``ttl`` seconds (and remember it)."""

    def shared_secret(self) -> bytes:
        """A random secret, the same for every process using this store."""


def _key(value: str) -> str:
    """Stored values are hashes: bounded in size whatever the client sent."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class MemoryReplayStore:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._secret = secrets.token_bytes(SECRET_BYTES)
        self.clock = clock

    def first_use(self, value: str, ttl: float) -> bool:
        now, key = self.clock(), _key(value)
        with self._lock:
            if len(self._seen) > _PURGE_EVERY:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            if self._seen.get(key, 0.0) > now:
                return False
            self._seen[key] = now + ttl
            return True

    def shared_secret(self) -> bytes:
        return self._secret


class SQLiteReplayStore:
    """One SQLite file (WAL, created 0600); one connection per thread and process."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self._local = threading.local()
        self._inserts = 0
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires REAL)")
            db.execute("CREATE TABLE IF NOT EXISTS secret (id INTEGER PRIMARY KEY, value BLOB)")
            db.execute(
                "INSERT OR IGNORE INTO secret VALUES (1, ?)", (secrets.token_bytes(SECRET_BYTES),)
            )
        self._secret = self._db().execute("SELECT value FROM secret WHERE id = 1").fetchone()[0]

    def first_use(self, value: str, ttl: float) -> bool:
        now = self.clock()
        db = self._db()
        with db:
            claimed = db.execute(
                "INSERT INTO seen VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                "SET expires = excluded.expires WHERE seen.expires <= ?",
                (_key(value), now + ttl, now),
            ).rowcount
            self._inserts += 1
            if self._inserts % _PURGE_EVERY == 0:
                db.execute("DELETE FROM seen WHERE expires <= ?", (now,))
        return claimed == 1

    def shared_secret(self) -> bytes:
        return bytes(self._secret)

    def _db(self) -> sqlite3.Connection:
        """This thread's connection, opened anew in a forked worker (never the parent's)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.db, local.pid = self._connect(), os.getpid()
        return local.db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db


class RedisReplayStore:
    """``SET key NX EX ttl``: atomic, shared by every instance using the same Redis."""

    def __init__(self, url: str, prefix: str = "shared_auth:dpop:") -> None:
        import redis  # only deployments that name a Redis need the package loaded

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix
        self._redis.set(f"{prefix}secret", secrets.token_bytes(SECRET_BYTES), nx=True)
        self._secret = bytes(self._redis.get(f"{prefix}secret"))

    def first_use(self, value: str, ttl: float) -> bool:
        seconds = max(1, int(ttl + 0.999))
        return bool(self._redis.set(f"{self._prefix}seen:{_key(value)}", 1, nx=True, ex=seconds))

    def shared_secret(self) -> bytes:
        return self._secret


def replay_store(redis_url: str | None, sqlite_path: str | Path) -> ReplayStore:
    """Redis when a URL is given (several instances), else the embedded SQLite file."""
    if redis_url:
        return RedisReplayStore(redis_url)
    return SQLiteReplayStore(sqlite_path)
