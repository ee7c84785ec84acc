"""The issuer's public keys: discovered, fetched with ``requests``, cached, rotated.

PyJWT parses each JWK, but the cache policy is ours (``PyJWKClient`` before 2.13 refetched on
every unknown ``kid`` and dropped its keys when a fetch failed):

* a key set is trusted for ``jwks_cache_lifetime`` seconds; from 80% of it on, it is
  refreshed on a background thread while requests keep using it, so no request ever waits on
  a scheduled fetch (only one whose ``kid`` is unknown waits, for the fetch it needs);
* an unknown ``kid`` triggers a refetch, at most once per ``jwks_refetch_cooldown``, so a
  flood of made-up ``kid`` values costs the issuer one request per cooldown;
* threads that need a refresh at the same time share one fetch (a lock plus a generation
  counter: whoever waited on the lock reuses the result); a thread that already holds a
  usable key does not wait for another's fetch at all;
* if the issuer fails, cached keys keep working for up to ``jwks_max_stale`` seconds after the
  last good fetch (stale-if-error); with no usable key the caller gets ``KeysUnavailable``
  (HTTP 503) as soon as the timeout-bounded fetch fails, and again at once while the cooldown
  runs, so nothing hangs.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from jwt import PyJWK
from jwt.exceptions import PyJWTError
from urllib3.exceptions import HTTPError as Urllib3Error

from .config import AuthSettings
from .errors import InvalidToken, KeysUnavailable
from .signals import jwks_fetched

log = logging.getLogger("shared_auth.jwks")

MAX_DOCUMENT_BYTES = 512 * 1024
REFRESH_AHEAD = 0.8
"""Share of ``jwks_cache_lifetime`` after which the set is refreshed in the background."""
MIN_RSA_BITS = 2048
_KTY_FOR_ALG = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_CURVE_FOR_ALG = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "EdDSA": "Ed25519"}


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One public key, bound to exactly one algorithm (RFC 8725 section 3.1)."""

    kid: str | None
    algorithm: str
    key: Any
    verifier: Any

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        return bool(self.verifier.verify(signing_input, self.key, signature))


class FetchError(Exception):
    """Discovery or the JWKS request failed; the message names the URL and the cause.

    ``absent`` marks answers that say "no such document" (404, not JSON) rather than
    "unreachable", which is when discovery may fall back to the well-known JWKS path.
    """

    def __init__(self, message: str, *, absent: bool = False) -> None:
        super().__init__(message)
        self.absent = absent


class JWKSCache:
    """Thread-safe cache of the issuer's signing keys; one instance per process and issuer."""

    def __init__(
        self,
        settings: AuthSettings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._session = session or requests.Session()
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str | None, SigningKey] = {}
        self._jwks_uri = settings.jwks_uri
        self._fetched_at: float | None = None
        self._last_attempt: float | None = None
        self._last_error: str | None = None
        self._generation = 0
        self._background: threading.Thread | None = None
        self._background_lock = threading.Lock()

    @property
    def has_keys(self) -> bool:
        """Whether any key is usable now: the readiness probe's question."""
        age = self._age(self._clock())
        return bool(self._keys) and age < self._settings.jwks_max_stale

    def get(self, kid: str | None, algorithm: str) -> SigningKey:
        """The key for a token header's ``kid`` and ``alg``, refreshing the set when needed."""
        generation = self._generation  # read first: a fetch finishing after the lookup counts
        key = self._lookup(kid)
        usable = self.has_keys
        if key is None or not usable:
            # Nothing usable for this caller: it fetches, and waits. With a usable set in hand
            # it does not queue behind another thread's fetch (a flood of made-up kids would
            # otherwise tie up every worker thread for a whole timeout); only an empty or
            # too-stale cache waits for the fetch in flight, having nothing else to use.
            self._refresh(generation, wait=not usable)
            key = self._lookup(kid)
        else:
            self._refresh_ahead()
        if key is None:
            if not self._keys or self._last_error:
                raise self._unavailable()
            raise InvalidToken(
                "The token was signed with a key this API does not know", "unknown_kid"
            )
        if self._age(self._clock()) >= self._settings.jwks_max_stale:
            raise self._unavailable()
        if key.algorithm != algorithm:
            raise InvalidToken(
                "The token's algorithm does not match its signing key", "alg_key_mismatch"
            )
        return key

    def trusts(self, key: SigningKey) -> bool:
        """Whether ``key`` is still in the current set and the set fresh enough to use: what a
        remembered verification (``TokenCache``) rests on."""
        if self._age(self._clock()) >= self._settings.jwks_max_stale:
            return False
        if self._lookup(key.kid) is not key:
            return False
        self._refresh_ahead()
        return True

    def refresh(self) -> bool:
        """Fetch now if the cooldown allows (start-up warm-up, readiness); True if keys exist."""
        self._refresh(self._generation)
        return self.has_keys

    def _refresh_ahead(self) -> None:
        """Refresh a set due for it (``REFRESH_AHEAD`` of its lifetime) on a background thread:
        requests keep using the cached set meanwhile, so none waits on a scheduled fetch, and
        a slow or frozen issuer costs nobody their request."""
        now = self._clock()
        if self._age(now) < self._settings.jwks_cache_lifetime * REFRESH_AHEAD:
            return
        last = self._last_attempt
        if last is not None and now - last < self._settings.jwks_refetch_cooldown:
            return  # checked before starting a thread, which would find the same
        with self._background_lock:
            if self._background is not None and self._background.is_alive():
                return
            self._background = threading.Thread(
                target=self._refresh, args=(self._generation,), name="jwks-refresh", daemon=True
            )
            self._background.start()

    def wait_for_refresh(self, timeout: float | None = None) -> None:
        """Wait for a background refresh to finish (tests, orderly shutdown)."""
        background = self._background
        if background is not None:
            background.join(timeout)

    def _lookup(self, kid: str | None) -> SigningKey | None:
        keys = self._keys
        if kid is None and len(keys) == 1:
            return next(iter(keys.values()))
        return keys.get(kid)

    def _age(self, now: float) -> float:
        return float("inf") if self._fetched_at is None else now - self._fetched_at

    def _refresh(self, seen_generation: int, *, wait: bool = True) -> None:
        if not self._lock.acquire(blocking=wait):
            return  # another thread is fetching; this caller answers from what is cached
        try:
            self._fetch_unless_done(seen_generation)
        finally:
            self._lock.release()

    def _fetch_unless_done(self, seen_generation: int) -> None:
        """Fetch, unless another thread did meanwhile or the cooldown forbids (lock held)."""
        if self._generation != seen_generation:
            return  # another thread fetched while we waited: use its result
        now = self._clock()
        cooldown = self._settings.jwks_refetch_cooldown
        if self._last_attempt is not None and now - self._last_attempt < cooldown:
            return
        self._last_attempt = now
        started = time.perf_counter()
        try:
            keys = self._fetch_keys()
        except FetchError as exc:
            self._last_error = str(exc)
            log.warning(
                "jwks fetch failed", extra={"reason": "jwks_fetch_failed", "detail": str(exc)}
            )
        else:
            self._keys, self._fetched_at, self._last_error = keys, self._clock(), None
        finally:
            self._generation += 1
        jwks_fetched.send(
            self,
            outcome="failed" if self._last_error else "ok",
            keys=len(self._keys),
            seconds=time.perf_counter() - started,
        )

    def _unavailable(self) -> KeysUnavailable:
        waited = 0.0 if self._last_attempt is None else self._clock() - self._last_attempt
        return KeysUnavailable(
            "The API cannot verify tokens right now because the issuer's keys are unavailable",
            "jwks_unavailable",
            retry_after=int(self._settings.jwks_refetch_cooldown - waited) + 1,
        )

    def _fetch_keys(self) -> dict[str | None, SigningKey]:
        if self._jwks_uri is None:
            self._jwks_uri = self._discover()
        document = self._get_json(self._jwks_uri)
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise FetchError(f"{self._jwks_uri} is not a JWK Set (no 'keys' array)")
        keys: dict[str | None, SigningKey] = {}
        for entry in entries:
            key = self._parse_key(entry)
            if key is not None:
                keys.setdefault(key.kid, key)
        if not keys:
            raise FetchError(f"{self._jwks_uri} has no key usable with {self._settings.algorithms}")
        return keys

    def _discover(self) -> str:
        """Read ``jwks_uri`` from OpenID discovery; fall back to Auth0's well-known path."""
        try:
            metadata = self._get_json(self._settings.discovery_uri)
        except FetchError as exc:
            if not exc.absent:
                raise
            return self._settings.fallback_jwks_uri
        issuer = metadata.get("issuer")
        if issuer is not None and issuer != self._settings.issuer:
            raise FetchError(
                f"discovery says issuer {issuer!r}, but AUTH_ISSUER is {self._settings.issuer!r}"
            )
        uri = metadata.get("jwks_uri")
        if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
            return self._settings.fallback_jwks_uri
        return uri

    def _get_json(self, url: str) -> dict[str, Any]:
        """GET with a hard deadline and size cap: a slow or huge answer cannot stall a request."""
        timeout = self._settings.http_timeout
        deadline = self._clock() + timeout
        headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
        try:
            with self._session.get(
                url, timeout=(timeout, timeout), stream=True, headers=headers
            ) as response:
                if response.status_code != 200:
                    raise FetchError(
                        f"{url} answered HTTP {response.status_code}",
                        absent=response.status_code == 404,
                    )
                body = bytearray()
                # read1 returns after one socket read (bounded by the read timeout), so the
                # deadline is checked while a server drips bytes; iter_content would block
                # until a whole chunk had arrived, however slowly.
                while chunk := response.raw.read1(16384, decode_content=True):
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise FetchError(f"{url} sent more than {MAX_DOCUMENT_BYTES} bytes")
                    if self._clock() > deadline:
                        raise FetchError(f"{url} took longer than {timeout} s")
        except (requests.RequestException, Urllib3Error, OSError) as exc:
            raise FetchError(f"{url} could not be fetched: {type(exc).__name__}") from None
        try:
            document = json.loads(bytes(body))
        except ValueError:
            raise FetchError(f"{url} is not JSON", absent=True) from None
        if not isinstance(document, dict):
            raise FetchError(f"{url} is not a JSON object", absent=True)
        return document

    def _parse_key(self, entry: object) -> SigningKey | None:
        """A usable verification key, or None (logged) for keys we must not or cannot use."""
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            return None
        if "d" in entry:  # private material in a public set: leaked, and unusable to verify
            log.warning(
                "jwks key skipped",
                extra={"kid": str(entry.get("kid"))[:64], "reason": "private_key"},
            )
            return None
        kty, kid = entry.get("kty"), entry.get("kid")
        algorithm = entry.get("alg") or next(
            (a for a in self._settings.algorithms if _KTY_FOR_ALG.get(a[:2]) == kty), None
        )
        if (
            algorithm not in self._settings.algorithms
            or _KTY_FOR_ALG.get(algorithm[:2]) != kty
            or (algorithm in _CURVE_FOR_ALG and entry.get("crv") != _CURVE_FOR_ALG[algorithm])
            or (kid is not None and not isinstance(kid, str))
        ):
            log.info("jwks key skipped", extra={"kid": str(kid)[:64], "reason": "not_allowed"})
            return None
        try:
            jwk = PyJWK(entry, algorithm=algorithm)
        except (PyJWTError, ValueError, TypeError):  # InvalidKeyError is no PyJWKError
            log.warning("jwks key invalid", extra={"kid": str(kid)[:64], "reason": "bad_jwk"})
            return None
        if kty == "RSA" and jwk.key.key_size < MIN_RSA_BITS:
            log.warning("jwks key too small", extra={"kid": str(kid)[:64], "reason": "weak_key"})
            return None
        return SigningKey(kid=kid, algorithm=algorithm, key=jwk.key, verifier=jwk.Algorithm)
