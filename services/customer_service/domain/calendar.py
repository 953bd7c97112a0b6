"""Business time: working hours of a calendar in one IANA time zone, minus public holidays, plus make-up days.

A working day is a make-up working day (China's State Council moves weekend days around its holidays, see
data/customer_service/README.md) or a weekday with hours that is not a public holiday. Working hours are
half-open local wall-clock intervals, e.g. 09:00-12:00 and 13:00-18:00.

Every instant maps to a *business position*: the business seconds from the calendar's first day to it.
The positions of day starts are precomputed once, so measuring between two instants is two lookups and
adding business minutes is a binary search over days (docs/customer-service.md: SLA semantics). Times are
resolved to the second; a due time is the end of the last business second it needs, so it lies inside a
working interval or at its end, never in non-working time.

Local times are wall-clock times under the offset in force at each instant; a working interval that crosses
a daylight-saving transition is measured in wall-clock length (the transitions of the zones served fall
outside working hours).
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[int, int]
"""Local seconds of the day, [start, end)."""

DAY_SECONDS = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def parse_hours(text: str) -> tuple[Interval, ...]:
    """ "09:00-12:00,13:00-18:00" -> ((32400, 43200), (46800, 64800)); "" -> (). Sorted, not overlapping."""
    intervals: list[Interval] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        start_text, sep, end_text = part.partition("-")
        if not sep:
            raise ValueError(f"working hours {part!r}: expected HH:MM-HH:MM")
        start, end = _seconds(start_text), _seconds(end_text)
        if not start < end:
            raise ValueError(f"working hours {part!r}: the end must be after the start")
        intervals.append((start, end))
    intervals.sort()
    for (_, end), (start, _) in itertools.pairwise(intervals):
        if start < end:
            raise ValueError(f"working hours {text!r}: intervals overlap")
    return tuple(intervals)


def _seconds(text: str) -> int:
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit():
        raise ValueError(f"{text!r} is not HH:MM")
    value = int(hours) * 3600 + int(minutes) * 60
    if not 0 <= value <= DAY_SECONDS or int(minutes) >= 60:
        raise ValueError(f"{text!r} is not a time of day (00:00-24:00)")
    return value


@dataclass(frozen=True)
class CalendarSpec:
    """What a calendar is made of; `weekly` maps Monday=0 .. Sunday=6 to working intervals."""

    zone: str
    weekly: Mapping[int, tuple[Interval, ...]]
    holidays: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()
    makeup_hours: tuple[Interval, ...] | None = None  # None: Monday's hours


class OutsideCalendar(ValueError):
    """An instant or a sum of business time beyond the years the calendar was built for."""


class BusinessCalendar:
    def __init__(self, spec: CalendarSpec, first: date, last: date) -> None:
        if last < first:
            raise ValueError("the calendar's last day is before its first")
        self.spec = spec
        self.zone = ZoneInfo(spec.zone)
        self.first = first
        self.last = last
        self._origin = first.toordinal()
        makeup = spec.makeup_hours if spec.makeup_hours is not None else spec.weekly.get(0, ())
        days: list[tuple[Interval, ...]] = []
        starts = [0]
        day = first
        while day <= last:
            if day in spec.makeup_days:
                hours = makeup
            elif day in spec.holidays:
                hours = ()
            else:
                hours = spec.weekly.get(day.weekday(), ())
            days.append(hours)
            starts.append(starts[-1] + sum(end - start for start, end in hours))
            day += timedelta(days=1)
        self._days = days
        self._starts = starts
        if starts[-1] == 0:
            raise ValueError("the calendar has no working time at all")
        self._epoch_day = first.toordinal() - _EPOCH_ORDINAL
        self._offset_epochs, self._offsets = _offsets(self.zone, first, last)

    def _offset(self, epoch: int) -> int:
        return self._offsets[bisect_right(self._offset_epochs, epoch) - 1]

    # -- instants <-> business positions --

    def _local(self, instant: datetime) -> tuple[int, int]:
        """(day index, local second of the day), by integer arithmetic on the epoch second and the zone's
        offsets precomputed for the calendar's years (a zoneinfo conversion per call was most of the cost)."""
        if instant.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        epoch = math.floor(instant.timestamp())
        local = epoch + self._offset(epoch)
        index = local // DAY_SECONDS - self._epoch_day
        if not 0 <= index < len(self._days):
            raise OutsideCalendar(f"{instant.isoformat()} is outside the calendar ({self.first}..{self.last})")
        return index, local % DAY_SECONDS

    def position(self, instant: datetime) -> int:
        """Business seconds from the calendar's first day to `instant` (whole seconds)."""
        index, second = self._local(instant)
        done = 0
        for start, end in self._days[index]:
            if second >= end:
                done += end - start
            elif second > start:
                done += second - start
                break
            else:
                break
        return self._starts[index] + done

    def instant(self, position: int) -> datetime:
        """The earliest instant whose business position is `position` (> 0): the end of that business second."""
        if position <= 0:
            raise ValueError("a business position is positive")
        index = bisect_left(self._starts, position) - 1
        if index >= len(self._days):
            raise OutsideCalendar(f"business time runs past the calendar's last day ({self.last})")
        remaining = position - self._starts[index]
        for start, end in self._days[index]:
            if remaining <= end - start:
                return self._at(index, start + remaining)
            remaining -= end - start
        raise AssertionError("positions and day starts disagree")  # pragma: no cover

    def _at(self, index: int, second: int) -> datetime:
        local = (self._epoch_day + index) * DAY_SECONDS + second
        epoch = local - self._offset(local - self._offset(local))
        return datetime.fromtimestamp(epoch, UTC)

    # -- what callers ask --

    def business_seconds(self, start: datetime, end: datetime) -> int:
        """Business seconds in [start, end); 0 when end is not after start."""
        if end <= start:
            return 0
        return self.position(end) - self.position(start)

    def business_minutes(self, start: datetime, end: datetime) -> int:
        """Whole business minutes in [start, end)."""
        return self.business_seconds(start, end) // 60

    def add_seconds(self, start: datetime, seconds: int) -> datetime:
        """When `seconds` (> 0) business seconds after `start` have elapsed."""
        if seconds <= 0:
            raise ValueError("add a positive amount of business time")
        return self.instant(self.position(start) + seconds)

    def add_minutes(self, start: datetime, minutes: int) -> datetime:
        return self.add_seconds(start, minutes * 60)

    def is_working(self, instant: datetime) -> bool:
        """Whether `instant` lies inside a working interval [start, end)."""
        index, second = self._local(instant)
        return any(start <= second < end for start, end in self._days[index])

    def working_hours(self, day: date) -> tuple[Interval, ...]:
        index = day.toordinal() - self._origin
        if not 0 <= index < len(self._days):
            raise OutsideCalendar(f"{day} is outside the calendar ({self.first}..{self.last})")
        return self._days[index]


def weekly_hours(hours: Mapping[str, str]) -> dict[int, tuple[Interval, ...]]:
    """{"mon": "09:00-18:00", ...} -> {0: ((32400, 64800),), ...}; days not named have no hours."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    unknown = [name for name in hours if name.lower() not in names]
    if unknown:
        raise ValueError(f"unknown weekday {unknown[0]!r}; use {', '.join(names)}")
    return {names.index(name.lower()): parse_hours(text) for name, text in hours.items()}


def _offset_at(zone: ZoneInfo, epoch: int) -> int:
    offset = datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _offsets(zone: ZoneInfo, first: date, last: date) -> tuple[list[int], list[int]]:
    """The zone's UTC offset from a day before `first` to a day after `last`: (epoch seconds at which an
    offset starts, the offsets). Sampled daily; each change is then found to the second by bisection."""
    start = (first.toordinal() - _EPOCH_ORDINAL - 1) * DAY_SECONDS
    end = (last.toordinal() - _EPOCH_ORDINAL + 2) * DAY_SECONDS
    epochs, offsets = [start], [_offset_at(zone, start)]
    for day_start in range(start + DAY_SECONDS, end + 1, DAY_SECONDS):
        offset = _offset_at(zone, day_start)
        if offset != offsets[-1]:
            low, high = day_start - DAY_SECONDS, day_start  # offset at low is the old one, at high the new
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_at(zone, middle) == offset:
                    high = middle
                else:
                    low = middle
            epochs.append(high)
            offsets.append(offset)
    return epochs, offsets
