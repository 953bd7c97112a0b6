"""Returns (RMA): authorise with the restock-versus-return-to-origin comparison, move through the lifecycle,
hand restocked units to stock, and ask payments for the refund. Every mutating use case runs through
`run_idempotent` (each move of a return as a `status_moves.move_status`), and every status change emits
`return_status_changed` in the same transaction."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from google.protobuf.message import Message
from xborder.logistics.v1 import return_events_pb2

from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.domain.channels import ChannelKind
from services.logistics.domain.matching import Catalogue, Exclusion
from services.logistics.domain.pricing import Goods, Parcel, Preference
from services.logistics.domain.pricing import Shipment as Priced
from services.logistics.domain.returns import (
    Condition,
    CostComparison,
    CostOption,
    Disposition,
    ReasonCode,
    ReturnLine,
    ReturnStatus,
    Rma,
    Route,
    WarehouseFees,
    compare,
    decided,
    inspected,
    moved,
    no_reverse_channel,
    origin_cost,
    restock_cost,
    restocked_lines,
)
from services.logistics.domain.shipments import waybill_number
from services.logistics.domain.tracking import MainStatus
from services.logistics.service_layer.catalogue_cache import CatalogueCache
from services.logistics.service_layer.status_moves import Move, Record, get, move_status
from services.logistics.service_layer.stock import receive_units
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import NotFound, ValidationError
from services.shared.idempotency import Request, run_idempotent
from services.shared.logs import get_logger
from services.shared.money import Money, to_proto

M = TypeVar("M", bound=Message)
UowFactory = Callable[[], LogisticsUnitOfWork]
CatalogueSource = Callable[[LogisticsUnitOfWork], Catalogue]
log = get_logger(__name__)
RETURNABLE = frozenset({MainStatus.DELIVERED, MainStatus.AVAILABLE_FOR_PICKUP})


class RestockedUnits(Protocol):
    """Where restocked units are handed to overseas-warehouse stock: the one place a restock touches stock.

    Called once per resaleable line, inside the unit of work that records the disposition, so the stock
    change and the return's move commit together or not at all.
    """

    def restock(
        self,
        uow: LogisticsUnitOfWork,
        *,
        warehouse_code: str,
        merchant_code: str,
        sku: str,
        quantity: int,
        source_reference: str,
    ) -> None: ...


class IntoWarehouseStock:
    """Restocked units counted into the warehouse's on hand for the merchant's SKU (`stock.receive_units`),
    in the caller's unit of work. Each line is its own receipt source, so a replayed or repeated disposition
    counts a line once."""

    def restock(
        self,
        uow: LogisticsUnitOfWork,
        *,
        warehouse_code: str,
        merchant_code: str,
        sku: str,
        quantity: int,
        source_reference: str,
    ) -> None:
        receive_units(uow, warehouse_code, merchant_code, sku, quantity, f"rma:{source_reference}:{sku}", utcnow())


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int
    reason: ReasonCode


@dataclass(frozen=True)
class AuthoriseReturn:
    request_id: str
    fingerprint: str
    shipment_code: str
    lines: tuple[LineRequest, ...]
    order_reference: str
    reason: str
    parcels: tuple[Parcel, ...]  # empty: the shipment's
    origin_country: str


def _return_changed(rma: Rma, before: ReturnStatus | None = None) -> Message:
    return return_events_pb2.ReturnStatusChanged(
        return_code=rma.code,
        shipment_code=rma.shipment_code,
        merchant_code=rma.merchant_code,
        previous_status=before.value if before else "",
        status=rma.status.value,
        disposition=rma.disposition.value if rma.disposition else "",
        warehouse_code=rma.warehouse_code,
    )


RETURNS: Record[LogisticsUnitOfWork, Rma] = Record(
    "return",
    load=lambda uow, code, for_update: uow.returns.get(code, for_update=for_update),
    save=lambda uow, rma: uow.returns.update(rma),
    event=lambda before, after: _return_changed(after, before.status),
    logged="return_moved",
)


def compare_costs(
    catalogue: Catalogue,
    fees: Mapping[str, WarehouseFees],
    destination: str,
    origin: str,
    parcels: tuple[Parcel, ...],
    units: int,
    at: datetime,
) -> CostComparison:
    """Restock at the warehouse of the destination market against the cheapest reverse-lane channel."""
    reverse = Priced(
        parcels,
        destination,
        origin,
        "",
        Goods("", None, False, False, False),
        Money(Decimal(0), "USD"),  # no channel limit in another currency is checked (a note, not a reason)
        Preference.CHEAPEST,
        None,
        at,
    )
    result = catalogue.match(reverse)
    if result.plans:
        best = result.plans[0].candidate
        to_origin = origin_cost(best.channel.code, best.cost, origin)
    else:
        to_origin = no_reverse_channel(destination, origin, _lane_reasons(result.excluded, destination))
    return compare(restock_cost(fees.get(destination), destination, parcels, units), to_origin)


def _lane_reasons(excluded: tuple[Exclusion, ...], destination: str) -> str:
    """Why the channels that do collect from `destination` could not take the parcels."""
    on_lane = [e for e in excluded if destination in e.channel.origin_countries]
    return "; ".join(f"{e.channel.code}: {', '.join(e.reasons)}" for e in on_lane)


def authorise_return(
    uow_factory: UowFactory,
    catalogue: CatalogueSource,
    fees: Mapping[str, WarehouseFees],
    command: AuthoriseReturn,
    response_type: type[M],
    respond: Callable[[Rma], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    def work(uow: LogisticsUnitOfWork) -> M:
        shipment = uow.shipments.get(command.shipment_code)
        if shipment is None:
            raise NotFound(f"no shipment {command.shipment_code}", field="shipment_code")
        if shipment.status.status not in RETURNABLE:
            raise ValidationError.single(
                "shipment_code",
                f"shipment {shipment.code} is {shipment.status.status.value.lower()}: only a delivered shipment "
                "can be returned",
            )
        if command.origin_country == shipment.destination_country:
            raise ValidationError.single(
                "origin_country", f"a return to origin must leave {shipment.destination_country}"
            )
        at = now()
        parcels = command.parcels or shipment.parcels
        lines = tuple(
            ReturnLine(i, line.sku, line.quantity, line.reason) for i, line in enumerate(command.lines, start=1)
        )
        units = sum(line.quantity for line in lines)
        comparison = compare_costs(
            catalogue(uow), fees, shipment.destination_country, command.origin_country, parcels, units, at
        )
        rma = Rma(
            codes.generate("TH", at=at),
            shipment.merchant_code,
            shipment.code,
            shipment.waybill_number,
            command.order_reference,
            command.reason,
            shipment.destination_country,
            command.origin_country,
            lines,
            parcels,
            ReturnStatus.AUTHORISED,
            at,
            at,
            comparison=comparison,
        )
        uow.returns.add(rma)
        uow.emit(_return_changed(rma))
        log.info(
            "return_authorised",
            code=rma.code,
            shipment=shipment.code,
            recommended=comparison.recommended.value if comparison.recommended else "",
        )
        return respond(rma)

    request = Request(f"logistics.authorise_return:{command.shipment_code}", command.request_id, command.fingerprint)
    return run_idempotent(uow_factory, request, response_type, work)


def catalogue_in(cache: CatalogueCache) -> CatalogueSource:
    """The cached catalogue, read (when stale) through the caller's open unit of work."""
    return lambda uow: cache.current(lambda: nullcontext(uow))


@dataclass(frozen=True)
class Step(Move):
    """A move of an existing return, once per request id."""

    action: str  # names the idempotency scope: one key per return and action


def _step(
    uow_factory: UowFactory,
    step: Step,
    response_type: type[M],
    respond: Callable[[Rma], M],
    change: Callable[[LogisticsUnitOfWork, Rma], Rma],
) -> M:
    return move_status(uow_factory, RETURNS, f"logistics.return_{step.action}", step, change, response_type, respond)


def issue_label(
    uow_factory: UowFactory,
    step: Step,
    route: Route | None,
    response_type: type[M],
    respond: Callable[[Rma], M],
    now: Callable[[], datetime] = utcnow,
    serial: Callable[[], int] = lambda: secrets.randbelow(10**8),
) -> M:
    """The label goes to the route asked for, or the recommended one; a sample S10 return waybill."""

    def change(uow: LogisticsUnitOfWork, rma: Rma) -> Rma:
        chosen = route or (rma.comparison.recommended if rma.comparison else None)
        if chosen is None:
            raise ValidationError.single("route", "is required: no option was recommended at authorisation")
        option = _option(rma, chosen)
        if option is not None and option.total is None:
            raise ValidationError.single("route", f"{chosen.value} cannot be used: {option.missing}")
        kind = ChannelKind.EXPRESS if chosen is Route.RETURN_TO_ORIGIN else ChannelKind.DEDICATED_LINE
        waybill = waybill_number(kind, serial(), rma.destination_country)
        if uow.returns.waybill_taken(waybill):
            waybill = waybill_number(kind, serial(), rma.destination_country)
        # The reverse-lane channel's carrier carries the parcel back, and reports its steps (gateway rules).
        channel = option.channel_code if option is not None and chosen is Route.RETURN_TO_ORIGIN else ""
        carrier = uow.channels.carrier_ids([channel]).get(channel, "") if channel else ""
        return moved(
            rma,
            ReturnStatus.LABEL_ISSUED,
            now(),
            route=chosen,
            return_waybill=waybill,
            label_reference=f"labels/{rma.code}.pdf",
            carrier=carrier,
        )

    return _step(uow_factory, step, response_type, respond, change)


def _option(rma: Rma, route: Route) -> CostOption | None:
    if rma.comparison is None:
        return None
    return rma.comparison.restock if route is Route.RESTOCK else rma.comparison.return_to_origin


def record_step(
    uow_factory: UowFactory,
    step: Step,
    to: ReturnStatus,
    response_type: type[M],
    respond: Callable[[Rma], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    """In transit or received, as the carrier or the warehouse reports it."""
    return _step(uow_factory, step, response_type, respond, lambda uow, rma: moved(rma, to, now()))


def inspect(
    uow_factory: UowFactory,
    step: Step,
    conditions: Mapping[int, Condition],
    response_type: type[M],
    respond: Callable[[Rma], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    return _step(uow_factory, step, response_type, respond, lambda uow, rma: inspected(rma, conditions, now()))


def decide_disposition(
    uow_factory: UowFactory,
    step: Step,
    disposition: Disposition,
    warehouse_code: str,
    fees: Mapping[str, WarehouseFees],
    stock: RestockedUnits,
    response_type: type[M],
    respond: Callable[[Rma], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    """A restock hands each resaleable line to stock at the warehouse (by default the market's)."""

    def change(uow: LogisticsUnitOfWork, rma: Rma) -> Rma:
        warehouse = warehouse_code
        if disposition is Disposition.RESTOCK and not warehouse:
            market = fees.get(rma.destination_country)
            if market is None:
                raise ValidationError.single(
                    "warehouse_code", f"is required: no overseas warehouse takes returns in {rma.destination_country}"
                )
            warehouse = market.code
        after = decided(rma, disposition, warehouse, now())
        if disposition is Disposition.RESTOCK:
            units = Counter[str]()
            for line in restocked_lines(after):
                units[line.sku] += line.quantity
            for sku, quantity in sorted(units.items()):
                stock.restock(
                    uow,
                    warehouse_code=warehouse,
                    merchant_code=after.merchant_code,
                    sku=sku,
                    quantity=quantity,
                    source_reference=after.code,
                )
        return after

    return _step(uow_factory, step, response_type, respond, change)


def request_refund(
    uow_factory: UowFactory,
    step: Step,
    collection_code: str,
    amount: Money,
    response_type: type[M],
    respond: Callable[[Rma], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    """Emits `return_refund_requested` once: the lifecycle allows this move once, and payments keys its
    refund on the return's code."""

    def change(uow: LogisticsUnitOfWork, rma: Rma) -> Rma:
        after = moved(
            rma, ReturnStatus.REFUND_REQUESTED, now(), refund_collection_code=collection_code, refund_amount=amount
        )
        uow.emit(
            return_events_pb2.ReturnRefundRequested(
                return_code=after.code,
                merchant_code=after.merchant_code,
                collection_code=collection_code,
                amount=to_proto(amount),
                shipment_code=after.shipment_code,
            )
        )
        return after

    return _step(uow_factory, step, response_type, respond, change)


def close(
    uow_factory: UowFactory,
    step: Step,
    to: ReturnStatus,
    reason: str,
    response_type: type[M],
    respond: Callable[[Rma], M],
    now: Callable[[], datetime] = utcnow,
) -> M:
    """Rejected or cancelled, with the reason kept on the return."""
    return _step(uow_factory, step, response_type, respond, lambda uow, rma: moved(rma, to, now(), note=reason))


def get_return(uow_factory: UowFactory, code: str) -> Rma:
    return get(uow_factory, RETURNS, code)
