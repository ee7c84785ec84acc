"""Expanding an event into its instances, DST-correctly, in the event's own time zone.

Why expansion runs on wall-clock time: "every Monday 09:00 Europe/Berlin" means 09:00 on the
clock in Berlin, which is 08:00 UTC in winter and 07:00 UTC in summer. So the rule is expanded
on naive local times (``dateutil.rrule``) and each result is placed in the event's zone only
afterwards; a time that falls in a spring-forward gap takes the offset before the gap, as
RFC 5545 3.3.5 says. Every walk stops at ``HORIZON``: instances on or after 2200-01-01 do
not exist.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain, islice
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule

from .rrule import HORIZON, Recurrence, Rule, parse_recurrence
from .zones import load_zone


def occurrences(rule: Rule, dtstart: datetime) -> Iterator[datetime]:
    """The rule's own starts, counted the RFC 5545 way, ending before ``HORIZON``."""
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


def starts(recurrence: Recurrence, dtstart: datetime) -> Iterator[datetime]:
    """Every instance start in order: DTSTART, RRULE and RDATE merged, EXDATEs removed."""
    sources: list[Iterator[datetime]] = [iter(sorted({dtstart, *recurrence.rdates}))]
    if recurrence.rule is not None:
        sources.append(occurrences(recurrence.rule, dtstart))
    previous = None
    for start in heapq.merge(*sources):
        if start >= HORIZON:
            return
        if start != previous and start not in recurrence.exdates:
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
    recurrence: Recurrence = field(default_factory=Recurrence)

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
        for last in starts(self.recurrence, self._dtstart):  # noqa: B007 - only the last is kept
            pass
        return self._instance(last).end_utc

    def instances(self, window_start: datetime, window_end: datetime) -> Iterator[Instance]:
        """Instances overlapping ``[window_start, window_end)`` (aware datetimes), in order."""
        stop = window_end.astimezone(self.zone).replace(tzinfo=None) + timedelta(days=2)
        for local in starts(self.recurrence, self._dtstart):
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
