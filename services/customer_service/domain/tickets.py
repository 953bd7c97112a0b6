"""Tickets: types, statuses and the legal transitions, priorities, links, messages and the state history.

The history is append-only: each entry has the time it took effect and the time it was recorded, so a late
or corrected change is inserted at its effective time without rewriting what was recorded before. The
ticket's status is the last entry by effective time; the SLA clocks are derived from the whole history
(domain/sla.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from services.customer_service.domain.errors import IllegalTransition, TicketClosed


class TicketType(Enum):
    CONSULTATION = "CONSULTATION"
    COMPLAINT = "COMPLAINT"
    NOT_RECEIVED = "NOT_RECEIVED"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED"
    DAMAGED = "DAMAGED"
    RETURN = "RETURN"  # this and the three above are the after-sales types


class Status(Enum):
    NEW = "NEW"
    OPEN = "OPEN"
    PENDING = "PENDING"  # waiting on the customer: SLA clocks pause
    ON_HOLD = "ON_HOLD"  # waiting on a partner: clocks keep running, the platform still owes the answer
    SOLVED = "SOLVED"
    CLOSED = "CLOSED"
    MERGED = "MERGED"


_WORKING = (Status.OPEN, Status.PENDING, Status.ON_HOLD)

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({*_WORKING, Status.SOLVED, Status.MERGED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.MERGED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED, Status.MERGED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED, Status.MERGED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),  # a customer's reply reopens a solved ticket
    Status.CLOSED: frozenset(),
    Status.MERGED: frozenset(),
}
"""from -> the statuses it may go to. CLOSED and MERGED are final; only a SOLVED ticket is closed."""

BOT_SOURCE = "bot"
"""Ticket.source of a conversation the bot answers first (service_layer/bot.py)."""

FINAL = frozenset({Status.CLOSED, Status.MERGED})
STOPPED = frozenset({Status.SOLVED, Status.CLOSED, Status.MERGED})
"""Statuses in which the platform owes nothing: SLA clocks do not run."""


class Priority(Enum):
    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4

    def escalated(self) -> Priority:
        return Priority(min(self.value + 1, Priority.URGENT.value))


class LinkKind(Enum):
    ORDER = "ORDER"
    SHIPMENT = "SHIPMENT"
    COLLECTION = "COLLECTION"
    PAYOUT = "PAYOUT"

    @property
    def entity_type(self) -> str:
        """The unified-code type a link of this kind must have (collections and payouts are payments, PY)."""
        return {"ORDER": "DD", "SHIPMENT": "YD", "COLLECTION": "PY", "PAYOUT": "PY"}[self.value]


class AuthorKind(Enum):
    CUSTOMER = "CUSTOMER"
    AGENT = "AGENT"
    SYSTEM = "SYSTEM"


class Visibility(Enum):
    PUBLIC = "PUBLIC"
    INTERNAL = "INTERNAL"


@dataclass(frozen=True)
class Link:
    kind: LinkKind
    code: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class Message:
    sequence: int
    author_kind: AuthorKind
    author: str
    visibility: Visibility
    body: str
    created_at: datetime
    attachments: tuple[Attachment, ...] = ()

    @property
    def is_response(self) -> bool:
        """A public agent message answers the customer (internal notes and system notes do not)."""
        return self.author_kind is AuthorKind.AGENT and self.visibility is Visibility.PUBLIC

    @property
    def awaits_response(self) -> bool:
        return self.author_kind is AuthorKind.CUSTOMER and self.visibility is Visibility.PUBLIC


@dataclass(frozen=True)
class StatusChange:
    status: Status
    effective_at: datetime
    recorded_at: datetime
    sequence: int  # order of recording; breaks ties between equal effective times
    reason: str = ""


@dataclass(frozen=True)
class Ticket:
    code: str
    merchant_code: str
    type: TicketType
    subject: str
    priority: Priority
    created_at: datetime
    history: tuple[StatusChange, ...]
    tags: frozenset[str] = frozenset()
    group: str = ""
    agent: str = ""
    links: tuple[Link, ...] = ()
    messages: tuple[Message, ...] = ()
    merged_into: str = ""
    source: str = "api"
    handed_off_at: datetime | None = None  # a bot conversation's hand-off to a human (domain/bot.py)

    @property
    def status(self) -> Status:
        return self.history[-1].status

    @property
    def is_bot_conversation(self) -> bool:
        return self.source == BOT_SOURCE

    @property
    def clocks_start(self) -> datetime | None:
        """When the platform's people start to owe answers: at opening, or for a bot conversation at its
        hand-off (None until then: the bot answers, nobody is late)."""
        return self.handed_off_at if self.is_bot_conversation else self.created_at

    def require_changeable(self) -> None:
        if self.status in FINAL:
            raise TicketClosed(self.code, self.status.value)


def ordered(history: Sequence[StatusChange]) -> tuple[StatusChange, ...]:
    """By effective time, then by recording order."""
    return tuple(sorted(history, key=lambda c: (c.effective_at, c.sequence)))


def insert_change(history: Sequence[StatusChange], change: StatusChange) -> tuple[StatusChange, ...]:
    """The history with `change` inserted at its effective time, if both its neighbours allow it.

    The entry before it must allow the move to `change.status`, and `change.status` must allow the move
    to the entry after it (a late change may not make a later recorded change illegal).
    """
    current = ordered(history)
    position = sum(1 for c in current if (c.effective_at, c.sequence) <= (change.effective_at, change.sequence))
    if position == 0:
        raise IllegalTransition("(none)", change.status.value, field="effective_at")
    before = current[position - 1].status
    if change.status not in TRANSITIONS[before]:
        raise IllegalTransition(before.value, change.status.value)
    if position < len(current):
        after = current[position].status
        if after not in TRANSITIONS[change.status]:
            raise IllegalTransition(change.status.value, after.value, field="effective_at")
    return (*current[:position], change, *current[position:])


def with_change(ticket: Ticket, change: StatusChange, merged_into: str = "") -> Ticket:
    ticket.require_changeable()
    history = insert_change(ticket.history, change)
    return replace(ticket, history=history, merged_into=merged_into or ticket.merged_into)


def automatic_status(ticket: Ticket, message: Message) -> Status | None:
    """The status a message moves the ticket to (Zendesk-like): an agent's public reply opens a NEW ticket;
    a customer's public reply reopens a PENDING or SOLVED one. None: no change."""
    if message.is_response and ticket.status is Status.NEW:
        return Status.OPEN
    if message.awaits_response and ticket.status in (Status.PENDING, Status.SOLVED):
        return Status.OPEN
    return None


def normal_tag(tag: str) -> str:
    return tag.strip().lower()
