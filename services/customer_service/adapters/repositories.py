"""Ticket storage: one ticket is rows in tickets, ticket_history, ticket_messages, ticket_attachments and
ticket_links, read back whole as a domain Ticket."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.customer_service.adapters.tables import (
    sla_breaches,
    ticket_attachments,
    ticket_history,
    ticket_links,
    ticket_messages,
    tickets,
)
from services.customer_service.domain.tickets import (
    Attachment,
    AuthorKind,
    Link,
    LinkKind,
    Message,
    Priority,
    Status,
    StatusChange,
    Ticket,
    TicketType,
    Visibility,
)


class TicketRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._for_update = connection.dialect.name == "postgresql"

    # -- writes --

    def add(self, ticket: Ticket) -> None:
        self.connection.execute(
            tickets.insert().values(
                code=ticket.code,
                merchant_code=ticket.merchant_code,
                type=ticket.type.value,
                subject=ticket.subject,
                status=ticket.status.value,
                priority=ticket.priority.value,
                tags=json.dumps(sorted(ticket.tags)),
                group_name=ticket.group,
                agent=ticket.agent,
                merged_into=ticket.merged_into,
                source=ticket.source,
                created_at=ticket.created_at,
            )
        )
        for change in ticket.history:
            self.add_change(ticket.code, change)
        if ticket.links:
            self.connection.execute(
                ticket_links.insert(),
                [
                    {"ticket_code": ticket.code, "linked_code": link.code, "kind": link.kind.value}
                    for link in ticket.links
                ],
            )
        for message in ticket.messages:
            self.add_message(ticket.code, message)

    def add_change(self, code: str, change: StatusChange) -> None:
        self.connection.execute(
            ticket_history.insert().values(
                ticket_code=code,
                sequence=change.sequence,
                status=change.status.value,
                effective_at=change.effective_at,
                recorded_at=change.recorded_at,
                reason=change.reason,
            )
        )

    def add_message(self, code: str, message: Message) -> None:
        self.connection.execute(
            ticket_messages.insert().values(
                ticket_code=code,
                sequence=message.sequence,
                author_kind=message.author_kind.value,
                author=message.author,
                visibility=message.visibility.value,
                body=message.body,
                created_at=message.created_at,
            )
        )
        if message.attachments:
            self.connection.execute(
                ticket_attachments.insert(),
                [
                    {
                        "ticket_code": code,
                        "message_sequence": message.sequence,
                        "position": position,
                        "filename": a.filename,
                        "content_type": a.content_type,
                        "sha256": a.sha256,
                        "size_bytes": a.size_bytes,
                    }
                    for position, a in enumerate(message.attachments, start=1)
                ],
            )

    def save_attributes(self, ticket: Ticket) -> None:
        """Status (after a history change), priority, tags, assignment, merge target."""
        self.connection.execute(
            tickets.update()
            .where(tickets.c.code == ticket.code)
            .values(
                status=ticket.status.value,
                priority=ticket.priority.value,
                tags=json.dumps(sorted(ticket.tags)),
                group_name=ticket.group,
                agent=ticket.agent,
                merged_into=ticket.merged_into,
            )
        )

    # -- reads --

    def get(self, code: str, *, for_update: bool = False, messages: bool = True) -> Ticket | None:
        query = sa.select(tickets).where(tickets.c.code == code)
        if for_update and self._for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if row is None:
            return None
        return self._load([row], messages=messages)[0]

    def page(self, merchant_code: str, status: Status | None, offset: int, limit: int) -> list[Ticket]:
        query = sa.select(tickets).where(tickets.c.merchant_code == merchant_code)
        if status is not None:
            query = query.where(tickets.c.status == status.value)
        query = query.order_by(tickets.c.created_at.desc(), tickets.c.code.desc()).offset(offset).limit(limit)
        return self._load(list(self.connection.execute(query)), messages=False)

    def for_merchant(self, merchant_code: str) -> list[Ticket]:
        """Every ticket of a merchant with messages (SLA metrics)."""
        rows = list(self.connection.execute(sa.select(tickets).where(tickets.c.merchant_code == merchant_code)))
        return self._load(rows, messages=True)

    def unresolved_with_tag(self, merchant_code: str, tag: str) -> Ticket | None:
        """The oldest ticket of the merchant, not SOLVED, CLOSED or MERGED, carrying `tag`."""
        query = (
            sa.select(tickets)
            .where(
                tickets.c.merchant_code == merchant_code,
                tickets.c.status.not_in([Status.SOLVED.value, Status.CLOSED.value, Status.MERGED.value]),
                tickets.c.tags.like(f'%"{tag}"%'),
            )
            .order_by(tickets.c.created_at)
            .limit(1)
        )
        if self._for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return None if row is None else self._load([row], messages=True)[0]

    def running_codes(self) -> list[str]:
        """Tickets whose clocks may run (not SOLVED, CLOSED or MERGED), oldest first."""
        stopped = [Status.SOLVED.value, Status.CLOSED.value, Status.MERGED.value]
        query = sa.select(tickets.c.code).where(tickets.c.status.not_in(stopped)).order_by(tickets.c.created_at)
        return [row.code for row in self.connection.execute(query)]

    def _load(self, rows: list[sa.Row], *, messages: bool) -> list[Ticket]:
        codes = [row.code for row in rows]
        if not codes:
            return []
        history = _grouped(
            self.connection.execute(
                sa.select(ticket_history)
                .where(ticket_history.c.ticket_code.in_(codes))
                .order_by(ticket_history.c.ticket_code, ticket_history.c.sequence)
            )
        )
        links = _grouped(
            self.connection.execute(
                sa.select(ticket_links)
                .where(ticket_links.c.ticket_code.in_(codes))
                .order_by(ticket_links.c.linked_code)
            )
        )
        message_rows = attachment_rows = {}
        if messages:
            message_rows = _grouped(
                self.connection.execute(
                    sa.select(ticket_messages)
                    .where(ticket_messages.c.ticket_code.in_(codes))
                    .order_by(ticket_messages.c.ticket_code, ticket_messages.c.sequence)
                )
            )
            attachment_rows = _grouped(
                self.connection.execute(
                    sa.select(ticket_attachments)
                    .where(ticket_attachments.c.ticket_code.in_(codes))
                    .order_by(
                        ticket_attachments.c.ticket_code,
                        ticket_attachments.c.message_sequence,
                        ticket_attachments.c.position,
                    )
                )
            )
        return [
            _ticket(
                row,
                history.get(row.code, []),
                links.get(row.code, []),
                message_rows.get(row.code, []),
                attachment_rows.get(row.code, []),
            )
            for row in rows
        ]


class BreachRepository:
    """Which (ticket, target) breaches were already announced."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def recorded(self, code: str) -> set[str]:
        rows = self.connection.execute(sa.select(sla_breaches.c.target).where(sla_breaches.c.ticket_code == code))
        return {row.target for row in rows}

    def record(self, code: str, target: str, due_at: datetime, detected_at: datetime) -> None:
        self.connection.execute(
            sla_breaches.insert().values(ticket_code=code, target=target, due_at=due_at, detected_at=detected_at)
        )


def _grouped(rows: Iterable[sa.Row]) -> dict[str, list[sa.Row]]:
    grouped: dict[str, list[sa.Row]] = {}
    for row in rows:
        grouped.setdefault(row.ticket_code, []).append(row)
    return grouped


def _ticket(
    row: sa.Row, history: list[sa.Row], links: list[sa.Row], messages: list[sa.Row], attachments: list[sa.Row]
) -> Ticket:
    by_message: dict[int, list[Attachment]] = {}
    for a in attachments:
        by_message.setdefault(a.message_sequence, []).append(
            Attachment(a.filename, a.content_type, a.sha256, a.size_bytes)
        )
    changes = sorted(
        (StatusChange(Status(h.status), h.effective_at, h.recorded_at, h.sequence, h.reason) for h in history),
        key=lambda c: (c.effective_at, c.sequence),
    )
    return Ticket(
        code=row.code,
        merchant_code=row.merchant_code,
        type=TicketType(row.type),
        subject=row.subject,
        priority=Priority(row.priority),
        created_at=row.created_at,
        history=tuple(changes),
        tags=frozenset(json.loads(row.tags)),
        group=row.group_name,
        agent=row.agent,
        links=tuple(Link(LinkKind(link.kind), link.linked_code) for link in links),
        messages=tuple(
            Message(
                m.sequence,
                AuthorKind(m.author_kind),
                m.author,
                Visibility(m.visibility),
                m.body,
                m.created_at,
                tuple(by_message.get(m.sequence, ())),
            )
            for m in messages
        ),
        merged_into=row.merged_into,
        source=row.source,
        handed_off_at=row.handed_off_at,
    )
