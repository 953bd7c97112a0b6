"""WarehouseService over real gRPC (port 0), on SQLite and on PostgreSQL: pushes, reservations, orders."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import json_format
from xborder.logistics.v1 import warehouses_service_pb2 as pb
from xborder.logistics.v1 import warehouses_service_pb2_grpc as pb_grpc

from services.logistics.service_layer import stock
from services.shared import codes
from services.shared.settings import Settings
from tests.servers import Running, rejected, running_service

US, US2, DE = "SAMPLE-WH-US-LAX", "SAMPLE-WH-US-NJ", "SAMPLE-WH-DE-HAM"


@pytest.fixture
def service(any_settings: Settings) -> Iterator[Running]:
    with running_service(any_settings, "logistics", pb_grpc.WarehouseServiceStub) as running:
        yield running


def push(
    service: Running,
    merchant: str,
    warehouse: str,
    lines: list[tuple[str, int, int]],
    push_id: str,
    delta: bool = False,
) -> pb.PushInventoryResponse:
    kind = pb.INVENTORY_PUSH_KIND_DELTA if delta else pb.INVENTORY_PUSH_KIND_SNAPSHOT
    return service.stub.PushInventory(
        pb.PushInventoryRequest(
            push_id=push_id,
            warehouse_code=warehouse,
            merchant_code=merchant,
            kind=kind,
            lines=[pb.InventoryLine(sku=s, on_hand=o, in_transit_inbound=t) for s, o, t in lines],
        )
    )


def reserve(service: Running, merchant: str, request_id: str, lines: dict[str, int], **more: object):
    body = {
        "requestId": request_id,
        "merchantCode": merchant,
        "orderReference": f"order-{request_id}",
        "lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
        **more,
    }
    return service.stub.ReserveStock(json_format.ParseDict(body, pb.ReserveStockRequest()))


def level(service: Running, merchant: str, sku: str) -> pb.GetStockResponse:
    return service.stub.GetStock(pb.GetStockRequest(merchant_code=merchant, sku=sku))


def test_the_sample_warehouses_are_listed(service: Running) -> None:
    found = service.stub.ListWarehouses(pb.ListWarehousesRequest()).warehouses
    assert {w.country for w in found} >= {"US", "DE", "GB", "JP", "AU", "AE"}
    us = service.stub.ListWarehouses(pb.ListWarehousesRequest(country="US")).warehouses
    assert [w.code for w in us] == [US, US2] and us[0].time_zone == "America/Los_Angeles"


def test_a_push_applies_once_and_a_changed_repeat_is_refused(service: Running) -> None:
    merchant = codes.generate("MC")
    first = push(service, merchant, US, [("SKU-1", 10, 5), ("SKU-2", 3, 0)], "wh-push-1")
    assert [(x.sku, x.on_hand, x.available, x.in_transit_inbound) for x in first.levels] == [
        ("SKU-1", 10, 10, 5),
        ("SKU-2", 3, 3, 0),
    ]
    assert push(service, merchant, US, [("SKU-1", 10, 5), ("SKU-2", 3, 0)], "wh-push-1") == first
    with pytest.raises(grpc.RpcError) as reused:
        push(service, merchant, US, [("SKU-1", 99, 0)], "wh-push-1")
    assert reused.value.code() is grpc.StatusCode.ALREADY_EXISTS
    push(service, merchant, US, [("SKU-1", -2, -5)], "wh-delta-1", delta=True)
    push(service, merchant, US, [("SKU-1", -2, -5)], "wh-delta-1", delta=True)  # the same delta again
    got = level(service, merchant, "SKU-1")
    assert (got.on_hand, got.available, got.in_transit_inbound) == (8, 8, 0)
    # A snapshot leaving SKU-2 out sets it to zero.
    push(service, merchant, US, [("SKU-1", 7, 0)], "wh-push-2")
    assert level(service, merchant, "SKU-2").on_hand == 0


def test_bad_pushes_name_their_fields_and_change_nothing(service: Running) -> None:
    merchant = codes.generate("MC")
    push(service, merchant, US, [("SKU-1", 4, 0)], "p1")
    with pytest.raises(grpc.RpcError) as negative:
        push(service, merchant, US, [("SKU-1", -1, 0), ("bad sku", 1, -2)], "p2")
    status, _, fields = rejected(negative.value)
    assert status is grpc.StatusCode.INVALID_ARGUMENT
    assert {"lines[0].on_hand", "lines[1].sku", "lines[1].in_transit_inbound"} <= set(fields)
    with pytest.raises(grpc.RpcError) as unknown:
        push(service, merchant, "SAMPLE-WH-NOWHERE", [("SKU-1", 1, 0)], "p3")
    status, _, fields = rejected(unknown.value)
    assert status is grpc.StatusCode.NOT_FOUND and "warehouse_code" in fields
    reserve(service, merchant, "r1", {"SKU-1": 3})
    with pytest.raises(grpc.RpcError) as below:
        push(service, merchant, US, [("SKU-1", -2, 0)], "p4", delta=True)
    status, reason, fields = rejected(below.value)
    assert (status, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_STOCK")
    assert "below the 3 reserved" in fields["lines[0].on_hand"]
    got = level(service, merchant, "SKU-1")
    assert (got.on_hand, got.reserved, got.available) == (4, 3, 1)


def test_a_reservation_takes_a_warehouse_that_fills_every_line_or_names_the_short_ones(service: Running) -> None:
    merchant = codes.generate("MC")
    push(service, merchant, DE, [("A", 5, 0), ("B", 5, 0)], "de-1")
    push(service, merchant, US, [("A", 5, 0), ("B", 1, 0)], "us-1")
    push(service, merchant, US2, [("A", 1, 0), ("B", 5, 0)], "us2-1")
    # Only the German warehouse holds 3 of both: it is chosen although the order goes to the US.
    made = reserve(service, merchant, "r1", {"A": 3, "B": 3}, destinationCountry="US").reservation
    assert made.warehouse_code == DE and made.status == pb.RESERVATION_STATUS_ACTIVE
    assert reserve(service, merchant, "r1", {"A": 3, "B": 3}, destinationCountry="US").reservation == made
    # One of each: a US warehouse first.
    assert reserve(service, merchant, "r2", {"A": 1, "B": 1}, destinationCountry="US").reservation.warehouse_code == US
    with pytest.raises(grpc.RpcError) as short:
        reserve(service, merchant, "r3", {"A": 5, "B": 1})
    status, reason, fields = rejected(short.value)
    assert (status, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_STOCK")
    assert "lines[1].quantity" not in fields
    assert fields["lines[0].quantity"] == f"SKU A: 5 wanted, short (most in one warehouse: 4 in {US})"
    with pytest.raises(grpc.RpcError) as split:
        reserve(service, merchant, "r3b", {"A": 4, "B": 1})  # A only in LAX, B not in LAX
    assert set(rejected(split.value)[2]) == {"lines"}
    with pytest.raises(grpc.RpcError) as unknown:
        reserve(service, merchant, "r4", {"A": 1, "NOPE": 1})
    status, _, fields = rejected(unknown.value)
    assert status is grpc.StatusCode.INVALID_ARGUMENT and "lines[1].sku" in fields
    with pytest.raises(grpc.RpcError) as bad:
        reserve(service, merchant, "r5", {"A": 0, "B": -1}, ttlSeconds=5)
    status, _, fields = rejected(bad.value)
    assert {"lines[0].quantity", "lines[1].quantity", "ttl_seconds"} <= set(fields)
    total = level(service, merchant, "A")
    assert (total.on_hand, total.reserved, total.available) == (11, 4, 7)


def test_release_confirm_and_the_outbound_order(service: Running) -> None:
    merchant = codes.generate("MC")
    push(service, merchant, GB := "SAMPLE-WH-GB-BHX", [("A", 5, 0)], "gb-1")
    first = reserve(service, merchant, "r1", {"A": 2}).reservation
    released = service.stub.ReleaseReservation(pb.ReleaseReservationRequest(request_id="rel-1", code=first.code))
    assert released.reservation.status == pb.RESERVATION_STATUS_RELEASED
    with pytest.raises(grpc.RpcError) as again:
        service.stub.ConfirmReservation(pb.ConfirmReservationRequest(request_id="c-0", code=first.code))
    assert rejected(again.value)[1] == "INVALID_STATE"
    second = reserve(service, merchant, "r2", {"A": 4}).reservation
    confirmed = service.stub.ConfirmReservation(pb.ConfirmReservationRequest(request_id="c-1", code=second.code))
    order = confirmed.outbound_order
    assert confirmed.reservation.outbound_order_code == order.code and order.warehouse_code == GB
    assert order.status == pb.OUTBOUND_STATUS_CREATED
    got = level(service, merchant, "A")
    assert (got.on_hand, got.reserved, got.available) == (1, 0, 1)
    with pytest.raises(grpc.RpcError) as no_number:
        service.stub.UpdateOutboundOrder(
            pb.UpdateOutboundOrderRequest(request_id="o-1", code=order.code, status=pb.OUTBOUND_STATUS_SHIPPED)
        )
    assert "tracking_number" in rejected(no_number.value)[2]
    shipped = service.stub.UpdateOutboundOrder(
        pb.UpdateOutboundOrderRequest(
            request_id="o-2", code=order.code, status=pb.OUTBOUND_STATUS_SHIPPED, tracking_number="1Z999"
        )
    ).outbound_order
    assert (shipped.status, shipped.tracking_number) == (pb.OUTBOUND_STATUS_SHIPPED, "1Z999")
    with pytest.raises(grpc.RpcError) as back:
        service.stub.UpdateOutboundOrder(
            pb.UpdateOutboundOrderRequest(request_id="o-3", code=order.code, status=pb.OUTBOUND_STATUS_PICKING)
        )
    assert rejected(back.value)[1] == "INVALID_STATE"
    service.context.relay.drain()
    kinds = [(e.event_type, e.payload.get("status")) for e in service.bus.published]
    assert ("reservation_status_changed", "RELEASED") in kinds
    assert ("reservation_status_changed", "CONFIRMED") in kinds
    assert ("outbound_order_status_changed", "SHIPPED") in kinds


def test_expired_reservations_are_released_by_the_sweep(service: Running) -> None:
    merchant = codes.generate("MC")
    push(service, merchant, US, [("A", 3, 0)], "us-1")
    made = reserve(service, merchant, "r1", {"A": 3}, ttlSeconds=60).reservation
    assert level(service, merchant, "A").available == 0
    later = datetime.now(UTC) + timedelta(minutes=2)
    assert stock.expire_due(service.context.uow, lambda: later) == 1  # type: ignore[arg-type]
    assert stock.expire_due(service.context.uow, lambda: later) == 0  # type: ignore[arg-type]
    got = service.stub.GetReservation(pb.GetReservationRequest(code=made.code))
    assert got.reservation.status == pb.RESERVATION_STATUS_EXPIRED and got.merchant_code == merchant
    assert level(service, merchant, "A").available == 3


def test_an_inbound_shipment_moves_forward_and_its_counted_units_go_on_hand(service: Running) -> None:
    merchant = codes.generate("MC")
    created = service.stub.CreateInboundShipment(
        pb.CreateInboundShipmentRequest(
            request_id="in-1",
            merchant_code=merchant,
            warehouse_code=DE,
            reference="SEA-0001",
            lines=[pb.InboundLine(sku="A", expected=10), pb.InboundLine(sku="B", expected=5)],
        )
    ).inbound_shipment
    assert codes.parse(created.code).entity_type == "JC" and created.status == pb.INBOUND_STATUS_CREATED

    def move(request_id: str, status: pb.InboundStatus, counted: list[tuple[str, int]] | None = None):
        return service.stub.UpdateInboundShipment(
            pb.UpdateInboundShipmentRequest(
                request_id=request_id,
                code=created.code,
                status=status,
                counted=[pb.InboundLine(sku=s, received=n) for s, n in counted or []],
            )
        ).inbound_shipment

    move("s1", pb.INBOUND_STATUS_IN_TRANSIT)
    assert level(service, merchant, "A").in_transit_inbound == 10
    move("s2", pb.INBOUND_STATUS_ARRIVED)
    with pytest.raises(grpc.RpcError) as uncounted:
        move("s3", pb.INBOUND_STATUS_RECEIVED, [("A", 9), ("C", 1)])
    assert {"counted", "counted[1].sku"} <= set(rejected(uncounted.value)[2])
    received = move("s4", pb.INBOUND_STATUS_RECEIVED, [("A", 9), ("B", 5)])
    assert [(x.sku, x.received) for x in received.lines] == [("A", 9), ("B", 5)]
    assert move("s4", pb.INBOUND_STATUS_RECEIVED, [("A", 9), ("B", 5)]) == received
    a = level(service, merchant, "A")
    assert (a.on_hand, a.in_transit_inbound) == (9, 0)
    service.context.relay.drain()
    statuses = [e.payload["status"] for e in service.bus.published if e.event_type == "inbound_shipment_status_changed"]
    assert statuses == ["CREATED", "IN_TRANSIT", "ARRIVED", "RECEIVED"]


def test_many_threads_reserving_one_hot_sku_never_oversell(service: Running) -> None:
    merchant = codes.generate("MC")
    push(service, merchant, US, [("HOT", 25, 0)], "hot-1")

    def attempt(i: int) -> bool:
        try:
            reserve(service, merchant, f"hot-{i}", {"HOT": 1})
            return True
        except grpc.RpcError as error:
            assert rejected(error)[1] == "INSUFFICIENT_STOCK"
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        won = sum(pool.map(attempt, range(40)))
    got = level(service, merchant, "HOT")
    assert won == 25
    assert (got.on_hand, got.reserved, got.available) == (25, 25, 0)


def test_plans_from_a_warehouse_holding_the_stock_are_offered_beside_direct_shipping(service: Running) -> None:
    from xborder.logistics.v1 import plans_service_pb2 as plans_pb
    from xborder.logistics.v1 import plans_service_pb2_grpc as plans_grpc

    merchant = codes.generate("MC")
    push(service, merchant, US2, [("LAMP", 5, 0), ("SHADE", 5, 0)], "nj-1")
    push(service, merchant, US, [("LAMP", 5, 0)], "lax-1")
    plans = plans_grpc.LogisticsPlanServiceStub(grpc.insecure_channel(f"127.0.0.1:{service.port}"))
    request = {
        "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
        "originCountry": "CN",
        "destination": {"country": "US", "postalCode": "10001"},
        "goods": {"hsCode": "940520"},
        "declaredValue": {"currencyCode": "USD", "units": "40"},
        "shipAt": "2026-03-02T03:00:00Z",
    }
    direct = plans.MatchPlans(json_format.ParseDict(request, plans_pb.MatchPlansRequest()))
    assert all(not p.warehouse_code for p in direct.plans) and not direct.stock_note
    with_stock = {
        **request,
        "merchantCode": merchant,
        "lines": [{"sku": "LAMP", "quantity": 2}, {"sku": "SHADE", "quantity": 1}],
    }
    answer = plans.MatchPlans(json_format.ParseDict(with_stock, plans_pb.MatchPlansRequest()))
    from_stock = [p for p in answer.plans if p.warehouse_code]
    assert [(p.channel_code, p.warehouse_code, p.ship_from_country) for p in from_stock] == [
        ("SAMPLE-LASTMILE-US", US2, "US")
    ]
    assert {p.channel_code for p in answer.plans} - {p.channel_code for p in direct.plans} == {"SAMPLE-LASTMILE-US"}
    assert all(p.ship_from_country == "CN" for p in answer.plans if not p.warehouse_code)
    assert "SAMPLE-LASTMILE-US" not in {e.channel_code for e in answer.excluded}
    assert answer.stock_note == f"stock for every line at {US2} (US)"
    short = {**with_stock, "lines": [{"sku": "LAMP", "quantity": 20}]}
    answer = plans.MatchPlans(json_format.ParseDict(short, plans_pb.MatchPlansRequest()))
    assert not any(p.warehouse_code for p in answer.plans)
    assert answer.stock_note.startswith("no warehouse in US holds every line: SKU LAMP: 20 wanted")
    with pytest.raises(grpc.RpcError) as bad:
        plans.MatchPlans(
            json_format.ParseDict({**request, "lines": [{"sku": "LAMP", "quantity": 0}]}, plans_pb.MatchPlansRequest())
        )
    assert {"merchant_code", "lines[0].quantity"} <= set(rejected(bad.value)[2])


def test_confirmations_racing_the_expiry_sweep_settle_each_reservation_once(service: Running) -> None:
    merchant = codes.generate("MC")
    push(service, merchant, US, [("RACE", 30, 0)], "race-1")
    made = [reserve(service, merchant, f"race-{i}", {"RACE": 2}, ttlSeconds=60).reservation.code for i in range(12)]
    later = datetime.now(UTC) + timedelta(minutes=5)

    def confirm(code: str) -> bool:
        try:
            service.stub.ConfirmReservation(pb.ConfirmReservationRequest(request_id=f"c-{code}", code=code))
            return True
        except grpc.RpcError as error:
            assert rejected(error)[1] == "INVALID_STATE"
            return False

    with ThreadPoolExecutor(max_workers=6) as pool:
        sweeps = [pool.submit(stock.expire_due, service.context.uow, lambda: later) for _ in range(2)]
        confirmed = sum(pool.map(confirm, made))
        expired = sum(s.result() for s in sweeps)
    assert confirmed + expired == len(made)
    statuses = [service.stub.GetReservation(pb.GetReservationRequest(code=c)).reservation.status for c in made]
    assert statuses.count(pb.RESERVATION_STATUS_CONFIRMED) == confirmed
    assert statuses.count(pb.RESERVATION_STATUS_EXPIRED) == expired
    got = level(service, merchant, "RACE")
    assert (got.on_hand, got.reserved, got.available) == (30 - 2 * confirmed, 0, 30 - 2 * confirmed)


def test_concurrent_first_deltas_of_a_new_sku_all_count(service: Running) -> None:
    merchant = codes.generate("MC")

    def add_one(i: int) -> None:
        push(service, merchant, DE, [("NEW", 1, 1)], f"new-{i}", delta=True)
        push(service, merchant, DE, [("NEW", 1, 1)], f"new-{i}", delta=True)  # the repeat changes nothing

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(add_one, range(16)))
    got = level(service, merchant, "NEW")
    assert (got.on_hand, got.in_transit_inbound) == (16, 16)


def test_a_snapshot_counted_before_the_last_one_applied_changes_nothing(service: Running) -> None:
    merchant = codes.generate("MC")

    def snapshot(push_id: str, on_hand: int, counted: datetime) -> pb.PushInventoryResponse:
        request = pb.PushInventoryRequest(
            push_id=push_id,
            warehouse_code=US,
            merchant_code=merchant,
            kind=pb.INVENTORY_PUSH_KIND_SNAPSHOT,
            lines=[pb.InventoryLine(sku="LATE", on_hand=on_hand)],
        )
        request.as_of.FromDatetime(counted)
        return service.stub.PushInventory(request)

    noon = datetime(2026, 12, 6, 12, tzinfo=UTC)
    assert not snapshot("s-noon", 7, noon).stale
    late = snapshot("s-morning", 99, noon - timedelta(hours=3))  # delivered after the noon count
    assert late.stale and [(x.sku, x.on_hand) for x in late.levels] == [("LATE", 7)]
    assert level(service, merchant, "LATE").on_hand == 7
    assert not snapshot("s-evening", 5, noon + timedelta(hours=6)).stale
    assert level(service, merchant, "LATE").on_hand == 5


def test_an_order_no_one_warehouse_holds_is_split_when_the_merchant_allows_it(service: Running) -> None:
    merchant = codes.generate("MC")
    push(service, merchant, US, [("A", 5, 0), ("B", 1, 0)], "us-1")
    push(service, merchant, DE, [("B", 4, 0), ("C", 2, 0)], "de-1")
    with pytest.raises(grpc.RpcError) as whole:
        reserve(service, merchant, "r1", {"A": 2, "B": 3, "C": 1})
    assert set(rejected(whole.value)[2]) == {"lines"}
    answer = reserve(service, merchant, "r2", {"A": 2, "B": 3, "C": 1}, allowSplit=True, destinationCountry="US")
    made = list(answer.reservations)
    assert answer.reservation == made[0]
    assert [(r.warehouse_code, [(x.sku, x.quantity) for x in r.lines]) for r in made] == [
        (DE, [("B", 3), ("C", 1)]),
        (US, [("A", 2)]),
    ]
    assert len({r.expires_at.seconds for r in made}) == 1 and {r.order_reference for r in made} == {"order-r2"}
    assert reserve(service, merchant, "r2", {"A": 2, "B": 3, "C": 1}, allowSplit=True, destinationCountry="US") == (
        answer
    )
    # An order one warehouse can fill stays in one, split allowed or not.
    single = reserve(service, merchant, "r3", {"A": 1}, allowSplit=True).reservations
    assert [r.warehouse_code for r in single] == [US]
    # Still all or nothing: a line no warehouse can fill refuses the whole order.
    with pytest.raises(grpc.RpcError) as short:
        reserve(service, merchant, "r4", {"A": 1, "C": 5}, allowSplit=True)
    status, reason, fields = rejected(short.value)
    assert (status, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_STOCK")
    assert set(fields) == {"lines[1].quantity"}
    with pytest.raises(grpc.RpcError) as both:
        reserve(service, merchant, "r5", {"A": 1}, allowSplit=True, warehouseCode=US)
    assert "allow_split" in rejected(both.value)[2]
    a, b, c = (level(service, merchant, sku) for sku in "ABC")
    assert [(x.on_hand, x.reserved) for x in (a, b, c)] == [(5, 3), (5, 3), (2, 1)]
    # Each part is released or confirmed on its own; confirming makes one outbound order per warehouse.
    orders = [
        service.stub.ConfirmReservation(pb.ConfirmReservationRequest(request_id=f"c-{r.code}", code=r.code))
        for r in made
    ]
    assert [o.outbound_order.warehouse_code for o in orders] == [DE, US]
    service.context.relay.drain()
    made_events = [
        e.payload["warehouse_code"]
        for e in service.bus.published
        if e.event_type == "reservation_status_changed" and e.payload.get("status") == "ACTIVE"
    ]
    assert sorted(made_events) == sorted([DE, US, US])


def test_many_threads_reserving_split_orders_never_oversell(service: Running) -> None:
    merchant = codes.generate("MC")
    push(service, merchant, US, [("A", 10, 0)], "us-1")
    push(service, merchant, DE, [("B", 7, 0)], "de-1")

    def attempt(i: int) -> bool:
        try:
            made = reserve(service, merchant, f"split-{i}", {"A": 1, "B": 1}, allowSplit=True).reservations
            assert sorted(r.warehouse_code for r in made) == [DE, US]
            return True
        except grpc.RpcError as error:
            assert rejected(error)[1] == "INSUFFICIENT_STOCK"
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        won = sum(pool.map(attempt, range(24)))
    a, b = level(service, merchant, "A"), level(service, merchant, "B")
    assert won == 7  # every order needs a B: the seven Bs bound it, and a refused order holds no A
    assert (a.on_hand, a.reserved, b.on_hand, b.reserved, b.available) == (10, 7, 7, 7, 0)


def test_an_outbound_order_cancelled_before_it_ships_puts_its_units_back(service: Running) -> None:
    merchant = codes.generate("MC")
    push(service, merchant, US, [("A", 5, 0), ("B", 2, 0)], "us-1")

    def confirmed(request_id: str, lines: dict[str, int]) -> pb.OutboundOrder:
        code = reserve(service, merchant, request_id, lines).reservation.code
        return service.stub.ConfirmReservation(
            pb.ConfirmReservationRequest(request_id=f"c-{request_id}", code=code)
        ).outbound_order

    def cancel(request_id: str, code: str) -> pb.OutboundOrder:
        request = pb.CancelOutboundOrderRequest(request_id=request_id, code=code)
        return service.stub.CancelOutboundOrder(request).outbound_order

    order = confirmed("r1", {"A": 3, "B": 1})
    assert (level(service, merchant, "A").on_hand, level(service, merchant, "B").on_hand) == (2, 1)
    service.stub.UpdateOutboundOrder(
        pb.UpdateOutboundOrderRequest(request_id="pick-1", code=order.code, status=pb.OUTBOUND_STATUS_PICKING)
    )
    cancelled = cancel("x-1", order.code)
    assert cancelled.status == pb.OUTBOUND_STATUS_CANCELLED
    assert cancel("x-1", order.code) == cancelled  # the same request replays
    a, b = level(service, merchant, "A"), level(service, merchant, "B")
    assert (a.on_hand, a.available, b.on_hand, b.available) == (5, 5, 2, 2)
    with pytest.raises(grpc.RpcError) as twice:
        cancel("x-2", order.code)
    assert rejected(twice.value)[1] == "INVALID_STATE"
    with pytest.raises(grpc.RpcError) as moved:
        service.stub.UpdateOutboundOrder(
            pb.UpdateOutboundOrderRequest(
                request_id="ship-1", code=order.code, status=pb.OUTBOUND_STATUS_SHIPPED, tracking_number="1Z1"
            )
        )
    assert rejected(moved.value)[1] == "INVALID_STATE"
    with pytest.raises(grpc.RpcError) as by_warehouse:
        service.stub.UpdateOutboundOrder(
            pb.UpdateOutboundOrderRequest(request_id="w-1", code=order.code, status=pb.OUTBOUND_STATUS_CANCELLED)
        )
    assert "status" in rejected(by_warehouse.value)[2]
    shipped = confirmed("r2", {"A": 1})
    service.stub.UpdateOutboundOrder(
        pb.UpdateOutboundOrderRequest(
            request_id="ship-2", code=shipped.code, status=pb.OUTBOUND_STATUS_SHIPPED, tracking_number="1Z2"
        )
    )
    with pytest.raises(grpc.RpcError) as late:
        cancel("x-3", shipped.code)
    _, reason, fields = rejected(late.value)
    assert reason == "INVALID_STATE" and "only CREATED or PICKING" in fields["code"]
    assert level(service, merchant, "A").on_hand == 4
    with pytest.raises(grpc.RpcError) as unknown:
        cancel("x-4", codes.generate("CK"))
    assert rejected(unknown.value)[0] is grpc.StatusCode.NOT_FOUND
    service.context.relay.drain()
    moves = [
        (e.payload.get("previous_status"), e.payload["status"])
        for e in service.bus.published
        if e.event_type == "outbound_order_status_changed" and e.payload["outbound_order_code"] == order.code
    ]
    assert moves == [(None, "CREATED"), ("CREATED", "PICKING"), ("PICKING", "CANCELLED")]


def test_operators_register_and_update_warehouses(service: Running) -> None:
    def register(request_id: str, **fields: str) -> pb.Warehouse:
        body = {
            "code": "PARTNER-WH-CA-YYZ",
            "name": "Partner Toronto",
            "operator": "Partner Logistics Inc.",
            "country": "CA",
            "address": "1 Example Rd, Mississauga ON",
            "timeZone": "America/Toronto",
            **fields,
        }
        request = json_format.ParseDict({"requestId": request_id, "warehouse": body}, pb.RegisterWarehouseRequest())
        return service.stub.RegisterWarehouse(request).warehouse

    made = register("reg-1", code="partner-wh-ca-yyz")
    assert (made.code, made.country, made.time_zone) == ("PARTNER-WH-CA-YYZ", "CA", "America/Toronto")
    assert register("reg-1", code="partner-wh-ca-yyz") == made
    assert [w.code for w in service.stub.ListWarehouses(pb.ListWarehousesRequest(country="CA")).warehouses] == [
        made.code
    ]
    with pytest.raises(grpc.RpcError) as taken:
        register("reg-2")
    status, _, fields = rejected(taken.value)
    assert status is grpc.StatusCode.ALREADY_EXISTS and "warehouse.code" in fields
    with pytest.raises(grpc.RpcError) as bad:
        register("reg-3", code="X", country="Canada", timeZone="Toronto", name=" ")
    status, _, fields = rejected(bad.value)
    assert status is grpc.StatusCode.INVALID_ARGUMENT
    assert {"warehouse.code", "warehouse.country", "warehouse.time_zone", "warehouse.name"} <= set(fields)
    with pytest.raises(grpc.RpcError) as unknown_country:
        register("reg-4", code="PARTNER-WH-XX", country="XX")
    assert "warehouse.country" in rejected(unknown_country.value)[2]

    # The new warehouse takes stock like any other.
    merchant = codes.generate("MC")
    push(service, merchant, made.code, [("A", 4, 0)], "yyz-1")
    assert reserve(service, merchant, "r1", {"A": 2}).reservation.warehouse_code == made.code

    updated = service.stub.UpdateWarehouse(
        pb.UpdateWarehouseRequest(
            request_id="upd-1", code=made.code, address="2 Example Rd", time_zone="America/Halifax"
        )
    ).warehouse
    assert (updated.address, updated.time_zone, updated.name) == ("2 Example Rd", "America/Halifax", made.name)
    with pytest.raises(grpc.RpcError) as bad_update:
        service.stub.UpdateWarehouse(
            pb.UpdateWarehouseRequest(request_id="upd-2", code=made.code, time_zone="Mars/Base")
        )
    assert "time_zone" in rejected(bad_update.value)[2]
    with pytest.raises(grpc.RpcError) as missing:
        service.stub.UpdateWarehouse(pb.UpdateWarehouseRequest(request_id="upd-3", code="NOPE-WH", name="x"))
    assert rejected(missing.value)[0] is grpc.StatusCode.NOT_FOUND
    service.context.relay.drain()
    events = [
        (e.payload["code"], e.payload.get("updated", False))
        for e in service.bus.published
        if e.event_type == "warehouse_registered"
    ]
    assert events == [(made.code, False), (made.code, True)]
