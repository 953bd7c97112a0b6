"""The tracking ingest as it was before batching, kept as the benchmark's baseline (never used by the service).

Per batch: every touched shipment row locked FOR UPDATE, a SELECT of the keys already stored, a plain
INSERT of the new events, and one outbox INSERT per status change (`uow.emit`). Same answers, same
events; `bench_tracking_ingest.py --compare` swaps it in for `shipments._apply` to time both in one run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import sqlalchemy as sa

from services.logistics.adapters.shipment_repository import _event_row, _shipment
from services.logistics.adapters.shipment_tables import shipments as shipments_table
from services.logistics.adapters.shipment_tables import tracking_events
from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.domain.shipments import Shipment
from services.logistics.domain.tracking import TrackedShipment, TrackingEvent, advance
from services.logistics.service_layer.shipments import EventOutcome, Outcome, UowFactory, _status_changed


def _locked_shipments(uow: LogisticsUnitOfWork, waybills: Iterable[str]) -> dict[str, Shipment]:
    query = sa.select(shipments_table).where(shipments_table.c.waybill_number.in_(sorted(set(waybills))))
    if uow.dialect == "postgresql":
        query = query.order_by(shipments_table.c.code).with_for_update()
    return {row.waybill_number: _shipment(row) for row in uow.connection.execute(query)}


def _known_keys(uow: LogisticsUnitOfWork, events: list[TrackingEvent]) -> set[tuple]:
    keys = {e.key for e in events}
    if not keys:
        return set()
    c = tracking_events.c
    query = sa.select(c.carrier, c.waybill_number, c.raw_code, c.occurred_at).where(
        c.waybill_number.in_(sorted({k[1] for k in keys})),
        c.raw_code.in_(sorted({k[2] for k in keys})),
        c.occurred_at.between(min(k[3] for k in keys), max(k[3] for k in keys)),
    )
    return keys & {tuple(r) for r in uow.connection.execute(query)}


def apply_per_event(
    uow_factory: UowFactory, events: list[TrackingEvent], now: Callable[[], datetime]
) -> list[EventOutcome]:
    with uow_factory() as uow:
        uow.lock_shipments_for_write()
        shipments = _locked_shipments(uow, (e.waybill for e in events))
        seen = _known_keys(uow, [e for e in events if e.waybill in shipments])
        status = {s.code: s.status for s in shipments.values()}
        new: list[TrackingEvent] = []
        kinds: list[tuple[Outcome, str, bool]] = []
        for e in events:
            shipment = shipments.get(e.waybill)
            if shipment is None:
                kinds.append((Outcome.UNKNOWN_WAYBILL, f"no shipment has waybill {e.waybill}", False))
                continue
            if e.key in seen:
                kinds.append((Outcome.DUPLICATE, "received before: nothing changed", False))
                continue
            seen.add(e.key)
            new.append(e)
            if e.mapped is None:
                kinds.append((Outcome.UNMAPPED, f"{e.carrier} code {e.raw_code} is not mapped: kept raw", False))
                continue
            moved = advance(status[shipment.code], e)
            if moved is not None:
                tracked = TrackedShipment(
                    shipment.code, shipment.merchant_code, shipment.waybill_number, shipment.status
                )
                uow.emit(_status_changed(tracked, status[shipment.code], moved, e))
                status[shipment.code] = moved
            kinds.append((Outcome.APPLIED, f"{e.raw_code}", moved is not None))
        codes = {w: s.code for w, s in shipments.items()}
        received = now()
        if new:
            uow.connection.execute(tracking_events.insert(), [_event_row(codes, e, received) for e in new])
        uow.shipments.set_statuses({s.code: status[s.code] for s in shipments.values() if status[s.code] != s.status})
        uow.commit()
    return [
        EventOutcome(kind, detail, status.get(shipments[e.waybill].code) if e.waybill in shipments else None, changed)
        for e, (kind, detail, changed) in zip(events, kinds, strict=True)
    ]
