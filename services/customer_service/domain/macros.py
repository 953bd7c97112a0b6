"""Macros: named canned actions an agent applies to a ticket in one call (as Zendesk's and Zammad's macros):
a reply from a template with placeholders, a status, tags to add and remove, a priority.

A merchant's macro of a name is used before the platform's of the same name. Placeholders are
`{{ticket.code}}`-style names from `PLACEHOLDERS`; an unknown one is refused when the macro is saved, so a
reply never goes out with a raw `{{...}}` in it. Substitution is plain text (no expressions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from services.customer_service.domain.tickets import Priority, Status, Ticket, Visibility

PLATFORM = ""
"""The owner of platform-wide macros (a merchant's are owned by its merchant code)."""

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_.]+)\s*\}\}")

PLACEHOLDERS = (
    "ticket.code",
    "ticket.subject",
    "ticket.type",
    "ticket.priority",
    "ticket.status",
    "merchant.code",
    "agent",
)


@dataclass(frozen=True)
class Macro:
    owner: str
    name: str
    title: str
    reply: str  # "" sends no reply
    reply_visibility: Visibility
    status: Status | None
    priority: Priority | None
    add_tags: frozenset[str]
    remove_tags: frozenset[str]
    version: int = 1
    updated_at: datetime | None = None

    @property
    def platform(self) -> bool:
        return self.owner == PLATFORM


def unknown_placeholders(template: str) -> list[str]:
    return sorted({name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS})


def render(template: str, ticket: Ticket, agent: str) -> str:
    values = {
        "ticket.code": ticket.code,
        "ticket.subject": ticket.subject,
        "ticket.type": ticket.type.value,
        "ticket.priority": ticket.priority.name,
        "ticket.status": ticket.status.value,
        "merchant.code": ticket.merchant_code,
        "agent": agent,
    }
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)
