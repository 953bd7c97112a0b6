"""SLA clocks derived from a ticket's state history and messages, in business time of a calendar.

Three clocks, as Zammad and Zendesk define them (docs/customer-service.md: SLA semantics):
- first response: from opening to the first public agent reply (or to SOLVED, if solved without one);
- next response: from a customer's public message after a reply to the next public agent reply;
- resolution: from opening to SOLVED or CLOSED (the last time, if the ticket was reopened).
A clock runs only while the ticket is NEW, OPEN or ON_HOLD: PENDING (waiting on the customer) pauses it,
SOLVED, CLOSED and MERGED stop it. Nothing is stored: due times follow from the history, so a late or
corrected state change recomputes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum

from services.customer_service.domain.calendar import BusinessCalendar
from services.customer_service.domain.tickets import (
    STOPPED,
    Message,
    Priority,
    Status,
    StatusChange,
    Ticket,
    TicketType,
)

RUNNING = (Status.NEW, Status.OPEN, Status.ON_HOLD)  # a tuple: `in` matches enum members by identity, fast


class Target(Enum):
    FIRST_RESPONSE = "FIRST_RESPONSE"
    NEXT_RESPONSE = "NEXT_RESPONSE"
    RESOLUTION = "RESOLUTION"


class ClockState(Enum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    HIT = "HIT"
    MISSED = "MISSED"


@dataclass(frozen=True)
class Targets:
    """Business minutes allowed for each clock."""

    first_response: int
    next_response: int
    resolution: int

    def minutes(self, target: Target) -> int:
        return {
            Target.FIRST_RESPONSE: self.first_response,
            Target.NEXT_RESPONSE: self.next_response,
            Target.RESOLUTION: self.resolution,
        }[target]


@dataclass(frozen=True)
class SlaPolicy:
    """Targets per priority, optionally overridden for one ticket type."""

    by_priority: Mapping[Priority, Targets]
    by_type: Mapping[tuple[Priority, TicketType], Targets]

    def targets(self, priority: Priority, ticket_type: TicketType) -> Targets:
        return self.by_type.get((priority, ticket_type)) or self.by_priority[priority]


@dataclass(frozen=True)
class Clock:
    target: Target
    state: ClockState
    target_minutes: int
    elapsed_seconds: int
    started_at: datetime
    due_at: datetime | None
    met_at: datetime | None

    @property
    def elapsed_minutes(self) -> int:
        return self.elapsed_seconds // 60


Segment = tuple[datetime, datetime | None]
"""A stretch of time in which clocks run, [start, end); end None: still running."""


def running_segments(history: Sequence[StatusChange]) -> list[Segment]:
    """Where the history (ordered by effective time) has the ticket NEW, OPEN or ON_HOLD."""
    segments: list[Segment] = []
    start: datetime | None = None
    for change in history:
        if change.status in RUNNING:
            if start is None:
                start = change.effective_at
        elif start is not None:
            if change.effective_at > start:
                segments.append((start, change.effective_at))
            start = None
    if start is not None:
        segments.append((start, None))
    return segments


def run_clock(
    calendar: BusinessCalendar,
    segments: Sequence[Segment],
    target: Target,
    minutes: int,
    start: datetime,
    met_at: datetime | None,
    now: datetime,
    positions: Callable[[datetime], int] | None = None,
) -> Clock:
    """One clock from `start` to `met_at` (or to now), counting business time only inside `segments`.

    `positions` may be a memo of `calendar.position`: the clocks of one ticket share segment boundaries.
    """
    budget = minutes * 60
    end = met_at if met_at is not None else now
    elapsed = 0
    due: datetime | None = None
    running_now = False
    position = positions or calendar.position
    for seg_start, seg_end in segments:
        if seg_end is not None and seg_end <= start:
            continue
        a = max(seg_start, start)
        if a > end:
            break
        open_at_end = seg_end is None or seg_end > end
        b = end if seg_end is None or seg_end > end else seg_end
        running_now = open_at_end and met_at is None
        pa = position(a)
        spent = position(b) - pa if b > a else 0
        if due is None and elapsed + spent >= budget:
            due = calendar.instant(pa + budget - elapsed)
        elapsed += spent
    if due is None and running_now:
        # Not yet due: project from now, as if it keeps running.
        due = calendar.add_seconds(end, budget - elapsed)
    if met_at is not None:
        state = ClockState.HIT if elapsed <= budget else ClockState.MISSED
        return Clock(target, state, minutes, elapsed, start, due if state is ClockState.MISSED else None, met_at)
    state = ClockState.MISSED if elapsed >= budget else ClockState.ACTIVE if running_now else ClockState.PAUSED
    return Clock(target, state, minutes, elapsed, start, due, None)


def _memo(calendar: BusinessCalendar) -> Callable[[datetime], int]:
    cache: dict[datetime, int] = {}

    def position(instant: datetime) -> int:
        found = cache.get(instant)
        if found is None:
            found = cache[instant] = calendar.position(instant)
        return found

    return position


def _stopped_since(history: Sequence[StatusChange]) -> datetime | None:
    """When the ticket last stopped (SOLVED, CLOSED), if it is stopped now."""
    return _resolved_at(history)


def _resolved_at(history: Sequence[StatusChange]) -> datetime | None:
    """When the ticket last entered SOLVED or CLOSED, if it is there now."""
    if history[-1].status not in (Status.SOLVED, Status.CLOSED):
        return None
    at = history[-1].effective_at
    for change in reversed(history):
        if change.status not in (Status.SOLVED, Status.CLOSED):
            break
        at = change.effective_at
    return at


def clocks(ticket: Ticket, targets: Targets, calendar: BusinessCalendar, now: datetime) -> list[Clock]:
    """Every clock of the ticket: first response, each next-response cycle, resolution. None when MERGED
    (its clocks go with the ticket it was merged into)."""
    history = ticket.history
    created = ticket.clocks_start
    if history[-1].status is Status.MERGED or created is None:
        return []
    segments = running_segments(history)
    positions = _memo(calendar)
    # A bot conversation's clocks start at its hand-off: what happened before answers nothing.
    replies = [m.created_at for m in ticket.messages if m.is_response and m.created_at >= created]
    stopped_at = next((c.effective_at for c in history if c.status in STOPPED and c.effective_at >= created), None)
    first_met = min((t for t in (replies[0] if replies else None, stopped_at) if t is not None), default=None)
    result = [
        run_clock(calendar, segments, Target.FIRST_RESPONSE, targets.first_response, created, first_met, now, positions)
    ]
    stopped_now = _stopped_since(history)
    result.extend(_next_response_clocks(ticket.messages, segments, targets, calendar, now, stopped_now))
    result.append(
        run_clock(
            calendar, segments, Target.RESOLUTION, targets.resolution, created, _resolved_at(history), now, positions
        )
    )
    return result


def _next_response_clocks(
    messages: Sequence[Message],
    segments: Sequence[Segment],
    targets: Targets,
    calendar: BusinessCalendar,
    now: datetime,
    stopped_since: datetime | None,
) -> list[Clock]:
    """One clock per customer message that waits for an answer; a cycle still waiting when the ticket was
    solved ends there (solving answers it, as for the first response)."""
    cycles: list[Clock] = []
    answered = False
    waiting_since: datetime | None = None
    for message in messages:
        if message.is_response:
            if waiting_since is not None:
                cycles.append(
                    run_clock(
                        calendar,
                        segments,
                        Target.NEXT_RESPONSE,
                        targets.next_response,
                        waiting_since,
                        message.created_at,
                        now,
                    )
                )
                waiting_since = None
            answered = True
        elif message.awaits_response and answered and waiting_since is None:
            waiting_since = message.created_at
    if waiting_since is not None:
        met = stopped_since if stopped_since is not None and stopped_since >= waiting_since else None
        cycles.append(
            run_clock(calendar, segments, Target.NEXT_RESPONSE, targets.next_response, waiting_since, met, now)
        )
    return cycles


# -- metrics --


@dataclass(frozen=True)
class TargetMetrics:
    target: Target
    hit: int
    missed: int
    attainment_percent: Decimal | None
    median_minutes: int
    p90_minutes: int


def nearest_rank(sorted_values: Sequence[int], percentile: int) -> int:
    """The nearest-rank percentile (the smallest value with at least `percentile`% at or below it); 0 if none."""
    if not sorted_values:
        return 0
    rank = -(-percentile * len(sorted_values) // 100)  # ceil
    return sorted_values[max(rank, 1) - 1]


def aggregate(all_clocks: Sequence[Sequence[Clock]]) -> list[TargetMetrics]:
    """Attainment = hit / (hit + missed) over decided clocks (missed includes running clocks already past due),
    with the median and p90 business minutes of the clocks that were met, per target."""
    metrics = []
    for target in Target:
        mine = [c for ticket_clocks in all_clocks for c in ticket_clocks if c.target is target]
        hit = sum(1 for c in mine if c.state is ClockState.HIT)
        missed = sum(1 for c in mine if c.state is ClockState.MISSED)
        met = sorted(c.elapsed_minutes for c in mine if c.met_at is not None)
        attainment = None
        if hit + missed:
            attainment = (Decimal(100 * hit) / Decimal(hit + missed)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        metrics.append(TargetMetrics(target, hit, missed, attainment, nearest_rank(met, 50), nearest_rank(met, 90)))
    return metrics


@dataclass(frozen=True)
class SlaBook:
    """The calendar and the policy the clocks of every ticket run on."""

    calendar: BusinessCalendar
    policy: SlaPolicy

    def clocks(self, ticket: Ticket, now: datetime) -> list[Clock]:
        return clocks(ticket, self.policy.targets(ticket.priority, ticket.type), self.calendar, now)
