"""The calendar's SQLite database, its WAL and its shared-memory file are owner-only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from calendar_helpers import EVENTS, CalendarClient, event_body


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask that would leave files world-readable: the modes must not depend on it."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_database_files_are_0600_in_a_0700_folder(
    make_app: Any, serve: Any, tokens: Any, tmp_path: Path, permissive_umask: None
) -> None:
    folder = tmp_path / "fresh" / "instance"
    app = make_app(CALENDAR_INSTANCE_PATH=str(folder), DATABASE_URL="")
    api = CalendarClient(serve(app), tokens.mint())
    assert api.post(EVENTS, json=event_body()).status_code == 201
    database = folder / "calendar.sqlite3"
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    assert all(path.exists() for path in files)
    assert {path.name: mode(path) for path in files} == dict.fromkeys(
        (path.name for path in files), 0o600
    )
    assert mode(folder) == 0o700


def test_a_database_file_left_readable_is_tightened(
    make_app: Any, tmp_path: Path, permissive_umask: None
) -> None:
    database = tmp_path / "old.sqlite3"
    database.touch(mode=0o644)
    make_app(DATABASE_URL=f"sqlite:///{database}")
    assert mode(database) == 0o600
