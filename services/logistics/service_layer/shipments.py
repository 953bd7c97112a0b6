"""Booking shipments, taking carriers' tracking events, and answering a shipment's timeline."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import TypeVar

from google.protobuf.message import Message
from xborder.logistics.v1 import events_pb2

from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.domain.channels import normalise_postal_code
from services.logistics.domain.lane_history import Finish
from services.logistics.domain.pricing import Parcel
from services.logistics.domain.shipments import Shipment, label_reference, waybill_number
from services.logistics.domain.tracking import (
    BOOKED,
    FINAL_RANK,
    RANK,
    CarrierTable,
    MainStatus,
    Status,
    TrackedShipment,
    TrackingEvent,
    advance,
)
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import ConflictingWrite, NotFound, Violations
from services.shared.idempotency import Request, run_idempotent
from services.shared.logs import get_logger

SCOPE = "logistics.book_shipment"
M = TypeVar("M", bound=Message)
UowFactory = Callable[[], LogisticsUnitOfWork]
WRITE_ATTEMPTS = 3
log = get_logger(__name__)


@dataclass(frozen=True)
class BookShipment:
    request_id: str
    fingerprint: str
    merchant_code: str
    channel_code: str
    rate_sheet_version: int
    parcels: tuple[Parcel, ...]
    country: str
    postal_code: str


def book_shipment(
    uow_factory: UowFactory,
    command: BookShipment,
    response_type: type[M],
    respond: Callable[[Shipment], M],
    now: Callable[[], datetime] = utcnow,
    serial: Callable[[], int] = lambda: secrets.randbelow(10**8),
) -> M:
    """Book on a channel and rate-sheet version that exist and serve the destination; once per request id."""

    def work(uow: LogisticsUnitOfWork) -> M:
        violations = Violations()
        channel = uow.channels.all().get(command.channel_code)
        if channel is None:
            violations.add("channel_code", f"no channel {command.channel_code}")
        else:
            if not uow.shipments.rate_sheet_exists(channel.code, command.rate_sheet_version):
                violations.add(
                    "rate_sheet_version",
                    f"channel {channel.code} has no rate-sheet version {command.rate_sheet_version}",
                )
            if channel.zone_for(command.country, normalise_postal_code(command.postal_code)) is None:
                where = f"{command.country} {command.postal_code}".strip()
                violations.add("destination", f"channel {channel.code} does not deliver to {where}")
            heaviest = max(p.weight_kg for p in command.parcels)
            limit = channel.restrictions.max_weight_kg
            if limit is not None and heaviest > limit:
                violations.add("parcels", f"a parcel of {heaviest} kg is over the channel's {limit} kg limit")
        violations.raise_if_any()
        assert channel is not None
        booked_at = now()
        code = codes.generate("YD", at=booked_at)
        shipment = Shipment(
            code,
            command.merchant_code,
            channel.code,
            command.rate_sheet_version,
            waybill_number(channel.kind, serial()),
            label_reference(code),
            command.country,
            command.postal_code,
            command.parcels,
            booked_at,
            BOOKED,
        )
        uow.shipments.add(shipment)  # a waybill number already taken is a ConflictingWrite: the runner retries
        log.info("shipment_booked", code=code, channel=channel.code, merchant=command.merchant_code)
        return respond(shipment)

    request = Request(f"{SCOPE}:{command.merchant_code}", command.request_id, command.fingerprint)
    return run_idempotent(uow_factory, request, response_type, work)


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    UNMAPPED = "unmapped"
    UNKNOWN_WAYBILL = "unknown_waybill"


@dataclass(frozen=True)
class EventOutcome:
    outcome: Outcome
    detail: str
    status: Status | None  # the shipment's status after the batch; None for an unknown waybill
    status_changed: bool


@dataclass(frozen=True)
class CarrierEvent:
    """An event as pushed, before its code is looked up."""

    carrier: str
    waybill: str
    raw_code: str
    occurred_at: datetime
    location: str
    description: str


def push_tracking_events(
    uow_factory: UowFactory,
    tables: Mapping[str, CarrierTable],
    pushed: list[CarrierEvent],
    now: Callable[[], datetime] = utcnow,
) -> list[EventOutcome]:
    """Store each new event, move each shipment forward at most to its best status, emit each change.

    An event is taken only for a shipment booked on a channel its carrier tracks (the channel's carrier_id
    or one of its tracking_carriers): a waybill of any other shipment is answered as unknown, so knowing a
    waybill number lets no carrier move, or learn of, another carrier's parcel.

    One transaction for the batch: the new events stored in one statement that drops those already stored
    (the unique key decides: a copy another batch is storing at the same moment waits for it, then counts
    as a duplicate), only the shipments an event can move locked and read again, the status changes
    written to the outbox in one statement and the statuses updated in one; a crash anywhere before the
    commit stores none of it.
    """
    events = [
        TrackingEvent(
            e.carrier,
            e.waybill,
            e.raw_code,
            e.occurred_at,
            e.location,
            e.description,
            tables[e.carrier].lookup(e.raw_code),
        )
        for e in pushed
    ]
    for attempt in range(WRITE_ATTEMPTS):
        try:
            return _apply(uow_factory, events, now)
        except ConflictingWrite:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _booked(shipments: Mapping[str, TrackedShipment], event: TrackingEvent) -> TrackedShipment | None:
    """The shipment the event is about, if its channel is tracked by the event's carrier."""
    shipment = shipments.get(event.waybill)
    return shipment if shipment is not None and shipment.takes_events_of(event.carrier) else None


def _apply(uow_factory: UowFactory, events: list[TrackingEvent], now: Callable[[], datetime]) -> list[EventOutcome]:
    with uow_factory() as uow:
        uow.lock_shipments_for_write()
        shipments = uow.shipments.tracked_by_waybills(e.waybill for e in events)
        first: dict[tuple, TrackingEvent] = {}
        for e in events:
            if _booked(shipments, e) is not None:
                first.setdefault(e.key, e)
        new_keys = uow.shipments.add_new_events({w: s.code for w, s in shipments.items()}, list(first.values()), now())
        # Statuses only rise, so a shipment none of whose new events outranks its status as read cannot
        # move, whatever another batch commits meanwhile: only the others are locked (and read again).
        movers = {
            shipments[e.waybill].code
            for key, e in first.items()
            if key in new_keys
            and e.mapped is not None
            and RANK[e.mapped.status] > RANK[shipments[e.waybill].status.status]
        }
        status = {s.code: s.status for s in shipments.values()} | uow.shipments.lock_statuses(movers)
        stored = dict(status)
        seen: set[tuple] = set()
        new: list[TrackingEvent] = []
        changes: list[Message] = []
        finishes: list[Finish] = []
        kinds: list[tuple[Outcome, str, bool]] = []
        for e in events:
            shipment = _booked(shipments, e)
            if shipment is None:
                # The same words whether no shipment has the waybill or another carrier's has: not a leak.
                detail = f"no shipment booked with {e.carrier} has waybill {e.waybill}"
                kinds.append((Outcome.UNKNOWN_WAYBILL, detail, False))
                continue
            if e.key in seen or e.key not in new_keys:
                kinds.append((Outcome.DUPLICATE, "received before: nothing changed", False))
                continue
            seen.add(e.key)
            new.append(e)
            if e.mapped is None:
                kinds.append((Outcome.UNMAPPED, f"{e.carrier} code {e.raw_code} is not mapped: kept raw", False))
                continue
            moved = advance(status[shipment.code], e)
            if moved is not None:
                changes.append(_status_changed(shipment, status[shipment.code], moved, e))
                finish = _finish(shipment, status[shipment.code], moved)
                if finish is not None:
                    finishes.append(finish)
                status[shipment.code] = moved
            kinds.append(
                (Outcome.APPLIED, f"{e.raw_code}: {e.mapped.status.value}/{e.mapped.sub_status}", moved is not None)
            )
        uow.lanes.record(finishes)  # the lane history moves with the statuses, in this transaction
        uow.emit_many(changes)  # one outbox statement for the batch, in the order the changes happened
        uow.shipments.set_statuses({code: status[code] for code in movers if status[code] != stored[code]})
        uow.commit()
    unmapped = sorted({f"{e.carrier}:{e.raw_code}" for e in new if e.mapped is None})
    if unmapped:
        log.warning("tracking_codes_unmapped", codes=unmapped)
    unknown = sorted({e.waybill for e in events if e.waybill not in shipments})
    if unknown:
        log.warning("tracking_waybills_unknown", waybills=unknown)
    foreign = sorted(
        {
            (e.carrier, e.waybill, shipments[e.waybill].carrier_id)
            for e in events
            if e.waybill in shipments and _booked(shipments, e) is None
        }
    )
    if foreign:
        log.warning(
            "tracking_carrier_mismatch",
            events=[{"carrier": c, "waybill": w, "booked_carrier": b} for c, w, b in foreign],
        )
    outcomes = []
    for e, (kind, detail, changed) in zip(events, kinds, strict=True):
        shipment = _booked(shipments, e)
        outcomes.append(EventOutcome(kind, detail, status.get(shipment.code) if shipment else None, changed))
    return outcomes


def _finish(shipment: TrackedShipment, before: Status, after: Status) -> Finish | None:
    """What the lane learns when the shipment first reaches a final status; None for any other move."""
    if RANK[before.status] >= FINAL_RANK or RANK[after.status] < FINAL_RANK or shipment.booked_at is None:
        return None
    delivered = after.status is MainStatus.DELIVERED and after.since is not None
    days = max(0, (after.since.date() - shipment.booked_at.date()).days) if delivered and after.since else None
    return Finish(
        shipment.channel_code,
        shipment.destination_country,
        days,
        after.status is MainStatus.EXPIRED,
        before.status is MainStatus.EXCEPTION,
    )


def _status_changed(
    shipment: TrackedShipment, before: Status, after: Status, event: TrackingEvent
) -> events_pb2.ShipmentStatusChanged:
    message = events_pb2.ShipmentStatusChanged(
        shipment_code=shipment.code,
        merchant_code=shipment.merchant_code,
        waybill_number=shipment.waybill_number,
        previous_status=before.status.value,
        status=after.status.value,
        sub_status=after.sub_status,
        rec24_code=after.rec24,
        raw_code=event.raw_code,
    )
    message.event_time.FromDatetime(event.occurred_at)
    return message


@dataclass(frozen=True)
class Tracking:
    shipment: Shipment
    events: list[TrackingEvent]


def get_tracking(uow_factory: UowFactory, code: str, tables: Mapping[str, CarrierTable]) -> Tracking:
    with uow_factory() as uow:
        shipment = uow.shipments.get(code)
        if shipment is None:
            raise NotFound(f"no shipment {code}", field="code")
        events = uow.shipments.timeline(code)
    return Tracking(shipment, [_described(e, tables) for e in events])


def _described(event: TrackingEvent, tables: Mapping[str, CarrierTable]) -> TrackingEvent:
    """The carrier's text, or the table's published text when the carrier sent none."""
    if event.description or event.carrier not in tables:
        return event
    table = tables[event.carrier]
    code = event.raw_code.strip().upper()
    text = table.mapped[code].description if code in table.mapped else table.unmapped.get(code, "")
    return replace(event, description=text)
