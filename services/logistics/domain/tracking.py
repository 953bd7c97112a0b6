"""Tracking: carrier event codes mapped to a two-level status, and a status that only moves forward.

The main status is a rank: an event moves a shipment only to a status of higher rank, so events that
arrive late or out of order never move it back, and the final status depends only on the set of events
received, not on their order (tests/unit/test_logistics_tracking.py checks both with hypothesis). The
price of a total order: an EXCEPTION outranks the transit statuses, so a shipment stays in EXCEPTION
until it is delivered, returned or expires, even when the carrier moves it on after the incident.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime


class MainStatus(enum.Enum):
    INFO_RECEIVED = "INFO_RECEIVED"
    IN_TRANSIT = "IN_TRANSIT"
    CUSTOMS = "CUSTOMS"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    AVAILABLE_FOR_PICKUP = "AVAILABLE_FOR_PICKUP"
    EXCEPTION = "EXCEPTION"
    EXPIRED = "EXPIRED"
    DELIVERED = "DELIVERED"
    RETURNING = "RETURNING"
    RETURNED = "RETURNED"


RANK: dict[MainStatus, int] = {status: rank for rank, status in enumerate(MainStatus, start=1)}
"""The status rank table, in the enum's order: a shipment moves only to a status of higher rank."""

FINAL_RANK = RANK[MainStatus.EXPIRED]
"""A status of this rank or above is final for the lane history: lost, delivered, returning, returned."""

DEFAULT_REC24: dict[MainStatus, str] = {
    MainStatus.INFO_RECEIVED: "50",  # Manifested
    MainStatus.IN_TRANSIT: "31",  # En route
    MainStatus.CUSTOMS: "126",  # Customs clearance, in progress
    MainStatus.OUT_FOR_DELIVERY: "113",  # Delivery, in progress
    MainStatus.AVAILABLE_FOR_PICKUP: "112",  # Held, at consignee's disposal
    MainStatus.EXCEPTION: "23",  # Delivery, not completed
    MainStatus.EXPIRED: "260",  # Tracking information unavailable
    MainStatus.DELIVERED: "21",  # Delivery, completed
    MainStatus.RETURNING: "323",  # Return in progress
    MainStatus.RETURNED: "82",  # Returned
}
"""The UN/CEFACT Rec. 24 code of each main status, where a mapping entry does not name a closer one."""


class MappingProblem(ValueError):
    """A carrier mapping table that cannot be used; the message names the carrier and code."""


@dataclass(frozen=True)
class MappedStatus:
    status: MainStatus
    sub_status: str
    rec24: str
    description: str


@dataclass(frozen=True)
class CarrierTable:
    """One carrier's published event codes: those mapped, and those deliberately left unmapped."""

    carrier: str
    name: str
    source: str
    licence: str
    mapped: Mapping[str, MappedStatus]
    unmapped: Mapping[str, str]

    @property
    def coverage(self) -> tuple[int, int]:
        """(mapped, published): the share of the carrier's published codes this table maps."""
        return len(self.mapped), len(self.mapped) + len(self.unmapped)

    def lookup(self, raw_code: str) -> MappedStatus | None:
        """The mapped status, or None: an unmapped or unknown code is kept raw, never guessed."""
        return self.mapped.get(raw_code.strip().upper())


def table_from_mapping(data: Mapping, rec24_known: Iterable[str] = ()) -> CarrierTable:
    """Read one data/logistics/carrier_codes/*.yaml file; a problem names the carrier and the code."""
    carrier = str(data.get("carrier", "")).strip().lower()
    if not carrier:
        raise MappingProblem("carrier is required")
    known = set(rec24_known)
    mapped: dict[str, MappedStatus] = {}
    for code, entry in (data.get("codes") or {}).items():
        raw = str(code).upper()
        try:
            status = MainStatus(entry["status"])
        except (KeyError, ValueError, TypeError):
            raise MappingProblem(
                f"{carrier} code {raw}: status must be one of {[s.value for s in MainStatus]}"
            ) from None
        rec24 = str(entry.get("rec24") or DEFAULT_REC24[status])
        if known and rec24 not in known:
            raise MappingProblem(f"{carrier} code {raw}: {rec24} is not a UN/CEFACT Rec. 24 code")
        mapped[raw] = MappedStatus(status, str(entry.get("sub_status", "")), rec24, str(entry.get("description", "")))
    unmapped = {str(code): str(text) for code, text in (data.get("unmapped") or {}).items()}
    both = sorted(set(mapped) & set(unmapped))
    if both:
        raise MappingProblem(f"{carrier}: codes both mapped and unmapped: {', '.join(both)}")
    return CarrierTable(
        carrier,
        str(data.get("name", carrier)),
        str(data.get("source", "")),
        str(data.get("licence", "")),
        mapped,
        unmapped,
    )


@dataclass(frozen=True)
class TrackingEvent:
    """One carrier event as received; `mapped` is None when the carrier's table does not map its code."""

    carrier: str
    waybill: str
    raw_code: str
    occurred_at: datetime
    location: str
    description: str
    mapped: MappedStatus | None

    @property
    def key(self) -> tuple[str, str, str, datetime]:
        """Two events with the same key are one event received twice."""
        return self.carrier, self.waybill, self.raw_code, self.occurred_at


@dataclass(frozen=True)
class Status:
    """A shipment's current status; `since` is the time of the event that set it."""

    status: MainStatus
    sub_status: str
    rec24: str
    since: datetime | None


@dataclass(frozen=True)
class TrackedShipment:
    """What the tracking ingest needs of a shipment: who to tell, and where its status stands."""

    code: str
    merchant_code: str
    waybill_number: str
    status: Status
    channel_code: str = ""
    destination_country: str = ""
    booked_at: datetime | None = None
    carrier_id: str = ""  # the carrier owning the channel it was booked on
    tracking_carriers: frozenset[str] = frozenset()  # that channel's further carriers (line haul, last mile)

    def takes_events_of(self, carrier: str) -> bool:
        """Only the carriers of its channel move a shipment: knowing a waybill lets no other carrier move it."""
        return bool(carrier) and (carrier == self.carrier_id or carrier in self.tracking_carriers)


BOOKED = Status(MainStatus.INFO_RECEIVED, "booked", DEFAULT_REC24[MainStatus.INFO_RECEIVED], None)
"""A shipment's status from booking until the carrier's first mapped event."""


def advance(current: Status, event: TrackingEvent) -> Status | None:
    """The new status if the event moves the shipment forward, else None (same or lower rank, unmapped)."""
    mapped = event.mapped
    if mapped is None or RANK[mapped.status] <= RANK[current.status]:
        return None
    return Status(mapped.status, mapped.sub_status, mapped.rec24, event.occurred_at)


def final_status(events: Iterable[TrackingEvent], start: Status = BOOKED) -> Status:
    """The status after applying the events in the given order (the reference for the property tests)."""
    status = start
    for event in events:
        status = advance(status, event) or status
    return status
