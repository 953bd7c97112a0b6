"""The business-time calendar: fast positions agree with a minute-by-minute walk; adding then measuring
round-trips; due times never fall in non-working time; China's make-up working days and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.customer_service.adapters.sla_config import makeup_workdays, public_holidays
from services.customer_service.domain.calendar import BusinessCalendar, CalendarSpec, parse_hours, weekly_hours

DATA = Path(__file__).resolve().parents[2] / "data" / "customer_service"
MINUTE = timedelta(minutes=1)

WEEKDAYS = weekly_hours({day: "09:00-12:00,13:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")})
CN = CalendarSpec(
    "Asia/Shanghai",
    WEEKDAYS,
    public_holidays("CN", 2025, 2027),
    makeup_workdays(DATA / "makeup_workdays.csv", "CN"),
)
BERLIN = CalendarSpec(
    "Europe/Berlin",
    weekly_hours({"mon": "08:00-16:30", "tue": "08:00-16:30", "sat": "10:00-14:00", "sun": "22:00-24:00"}),
    public_holidays("DE", 2025, 2027),
)
CALENDARS = {
    "CN": BusinessCalendar(CN, date(2025, 1, 1), date(2027, 12, 31)),
    "DE": BusinessCalendar(BERLIN, date(2025, 1, 1), date(2027, 12, 31)),
}


def naive_is_working(calendar: BusinessCalendar, instant: datetime) -> bool:
    """Straight from the definition, without positions or binary search."""
    spec = calendar.spec
    local = instant.astimezone(calendar.zone)
    day = local.date()
    if day in spec.makeup_days:
        hours = spec.makeup_hours if spec.makeup_hours is not None else spec.weekly.get(0, ())
    elif day in spec.holidays:
        hours = ()
    else:
        hours = spec.weekly.get(day.weekday(), ())
    second = local.hour * 3600 + local.minute * 60 + local.second
    return any(start <= second < end for start, end in hours)


def naive_add(calendar: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """Walk minute by minute until `minutes` working minutes have passed."""
    at = start
    while minutes:
        if naive_is_working(calendar, at):
            minutes -= 1
        at += MINUTE
    return at


def naive_minutes(calendar: BusinessCalendar, start: datetime, end: datetime) -> int:
    count, at = 0, start
    while at < end:
        count += naive_is_working(calendar, at)
        at += MINUTE
    return count


instants = st.datetimes(
    min_value=datetime(2025, 1, 1, 0, 0), max_value=datetime(2026, 11, 30, 0, 0), timezones=st.just(UTC)
).map(lambda t: t.replace(second=0, microsecond=0))
names = st.sampled_from(sorted(CALENDARS))


@settings(max_examples=150, deadline=None)
@given(names, instants, st.integers(min_value=1, max_value=3000))
def test_fast_add_agrees_with_the_minute_by_minute_walk(name: str, start: datetime, minutes: int) -> None:
    calendar = CALENDARS[name]
    assert calendar.add_minutes(start, minutes) == naive_add(calendar, start, minutes)


@settings(max_examples=150, deadline=None)
@given(names, instants, st.integers(min_value=0, max_value=6000))
def test_fast_measure_agrees_with_the_minute_by_minute_walk(name: str, start: datetime, span: int) -> None:
    calendar = CALENDARS[name]
    end = start + timedelta(minutes=span)
    assert calendar.business_minutes(start, end) == naive_minutes(calendar, start, end)


@settings(deadline=None)
@given(names, instants, st.integers(min_value=1, max_value=20_000), st.integers(min_value=0, max_value=59))
def test_adding_then_measuring_round_trips(name: str, start: datetime, minutes: int, second: int) -> None:
    calendar = CALENDARS[name]
    start = start.replace(second=second)
    assert calendar.business_minutes(start, calendar.add_minutes(start, minutes)) == minutes


@settings(deadline=None)
@given(names, instants, st.integers(min_value=1, max_value=20_000))
def test_a_due_time_is_the_end_of_a_working_minute(name: str, start: datetime, minutes: int) -> None:
    calendar = CALENDARS[name]
    due = calendar.add_minutes(start, minutes)
    assert due > start
    assert calendar.is_working(due - timedelta(seconds=1))


@settings(deadline=None)
@given(names, instants, st.integers(min_value=0, max_value=100_000), st.integers(min_value=1, max_value=5000))
def test_a_later_start_is_never_due_earlier(name: str, start: datetime, delay: int, minutes: int) -> None:
    calendar = CALENDARS[name]
    later = start + timedelta(minutes=delay)
    assert calendar.add_minutes(later, minutes) >= calendar.add_minutes(start, minutes)


def test_the_state_council_make_up_days_are_working_days_and_the_holidays_are_not() -> None:
    calendar = CALENDARS["CN"]
    shanghai = calendar.zone
    # 2026-02-14 is a Saturday the 2026 notice makes a working day; 2026-02-16 (Spring Festival eve) is off.
    assert calendar.is_working(datetime(2026, 2, 14, 10, 0, tzinfo=shanghai))
    assert not calendar.is_working(datetime(2026, 2, 16, 10, 0, tzinfo=shanghai))
    # Friday 17:30 + 60 business minutes: 30 that evening, 30 on the make-up Saturday morning.
    due = calendar.add_minutes(datetime(2026, 2, 13, 17, 30, tzinfo=shanghai), 60)
    assert due.astimezone(shanghai) == datetime(2026, 2, 14, 9, 30, tzinfo=shanghai)


def test_every_weekend_day_the_holidays_package_swaps_away_is_in_the_make_up_file() -> None:
    """`holidays` names the weekday off "Day off (substituted from MM/DD/YYYY)"; the weekend day it names is the
    make-up working day of the same notice, so the two sources must agree."""
    shipped = makeup_workdays(DATA / "makeup_workdays.csv", "CN")
    substituted = set()
    for _day, label in holidays.country_holidays("CN", years=[2025, 2026]).items():
        if "substituted from" in label:
            month, day, year = label.rsplit(" ", 1)[1].rstrip(")").split("/")
            substituted.add(date(int(year), int(month), int(day)))
    assert substituted <= shipped
    assert all(d.weekday() >= 5 for d in shipped)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("09:00", "HH:MM-HH:MM"),
        ("18:00-09:00", "after the start"),
        ("09:00-12:00,11:00-13:00", "overlap"),
        ("9h-10h", "HH:MM"),
        ("09:00-25:00", "time of day"),
    ],
)
def test_bad_working_hours_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_hours(text)
