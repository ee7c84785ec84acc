"""RFC 5545 recurrence lines (RRULE, EXDATE, RDATE), parsed strictly into plain data.

Why parsing is ours: ``dateutil.rrule.rrulestr`` and ``icalendar`` accept ``INTERVAL=0``,
``COUNT=-1`` and ``BYMONTH=13`` and raise ``TypeError`` on a missing ``FREQ``; rules they
accept can also cost seconds of CPU (a daily rule that never matches is walked to the year
9999). So each line is checked against RFC 5545 3.3.10 here, with a message that names the
line and the problem, and times are bounded to the years ``FIRST_YEAR`` to ``HORIZON``.
Expanding the result into instances is ``recurrence``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, FR, MO, MONTHLY, SA, SU, TH, TU, WE, WEEKLY, YEARLY, rrule

from .zones import load_zone

FIRST_YEAR = 1900
HORIZON = datetime(2200, 1, 1)
"""Wall-clock end of time for expansion: bounds the CPU any rule can cost."""
MAX_LINES = 20
MAX_COUNT = 5000
MAX_INTERVAL = 1000

_FREQUENCIES = {"DAILY": DAILY, "WEEKLY": WEEKLY, "MONTHLY": MONTHLY, "YEARLY": YEARLY}
_SUB_DAILY = frozenset({"HOURLY", "MINUTELY", "SECONDLY"})
_WEEKDAYS = {"MO": MO, "TU": TU, "WE": WE, "TH": TH, "FR": FR, "SA": SA, "SU": SU}
_RULE_PARTS = (
    "FREQ",
    "UNTIL",
    "COUNT",
    "INTERVAL",
    "BYMONTH",
    "BYWEEKNO",
    "BYYEARDAY",
    "BYMONTHDAY",
    "BYDAY",
    "BYSETPOS",
    "WKST",
)
# name -> (dateutil keyword, smallest absolute value, largest, frequencies it may be used with)
_INT_LISTS: dict[str, tuple[str, int, int, frozenset[str]]] = {
    "BYMONTH": ("bymonth", 1, 12, frozenset(_FREQUENCIES)),
    "BYWEEKNO": ("byweekno", 1, 53, frozenset({"YEARLY"})),
    "BYYEARDAY": ("byyearday", 1, 366, frozenset({"YEARLY"})),
    "BYMONTHDAY": ("bymonthday", 1, 31, frozenset({"DAILY", "MONTHLY", "YEARLY"})),
    "BYSETPOS": ("bysetpos", 1, 366, frozenset(_FREQUENCIES)),
}
_INT = re.compile(r"[+-]?[0-9]{1,4}")
_NATURAL = re.compile(r"[0-9]{1,6}")
_BYDAY = re.compile(r"([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_DATE = re.compile(r"[0-9]{8}")
_LOCAL_DATETIME = re.compile(r"[0-9]{8}T[0-9]{6}")
_UTC_DATETIME = re.compile(r"[0-9]{8}T[0-9]{6}Z")


class RecurrenceError(ValueError):
    """A recurrence line that cannot be accepted; the message says which one and why."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One validated RRULE: ``text`` is its normalised value, the rest feeds ``dateutil``."""

    text: str
    freq: int
    count: int | None
    until: datetime | None
    """Naive wall-clock time in the event's zone (midnight for all-day events)."""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Recurrence:
    """An event's parsed recurrence lines; times are naive wall-clock in the event's zone."""

    rule: Rule | None = None
    rdates: tuple[datetime, ...] = ()
    exdates: frozenset[datetime] = frozenset()

    @property
    def open_ended(self) -> bool:
        return self.rule is not None and self.rule.count is None and self.rule.until is None


def parse_recurrence(lines: Sequence[str], *, start: date | datetime, zone: ZoneInfo) -> Recurrence:
    """Validate ``RRULE``/``EXDATE``/``RDATE`` lines for an event starting at ``start``.

    Results are cached: every listing re-reads stored lines, and parsing includes a probe
    that may cost a few hundred milliseconds for a rule that never matches.
    """
    if len(lines) > MAX_LINES:
        raise RecurrenceError(f"at most {MAX_LINES} recurrence lines are allowed")
    if isinstance(start, datetime):
        return _parse(tuple(lines), start.astimezone(zone).replace(tzinfo=None), False, zone)
    return _parse(tuple(lines), _midnight(start), True, zone)


@lru_cache(maxsize=2048)
def _parse(lines: tuple[str, ...], dtstart: datetime, all_day: bool, zone: ZoneInfo) -> Recurrence:
    """``parse_recurrence`` for a wall-clock ``dtstart`` in ``zone`` (the cache key)."""
    rule: Rule | None = None
    rdates: list[datetime] = []
    exdates: set[datetime] = set()
    for number, line in enumerate(lines, 1):
        try:
            name, params, value = _split_line(line)
            if name == "RRULE":
                if rule is not None:
                    raise RecurrenceError("only one RRULE is allowed")
                if params:
                    raise RecurrenceError("RRULE takes no parameters")
                rule = _parse_rule(value, all_day=all_day, zone=zone, dtstart=dtstart)
            elif name in ("EXDATE", "RDATE"):
                times = _parse_dates(name, params, value, all_day=all_day, zone=zone)
                if name == "RDATE" and min(times) < dtstart:
                    raise RecurrenceError("RDATE values must not be before the event's start")
                (rdates.extend if name == "RDATE" else exdates.update)(times)
            elif name in ("EXRULE", "DTSTART"):
                hint = "use start" if name == "DTSTART" else "EXRULE is deprecated by RFC 5545"
                raise RecurrenceError(f"{name} is not accepted here ({hint})")
            else:
                raise RecurrenceError("only RRULE, EXDATE and RDATE lines are accepted")
        except RecurrenceError as exc:
            raise RecurrenceError(f"line {number} ({_preview(line)}): {exc}") from None
    return Recurrence(rule, tuple(sorted(set(rdates))), frozenset(exdates))


def _split_line(line: str) -> tuple[str, list[str], str]:
    head, colon, value = line.strip().partition(":")
    if not colon or not value:
        raise RecurrenceError("expected NAME:VALUE, e.g. RRULE:FREQ=WEEKLY;BYDAY=MO")
    name, *params = head.split(";")
    return name.strip().upper(), [p.strip() for p in params], value.strip()


def _parse_rule(value: str, *, all_day: bool, zone: ZoneInfo, dtstart: datetime) -> Rule:
    parts: dict[str, str] = {}
    for item in value.split(";"):
        key, equals, part = item.partition("=")
        key = key.strip().upper()
        if not equals or not key or not part.strip():
            raise RecurrenceError(f"{item!r} is not NAME=VALUE")
        if key in parts:
            raise RecurrenceError(f"{key} appears more than once")
        parts[key] = part.strip().upper()
    unknown = sorted(set(parts) - set(_RULE_PARTS))
    if unknown:
        if unknown[0] in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            raise RecurrenceError(
                f"{unknown[0]} is not supported: an event recurs at its start time"
            )
        raise RecurrenceError(f"unknown rule part {unknown[0]}")
    freq = parts.get("FREQ")
    if freq is None:
        raise RecurrenceError("FREQ is required")
    if freq in _SUB_DAILY:
        raise RecurrenceError(f"FREQ={freq} is not supported; use DAILY, WEEKLY, MONTHLY or YEARLY")
    if freq not in _FREQUENCIES:
        raise RecurrenceError(f"FREQ={freq} is not DAILY, WEEKLY, MONTHLY or YEARLY")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError("COUNT and UNTIL must not both be given (RFC 5545)")
    options: dict[str, Any] = {
        "interval": _bounded("INTERVAL", parts.get("INTERVAL", "1"), 1, MAX_INTERVAL)
    }
    count = None if "COUNT" not in parts else _bounded("COUNT", parts["COUNT"], 1, MAX_COUNT)
    until = None
    if "UNTIL" in parts:
        until = _parse_until(parts["UNTIL"], all_day=all_day, zone=zone)
        if until < dtstart:
            raise RecurrenceError("UNTIL is before the event's start")
    for key, (keyword, low, high, frequencies) in _INT_LISTS.items():
        if key in parts:
            if freq not in frequencies:
                raise RecurrenceError(f"{key} cannot be used with FREQ={freq} (RFC 5545)")
            signed = key != "BYMONTH"
            options[keyword] = [_by_value(key, v, low, high, signed) for v in parts[key].split(",")]
    if "BYDAY" in parts:
        options["byweekday"] = [
            _weekday(v, freq, "BYWEEKNO" in parts) for v in parts["BYDAY"].split(",")
        ]
    if (
        "BYSETPOS" in parts
        and len(set(parts) & {"BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY"}) == 0
    ):
        raise RecurrenceError("BYSETPOS needs another BYxxx part to select from")
    if "WKST" in parts:
        if parts["WKST"] not in _WEEKDAYS:
            raise RecurrenceError(f"WKST={parts['WKST']} is not a weekday (MO..SU)")
        options["wkst"] = _WEEKDAYS[parts["WKST"]]
    text = ";".join(f"{key}={parts[key]}" for key in _RULE_PARTS if key in parts)
    if _matches_nothing(_FREQUENCIES[freq], options, dtstart):
        raise RecurrenceError(
            "the rule matches no date (check BYxxx parts against INTERVAL and the start, "
            "e.g. BYMONTHDAY=30 with BYMONTH=2 never happens)"
        )
    return Rule(text, _FREQUENCIES[freq], count, until, options)


def _matches_nothing(freq: int, options: dict[str, Any], dtstart: datetime) -> bool:
    """Whether the rule yields nothing in the 400 years after ``dtstart`` (so it never will).

    ``dateutil`` checks ``UNTIL`` only when it yields, so a rule that never matches walks to
    the year 9999 (seconds of CPU for a daily rule). The Gregorian calendar repeats every 400
    years, so the same rule started a multiple of 400 years later behaves identically; started
    in 9200-9599 it can only walk 400-800 years, which covers every start before ``HORIZON``.
    """
    shift = (9600 - dtstart.year) // 400 * 400
    try:
        probe = rrule(freq, dtstart=dtstart.replace(year=dtstart.year + shift), **options)
        return next(iter(probe), None) is None
    except ValueError as exc:  # a combination dateutil itself refuses
        raise RecurrenceError(f"the rule cannot be expanded: {exc}") from None


def _bounded(name: str, raw: str, low: int, high: int) -> int:
    if not _NATURAL.fullmatch(raw) or not low <= int(raw) <= high:
        raise RecurrenceError(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _by_value(name: str, raw: str, low: int, high: int, signed: bool) -> int:
    value = int(raw) if _INT.fullmatch(raw) else 0
    if not low <= abs(value) <= high or (not signed and value < 0):
        sign = "-" if signed else ""
        raise RecurrenceError(f"{name} values must be {sign}{low}..{high}, got {raw!r}")
    return value


def _weekday(raw: str, freq: str, with_weekno: bool) -> Any:
    match = _BYDAY.fullmatch(raw)
    if match is None:
        raise RecurrenceError(f"BYDAY value {raw!r} is not like MO, 1MO or -1FR")
    ordinal, day = match.groups()
    if ordinal is None:
        return _WEEKDAYS[day]
    if freq not in ("MONTHLY", "YEARLY") or with_weekno:
        raise RecurrenceError("numbered BYDAY values (like 1MO) need FREQ=MONTHLY or YEARLY")
    if not 1 <= abs(int(ordinal)) <= 53:
        raise RecurrenceError(f"BYDAY value {raw!r} has an ordinal outside -53..53")
    return _WEEKDAYS[day](int(ordinal))


def _parse_until(raw: str, *, all_day: bool, zone: ZoneInfo) -> datetime:
    if all_day:
        if not _DATE.fullmatch(raw):
            raise RecurrenceError("UNTIL must be a date like 20261231 for an all-day event")
        return _midnight(_date(raw))
    if not _UTC_DATETIME.fullmatch(raw):
        raise RecurrenceError("UNTIL must be a UTC date-time like 20261231T235959Z")
    return _datetime(raw[:-1], UTC).astimezone(zone).replace(tzinfo=None)


def _parse_dates(
    name: str, params: list[str], value: str, *, all_day: bool, zone: ZoneInfo
) -> list[datetime]:
    value_type, value_zone, has_tzid = None, zone, False
    for param in params:
        key, _, raw = param.partition("=")
        key, raw = key.strip().upper(), raw.strip().strip('"')
        if key == "VALUE" and raw.upper() in ("DATE", "DATE-TIME"):
            value_type = raw.upper()
        elif key == "TZID":
            has_tzid = True
            try:
                value_zone = load_zone(raw)
            except ValueError as exc:
                raise RecurrenceError(f"TZID: {exc}") from None
        else:
            raise RecurrenceError(f"parameter {param!r} is not supported (only TZID and VALUE)")
    if value_type == ("DATE-TIME" if all_day else "DATE"):
        kind = "dates" if all_day else "date-times"
        raise RecurrenceError(f"{name} values must be {kind} because the event is {_kind(all_day)}")
    return [
        _parse_date_value(raw.strip(), all_day, value_zone, zone, has_tzid)
        for raw in value.split(",")
    ]


def _parse_date_value(
    raw: str, all_day: bool, value_zone: ZoneInfo, zone: ZoneInfo, has_tzid: bool
) -> datetime:
    if all_day:
        if not _DATE.fullmatch(raw):
            raise RecurrenceError(f"{raw!r} is not a date like 20260310 (the event is all-day)")
        return _midnight(_date(raw))
    if _UTC_DATETIME.fullmatch(raw):
        if has_tzid:
            raise RecurrenceError(f"{raw!r} is UTC (ends in Z) and must not also have a TZID")
        moment = _datetime(raw[:-1], UTC)
    elif _LOCAL_DATETIME.fullmatch(raw):
        moment = _datetime(raw, value_zone)
    else:
        raise RecurrenceError(
            f"{raw!r} is not a date-time like 20260310T090000 or 20260310T080000Z"
        )
    return moment.astimezone(zone).replace(tzinfo=None)


def _date(raw: str) -> date:
    try:
        value = datetime.strptime(raw, "%Y%m%d").date()
    except ValueError:
        raise RecurrenceError(f"{raw!r} is not a real date") from None
    _check_year(value.year, raw)
    return value


def _datetime(raw: str, zone: Any) -> datetime:
    try:
        value = datetime.strptime(raw, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
    except ValueError:
        raise RecurrenceError(f"{raw!r} is not a real date-time") from None
    _check_year(value.year, raw)
    return value


def _check_year(year: int, raw: str) -> None:
    if not FIRST_YEAR <= year < HORIZON.year:
        raise RecurrenceError(f"{raw!r} is outside the years {FIRST_YEAR}-{HORIZON.year - 1}")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _kind(all_day: bool) -> str:
    return "all-day" if all_day else "timed"


def _preview(line: str) -> str:
    line = line.strip()
    return line if len(line) <= 60 else line[:57] + "..."
