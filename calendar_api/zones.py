"""IANA time zones: the names this process can load, and loading one by name."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones


@cache
def zone_names() -> frozenset[str]:
    """IANA zone names this process can load (``tzdata``), minus host-specific aliases."""
    return frozenset(
        name
        for name in available_timezones()
        if name not in ("localtime", "Factory") and not name.startswith(("posix/", "right/"))
    )


def load_zone(name: str) -> ZoneInfo:
    """The zone called ``name``; ``ValueError`` for anything not in the IANA list."""
    if name not in zone_names():
        raise ValueError(f"{name!r} is not an IANA time zone name such as Europe/Berlin")
    return ZoneInfo(name)
