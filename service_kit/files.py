"""Owner-only files: keys, secrets and databases, created 0600 in folders created 0700.

Whatever a service keeps on disk (the issuer's signing keys and session secret, its consent
store, the calendar's SQLite database) is readable by its owner only, whatever the umask. A
reader never sees a half-written file (write to a temporary name, then ``os.replace``), and
processes that start together (gunicorn workers, ``dev-issuer token`` next to a running
server) serialise first-start and rotation with an ``flock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("service_kit.files")

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` (owner-only) if needed; refuse a path that is not a folder.

    ``mkdir``'s mode is filtered by the umask, so it is set again explicitly; a folder that
    already existed keeps the mode its owner gave it.
    """
    existed = directory.is_dir()
    try:
        directory.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    except FileExistsError:
        raise OSError(f"{directory} exists but is not a folder") from None
    if not existed:
        directory.chmod(PRIVATE_DIR_MODE)


def create_private(path: Path) -> None:
    """Make sure ``path`` exists as an owner-only file (0600) before anything opens it.

    SQLite creates its ``-wal``, ``-shm`` and ``-journal`` files with the mode of the
    database file, so creating that one 0600 makes all of them private.
    """
    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    os.close(fd)
    _tighten(path)


def _tighten(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning(
            "private file was readable by others; mode set to 0600",
            extra={"path": str(path), "old_mode": oct(mode)},
        )
        path.chmod(PRIVATE_FILE_MODE)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600, whatever the umask."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def read_private(path: Path) -> bytes:
    """Read a secret file, first tightening its mode if someone loosened it."""
    _tighten(path)
    return path.read_bytes()


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` for the block (other processes wait)."""
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def load_or_create_secret(path: Path, nbytes: int = 32) -> bytes:
    """A random secret kept in ``path``; created once, then the same across restarts."""
    with locked(path.parent):
        if not path.exists():
            write_private(path, secrets.token_hex(nbytes).encode("ascii"))
        return read_private(path)
