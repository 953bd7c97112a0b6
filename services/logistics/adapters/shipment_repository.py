"""Shipments and their tracking events in the database."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Row

from services.logistics.adapters.catalogue_tables import channels, rate_sheets
from services.logistics.adapters.shipment_tables import shipments, tracking_events
from services.logistics.domain.pricing import Parcel
from services.logistics.domain.shipments import Shipment
from services.logistics.domain.tracking import MainStatus, MappedStatus, Status, TrackedShipment, TrackingEvent
from services.shared.uow import insert_for


def _parcels(text: str) -> tuple[Parcel, ...]:
    return tuple(
        Parcel(*(Decimal(p[k]) for k in ("weight_kg", "length_cm", "width_cm", "height_cm"))) for p in json.loads(text)
    )


def _shipment(row: Row) -> Shipment:
    status = Status(MainStatus(row.status), row.sub_status, row.rec24_code, row.status_since)
    return Shipment(
        row.code,
        row.merchant_code,
        row.channel_code,
        row.rate_sheet_version,
        row.waybill_number,
        row.label_reference,
        row.destination_country,
        row.destination_postal_code,
        _parcels(row.parcels),
        row.booked_at,
        status,
    )


KEY_COLUMNS = ["carrier", "waybill_number", "raw_code", "occurred_at"]


EVENT_COLUMNS = [c.name for c in tracking_events.c if c.name != "id"]
_KEY = [tracking_events.c[name] for name in KEY_COLUMNS]
_RECORDS = (
    sa.func.json_populate_recordset(
        sa.literal_column("NULL::tracking_events"), sa.cast(sa.bindparam("rows", type_=sa.Text), postgresql.JSON)
    )
    .table_valued(*EVENT_COLUMNS)
    .alias("r")
)
_INSERT_RECORDS = (
    postgresql.insert(tracking_events)
    .from_select(EVENT_COLUMNS, sa.select(*(_RECORDS.c[name] for name in EVENT_COLUMNS)))
    .on_conflict_do_nothing(index_elements=KEY_COLUMNS)
    .returning(*_KEY)
)
_TRACKED_COLUMNS = (
    shipments.c.code,
    shipments.c.merchant_code,
    shipments.c.waybill_number,
    shipments.c.status,
    shipments.c.sub_status,
    shipments.c.rec24_code,
    shipments.c.status_since,
    shipments.c.channel_code,
    shipments.c.destination_country,
    shipments.c.booked_at,
    channels.c.carrier_id,
    channels.c.tracking_carriers,
)
# The carriers of the channel each shipment was booked on come with it (an event of another carrier is refused).
_TRACKED_FROM = shipments.outerjoin(channels, channels.c.code == shipments.c.channel_code)
_TRACKED_BY_WAYBILLS = (
    sa.select(*_TRACKED_COLUMNS)
    .select_from(_TRACKED_FROM)
    .where(shipments.c.waybill_number == sa.any_(sa.bindparam("waybills", type_=postgresql.ARRAY(sa.String))))
)


def _insert_rows(connection: Connection) -> sa.Insert:
    """Executed with a list of rows: SQLAlchemy's "insertmanyvalues" sends them as multi-row statements."""
    return insert_for(connection)(tracking_events).on_conflict_do_nothing(index_elements=KEY_COLUMNS).returning(*_KEY)


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {value!r}")


def _event_row(shipment_codes: dict[str, str], e: TrackingEvent, received_at: datetime) -> dict[str, object]:
    return {
        "shipment_code": shipment_codes[e.waybill],
        "carrier": e.carrier,
        "waybill_number": e.waybill,
        "raw_code": e.raw_code,
        "occurred_at": e.occurred_at,
        "location": e.location,
        "description": e.description,
        "status": e.mapped.status.value if e.mapped else None,
        "sub_status": e.mapped.sub_status if e.mapped else "",
        "rec24_code": e.mapped.rec24 if e.mapped else "",
        "received_at": received_at,
    }


class ShipmentRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def rate_sheet_exists(self, channel_code: str, version: int) -> bool:
        query = sa.select(rate_sheets.c.id).where(
            rate_sheets.c.channel_code == channel_code, rate_sheets.c.version == version
        )
        return self.connection.execute(query).first() is not None

    def add(self, shipment: Shipment) -> None:
        parcels = [
            {
                "weight_kg": str(p.weight_kg),
                "length_cm": str(p.length_cm),
                "width_cm": str(p.width_cm),
                "height_cm": str(p.height_cm),
            }
            for p in shipment.parcels
        ]
        self.connection.execute(
            shipments.insert().values(
                code=shipment.code,
                merchant_code=shipment.merchant_code,
                channel_code=shipment.channel_code,
                rate_sheet_version=shipment.rate_sheet_version,
                waybill_number=shipment.waybill_number,
                label_reference=shipment.label_reference,
                destination_country=shipment.destination_country,
                destination_postal_code=shipment.destination_postal_code,
                parcels=json.dumps(parcels),
                booked_at=shipment.booked_at,
                status=shipment.status.status.value,
                sub_status=shipment.status.sub_status,
                rec24_code=shipment.status.rec24,
                status_since=shipment.status.since,
            )
        )

    def get(self, code: str) -> Shipment | None:
        row = self.connection.execute(sa.select(shipments).where(shipments.c.code == code)).first()
        return None if row is None else _shipment(row)

    def tracked_by_waybills(self, waybills: Iterable[str]) -> dict[str, TrackedShipment]:
        """What the tracking ingest needs of the shipments with these waybill numbers (not locked: see
        `lock_statuses`)."""
        wanted = sorted(set(waybills))
        if self.connection.dialect.name == "postgresql":
            # `= ANY(array)`: one SQL text for any number of waybills (IN would expand to one per count).
            result = self.connection.execute(_TRACKED_BY_WAYBILLS, {"waybills": wanted})
        else:
            result = self.connection.execute(
                sa.select(*_TRACKED_COLUMNS).select_from(_TRACKED_FROM).where(shipments.c.waybill_number.in_(wanted))
            )
        return {
            row.waybill_number: TrackedShipment(
                row.code,
                row.merchant_code,
                row.waybill_number,
                Status(MainStatus(row.status), row.sub_status, row.rec24_code, row.status_since),
                row.channel_code,
                row.destination_country,
                row.booked_at,
                row.carrier_id or "",
                frozenset((row.tracking_carriers or "").split()),
            )
            for row in result
        }

    def lock_statuses(self, codes: Iterable[str]) -> dict[str, Status]:
        """These shipments' current statuses, their rows locked in code order on PostgreSQL.

        Read again under the lock because another batch may have moved the shipment since `tracked_by_waybills`.
        """
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        columns = (shipments.c.code, shipments.c.status, shipments.c.sub_status, shipments.c.rec24_code)
        query = sa.select(*columns, shipments.c.status_since).where(shipments.c.code.in_(wanted))
        if self.connection.dialect.name == "postgresql":
            # FOR NO KEY UPDATE: it does not wait on the key-share locks that storing an event for the
            # shipment takes (the foreign key), which FOR UPDATE would, in a cycle with another batch.
            query = query.order_by(shipments.c.code).with_for_update(key_share=True)
        return {
            row.code: Status(MainStatus(row.status), row.sub_status, row.rec24_code, row.status_since)
            for row in self.connection.execute(query)
        }

    def set_statuses(self, statuses: dict[str, Status]) -> None:
        """Each shipment's new status, in one statement for the batch."""
        if not statuses:
            return
        update = (
            shipments.update()
            .where(shipments.c.code == sa.bindparam("shipment_code"))
            .values(
                status=sa.bindparam("new_status"),
                sub_status=sa.bindparam("new_sub_status"),
                rec24_code=sa.bindparam("new_rec24"),
                status_since=sa.bindparam("new_since"),
            )
        )
        self.connection.execute(
            update,
            [
                {
                    "shipment_code": code,
                    "new_status": status.status.value,
                    "new_sub_status": status.sub_status,
                    "new_rec24": status.rec24,
                    "new_since": status.since,
                }
                for code, status in sorted(statuses.items())
            ],
        )

    def add_new_events(
        self, shipment_codes: dict[str, str], events: list[TrackingEvent], received_at: datetime
    ) -> set[tuple[str, str, str, datetime]]:
        """Store the events not stored before; the keys of those stored now (the others are duplicates).

        INSERT ... ON CONFLICT DO NOTHING RETURNING: the unique key decides what is new, in the
        same statement that stores it, so a copy pushed at the same moment by another transaction waits for
        it and then counts as a duplicate here, instead of failing the batch.
        """
        if not events:
            return set()
        # In key order: two batches holding the same events wait on each other's keys in one order, never
        # in a cycle (a deadlock).
        rows = [_event_row(shipment_codes, e, received_at) for e in sorted(events, key=lambda e: e.key)]
        if self.connection.dialect.name == "postgresql":
            # One statement of constant text and one JSON parameter, whatever the batch size: compiled and
            # parsed once, and the rows serialised by the json module's C encoder (a multi-row VALUES list
            # is new SQL text for every batch size; text arrays are quoted element by element in Python).
            records = json.dumps(rows, default=_iso)
            result = self.connection.execute(_INSERT_RECORDS, {"rows": records})
        else:
            result = self.connection.execute(_insert_rows(self.connection), rows)
        return {(r.carrier, r.waybill_number, r.raw_code, r.occurred_at) for r in result}

    def timeline(self, shipment_code: str) -> list[TrackingEvent]:
        """The shipment's events, oldest first (ties in the order received)."""
        query = (
            sa.select(tracking_events)
            .where(tracking_events.c.shipment_code == shipment_code)
            .order_by(tracking_events.c.occurred_at, tracking_events.c.id)
        )
        return [
            TrackingEvent(
                r.carrier,
                r.waybill_number,
                r.raw_code,
                r.occurred_at,
                r.location,
                r.description,
                None if r.status is None else MappedStatus(MainStatus(r.status), r.sub_status, r.rec24_code, ""),
            )
            for r in self.connection.execute(query)
        ]
