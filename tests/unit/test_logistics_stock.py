"""Stock is conserved: any drawn sequence of pushes, reservations (split over warehouses or not), releases,
confirmations, cancelled outbound orders, expiries and receipts keeps on hand = available + reserved,
nothing negative, and agrees with a model of the same moves (a refused move changes nothing). Runs the
service layer against SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xborder.logistics.v1 import warehouses_service_pb2 as pb

from services.logistics import bootstrap
from services.logistics.domain.stock import (
    Counts,
    InvalidState,
    Level,
    Line,
    StockRefused,
    pick_warehouse,
    split_warehouses,
)
from services.logistics.entrypoints.warehouses_api import outbound_to_proto, reservation_to_proto
from services.logistics.service_layer import stock
from services.shared import codes
from services.shared.context import ServiceContext
from services.shared.errors import FieldViolation, ValidationError
from services.shared.settings import Settings
from tests.fakes import RecordingBus

WAREHOUSES = ("SAMPLE-WH-US-LAX", "SAMPLE-WH-DE-HAM")
SKUS = ("A", "B", "C")
T0 = datetime(2026, 12, 6, tzinfo=UTC)
counter = itertools.count()


@pytest.fixture(scope="module")
def context(module_any_settings: Settings) -> Iterator[ServiceContext]:
    context = bootstrap.bootstrap(module_any_settings, RecordingBus())
    context.import_reference_data(only="iso3166_countries")
    context.import_reference_data(only="logistics_sample_warehouses")
    yield context
    context.close()


units = st.integers(min_value=0, max_value=6)
moves = st.one_of(
    st.tuples(st.just("snapshot"), st.sampled_from(WAREHOUSES), st.sampled_from(SKUS), units, units),
    st.tuples(
        st.just("delta"),
        st.sampled_from(WAREHOUSES),
        st.sampled_from(SKUS),
        st.integers(-6, 6),
        st.integers(-3, 3),
    ),
    st.tuples(
        st.just("reserve"),
        st.dictionaries(st.sampled_from(SKUS), st.integers(1, 4), min_size=1, max_size=3),
        st.integers(60, 600),
        st.booleans(),
    ),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("release"), st.integers(0, 20)),
    st.tuples(st.just("confirm"), st.integers(0, 20)),
    st.tuples(st.just("wait"), st.integers(0, 700)),
    st.tuples(st.just("receive"), st.sampled_from(WAREHOUSES), st.sampled_from(SKUS), st.integers(1, 3)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(moves, max_size=25))
def test_any_sequence_of_moves_conserves_stock(context: ServiceContext, drawn: list[tuple]) -> None:
    uow = context.uow
    merchant = codes.generate("MC")
    clock = [T0]
    on_hand: dict[tuple[str, str], int] = {}
    inbound: dict[tuple[str, str], int] = {}
    active: dict[str, tuple[str, dict[str, int], datetime]] = {}  # code -> warehouse, lines, expires_at
    made: list[str] = []
    shipped: dict[str, tuple[str, dict[str, int]]] = {}  # outbound order -> warehouse, lines (cancellable)

    def reserved(key: tuple[str, str]) -> int:
        return sum(lines.get(key[1], 0) for wh, lines, _ in active.values() if wh == key[0])

    def key_id() -> str:
        return f"k{next(counter)}"

    for move in drawn:
        kind = move[0]
        try:
            if kind in ("snapshot", "delta"):
                _, wh, sku, a, b = move
                push = stock.PushInventory(
                    key_id(), key_id(), wh, merchant, kind == "snapshot", (Counts(sku, a, b),), None
                )
                stock.push_inventory(uow, push, pb.PushInventoryResponse, lambda *_: pb.PushInventoryResponse())
                if kind == "snapshot":  # the merchant's other SKUs in that warehouse go to zero
                    for other in SKUS:
                        if (wh, other) in on_hand:
                            on_hand[(wh, other)], inbound[(wh, other)] = 0, 0
                    on_hand[(wh, sku)], inbound[(wh, sku)] = a, b
                else:
                    on_hand[(wh, sku)] = on_hand.get((wh, sku), 0) + a
                    inbound[(wh, sku)] = inbound.get((wh, sku), 0) + b
            elif kind == "reserve":
                _, lines, ttl, split = move
                reserve = stock.Reserve(
                    key_id(),
                    key_id(),
                    merchant,
                    "order",
                    tuple(Line(s, q) for s, q in lines.items()),
                    "",
                    "",
                    timedelta(seconds=ttl),
                    split,
                )
                answer = stock.reserve(
                    uow,
                    reserve,
                    pb.ReserveStockResponse,
                    lambda rs: pb.ReserveStockResponse(reservations=[reservation_to_proto(r) for r in rs]),
                    lambda: clock[0],
                )
                assert split or len(answer.reservations) == 1
                assert sorted(x.sku for r in answer.reservations for x in r.lines) == sorted(lines)
                assert len({r.warehouse_code for r in answer.reservations}) == len(answer.reservations)
                for r in answer.reservations:
                    held = {x.sku: x.quantity for x in r.lines}
                    active[r.code] = (r.warehouse_code, held, clock[0] + timedelta(seconds=ttl))
                    made.append(r.code)
            elif kind in ("release", "confirm"):
                if not made:
                    continue
                code = made[move[1] % len(made)]
                if kind == "release":
                    stock.release(
                        uow,
                        key_id(),
                        key_id(),
                        code,
                        pb.ReleaseReservationResponse,
                        lambda _: pb.ReleaseReservationResponse(),
                        lambda: clock[0],
                    )
                    del active[code]
                else:
                    confirmed = stock.confirm(
                        uow,
                        key_id(),
                        key_id(),
                        code,
                        pb.ConfirmReservationResponse,
                        lambda _, o: pb.ConfirmReservationResponse(outbound_order=outbound_to_proto(o)),
                        lambda: clock[0],
                    )
                    wh, lines, _ = active.pop(code)
                    for sku, q in lines.items():
                        on_hand[(wh, sku)] -= q
                    shipped[confirmed.outbound_order.code] = (wh, lines)
            elif kind == "cancel":
                if not shipped:
                    continue
                order = sorted(shipped)[move[1] % len(shipped)]
                stock.cancel_outbound(
                    uow,
                    key_id(),
                    key_id(),
                    order,
                    pb.CancelOutboundOrderResponse,
                    lambda _: pb.CancelOutboundOrderResponse(),
                    lambda: clock[0],
                )
                wh, lines = shipped.pop(order)
                for sku, q in lines.items():
                    on_hand[(wh, sku)] += q
            elif kind == "wait":
                clock[0] += timedelta(seconds=move[1])
                stock.expire_due(uow, lambda: clock[0])
                for code in [c for c, (_, _, until) in active.items() if until <= clock[0]]:
                    del active[code]
            elif kind == "receive":
                _, wh, sku, n = move
                with uow() as unit:
                    stock.receive_units(unit, wh, merchant, sku, n, key_id(), clock[0])
                    unit.commit()
                on_hand[(wh, sku)] = on_hand.get((wh, sku), 0) + n
        except (StockRefused, InvalidState, ValidationError):
            pass  # refused: the model is unchanged, and so must the store be

        with uow() as unit:
            levels = {(x.warehouse_code, x.sku): x for x in unit.stock.levels(merchant)}
        for key in set(levels) | set(on_hand):
            level = levels.get(key) or Level(key[0], merchant, key[1])
            assert level.conserved(), level
            assert level.on_hand == level.available + level.reserved
            assert (level.on_hand, level.reserved, level.in_transit_inbound) == (
                on_hand.get(key, 0),
                reserved(key),
                inbound.get(key, 0),
            ), (move, level)


def test_pick_warehouse_prefers_the_destination_then_the_code() -> None:
    levels = [
        Level("W-DE", "M", "A", 5),
        Level("W-US-2", "M", "A", 5),
        Level("W-US-1", "M", "A", 1),
    ]
    countries = {"W-DE": "DE", "W-US-1": "US", "W-US-2": "US"}
    assert pick_warehouse(levels, [Line("A", 2)], countries, "US") == "W-US-2"
    assert pick_warehouse(levels, [Line("A", 1)], countries, "US") == "W-US-1"
    assert pick_warehouse(levels, [Line("A", 2)], countries) == "W-DE"
    with pytest.raises(StockRefused) as short:
        pick_warehouse(levels, [Line("A", 6)], countries)
    assert short.value.violations == (
        FieldViolation("lines[0].quantity", "SKU A: 6 wanted, short (most in one warehouse: 5 in W-US-2)"),
    )


def test_a_split_keeps_lines_whole_and_uses_as_few_warehouses_as_it_finds() -> None:
    levels = [
        Level("W-DE", "M", "A", 5),
        Level("W-DE", "M", "B", 5),
        Level("W-US-1", "M", "A", 1),
        Level("W-US-1", "M", "C", 4),
        Level("W-US-2", "M", "C", 9),
    ]
    countries = {"W-DE": "DE", "W-US-1": "US", "W-US-2": "US"}
    lines = [Line("A", 1), Line("B", 2), Line("C", 3)]
    # Two warehouses fill two lines each: the destination's wins the tie, B goes to the other.
    assert split_warehouses(levels, lines, countries, "US") == {
        "W-DE": (Line("B", 2),),
        "W-US-1": (Line("A", 1), Line("C", 3)),
    }
    assert split_warehouses(levels, lines, countries) == {
        "W-DE": (Line("A", 1), Line("B", 2)),
        "W-US-1": (Line("C", 3),),
    }
    assert split_warehouses(levels, [Line("C", 5)], countries, "US") == {"W-US-2": (Line("C", 5),)}
    with pytest.raises(StockRefused) as short:  # 6 of A exist, but not in one warehouse: lines are not divided
        split_warehouses(levels, [Line("A", 6), Line("B", 1)], countries)
    assert [v.field for v in short.value.violations] == ["lines[0].quantity"]


def test_receiving_units_from_one_source_twice_counts_them_once(context: ServiceContext) -> None:
    merchant = codes.generate("MC")
    with context.uow() as uow:
        first = stock.receive_units(uow, WAREHOUSES[0], merchant, "A", 3, "rma:TH1:A", T0)
        uow.commit()
    with context.uow() as uow:
        again = stock.receive_units(uow, WAREHOUSES[0], merchant, "A", 3, "rma:TH1:A", T0)
        uow.commit()
    assert first is not None and first.on_hand == 3 and again is None
    with context.uow() as uow:
        assert [x.on_hand for x in uow.stock.levels(merchant)] == [3]
        with pytest.raises(ValidationError):
            stock.receive_units(uow, WAREHOUSES[0], merchant, "A", 0, "rma:TH2:A", T0)
