"""Expanding an event into its instances: exact in time, and at a cost set by the window.

Wall-clock rules, exact durations. "Every Monday 09:00 Europe/Berlin" means 09:00 on the
clock in Berlin, 08:00 UTC in winter and 07:00 UTC in summer, so rules are expanded on naive
local times (``dateutil.rrule``) and each start is placed in the event's zone afterwards (a
start in a spring-forward gap takes the offset before the gap, an ambiguous one the first of
its two, RFC 5545 3.3.5). Each instance lasts the master's exact elapsed time, DTSTART to
DTEND (RFC 5545 3.8.5.3): an event from 22:00+01:00 to 06:00+02:00 lasts 7 hours, and so does
every instance of it, whatever clock change falls inside.

Cost independent of the series' age. A window's instances come from the rule restarted at
the last period boundary before the window (the first day, week, month or year of a period
that is a whole number of INTERVALs from DTSTART's) with everything DTSTART implied made
explicit, and stopped at the window's end: dateutil then walks the window and one period, not
the centuries since 1900. COUNT-limited rules are turned into their last occurrence once, when
the event is written (``Event.rule_last``), so reading one never counts from the start.
``expansion_cost`` tells in advance about how many days a window costs to walk; the service
refuses a request whose total would be too large. Every walk stops at ``HORIZON``.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain, islice
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule

from .rrule import HORIZON, Recurrence, Rule, parse_recurrence
from .zones import load_zone

SERIES_COST = 50
"""What expanding one series costs before its first day (in days walked, ``expansion_cost``):
building the rule and its first period (dateutil checks a period's days cheaply, but only
yields instances one by one)."""
_MARGIN = timedelta(days=2)
"""Wall-clock slack around a window: offsets and DST move local times by up to a day."""


def occurrences(rule: Rule, dtstart: datetime) -> Iterator[datetime]:
    """The rule's own starts from DTSTART, counted the RFC 5545 way, ending before ``HORIZON``."""
    until = HORIZON if rule.until is None else min(rule.until, HORIZON)
    generated = iter(rrule(rule.freq, dtstart=dtstart, until=until, **rule.options))
    if rule.count is None:
        return generated
    first = next(generated, None)
    if first is None:
        return iter(())
    # RFC 5545 3.8.5.3: DTSTART is the first occurrence even when the rule would skip it.
    count = rule.count if first == dtstart else rule.count - 1
    return islice(chain((first,), generated), count)


def last_occurrence(rule: Rule, dtstart: datetime) -> datetime | None:
    """The last start of a COUNT-limited rule: computed when the event is written and kept in
    the database (``Event.rule_last``), remembered here for rows that lack it."""
    key = (rule.text, dtstart)
    if key not in _LAST_OCCURRENCES:
        if len(_LAST_OCCURRENCES) >= 4096:
            _LAST_OCCURRENCES.clear()
        last = None
        for last in occurrences(rule, dtstart):  # noqa: B007 - only the last is kept
            pass
        _LAST_OCCURRENCES[key] = last
    return _LAST_OCCURRENCES[key]


_LAST_OCCURRENCES: dict[tuple[str, datetime], datetime | None] = {}


def period_start(rule: Rule, dtstart: datetime, lo: datetime) -> datetime | None:
    """The latest start of a period that is whole INTERVALs after DTSTART's and not after
    ``lo``; None when that is DTSTART's own period (nothing to skip)."""
    interval, day = rule.options.get("interval", 1), dtstart.date()
    if rule.freq == DAILY:
        periods, first = (lo.date() - day).days, day
    elif rule.freq == WEEKLY:
        wkst = getattr(rule.options.get("wkst"), "weekday", 0)
        first = day - timedelta(days=(day.weekday() - wkst) % 7)
        periods = (lo.date() - first).days // 7
    elif rule.freq == MONTHLY:
        periods, first = (lo.year - day.year) * 12 + lo.month - day.month, day.replace(day=1)
    else:
        periods, first = lo.year - day.year, day.replace(month=1, day=1)
    skipped = periods // interval * interval
    if skipped <= 0:
        return None
    if rule.freq == DAILY:
        begins = first + timedelta(days=skipped)
    elif rule.freq == WEEKLY:
        begins = first + timedelta(days=7 * skipped)
    elif rule.freq == MONTHLY:
        months = first.month - 1 + skipped
        begins = first.replace(year=first.year + months // 12, month=months % 12 + 1)
    else:
        begins = first.replace(year=first.year + skipped)
    return datetime.combine(begins, time())


def pinned_options(rule: Rule, dtstart: datetime) -> dict[str, Any]:
    """The rule's options with what dateutil would take from DTSTART written out, so the rule
    restarted at a later period boundary yields exactly the same starts from there on."""
    options = dict(rule.options)
    if not options.keys() & {"byweekno", "byyearday", "bymonthday", "byweekday"}:
        if rule.freq == YEARLY:
            options.setdefault("bymonth", dtstart.month)
            options["bymonthday"] = dtstart.day
        elif rule.freq == MONTHLY:
            options["bymonthday"] = dtstart.day
        elif rule.freq == WEEKLY:
            options["byweekday"] = dtstart.weekday()
    options.update(byhour=dtstart.hour, byminute=dtstart.minute, bysecond=dtstart.second)
    return options


def rule_starts_between(
    rule: Rule, dtstart: datetime, lo: datetime, hi: datetime, last: datetime | None
) -> Iterator[datetime]:
    """The rule's starts in ``[lo, hi]`` (wall clock), walking only from the period of ``lo``."""
    if rule.count is not None:
        last = last if last is not None else last_occurrence(rule, dtstart)
        if last is None:  # COUNT=1 on a DTSTART the rule skips: DTSTART was the only one
            return iter(())
    until = min(HORIZON, hi, *(t for t in (rule.until, last) if t is not None))
    if until < lo:
        return iter(())
    begins = period_start(rule, dtstart, lo)
    if begins is None:
        options, begins = rule.options, dtstart
    else:
        options = pinned_options(rule, dtstart)
    walked = rrule(rule.freq, dtstart=begins, until=until, **options)
    return (start for start in walked if start >= lo)


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
    recurrence: Recurrence = field(default_factory=Recurrence)
    rule_last: datetime | None = None
    """The last start of a COUNT-limited rule (wall clock), when already known."""

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def duration(self) -> timedelta:
        """Elapsed time for timed events (not wall-clock), whole days for all-day ones."""
        if isinstance(self.start, datetime) and isinstance(self.end, datetime):
            return self.end.astimezone(UTC) - self.start.astimezone(UTC)
        return self.end - self.start

    @property
    def first(self) -> Instance:
        return self._instance(self._dtstart)

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """(when the last instance ends, the rule's last start) for the database; (None,
        None) for a series with no end. The last start is looked for backwards from where
        the series must stop, in windows growing eightfold, never walking from DTSTART."""
        recurrence, dtstart = self.recurrence, self._dtstart
        if recurrence.open_ended:
            return None, None
        rule, rule_last = recurrence.rule, None
        stops = [dtstart, *recurrence.rdates]
        if rule is not None and rule.count is not None:
            rule_last = last_occurrence(rule, dtstart)
            stops.append(rule_last or dtstart)
        elif rule is not None and rule.until is not None:
            stops.append(min(rule.until, HORIZON - timedelta(microseconds=1)))
        latest, reach, last = max(stops), timedelta(days=400), None
        while last is None:
            lo = max(dtstart, latest - reach)
            for last in self._starts(lo, latest, rule_last):  # noqa: B007 - the last is kept
                pass
            if lo == dtstart:
                break
            reach *= 8
        return self._instance(last or dtstart).end_utc, rule_last

    def instances(self, window_start: datetime, window_end: datetime) -> Iterator[Instance]:
        """Instances overlapping ``[window_start, window_end)`` (aware datetimes), in order."""
        lo, hi = self._local_window(window_start, window_end)
        for local in self._starts(lo, hi, self.rule_last):
            instance = self._instance(local)
            if instance.start_utc < window_end and instance.end_utc > window_start:
                yield instance

    def expansion_cost(self, window_start: datetime, window_end: datetime) -> int:
        """Roughly the days dateutil walks to expand the window (the window's days, once per
        INTERVAL, and ``SERIES_COST``); measured at about 5 microseconds a day."""
        rule = self.recurrence.rule
        if rule is None:
            return 1
        lo, hi = self._local_window(window_start, window_end)
        return SERIES_COST + max(0, (hi - lo).days) // rule.options.get("interval", 1)

    def _local_window(
        self, window_start: datetime, window_end: datetime
    ) -> tuple[datetime, datetime]:
        """The wall-clock starts that can overlap the window: it, earlier by the duration."""
        lo = (window_start - self.duration).astimezone(self.zone).replace(tzinfo=None) - _MARGIN
        hi = window_end.astimezone(self.zone).replace(tzinfo=None) + _MARGIN
        return lo, min(hi, HORIZON)

    def _starts(self, lo: datetime, hi: datetime, rule_last: datetime | None) -> Iterator[datetime]:
        """Every instance start in ``[lo, hi]`` in order: DTSTART, RRULE and RDATE merged,
        EXDATEs removed."""
        recurrence, dtstart = self.recurrence, self._dtstart
        dates = sorted({dtstart, *recurrence.rdates})
        sources: list[Iterator[datetime]] = [
            iter(dates[bisect_left(dates, lo) : bisect_right(dates, hi)])
        ]
        if recurrence.rule is not None:
            sources.append(rule_starts_between(recurrence.rule, dtstart, lo, hi, rule_last))
        previous = None
        for start in heapq.merge(*sources):
            if start >= HORIZON:
                return
            if start != previous and start not in recurrence.exdates:
                yield start
            previous = start

    @property
    def _dtstart(self) -> datetime:
        if isinstance(self.start, datetime):
            return self.start.replace(tzinfo=None)
        return datetime.combine(self.start, time())

    def _instance(self, local: datetime) -> Instance:
        if isinstance(self.start, datetime) and isinstance(self.end, datetime):
            start = self.start if local == self._dtstart else local.replace(tzinfo=self.zone)
            start_utc = start.astimezone(UTC)
            end_utc = start_utc + self.duration  # RFC 5545 3.8.5.3: the same exact duration
            return Instance(start, end_utc.astimezone(self.zone), start_utc, end_utc)
        day = local.date()
        last = day + self.duration
        return Instance(day, last, self._midnight_utc(day), self._midnight_utc(last))

    def _midnight_utc(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.zone).astimezone(UTC)


def build_series(
    start: date | datetime,
    end: date | datetime,
    time_zone: str,
    recurrence: Sequence[str],
    rule_last: datetime | None = None,
) -> Series:
    """An event's series from its fields; ``RecurrenceError`` says what is wrong with a line."""
    zone = load_zone(time_zone)
    if isinstance(start, datetime) and isinstance(end, datetime):
        start, end = start.astimezone(zone), end.astimezone(zone)
    parsed = parse_recurrence(recurrence, start=start, zone=zone)
    return Series(start, end, zone, parsed, rule_last)
