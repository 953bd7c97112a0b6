"""The status-move use case on an in-memory unit of work, driven by the domain's own transition checks for
reservations, outbound orders, inbound shipments and returns.

Whatever sequence of moves and request ids is drawn: a replay answers the first answer and changes, emits
and commits nothing; a key sent again with another payload is refused and changes nothing; a refused move
changes nothing; a move that is made saves the record once and emits exactly one status change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Struct
from hypothesis import given, settings
from hypothesis import strategies as st

from services.logistics.domain import stock
from services.logistics.domain.pricing import Parcel
from services.logistics.domain.returns import ReasonCode, ReturnLine, ReturnStatus, Rma, moved
from services.logistics.domain.stock import (
    INBOUND_ORDER,
    OUTBOUND_ORDER,
    InboundLine,
    InboundShipment,
    InboundStatus,
    InvalidState,
    Line,
    OutboundOrder,
    OutboundStatus,
    Reservation,
    ReservationStatus,
)
from services.logistics.service_layer.status_moves import Move, Record, get, move_status
from services.shared.errors import NotFound, ValidationError
from services.shared.idempotency import IdempotencyKeyReused
from tests.fakes import InMemoryDatabase, InMemoryUnitOfWork

T0 = datetime(2026, 12, 6, tzinfo=UTC)
CODE = "XX0000000000000000"


class RecordsDatabase(InMemoryDatabase):
    def __init__(self, records: dict[str, Any]) -> None:
        super().__init__()
        self.records = dict(records)


class RecordsUnitOfWork(InMemoryUnitOfWork):
    """Records by code, written at commit; counts the stock write locks taken."""

    def __init__(self, database: RecordsDatabase) -> None:
        super().__init__(database)
        self.store = database
        self.stock_locks = 0

    def _bind(self) -> None:
        super()._bind()
        self.written: dict[str, Any] = {}

    def _apply(self) -> None:
        self.store.records.update(self.written)

    def lock_stock_for_write(self) -> None:
        self.stock_locks += 1

    def read(self, code: str) -> Any:
        return self.written.get(code, self.store.records.get(code))


def struct(**values: str) -> Struct:
    message = Struct()
    message.update(values)
    return message


def changed(before: Any, after: Any) -> Message:
    return struct(code=before.code, previous=before.status.value, status=after.status.value)


def record(stock_moves: bool = False) -> Record[RecordsUnitOfWork, Any]:
    return Record(
        "thing",
        load=lambda uow, code, for_update: uow.read(code),
        save=lambda uow, after: uow.written.__setitem__(after.code, after),
        event=changed,
        stock=stock_moves,
        logged="thing_moved",
    )


def answer(after: Any) -> Struct:
    return struct(code=after.code, status=after.status.value)


# --- the domain's moves, as the use cases make them --------------------------------------------------


def _outbound(order: OutboundOrder, to: OutboundStatus, at: datetime) -> OutboundOrder:
    if to is OutboundStatus.CANCELLED:
        stock.cancellable(order)
    else:
        stock.forward(OUTBOUND_ORDER, order.status, to, f"outbound order {order.code}")
    return replace(order, status=to, status_since=at)


def _inbound(shipment: InboundShipment, to: InboundStatus, at: datetime) -> InboundShipment:
    stock.forward(INBOUND_ORDER, shipment.status, to, f"inbound shipment {shipment.code}")
    return replace(shipment, status=to, status_since=at)


def _reservation(reservation: Reservation, to: ReservationStatus, at: datetime) -> Reservation:
    stock.closing(reservation)
    return replace(reservation, status=to)


@dataclass(frozen=True)
class Kind:
    name: str
    first: Any  # the record as it is made
    targets: Sequence[Enum]  # every status a move names
    move: Callable[[Any, Any, datetime], Any]  # the domain's check and change


LINES = (Line("A", 1),)
KINDS = (
    Kind(
        "reservation",
        Reservation(CODE, "MC", "order", "WH", ReservationStatus.ACTIVE, LINES, T0, T0 + timedelta(hours=1)),
        [ReservationStatus.RELEASED, ReservationStatus.CONFIRMED, ReservationStatus.EXPIRED],
        _reservation,
    ),
    Kind(
        "outbound order",
        OutboundOrder(CODE, "MC", "YL", "WH", "order", OutboundStatus.CREATED, LINES, "", T0, T0),
        list(OutboundStatus),
        _outbound,
    ),
    Kind(
        "inbound shipment",
        InboundShipment(CODE, "MC", "WH", "ref", InboundStatus.CREATED, (InboundLine("A", 1),), T0, T0),
        list(InboundStatus),
        _inbound,
    ),
    Kind(
        "return",
        Rma(
            CODE,
            "MC",
            "YD",
            "EX123456785CN",
            "",
            "",
            "US",
            "CN",
            (ReturnLine(1, "A", 1, ReasonCode.DAMAGED),),
            (Parcel(Decimal(1), Decimal(10), Decimal(10), Decimal(10)),),
            ReturnStatus.AUTHORISED,
            T0,
            T0,
        ),
        list(ReturnStatus),
        moved,
    ),
)
REFUSED = (InvalidState, ValidationError)


def run(kind: Kind, database: RecordsDatabase, key: str, to: Enum, stock_moves: bool = False) -> Struct:
    def change(uow: RecordsUnitOfWork, before: Any) -> Any:
        return kind.move(before, to, T0)

    move = Move(key, to.value, CODE)  # the payload is the target status
    return move_status(
        lambda: RecordsUnitOfWork(database), record(stock_moves), "test.move", move, change, Struct, answer
    )


def state(database: RecordsDatabase) -> tuple:
    return (dict(database.records), list(database.events), dict(database.idempotency), database.commits)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(KINDS).flatmap(
        lambda kind: st.tuples(
            st.just(kind),
            st.lists(st.tuples(st.sampled_from(["k1", "k2", "k3", "k4"]), st.sampled_from(kind.targets)), max_size=12),
            st.booleans(),
        )
    )
)
def test_a_replay_of_any_move_changes_nothing_and_emits_nothing(
    drawn: tuple[Kind, list[tuple[str, Enum]], bool],
) -> None:
    kind, moves, stock_moves = drawn
    database = RecordsDatabase({CODE: kind.first})
    answered: dict[str, tuple[Enum, Struct]] = {}
    for key, to in moves:
        before = state(database)
        current = database.records[CODE]
        if key in answered and answered[key][0] is not to:
            with pytest.raises(IdempotencyKeyReused):
                run(kind, database, key, to, stock_moves)
            assert state(database) == before
            continue
        if key in answered:
            assert run(kind, database, key, to, stock_moves) == answered[key][1]
            assert state(database) == before  # no record saved, no event, nothing remembered or committed
            continue
        try:
            expected = kind.move(current, to, T0)
        except REFUSED:
            with pytest.raises(REFUSED):
                run(kind, database, key, to, stock_moves)
            assert state(database) == before  # a refused move commits nothing, and its key stays free
            continue
        got = run(kind, database, key, to, stock_moves)
        answered[key] = (to, got)
        assert got == answer(expected)
        assert database.records[CODE] == expected
        assert database.events == [*before[1], changed(current, expected)]
        assert database.commits == before[3] + 1


def test_an_unknown_code_is_not_found_naming_the_code_and_commits_nothing() -> None:
    database = RecordsDatabase({})
    with pytest.raises(NotFound) as missing:
        run(KINDS[1], database, "k1", OutboundStatus.PICKING)
    assert str(missing.value) == f"no thing {CODE}"
    assert [v.field for v in missing.value.violations] == ["code"]
    assert state(database) == ({}, [], {}, 0)
    with pytest.raises(NotFound):
        get(lambda: RecordsUnitOfWork(database), record(), CODE)


def test_a_refusal_names_the_moves_the_status_allows() -> None:
    database = RecordsDatabase({CODE: replace(KINDS[1].first, status=OutboundStatus.PICKING)})
    with pytest.raises(InvalidState) as back:
        run(KINDS[1], database, "k1", OutboundStatus.CREATED)
    assert "(allowed: SHIPPED, DELIVERED)" in str(back.value)
    with pytest.raises(InvalidState) as cancelled:
        _outbound(replace(KINDS[1].first, status=OutboundStatus.CANCELLED), OutboundStatus.SHIPPED, T0)
    assert "(allowed: none: it is final)" in str(cancelled.value)


@pytest.mark.parametrize("stock_moves", [True, False])
def test_stock_moves_take_the_stock_lock_and_the_others_the_write_lock(stock_moves: bool) -> None:
    database = RecordsDatabase({CODE: KINDS[1].first})
    taken: list[RecordsUnitOfWork] = []

    def factory() -> RecordsUnitOfWork:
        taken.append(RecordsUnitOfWork(database))
        return taken[-1]

    def change(uow: RecordsUnitOfWork, order: OutboundOrder) -> OutboundOrder:
        return _outbound(order, OutboundStatus.PICKING, T0)

    move_status(factory, record(stock_moves), "test.move", Move("k1", "p", CODE), change, Struct, answer)
    [uow] = taken
    assert (uow.stock_locks, uow.locks_taken) == ((1, 0) if stock_moves else (0, 1))


def test_events_the_change_makes_go_out_before_the_status_change() -> None:
    database = RecordsDatabase({CODE: KINDS[0].first})
    made = struct(made="outbound order")

    def change(uow: RecordsUnitOfWork, reservation: Reservation) -> Reservation:
        uow.emit(made)
        return _reservation(reservation, ReservationStatus.CONFIRMED, T0)

    uow_factory = lambda: RecordsUnitOfWork(database)  # noqa: E731
    move_status(uow_factory, record(), "test.move", Move("k1", "p", CODE), change, Struct, answer)
    confirmed = database.records[CODE]
    assert database.events == [made, changed(KINDS[0].first, confirmed)]
    assert get(uow_factory, record(), CODE) == confirmed
