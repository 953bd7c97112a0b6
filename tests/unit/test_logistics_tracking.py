"""Carrier code mapping and the forward-only tracking status."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.logistics.adapters.carrier_codes import load_tables
from services.logistics.domain.channels import ChannelKind
from services.logistics.domain.shipments import s10_check_digit, waybill_number
from services.logistics.domain.tracking import (
    BOOKED,
    RANK,
    MainStatus,
    MappingProblem,
    Status,
    TrackingEvent,
    advance,
    final_status,
    table_from_mapping,
)

REC24 = Path(__file__).resolve().parents[2] / "data" / "tracking" / "unece-rec24-status-codes.csv"
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
TABLES = load_tables()


def event(code: str, minutes: int, carrier: str = "fedex") -> TrackingEvent:
    return TrackingEvent(carrier, "WB1", code, T0 + timedelta(minutes=minutes), "", "", TABLES[carrier].lookup(code))


def test_three_real_carriers_are_mapped_with_their_coverage() -> None:
    coverage = {carrier: table.coverage for carrier, table in TABLES.items()}
    assert coverage == {"dhl_express": (28, 28), "fedex": (39, 53), "hermes": (100, 128)}
    for table in TABLES.values():
        assert "karrio" in table.source and "LGPL-3.0" in table.licence


def test_every_mapped_rec24_code_is_one_the_service_serves() -> None:
    with REC24.open(encoding="utf-8") as handle:
        served = {row["Code"] for row in csv.DictReader(handle)}
    for table in TABLES.values():
        for code, mapped in table.mapped.items():
            assert mapped.rec24 in served, (table.carrier, code)


def test_a_known_code_maps_to_both_levels_and_an_unmapped_one_is_not_guessed() -> None:
    hermes = TABLES["hermes"]
    delivered = hermes.lookup("3511")
    assert delivered is not None
    assert (delivered.status, delivered.sub_status, delivered.rec24) == (
        MainStatus.DELIVERED,
        "delivered_to_letterbox",
        "22",
    )
    assert hermes.lookup("9324") is None  # published (a preferred delivery date), deliberately unmapped
    assert hermes.lookup("1234") is None  # not published at all
    assert TABLES["fedex"].lookup(" ow ") == TABLES["fedex"].lookup("OW")


def test_a_table_naming_a_bad_status_or_rec24_code_is_refused() -> None:
    with pytest.raises(MappingProblem, match="acme code X1: status"):
        table_from_mapping({"carrier": "acme", "codes": {"X1": {"status": "LOST"}}})
    with pytest.raises(MappingProblem, match="acme code X1: 9999"):
        table_from_mapping({"carrier": "acme", "codes": {"X1": {"status": "DELIVERED", "rec24": "9999"}}}, {"21"})
    with pytest.raises(MappingProblem, match="both mapped and unmapped: X1"):
        table_from_mapping({"carrier": "acme", "codes": {"X1": {"status": "DELIVERED"}}, "unmapped": {"X1": "?"}})


def test_a_late_in_transit_event_does_not_undo_a_delivery() -> None:
    delivered = final_status([event("PU", 0), event("DL", 60)])
    assert delivered.status is MainStatus.DELIVERED
    assert advance(delivered, event("IT", 30)) is None


STREAM_CODES = ["OC", "PU", "DP", "CP", "CC", "OD", "DE", "HP", "DL", "RS", "SP", "CA", "ZZ"]


@given(
    st.lists(st.sampled_from(STREAM_CODES), min_size=1, max_size=12).flatmap(
        lambda codes: st.tuples(
            st.just([event(code, minute) for minute, code in enumerate(codes)]),
            st.permutations(list(range(len(codes)))),
            st.lists(st.integers(0, len(codes) - 1), max_size=5),
        )
    )
)
def test_any_order_or_duplication_of_a_stream_ends_in_the_same_status_and_never_moves_back(
    case: tuple[list[TrackingEvent], list[int], list[int]],
) -> None:
    events, order, repeats = case
    received = [events[i] for i in order] + [events[i] for i in repeats]
    status: Status = BOOKED
    for item in received:
        moved = advance(status, item)
        if moved is not None:
            assert RANK[moved.status] > RANK[status.status]
            status = moved
    assert status.status is final_status(events).status
    mapped = [e.mapped.status for e in events if e.mapped is not None]
    assert status.status is max([BOOKED.status, *mapped], key=RANK.__getitem__)


def test_waybill_numbers_carry_the_s10_check_digit() -> None:
    assert s10_check_digit("47312482") == "9"  # the UPU S10 example AA473124829GB
    assert waybill_number(ChannelKind.POSTAL, 47312482) == "RX473124829CN"
    assert waybill_number(ChannelKind.EXPRESS, 7) == f"EX00000007{s10_check_digit('00000007')}CN"
    with pytest.raises(ValueError, match="eight digits"):
        s10_check_digit("1234567")
