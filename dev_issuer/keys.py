"""The issuer's RSA signing keys: made on first start, kept across restarts, rotated on demand.

The folder holds::

    keys.json           which key signs now, and the retired public keys still published
    signing-<kid>.pem   the current private key (mode 0600)

Rotation writes the new private key, swaps ``keys.json`` in one atomic step (the old public
key moves to the retired list with a ``drop_after`` time), then deletes the old private key.
A running server notices the new ``keys.json`` at its next request, so ``dev-issuer
rotate-keys`` needs no restart, and tokens the old key signed keep verifying until the grace
period ends: by default the longest token lifetime in the tenant, i.e. until every token the
old key could have signed has expired. ``kid`` is the RFC 7638 thumbprint of the public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from service_kit.files import ensure_private_dir, locked, read_private, write_private

ALGORITHM = "RS256"
KEY_BITS = 2048
MANIFEST = "keys.json"
_KID = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url SHA-256: also safe inside a file name


class KeyStoreError(RuntimeError):
    """The key folder is unusable; the message names the file and how to recover."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @property
    def jwk(self) -> dict[str, Any]:
        return public_jwk(self.private_key.public_key())


@dataclass(frozen=True, slots=True)
class RetiredKey:
    """A former signing key: public half only, published until ``drop_after``."""

    kid: str
    jwk: dict[str, Any]
    retired_at: int
    drop_after: int


def public_jwk(public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    """The JWK a verifier needs: ``kty``, ``n``, ``e`` plus ``kid``, ``use`` and ``alg``."""
    fields = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    core = {"kty": "RSA", "n": fields["n"], "e": fields["e"]}
    return {**core, "kid": thumbprint(core), "use": "sig", "alg": ALGORITHM}


def thumbprint(core: dict[str, str]) -> str:
    """RFC 7638 JWK thumbprint: a ``kid`` that is stable and derived from the key itself."""
    canonical = json.dumps(
        {"e": core["e"], "kty": core["kty"], "n": core["n"]}, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class KeyStore:
    """The signing keys in one folder; safe to share between threads and processes."""

    def __init__(self, directory: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self._clock = clock
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._state: tuple[SigningKey, tuple[RetiredKey, ...]] | None = None
        try:
            ensure_private_dir(self.directory)
            with locked(self.directory):
                if not self._manifest.exists():
                    self._write(_generate(), ())
        except OSError as exc:
            raise KeyStoreError(f"{self.directory}: cannot create the key folder: {exc}") from None
        self._refresh()

    @property
    def _manifest(self) -> Path:
        return self.directory / MANIFEST

    def current(self) -> SigningKey:
        """The key that signs new tokens (re-read if another process rotated it)."""
        return self._refresh()[0]

    def check(self) -> None:
        """Readiness: the current signing key loads (raises ``KeyStoreError`` otherwise)."""
        self.current()

    def jwks(self) -> dict[str, Any]:
        """The JWK Set: the current key first, then retired keys still in their grace period."""
        current, retired = self._refresh()
        now = self._clock()
        return {"keys": [current.jwk, *(key.jwk for key in retired if key.drop_after > now)]}

    def rotate(self, grace: int) -> tuple[SigningKey, RetiredKey]:
        """Make a new current key; the old public key stays published for ``grace`` seconds."""
        if grace < 0:
            raise ValueError("the grace period cannot be negative")
        with locked(self.directory):
            old, retired = self._load()
            now = int(self._clock())
            moved = RetiredKey(old.kid, old.jwk, now, now + grace)
            kept = tuple(key for key in retired if key.drop_after > now)
            new = _generate()
            self._write(new, (*kept, moved))
            (self.directory / f"signing-{old.kid}.pem").unlink(missing_ok=True)
        self._refresh()
        return new, moved

    def _refresh(self) -> tuple[SigningKey, tuple[RetiredKey, ...]]:
        try:
            info = self._manifest.stat()
        except FileNotFoundError:
            raise KeyStoreError(
                f"{self._manifest} disappeared; restart to create new keys"
            ) from None
        stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        with self._lock:
            if self._state is None or stamp != self._stamp:
                self._state, self._stamp = self._load(), stamp
            return self._state

    def _load(self) -> tuple[SigningKey, tuple[RetiredKey, ...]]:
        # A rotation in another process may delete the private key between our reading
        # keys.json and the key file: read both again once before giving up.
        for _ in range(2):
            manifest = self._read_manifest()
            key_file = self.directory / f"signing-{manifest['current']}.pem"
            try:
                pem = read_private(key_file)
                break
            except FileNotFoundError:
                continue
        else:
            raise KeyStoreError(f"{key_file} is missing; {self._recover}")
        current = _parse_key(key_file, pem, manifest["current"], self._recover)
        return current, tuple(RetiredKey(**entry) for entry in manifest["retired"])

    def _read_manifest(self) -> dict[str, Any]:
        try:
            manifest = json.loads(self._manifest.read_text("utf-8"))
            current, retired = manifest["current"], manifest["retired"]
            if not isinstance(current, str) or not _KID.fullmatch(current):
                raise TypeError
            if not isinstance(retired, list):
                raise TypeError
            for entry in retired:
                RetiredKey(**entry)
        except (OSError, ValueError, KeyError, TypeError):
            raise KeyStoreError(f"{self._manifest} is damaged; {self._recover}") from None
        return manifest

    @property
    def _recover(self) -> str:
        return (
            f"delete the folder {self.directory} to start over with new keys "
            "(tokens signed so far will stop verifying)"
        )

    def _write(self, current: SigningKey, retired: tuple[RetiredKey, ...]) -> None:
        pem = current.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_private(self.directory / f"signing-{current.kid}.pem", pem)
        manifest = {
            "current": current.kid,
            "retired": [
                {"kid": k.kid, "jwk": k.jwk, "retired_at": k.retired_at, "drop_after": k.drop_after}
                for k in retired
            ],
        }
        write_private(self._manifest, json.dumps(manifest, indent=2).encode("utf-8"))


def _generate() -> SigningKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return SigningKey(public_jwk(private_key.public_key())["kid"], private_key)


def _parse_key(path: Path, pem: bytes, kid: str, recover: str) -> SigningKey:
    try:
        private_key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise KeyStoreError(f"{path} is not a readable private key; {recover}") from None
    if not isinstance(private_key, rsa.RSAPrivateKey) or private_key.key_size < KEY_BITS:
        raise KeyStoreError(f"{path} is not an RSA key of at least {KEY_BITS} bits; {recover}")
    key = SigningKey(kid, private_key)
    if key.jwk["kid"] != kid:
        raise KeyStoreError(f"{path} does not match the kid in {MANIFEST}; {recover}")
    return key
