"""SLA due times: 100k tickets with state histories on the shipped China calendar (Asia/Shanghai, 09:00-12:00
and 13:00-18:00 on weekdays, public holidays from `holidays`, the State Council's make-up working days),
computed by the service's clock code (domain/sla.py over domain/calendar.py), on one core.

Baseline in the same run: a naive minute-by-minute walk (is this minute working time, and is the ticket
running?) for the same clocks on a sample of the tickets; the script checks that both give the same due
times for every sampled ticket.

    .venv/bin/python benchmarks/bench_sla.py                  # about 1 minute
    .venv/bin/python benchmarks/bench_sla.py --tickets 20000 --naive-sample 100
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "protos" / "gen"))

from services.customer_service.adapters import sla_config  # noqa: E402
from services.customer_service.domain.calendar import BusinessCalendar  # noqa: E402
from services.customer_service.domain.sla import RUNNING, SlaBook, Target  # noqa: E402
from services.customer_service.domain.tickets import Priority, Status, StatusChange, Ticket, TicketType  # noqa: E402

MINUTE = timedelta(minutes=1)
NEXT = {
    Status.NEW: (Status.OPEN, Status.PENDING, Status.ON_HOLD),
    Status.OPEN: (Status.PENDING, Status.ON_HOLD),
    Status.PENDING: (Status.OPEN, Status.ON_HOLD),
    Status.ON_HOLD: (Status.OPEN, Status.PENDING),
}


def make_tickets(count: int, seed: int) -> list[tuple[Ticket, datetime]]:
    """Tickets opened over 2025-2026 with 1..6 further changes among NEW/OPEN/PENDING/ON_HOLD, pauses included,
    the last one leaving the ticket running (so every due time is defined), each with the instant to
    evaluate it at (an hour after its last change)."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    span = int((datetime(2026, 11, 1, tzinfo=UTC) - start).total_seconds() // 60)
    tickets = []
    for i in range(count):
        created = start + rng.randrange(span) * MINUTE
        history = [StatusChange(Status.NEW, created, created, 1)]
        at = created
        for sequence in range(2, 2 + rng.randint(1, 6)):
            at += rng.randint(5, 3 * 24 * 60) * MINUTE
            history.append(StatusChange(rng.choice(NEXT[history[-1].status]), at, at, sequence))
        if history[-1].status is Status.PENDING:
            at += rng.randint(5, 3 * 24 * 60) * MINUTE
            history.append(StatusChange(Status.OPEN, at, at, len(history) + 1))
        ticket = Ticket(
            f"TK{i}", "MC", rng.choice(list(TicketType)), "", rng.choice(list(Priority)), created, tuple(history)
        )
        tickets.append((ticket, at + 60 * MINUTE))
    return tickets


def naive_due(calendar: BusinessCalendar, ticket: Ticket, minutes: int) -> datetime:
    """Walk minute by minute from the ticket's creation, counting working minutes in which it runs."""
    history = ticket.history
    at, index, left = ticket.created_at, 0, minutes
    while at < calendar_end(calendar):
        while index + 1 < len(history) and history[index + 1].effective_at <= at:
            index += 1
        if history[index].status in RUNNING and calendar.is_working(at):
            left -= 1
            if left == 0:
                return at + MINUTE
        at += MINUTE
    raise SystemExit(f"{ticket.code}: never due within the calendar")


def calendar_end(calendar: BusinessCalendar) -> datetime:
    return datetime.combine(calendar.last, datetime.min.time(), UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    book = SlaBook(*sla_config.load(ROOT / "data"))
    tickets = make_tickets(args.tickets, args.seed)
    changes = sum(len(t.history) for t, _ in tickets)

    # CPU seconds of this process: the machine is shared, so wall time also counts other processes' turns.
    began, began_cpu = time.perf_counter(), time.process_time()
    fast = [book.clocks(ticket, now) for ticket, now in tickets]
    fast_s, fast_cpu = time.perf_counter() - began, time.process_time() - began_cpu

    sample = tickets[: args.naive_sample]
    began, began_cpu = time.perf_counter(), time.process_time()
    naive = []
    for ticket, _ in sample:
        targets = book.policy.targets(ticket.priority, ticket.type)
        naive.append(
            (
                naive_due(book.calendar, ticket, targets.first_response),
                naive_due(book.calendar, ticket, targets.resolution),
            )
        )
    naive_s, naive_cpu = time.perf_counter() - began, time.process_time() - began_cpu

    compared = 0
    for (ticket, _), clocks, (first, resolution) in zip(sample, fast[: len(sample)], naive, strict=True):
        by_target = {c.target: c for c in clocks}
        for target, expected in ((Target.FIRST_RESPONSE, first), (Target.RESOLUTION, resolution)):
            if by_target[target].due_at != expected:
                raise SystemExit(f"{ticket.code} {target.value}: fast {by_target[target].due_at} != naive {expected}")
            compared += 1

    fast_rate, naive_rate = len(tickets) / fast_cpu, len(sample) / naive_cpu
    print(f"tickets: {len(tickets):,} with {changes:,} state changes (seed {args.seed}); load {_load()}")
    print(
        f"service clocks (3 kinds, all tickets): {fast_cpu:.2f} s CPU ({fast_s:.2f} s wall)"
        f" = {fast_rate:,.0f} tickets/s"
    )
    print(
        f"naive minute walk (2 due times, {len(sample)} tickets): {naive_cpu:.2f} s CPU ({naive_s:.2f} s wall)"
        f" = {naive_rate:,.1f} tickets/s"
    )
    print(f"speed-up: {fast_rate / naive_rate:,.0f}x; due times compared and equal: {compared}")


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
