"""SLA clocks from the state history: the ticket state machine, pauses while PENDING, late changes that
recompute due times, next-response cycles, breaches and the aggregate metrics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.customer_service.domain.calendar import BusinessCalendar, CalendarSpec, weekly_hours
from services.customer_service.domain.errors import IllegalTransition, TicketClosed
from services.customer_service.domain.sla import Clock, ClockState, Target, Targets, aggregate, clocks, nearest_rank
from services.customer_service.domain.tickets import (
    TRANSITIONS,
    AuthorKind,
    Message,
    Priority,
    Status,
    StatusChange,
    Ticket,
    TicketType,
    Visibility,
    automatic_status,
    insert_change,
    with_change,
)

# Monday to Friday 09:00-17:00 UTC: 480 business minutes a day, easy to reason about.
CALENDAR = BusinessCalendar(
    CalendarSpec("UTC", weekly_hours({d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")})),
    date(2026, 1, 1),
    date(2027, 12, 31),
)
TARGETS = Targets(first_response=60, next_response=120, resolution=960)
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(hours: float, day: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hours)


def ticket(*changes: tuple[Status, datetime], messages: tuple[Message, ...] = ()) -> Ticket:
    history = tuple(StatusChange(s, t, t, i, "") for i, (s, t) in enumerate(((Status.NEW, MONDAY), *changes), 1))
    return Ticket("TK", "MC", TicketType.COMPLAINT, "s", Priority.NORMAL, MONDAY, history, messages=messages)


def reply(sequence: int, when: datetime, kind: AuthorKind = AuthorKind.AGENT) -> Message:
    return Message(sequence, kind, "x", Visibility.PUBLIC, "body", when)


def clock(t: Ticket, target: Target, now: datetime) -> Clock:
    return next(c for c in clocks(t, TARGETS, CALENDAR, now) if c.target is target)


# -- the state machine --


@pytest.mark.parametrize(("before", "after"), list(product(Status, Status)))
def test_only_the_transitions_in_the_table_are_accepted(before: Status, after: Status) -> None:
    history = (StatusChange(before, MONDAY, MONDAY, 1),)
    change = StatusChange(after, at(1), at(1), 2)
    if after in TRANSITIONS[before]:
        assert insert_change(history, change)[-1] is change
    else:
        with pytest.raises(IllegalTransition) as refused:
            insert_change(history, change)
        assert refused.value.metadata == {"from": before.value, "to": after.value}
        assert f"from {before.value} to {after.value}" in refused.value.message


def test_closed_and_merged_tickets_take_no_changes() -> None:
    for final in (Status.CLOSED, Status.MERGED):
        assert TRANSITIONS[final] == frozenset()
    closed = ticket((Status.SOLVED, at(1)), (Status.CLOSED, at(2)))
    with pytest.raises(TicketClosed):
        with_change(closed, StatusChange(Status.OPEN, at(3), at(3), 9))


def test_a_late_change_goes_in_at_its_effective_time_if_its_neighbours_allow_it() -> None:
    t = ticket((Status.OPEN, at(1)), (Status.SOLVED, at(5)))
    late = StatusChange(Status.PENDING, at(2), at(6), 4, "customer asked to wait")
    history = insert_change(t.history, late)
    assert [c.status for c in history] == [Status.NEW, Status.OPEN, Status.PENDING, Status.SOLVED]
    # NEW at creation, then CLOSED inserted before SOLVED: NEW -> CLOSED is illegal.
    with pytest.raises(IllegalTransition):
        insert_change(t.history, StatusChange(Status.CLOSED, at(0.5), at(6), 5))
    # SOLVED inserted before OPEN would leave SOLVED -> OPEN (legal) but must come after NEW: legal too.
    # A NEW inserted after OPEN is illegal whatever follows.
    with pytest.raises(IllegalTransition):
        insert_change(t.history, StatusChange(Status.NEW, at(3), at(6), 6))


def test_replies_move_the_ticket_like_a_helpdesk_does() -> None:
    new = ticket()
    assert automatic_status(new, reply(1, at(1))) is Status.OPEN
    pending = ticket((Status.OPEN, at(1)), (Status.PENDING, at(2)))
    assert automatic_status(pending, reply(1, at(3), AuthorKind.CUSTOMER)) is Status.OPEN
    note = Message(1, AuthorKind.AGENT, "x", Visibility.INTERNAL, "note", at(1))
    assert automatic_status(new, note) is None


# -- clocks --


def test_the_first_response_clock_runs_in_business_time_and_stops_at_the_first_public_reply() -> None:
    open_ = ticket((Status.OPEN, at(0.25)))
    running = clock(open_, Target.FIRST_RESPONSE, at(0.5))
    assert running.state is ClockState.ACTIVE and running.due_at == at(1) and running.elapsed_minutes == 30
    answered = ticket((Status.OPEN, at(0.25)), messages=(reply(1, at(0.75)),))
    met = clock(answered, Target.FIRST_RESPONSE, at(3))
    assert (met.state, met.met_at, met.elapsed_minutes) == (ClockState.HIT, at(0.75), 45)
    late = ticket(messages=(reply(1, at(2)),))
    assert clock(late, Target.FIRST_RESPONSE, at(3)).state is ClockState.MISSED


def test_overnight_and_weekend_do_not_count() -> None:
    friday_afternoon = datetime(2026, 3, 6, 16, 30, tzinfo=UTC)
    t = Ticket(
        "TK",
        "MC",
        TicketType.COMPLAINT,
        "s",
        Priority.NORMAL,
        friday_afternoon,
        (StatusChange(Status.NEW, friday_afternoon, friday_afternoon, 1),),
    )
    due = clock(t, Target.FIRST_RESPONSE, friday_afternoon).due_at
    assert due == datetime(2026, 3, 9, 9, 30, tzinfo=UTC)  # 30 minutes on Friday, 30 on Monday


def test_pending_pauses_every_clock_and_a_late_pending_recomputes_the_due_time() -> None:
    t = ticket((Status.OPEN, at(0)))
    assert clock(t, Target.RESOLUTION, at(1)).due_at == at(8, day=1)  # 960 minutes = two working days
    paused = ticket((Status.OPEN, at(0)), (Status.PENDING, at(2)))
    stopped = clock(paused, Target.RESOLUTION, at(6))
    assert (stopped.state, stopped.elapsed_minutes, stopped.due_at) == (ClockState.PAUSED, 120, None)
    # The PENDING 2h..5h is recorded late: the same ticket, now due three business hours later.
    late = with_change(
        ticket((Status.OPEN, at(0)), (Status.SOLVED, at(7))),
        StatusChange(Status.PENDING, at(2), at(7), 9),
    )
    late = with_change(late, StatusChange(Status.OPEN, at(5), at(7), 10))
    assert [c.status for c in late.history][-1] is Status.SOLVED
    resolution = clock(late, Target.RESOLUTION, at(7))
    assert resolution.state is ClockState.HIT and resolution.elapsed_minutes == 4 * 60


def test_each_customer_message_after_a_reply_starts_a_next_response_cycle() -> None:
    messages = (
        reply(1, at(0.5)),
        reply(2, at(1), AuthorKind.CUSTOMER),
        reply(3, at(2)),
        reply(4, at(3), AuthorKind.CUSTOMER),
    )
    t = ticket((Status.OPEN, at(0.5)), messages=messages)
    cycles = [c for c in clocks(t, TARGETS, CALENDAR, at(6)) if c.target is Target.NEXT_RESPONSE]
    assert [(c.state, c.elapsed_minutes) for c in cycles] == [(ClockState.HIT, 60), (ClockState.MISSED, 180)]


def test_a_merged_ticket_has_no_clocks_of_its_own() -> None:
    assert clocks(ticket((Status.MERGED, at(1))), TARGETS, CALENDAR, at(2)) == []


pauses = st.lists(
    st.tuples(st.integers(min_value=1, max_value=5000), st.integers(min_value=1, max_value=3000)), max_size=4
)


def paused_ticket(spans: list[tuple[int, int]]) -> Ticket:
    """OPEN from creation, with PENDING spans (start offset, length in wall minutes) laid one after another."""
    changes = [(Status.OPEN, MONDAY)]
    cursor = MONDAY
    for offset, length in spans:
        cursor += timedelta(minutes=offset)
        changes.append((Status.PENDING, cursor))
        cursor += timedelta(minutes=length)
        changes.append((Status.OPEN, cursor))
    return ticket(*changes)


@settings(deadline=None)
@given(pauses, st.integers(min_value=0, max_value=20_000), st.integers(min_value=1, max_value=20_000))
def test_elapsed_business_time_never_goes_backwards(spans: list[tuple[int, int]], first: int, more: int) -> None:
    t = paused_ticket(spans)
    earlier = clock(t, Target.RESOLUTION, MONDAY + timedelta(minutes=first))
    later = clock(t, Target.RESOLUTION, MONDAY + timedelta(minutes=first + more))
    assert later.elapsed_seconds >= earlier.elapsed_seconds


@settings(deadline=None)
@given(pauses, st.integers(min_value=0, max_value=30_000))
def test_a_pause_never_brings_the_due_time_forward_nor_adds_elapsed_time(
    spans: list[tuple[int, int]], minutes: int
) -> None:
    now = MONDAY + timedelta(minutes=minutes)
    without = clock(ticket((Status.OPEN, MONDAY)), Target.RESOLUTION, now)
    with_pauses = clock(paused_ticket(spans), Target.RESOLUTION, now)
    assert with_pauses.elapsed_seconds <= without.elapsed_seconds
    if with_pauses.due_at is not None:
        assert without.due_at is not None and with_pauses.due_at >= without.due_at


# -- metrics --


def test_nearest_rank_percentiles() -> None:
    values = list(range(1, 11))
    assert (nearest_rank(values, 50), nearest_rank(values, 90), nearest_rank(values, 100)) == (5, 9, 10)
    assert nearest_rank([], 90) == 0 and nearest_rank([7], 90) == 7


def test_attainment_counts_hits_against_decided_clocks() -> None:
    hit = ticket((Status.OPEN, at(0)), messages=(reply(1, at(0.5)),))
    missed = ticket((Status.OPEN, at(0)), messages=(reply(1, at(3)),))
    running = ticket((Status.OPEN, at(0)))  # silent past its due time: counted as missed
    later = {m.target: m for m in aggregate([clocks(t, TARGETS, CALENDAR, at(4)) for t in (hit, missed, running)])}
    first = later[Target.FIRST_RESPONSE]
    assert (first.hit, first.missed, str(first.attainment_percent)) == (1, 2, "33.33")
    assert (first.median_minutes, first.p90_minutes) == (30, 180)
