"""Time zones and recurrence (RFC 5545 RRULE, EXDATE, RDATE): strict parsing, DST-correct expansion.

Why expansion runs on wall-clock time: "every Monday 09:00 Europe/Berlin" means 09:00 on the
clock in Berlin, which is 08:00 UTC in winter and 07:00 UTC in summer. So the rule is expanded
on naive local times (``dateutil.rrule``) and each result is placed in the event's zone only
afterwards; a time that falls in a spring-forward gap takes the offset before the gap, as
RFC 5545 3.3.5 says.

Why parsing is ours: ``dateutil.rrule.rrulestr`` accepts ``INTERVAL=0``, ``COUNT=-1`` and
``BYMONTH=13`` and raises ``TypeError`` on a missing ``FREQ``; rules it accepts can also cost
seconds of CPU (a daily rule that never matches is walked to the year 9999). So each line is
checked against RFC 5545 3.3.10 here, with a message that names the line and the problem,
and every walk stops at ``HORIZON``: instances on or after 2200-01-01 do not exist.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from itertools import chain, islice
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from dateutil.rrule import DAILY, FR, MO, MONTHLY, SA, SU, TH, TU, WE, WEEKLY, YEARLY, rrule

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


@dataclass(frozen=True, slots=True)
class Rule:
    """One validated RRULE: ``text`` is its normalised value, the rest feeds ``dateutil``."""

    text: str
    freq: int
    count: int | None
    until: datetime | None
    """Naive wall-clock time in the event's zone (midnight for all-day events)."""
    options: dict[str, Any] = field(default_factory=dict)

    def occurrences(self, dtstart: datetime) -> Iterator[datetime]:
        """The rule's own starts, counted the RFC 5545 way, ending before ``HORIZON``."""
        until = HORIZON if self.until is None else min(self.until, HORIZON)
        generated = iter(rrule(self.freq, dtstart=dtstart, until=until, **self.options))
        if self.count is None:
            return generated
        first = next(generated, None)
        if first is None:
            return iter(())
        # RFC 5545 3.8.5.3: DTSTART is the first occurrence even when the rule would skip it.
        count = self.count if first == dtstart else self.count - 1
        return islice(chain((first,), generated), count)


@dataclass(frozen=True, slots=True)
class Recurrence:
    """An event's parsed recurrence lines; times are naive wall-clock in the event's zone."""

    rule: Rule | None = None
    rdates: tuple[datetime, ...] = ()
    exdates: frozenset[datetime] = frozenset()

    @property
    def open_ended(self) -> bool:
        return self.rule is not None and self.rule.count is None and self.rule.until is None

    def starts(self, dtstart: datetime) -> Iterator[datetime]:
        """Every instance start in order: DTSTART, RRULE and RDATE merged, EXDATEs removed."""
        sources: list[Iterator[datetime]] = [iter(sorted({dtstart, *self.rdates}))]
        if self.rule is not None:
            sources.append(self.rule.occurrences(dtstart))
        previous = None
        for start in heapq.merge(*sources):
            if start >= HORIZON:
                return
            if start != previous and start not in self.exdates:
                yield start
            previous = start


@dataclass(frozen=True, slots=True)
class Instance:
    """One occurrence: ``start``/``end`` in the event's zone (dates when all-day), plus UTC."""

    start: date | datetime
    end: date | datetime
    start_utc: datetime
    end_utc: datetime


@dataclass(frozen=True, slots=True)
class Series:
    """An event placed in its zone: its own times, its recurrence, and its instances."""

    start: date | datetime
    """An aware datetime in ``zone``, or a date for an all-day event; likewise ``end``."""
    end: date | datetime
    zone: ZoneInfo
    recurrence: Recurrence = Recurrence()

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def first(self) -> Instance:
        return self._instance(self._dtstart)

    def span_end_utc(self) -> datetime | None:
        """When the last instance ends; ``None`` for a series with no end before the horizon."""
        if self.recurrence.open_ended:
            return None
        last = self._dtstart
        for last in self.recurrence.starts(self._dtstart):  # noqa: B007 - only the last is kept
            pass
        return self._instance(last).end_utc

    def instances(self, window_start: datetime, window_end: datetime) -> Iterator[Instance]:
        """Instances overlapping ``[window_start, window_end)`` (aware datetimes), in order."""
        stop = window_end.astimezone(self.zone).replace(tzinfo=None) + timedelta(days=2)
        for local in self.recurrence.starts(self._dtstart):
            if local > stop:
                return
            instance = self._instance(local)
            if instance.start_utc >= window_end:
                continue  # wall-clock order can differ from UTC order around a DST change
            if instance.end_utc > window_start:
                yield instance

    @property
    def _dtstart(self) -> datetime:
        if isinstance(self.start, datetime):
            return self.start.replace(tzinfo=None)
        return datetime.combine(self.start, time())

    def _instance(self, local: datetime) -> Instance:
        if isinstance(self.start, datetime) and isinstance(self.end, datetime):
            start = self.start if local == self._dtstart else local.replace(tzinfo=self.zone)
            start_utc = start.astimezone(UTC)
            end_utc = start_utc + (self.end - self.start)  # RFC 5545: the same exact duration
            return Instance(start, end_utc.astimezone(self.zone), start_utc, end_utc)
        day = local.date()
        last = day + (self.end - self.start)
        return Instance(day, last, self._midnight_utc(day), self._midnight_utc(last))

    def _midnight_utc(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.zone).astimezone(UTC)


def build_series(
    start: date | datetime, end: date | datetime, time_zone: str, recurrence: Sequence[str]
) -> Series:
    """An event's series from its fields; ``RecurrenceError`` says what is wrong with a line."""
    zone = load_zone(time_zone)
    if isinstance(start, datetime) and isinstance(end, datetime):
        start, end = start.astimezone(zone), end.astimezone(zone)
    return Series(start, end, zone, parse_recurrence(recurrence, start=start, zone=zone))


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
