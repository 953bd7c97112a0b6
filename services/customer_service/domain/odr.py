"""Online dispute resolution (ODR): when a complaint goes to a provider, the case file it carries and the
provider's status machine.

The window follows ISO 32122:2025 (guidance for online dispute resolution in cross-border e-commerce): a
complaint not settled by negotiation within 10 calendar days moves on to the next stage. The stages are
those of the UNCITRAL Technical Notes on Online Dispute Resolution (2016), paras 18-24: negotiation,
facilitated settlement, final stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from services.customer_service.domain.errors import IllegalTransition
from services.customer_service.domain.linked_records import Tracking, tracking_evidence
from services.customer_service.domain.tickets import (
    FINAL,
    AuthorKind,
    LinkKind,
    Status,
    Ticket,
    TicketType,
    Visibility,
)

CASE_FILE_SCHEMA = "xborder.odr.case_file/1"
"""Names the case file's layout; a provider reads `schema` first."""

ESCALATABLE = frozenset(set(TicketType) - {TicketType.CONSULTATION})
"""Complaints and after-sales cases go to ODR; a consultation is not a dispute."""

NEGOTIATING = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})
"""Ticket statuses in which a complaint is still unsettled (solved, closed and merged ones are not)."""


class OdrStatus(Enum):
    SUBMITTED = "SUBMITTED"  # escalated here; the provider has not confirmed receipt
    RECEIVED = "RECEIVED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"  # the provider declines the case (out of its remit)
    NEGOTIATION = "NEGOTIATION"  # UNCITRAL stage 1: the parties negotiate through the platform
    FACILITATION = "FACILITATION"  # UNCITRAL stage 2: a neutral facilitates a settlement
    FINAL_STAGE = "FINAL_STAGE"  # UNCITRAL stage 3: the neutral recommends or decides
    SETTLED = "SETTLED"  # the parties agreed (outcome)
    DECIDED = "DECIDED"  # the neutral decided (outcome)
    WITHDRAWN = "WITHDRAWN"  # the claimant withdrew


_STAGES = (OdrStatus.NEGOTIATION, OdrStatus.FACILITATION, OdrStatus.FINAL_STAGE)
_ENDS = frozenset({OdrStatus.SETTLED, OdrStatus.WITHDRAWN})

ODR_TRANSITIONS: dict[OdrStatus, frozenset[OdrStatus]] = {
    OdrStatus.SUBMITTED: frozenset({OdrStatus.RECEIVED, OdrStatus.ACCEPTED, OdrStatus.REJECTED, OdrStatus.WITHDRAWN}),
    OdrStatus.RECEIVED: frozenset({OdrStatus.ACCEPTED, OdrStatus.REJECTED, OdrStatus.WITHDRAWN}),
    OdrStatus.ACCEPTED: frozenset({*_STAGES, *_ENDS}),
    OdrStatus.NEGOTIATION: frozenset({OdrStatus.FACILITATION, OdrStatus.FINAL_STAGE, *_ENDS}),
    OdrStatus.FACILITATION: frozenset({OdrStatus.FINAL_STAGE, *_ENDS}),
    OdrStatus.FINAL_STAGE: frozenset({OdrStatus.DECIDED, *_ENDS}),
    OdrStatus.REJECTED: frozenset(),
    OdrStatus.SETTLED: frozenset(),
    OdrStatus.DECIDED: frozenset(),
    OdrStatus.WITHDRAWN: frozenset(),
}
"""from -> the statuses a provider may report next. The stages only move forward (UNCITRAL: a stage that
fails leads to the next one); a decision needs the final stage; REJECTED, SETTLED, DECIDED and WITHDRAWN end
the case."""

CLOSING = frozenset({OdrStatus.REJECTED, OdrStatus.SETTLED, OdrStatus.DECIDED, OdrStatus.WITHDRAWN})
WITH_OUTCOME = frozenset({OdrStatus.SETTLED, OdrStatus.DECIDED})


class OdrIllegalStatus(IllegalTransition):
    """A provider status that does not follow the case's current one; names from and to."""

    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(from_status, to_status)
        self.args = (f"an ODR case cannot go from {from_status} to {to_status}",)
        self.message = self.args[0]


class Remedy(Enum):
    REFUND = "REFUND"
    REPLACEMENT = "REPLACEMENT"
    REPAIR = "REPAIR"
    OTHER = "OTHER"


DEFAULT_REMEDY = {
    TicketType.COMPLAINT: Remedy.OTHER,
    TicketType.NOT_RECEIVED: Remedy.REFUND,
    TicketType.NOT_AS_DESCRIBED: Remedy.REFUND,
    TicketType.DAMAGED: Remedy.REPLACEMENT,
    TicketType.RETURN: Remedy.REFUND,
}


@dataclass(frozen=True)
class Party:
    """A party as the case file shows it. `contact` is personal data (an e-mail or phone the provider needs
    to reach the party); nothing sensitive (ID or bank account numbers) is ever put here."""

    role: str  # "CLAIMANT" (the buyer, through the merchant) or "RESPONDENT" (the merchant)
    country: str  # ISO 3166-1 alpha-2, "" when not known
    language: str  # BCP 47, "" when not known
    contact: str = ""
    merchant_code: str = ""


@dataclass(frozen=True)
class Outcome:
    summary: str
    refund_amount: Decimal | None = None
    refund_currency: str = ""
    refund_collection: str = ""

    @property
    def refunds(self) -> bool:
        return self.refund_amount is not None and self.refund_amount > 0


@dataclass(frozen=True)
class OdrStatusChange:
    status: OdrStatus
    recorded_at: datetime
    sequence: int
    note: str = ""
    provider_reference: str = ""


@dataclass(frozen=True)
class OdrCase:
    ticket_code: str
    merchant_code: str
    provider: str
    version: int  # the case file's version the provider was last sent
    escalated_at: datetime
    reason: str  # "negotiation window passed" or the operator's
    history: tuple[OdrStatusChange, ...]
    outcome: Outcome | None = None

    @property
    def status(self) -> OdrStatus:
        return self.history[-1].status

    def next(self, status: OdrStatus) -> OdrStatus | None:
        """None when `status` is already the case's (a repeated report changes nothing); raises when illegal."""
        if status is self.status:
            return None
        if status not in ODR_TRANSITIONS[self.status]:
            raise OdrIllegalStatus(self.status.value, status.value)
        return status


def due_for_escalation(ticket: Ticket, now: datetime, window: timedelta) -> bool:
    """A complaint still unsettled when its negotiation window (calendar time, from opening) has passed."""
    return (
        ticket.type in ESCALATABLE
        and ticket.status.value in ("NEW", "OPEN", "PENDING", "ON_HOLD")
        and (now - ticket.created_at >= window)
    )


def escalatable(ticket: Ticket) -> str | None:
    """Why the ticket cannot go to ODR, or None."""
    if ticket.type not in ESCALATABLE:
        return f"a {ticket.type.value} ticket is not a dispute"
    if ticket.status in FINAL:
        return f"ticket {ticket.code} is {ticket.status.value}"
    return None


@dataclass(frozen=True)
class Claim:
    remedy: Remedy
    amount: Decimal | None = None
    currency: str = ""
    statement: str = ""


def case_file(
    ticket: Ticket,
    *,
    version: int,
    provider: str,
    parties: tuple[Party, ...],
    claim: Claim,
    consent_version: str,
    negotiation_days: int,
    created_at: datetime,
    tracking: Mapping[str, Tracking | str | None] | None = None,
) -> dict[str, Any]:
    """The case file (JSON-ready): what the provider needs to take the case over without asking us again.

    Evidence is the public conversation (internal notes stay here), every attachment by name, SHA-256 and
    size (the content stays in our blob store; a provider asks for it by hash), and the ticket's state
    history, and each linked shipment's carrier timeline with its proof of delivery from logistics
    (`tracking`: by shipment code, the tracking, None when logistics has none, or why it could not be
    had; a shipment not in it is marked missing). The negotiation record is the time spent negotiating
    and what each side said.
    """
    public = [m for m in ticket.messages if m.visibility is Visibility.PUBLIC]
    links = {kind: [link.code for link in ticket.links if link.kind is kind] for kind in LinkKind}
    return {
        "schema": CASE_FILE_SCHEMA,
        "case": {"ticket_code": ticket.code, "version": version, "provider": provider},
        "created_at": created_at.isoformat(),
        "consent_version": consent_version,
        "parties": [
            {
                "role": p.role,
                "country": p.country,
                "language": p.language,
                "contact": p.contact,
                **({"merchant_code": p.merchant_code} if p.merchant_code else {}),
            }
            for p in parties
        ],
        "transaction": {
            "orders": links[LinkKind.ORDER],
            "shipments": links[LinkKind.SHIPMENT],
            "collections": links[LinkKind.COLLECTION],
            "payouts": links[LinkKind.PAYOUT],
            "amount": None if claim.amount is None else {"value": str(claim.amount), "currency": claim.currency},
        },
        "claim": {
            "type": ticket.type.value,
            "subject": ticket.subject,
            "statement": claim.statement or (public[0].body if public else ""),
            "remedy_sought": claim.remedy.value,
        },
        "evidence": {
            "messages": [
                {
                    "sequence": m.sequence,
                    "from": "CUSTOMER" if m.author_kind is AuthorKind.CUSTOMER else m.author_kind.value,
                    "at": m.created_at.isoformat(),
                    "body": m.body,
                    "attachments": [
                        {
                            "filename": a.filename,
                            "content_type": a.content_type,
                            "sha256": a.sha256,
                            "size_bytes": a.size_bytes,
                        }
                        for a in m.attachments
                    ],
                }
                for m in public
            ],
            "state_history": [
                {
                    "status": c.status.value,
                    "effective_at": c.effective_at.isoformat(),
                    "recorded_at": c.recorded_at.isoformat(),
                    "reason": c.reason,
                }
                for c in ticket.history
            ],
            "tracking": [
                tracking_evidence(code, (tracking or {}).get(code, "tracking was not requested"))
                for code in links[LinkKind.SHIPMENT]
            ],
        },
        "negotiation": {
            "opened_at": ticket.created_at.isoformat(),
            "window_days": negotiation_days,
            "days_elapsed": (created_at - ticket.created_at).days,
            "customer_messages": sum(1 for m in public if m.author_kind is AuthorKind.CUSTOMER),
            "merchant_or_agent_messages": sum(1 for m in public if m.author_kind is AuthorKind.AGENT),
            "settled": False,
        },
    }


def backoff(attempts: int, base: timedelta, ceiling: timedelta) -> timedelta:
    """The wait after `attempts` failed deliveries: base, 2*base, 4*base, ... capped at ceiling."""
    return min(base * (2 ** min(max(attempts - 1, 0), 30)), ceiling)
