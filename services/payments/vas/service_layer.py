"""Value-added offers (cargo insurance, trade financing): price, store, read and accept them.

Offers share the lock semantics of FX quotes (open until they expire, accepted once). Every mutating use
case is idempotent by its `request_id` through the kernel's `run_idempotent`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from xborder.payments.v1 import events_pb2 as events
from xborder.payments.v1 import fx_service_pb2 as pb

from services.payments.fx.domain import quotes as q
from services.payments.fx.errors import QuoteUsed
from services.payments.fx.service_layer.desk import check_usable
from services.payments.unit_of_work import PaymentsUnitOfWork
from services.payments.vas import domain as vas
from services.payments.vas.adapters.repository import OfferRecord
from services.payments.vas.proto import offer_to_proto
from services.shared import codes
from services.shared.errors import FieldViolation, NotFound, ValidationError, found_or_raise
from services.shared.idempotency import Request, run_idempotent
from services.shared.money import Money, minor_unit, to_proto


@dataclass(frozen=True)
class OfferDesk:
    """What the offer use cases need; bootstrap.py builds it.

    `usd_rate(currency)` is the current reference rate USD -> currency, which scales the USD minimums and caps.
    """

    uow_factory: Callable[[], PaymentsUnitOfWork]
    usd_rate: Callable[[str], Decimal]
    clock: Callable[[], datetime]
    zone: str = "G"


@dataclass(frozen=True)
class InsuranceCommand:
    request_id: str
    fingerprint: str
    merchant_code: str
    declared_value: Money
    origin: str
    destination: str
    goods_class: str
    lock_seconds: int


def _minimum_premium(desk: OfferDesk, currency: str) -> Decimal:
    if currency in vas.MINIMUM_PREMIUM:
        return vas.MINIMUM_PREMIUM[currency]
    # The USD minimum at today's reference rate, rounded to the currency's minor unit.
    return q.to_minor_unit(vas.MINIMUM_PREMIUM_USD * desk.usd_rate(currency), minor_unit(currency))


def _new_offer(
    desk: OfferDesk, kind: str, merchant_code: str, currency: str, priced: vas.PricedOffer, lock_seconds: int
) -> OfferRecord:
    now = desk.clock()
    return OfferRecord(
        code=codes.generate("QT", desk.zone, at=now),
        kind=kind,
        merchant_code=merchant_code,
        currency=currency,
        amount_minor=Money(priced.amount, currency).minor,
        basis_minor=Money(priced.basis.quantize(Decimal(1).scaleb(-minor_unit(currency))), currency).minor,
        details=json.dumps([[c.name, format(c.value, "f")] for c in priced.components]),
        created_at=now,
        expires_at=now + timedelta(seconds=lock_seconds),
        status=q.OPEN,
    )


def create_insurance_quote(desk: OfferDesk, command: InsuranceCommand) -> pb.CreateInsuranceQuoteResponse:
    def work(uow: PaymentsUnitOfWork) -> pb.CreateInsuranceQuoteResponse:
        repo = uow.vas_offers
        unknown = [
            FieldViolation(name, f"{value!r} is not an ISO 3166-1 country we know")
            for name, value in (("origin_country", command.origin), ("destination_country", command.destination))
            if repo.place(value) is None
        ]
        if unknown:
            raise ValidationError(unknown)
        origin, destination = repo.place(command.origin), repo.place(command.destination)
        assert origin is not None and destination is not None
        currency = command.declared_value.currency
        priced = vas.insurance_premium(
            command.declared_value.amount,
            minor_unit(currency),
            command.goods_class,
            origin,
            destination,
            _minimum_premium(desk, currency),
        )
        record = _new_offer(desk, "CARGO_INSURANCE", command.merchant_code, currency, priced, command.lock_seconds)
        repo.add(record)
        return pb.CreateInsuranceQuoteResponse(offer=offer_to_proto(record, record.created_at))

    request = Request(f"vas.create_insurance_quote:{command.merchant_code}", command.request_id, command.fingerprint)
    return run_idempotent(desk.uow_factory, request, pb.CreateInsuranceQuoteResponse, work, lock=False)


@dataclass(frozen=True)
class FinancingCommand:
    request_id: str
    fingerprint: str
    merchant_code: str
    currency: str
    lock_seconds: int


def _financing_cap(desk: OfferDesk, currency: str) -> Decimal:
    if currency == "USD":
        return vas.FINANCING_CAP_USD
    return q.to_minor_unit(vas.FINANCING_CAP_USD * desk.usd_rate(currency), minor_unit(currency))


def create_financing_offer(desk: OfferDesk, command: FinancingCommand) -> pb.CreateFinancingOfferResponse:
    def work(uow: PaymentsUnitOfWork) -> pb.CreateFinancingOfferResponse:
        now = desk.clock()
        since = now - timedelta(days=vas.FINANCING_WINDOW_DAYS)
        volume, count = uow.settled_history.settled_volume(command.merchant_code, command.currency, since, now)
        try:
            priced = vas.financing_limit(
                volume, count, minor_unit(command.currency), _financing_cap(desk, command.currency)
            )
        except vas.NoSettledHistory as none:
            raise NotFound(
                f"{command.merchant_code}: {none} in {command.currency}; no financing limit can be offered",
                field="merchant_code",
            ) from None
        record = _new_offer(
            desk, "TRADE_FINANCING", command.merchant_code, command.currency, priced, command.lock_seconds
        )
        uow.vas_offers.add(record)
        return pb.CreateFinancingOfferResponse(offer=offer_to_proto(record, now))

    request = Request(f"vas.create_financing_offer:{command.merchant_code}", command.request_id, command.fingerprint)
    return run_idempotent(desk.uow_factory, request, pb.CreateFinancingOfferResponse, work, lock=False)


def get_offer(desk: OfferDesk, code: str) -> pb.Offer:
    with desk.uow_factory() as uow:
        record = found_or_raise(uow.vas_offers.get(code), f"no offer {code}", field="code")
    return offer_to_proto(record, desk.clock())


@dataclass(frozen=True)
class AcceptCommand:
    request_id: str
    fingerprint: str
    code: str
    merchant_code: str


def accept_offer(desk: OfferDesk, command: AcceptCommand) -> pb.AcceptOfferResponse:
    def work(uow: PaymentsUnitOfWork) -> pb.AcceptOfferResponse:
        repo = uow.vas_offers
        record = repo.get(command.code)
        if record is None or record.merchant_code != command.merchant_code:
            raise NotFound(f"no offer {command.code} for merchant {command.merchant_code}", field="code")
        now = desk.clock()
        check_usable(record.code, record.status, record.expires_at, now)
        if not repo.mark_accepted(record.code, now):
            raise QuoteUsed(f"{record.code} was already accepted", metadata={"code": record.code})
        accepted = OfferRecord(**{**record.__dict__, "status": q.ACCEPTED, "accepted_at": now})
        uow.emit(
            events.VasOfferAccepted(
                offer_code=record.code,
                kind=record.kind,
                merchant_code=record.merchant_code,
                amount=to_proto(Money.from_minor(record.amount_minor, record.currency)),
            )
        )
        return pb.AcceptOfferResponse(offer=offer_to_proto(accepted, now))

    request = Request(f"vas.accept_offer:{command.merchant_code}", command.request_id, command.fingerprint)
    return run_idempotent(desk.uow_factory, request, pb.AcceptOfferResponse, work, lock=False)
