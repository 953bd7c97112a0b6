"""What the platform's other services say about the records a ticket links to: who owns them, and a
shipment's carrier tracking (the ODR case file's delivery evidence).

Orders have no owning service on the platform, so an order link is checked for its code only; shipments
live in logistics, collections and payouts in payments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.customer_service.domain.tickets import LinkKind

CHECKED_KINDS = frozenset({LinkKind.SHIPMENT, LinkKind.COLLECTION, LinkKind.PAYOUT})
"""Link kinds whose records are looked up in the service that owns them."""

OWNING_SERVICE = {LinkKind.SHIPMENT: "logistics", LinkKind.COLLECTION: "payments", LinkKind.PAYOUT: "payments"}

DELIVERED = "DELIVERED"


@dataclass(frozen=True)
class TrackingEvent:
    occurred_at: datetime
    status: str  # logistics' main status ("IN_TRANSIT", "DELIVERED", ...); "" when the carrier code is unmapped
    sub_status: str
    rec24_code: str
    location: str
    description: str
    carrier: str
    raw_code: str


@dataclass(frozen=True)
class Tracking:
    shipment_code: str
    merchant_code: str
    waybill_number: str
    status: str
    sub_status: str
    events: tuple[TrackingEvent, ...]  # oldest first

    @property
    def proof_of_delivery(self) -> TrackingEvent | None:
        """The last carrier event that says the parcel was delivered, when the shipment is delivered."""
        if self.status != DELIVERED:
            return None
        delivered = [e for e in self.events if e.status == DELIVERED]
        return delivered[-1] if delivered else None


def _event(event: TrackingEvent) -> dict[str, Any]:
    return {
        "at": event.occurred_at.isoformat(),
        "status": event.status,
        "sub_status": event.sub_status,
        "rec24_code": event.rec24_code,
        "location": event.location,
        "description": event.description,
        "carrier": event.carrier,
        "raw_code": event.raw_code,
    }


def tracking_evidence(shipment_code: str, tracking: Tracking | str | None) -> dict[str, Any]:
    """One shipment's entry in the case file: its timeline and proof of delivery, or why it is missing
    (`tracking` is the reason when logistics could not be asked, None when it has no such shipment)."""
    if isinstance(tracking, str) or tracking is None:
        return {
            "shipment_code": shipment_code,
            "missing": True,
            "reason": tracking if isinstance(tracking, str) else "logistics has no such shipment",
        }
    proof = tracking.proof_of_delivery
    return {
        "shipment_code": shipment_code,
        "missing": False,
        "waybill_number": tracking.waybill_number,
        "status": tracking.status,
        "sub_status": tracking.sub_status,
        "proof_of_delivery": None if proof is None else _event(proof),
        "timeline": [_event(e) for e in tracking.events],
    }
