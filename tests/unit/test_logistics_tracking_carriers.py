"""The tracking ingest takes an event only for a shipment booked on a channel the event's carrier tracks:
the channel's own carrier, or one it names as a further tracking carrier (line haul, last mile).

Tracking events find their shipment by waybill number; a carrier knowing another carrier's waybill must
neither move that parcel nor learn that it exists. Run on an in-memory unit of work (a fake of the one the
ingest uses), with the real carrier code tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st

from services.logistics.adapters.carrier_codes import load_tables
from services.logistics.domain.lane_history import Finish
from services.logistics.domain.tracking import BOOKED, MainStatus, Status, TrackedShipment, TrackingEvent
from services.logistics.service_layer.shipments import CarrierEvent, Outcome, UowFactory, push_tracking_events
from tests.logistics_support import sample_channels

TABLES = load_tables()
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
FEDEX_PARCEL = TrackedShipment("YDFEDEX", "MCA", "EX100000001CN", BOOKED, "SAMPLE-EXP-PRIORITY", carrier_id="fedex")
HERMES_PARCEL = TrackedShipment("YDHERMES", "MCB", "EE200000002CN", BOOKED, "SAMPLE-POST-EMS", carrier_id="hermes")
LINE_EU = sample_channels()["SAMPLE-LINE-EU"]  # the consolidator's line, handed to a last mile in Europe
LINE_EU_PARCEL = TrackedShipment(
    "YDLINEEU",
    "MCC",
    "LE300000003CN",
    BOOKED,
    LINE_EU.code,
    carrier_id=LINE_EU.carrier_id,
    tracking_carriers=LINE_EU.tracking_carriers,
)
PARCELS = (FEDEX_PARCEL, HERMES_PARCEL, LINE_EU_PARCEL)
DELIVERED = {"fedex": "DL", "hermes": "3500", "dhl_express": "OK"}


@dataclass
class FakeShipments:
    tracked: dict[str, TrackedShipment]
    stored: dict[tuple[str, str, str, datetime], str] = field(default_factory=dict)  # event key -> shipment

    def tracked_by_waybills(self, waybills: Iterable[str]) -> dict[str, TrackedShipment]:
        return {w: self.tracked[w] for w in set(waybills) if w in self.tracked}

    def add_new_events(
        self, shipment_codes: dict[str, str], events: list[TrackingEvent], received_at: datetime
    ) -> set[tuple[str, str, str, datetime]]:
        new = {e.key for e in events if e.key not in self.stored}
        for e in events:
            self.stored.setdefault(e.key, shipment_codes[e.waybill])
        return new

    def lock_statuses(self, codes: Iterable[str]) -> dict[str, Status]:
        wanted = set(codes)
        return {s.code: s.status for s in self.tracked.values() if s.code in wanted}

    def set_statuses(self, statuses: dict[str, Status]) -> None:
        for waybill, shipment in list(self.tracked.items()):
            if shipment.code in statuses:
                self.tracked[waybill] = TrackedShipment(
                    shipment.code,
                    shipment.merchant_code,
                    shipment.waybill_number,
                    statuses[shipment.code],
                    shipment.channel_code,
                    carrier_id=shipment.carrier_id,
                    tracking_carriers=shipment.tracking_carriers,
                )


@dataclass
class FakeLanes:
    finishes: list[Finish] = field(default_factory=list)

    def record(self, finishes: list[Finish]) -> None:
        self.finishes.extend(finishes)


class FakeUow:
    def __init__(self, shipments: FakeShipments) -> None:
        self.shipments = shipments
        self.lanes = FakeLanes()
        self.emitted: list[Any] = []

    def __enter__(self) -> FakeUow:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def lock_shipments_for_write(self) -> None:
        return None

    def emit_many(self, messages: list[Any]) -> None:
        self.emitted.extend(messages)

    def commit(self) -> None:
        return None


def ingest(*tracked: TrackedShipment) -> tuple[FakeUow, UowFactory]:
    uow = FakeUow(FakeShipments({s.waybill_number: s for s in tracked}))
    return uow, cast(UowFactory, lambda: uow)


def pushed(carrier: str, waybill: str, code: str, minutes: int = 0) -> CarrierEvent:
    return CarrierEvent(carrier, waybill, code, T0 + timedelta(minutes=minutes), "", "")


def test_the_booked_carrier_moves_its_parcel() -> None:
    uow, factory = ingest(FEDEX_PARCEL, HERMES_PARCEL)
    [fedex, hermes] = push_tracking_events(
        factory, TABLES, [pushed("fedex", FEDEX_PARCEL.waybill_number, "DL"), pushed("hermes", "EE200000002CN", "3500")]
    )
    assert (fedex.outcome, fedex.status_changed) == (Outcome.APPLIED, True)
    assert (hermes.outcome, hermes.status_changed) == (Outcome.APPLIED, True)
    assert uow.shipments.tracked[FEDEX_PARCEL.waybill_number].status.status is MainStatus.DELIVERED
    assert len(uow.emitted) == 2


def test_another_carrier_knowing_the_waybill_is_answered_as_if_there_were_no_such_parcel() -> None:
    uow, factory = ingest(FEDEX_PARCEL)
    [foreign, missing] = push_tracking_events(
        factory,
        TABLES,
        [pushed("hermes", FEDEX_PARCEL.waybill_number, "3500"), pushed("hermes", "EX999999999CN", "3500")],
    )
    assert foreign.outcome is Outcome.UNKNOWN_WAYBILL and foreign.status is None and not foreign.status_changed
    assert foreign.detail == f"no shipment booked with hermes has waybill {FEDEX_PARCEL.waybill_number}"
    # Word for word what a waybill nobody booked gets: the answer does not say the parcel exists.
    assert missing.detail.replace("EX999999999CN", FEDEX_PARCEL.waybill_number) == foreign.detail
    assert uow.shipments.stored == {} and uow.emitted == [] and uow.lanes.finishes == []
    assert uow.shipments.tracked[FEDEX_PARCEL.waybill_number].status == BOOKED


def test_in_one_batch_only_the_booked_carriers_events_count() -> None:
    uow, factory = ingest(FEDEX_PARCEL)
    waybill = FEDEX_PARCEL.waybill_number
    outcomes = push_tracking_events(
        factory, TABLES, [pushed("dhl_express", waybill, "OK", 5), pushed("fedex", waybill, "PU", 1)]
    )
    assert [o.outcome for o in outcomes] == [Outcome.UNKNOWN_WAYBILL, Outcome.APPLIED]
    assert set(uow.shipments.stored) == {("fedex", waybill, "PU", T0 + timedelta(minutes=1))}
    assert uow.shipments.tracked[waybill].status.status is MainStatus.IN_TRANSIT


def test_the_last_mile_carrier_a_channel_names_moves_its_parcels_and_others_stay_out() -> None:
    assert (LINE_EU.carrier_id, LINE_EU.tracking_carriers) == ("dhl_express", frozenset({"hermes"}))
    uow, factory = ingest(LINE_EU_PARCEL, FEDEX_PARCEL)
    waybill = LINE_EU_PARCEL.waybill_number
    own, last_mile, other, stranger = push_tracking_events(
        factory,
        TABLES,
        [
            pushed("dhl_express", waybill, "PU", 1),
            pushed("hermes", waybill, "3500", 9),
            pushed("fedex", waybill, "DL", 10),
            pushed("hermes", FEDEX_PARCEL.waybill_number, "3500", 11),
        ],
    )
    assert (own.outcome, last_mile.outcome) == (Outcome.APPLIED, Outcome.APPLIED)
    assert uow.shipments.tracked[waybill].status.status is MainStatus.DELIVERED
    # A carrier the channel does not name gets the words a waybill nobody booked gets, and stores nothing;
    # naming hermes on one channel opens no other channel's parcels to it.
    assert (
        other.outcome is Outcome.UNKNOWN_WAYBILL
        and other.detail == f"no shipment booked with fedex has waybill {waybill}"
    )
    assert stranger.outcome is Outcome.UNKNOWN_WAYBILL
    assert {(carrier, w) for carrier, w, _, _ in uow.shipments.stored} == {
        ("dhl_express", waybill),
        ("hermes", waybill),
    }
    assert uow.shipments.tracked[FEDEX_PARCEL.waybill_number].status == BOOKED


def test_a_shipment_whose_channel_names_no_carrier_takes_no_event() -> None:
    orphan = TrackedShipment("YDORPHAN", "MCA", "EX300000003CN", BOOKED, "GONE-CHANNEL")
    uow, factory = ingest(orphan)
    [outcome] = push_tracking_events(factory, TABLES, [pushed("fedex", orphan.waybill_number, "DL")])
    assert outcome.outcome is Outcome.UNKNOWN_WAYBILL and uow.shipments.stored == {}


@given(st.lists(st.tuples(st.sampled_from(sorted(DELIVERED)), st.sampled_from(PARCELS)), min_size=1, max_size=12))
def test_no_batch_lets_a_carrier_store_an_event_on_a_parcel_its_channel_does_not_name(
    batch: list[tuple[str, TrackedShipment]],
) -> None:
    uow, factory = ingest(*PARCELS)
    events = [
        pushed(carrier, parcel.waybill_number, DELIVERED[carrier], minutes)
        for minutes, (carrier, parcel) in enumerate(batch)
    ]
    outcomes = push_tracking_events(factory, TABLES, events)
    carriers = {s.waybill_number: {s.carrier_id, *s.tracking_carriers} for s in PARCELS}
    for event, outcome in zip(events, outcomes, strict=True):
        assert (outcome.outcome is Outcome.UNKNOWN_WAYBILL) == (event.carrier not in carriers[event.waybill])
    for (carrier, waybill, _, _), _code in uow.shipments.stored.items():
        assert carrier in carriers[waybill]
    for shipment in uow.shipments.tracked.values():
        moved = any(e.waybill == shipment.waybill_number and e.carrier in carriers[e.waybill] for e in events)
        assert (shipment.status.status is MainStatus.DELIVERED) == moved
