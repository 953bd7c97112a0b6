"""FX use cases (rates, spreads, quotes, conversions): the only FX code that commits and emits events.

Every mutating use case is idempotent by its `request_id` through the kernel's `run_idempotent`: the
serialised response is stored with the state change, so a retry gets the first answer byte for byte, and a
retry with another payload is refused. A concurrent duplicate loses on the key's primary key and replays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from xborder.payments.v1 import events_pb2 as events
from xborder.payments.v1 import fx_service_pb2 as pb

from services.payments.fx.adapters.rate_providers import NoFreshRate, RateChain
from services.payments.fx.adapters.repositories import QuoteRecord
from services.payments.fx.domain import quotes as q
from services.payments.fx.domain import spreads
from services.payments.fx.domain.rates import Rate
from services.payments.fx.errors import QuoteExpired, QuoteUsed, RateStale
from services.payments.fx.service_layer import views
from services.payments.settlement import service_layer as settlement_handlers
from services.payments.unit_of_work import PaymentsUnitOfWork
from services.shared import codes
from services.shared.errors import (
    NotFound,
    RateUnavailable,
    ValidationError,
    found_or_raise,
)
from services.shared.idempotency import Request, run_idempotent
from services.shared.money import Money, minor_unit, to_proto

UowFactory = Callable[[], PaymentsUnitOfWork]


@dataclass(frozen=True)
class LedgerLeg:
    debit_account: str
    credit_account: str
    amount: Money
    purpose: str


@dataclass(frozen=True)
class PostedConversion:
    transaction: str
    legs: tuple[LedgerLeg, ...]


class ConversionLedger(Protocol):
    """Posts a conversion's linked transfers in the caller's unit of work (all of them or none)."""

    def post_conversion(
        self,
        uow: PaymentsUnitOfWork,
        *,
        reference: str,
        merchant_code: str,
        sell: Money,
        buy: Money,
        spread: Money,
        metadata: Mapping[str, str],
    ) -> PostedConversion: ...


@dataclass
class FxDesk:
    """What the FX use cases need; bootstrap.py builds it."""

    uow_factory: UowFactory
    chain: RateChain
    clock: Callable[[], datetime]
    ledger: ConversionLedger
    zone: str = "G"
    refresh_pairs: tuple[str, ...] = field(default=())


def fresh_rate(desk: FxDesk, base: str, quote: str, now: datetime) -> Rate:
    try:
        return desk.chain.get(base, quote, now)
    except NoFreshRate as none:
        metadata = {"pair": f"{base}/{quote}", "providers": ",".join(desk.chain.order)}
        if none.stale:
            raise RateStale(str(none), metadata=metadata) from None
        raise RateUnavailable(str(none), metadata=metadata) from None


@dataclass(frozen=True)
class Priced:
    reference: Rate
    tier: str
    executable: spreads.ExecutableRate
    lock_premium_bps: int

    def view(self, sell: str, buy: str) -> pb.ExecutableRate:
        return views.executable_rate(sell, buy, self.reference, self.tier, self.executable, self.lock_premium_bps)


def price_pair(
    desk: FxDesk, uow: PaymentsUnitOfWork, sell: str, buy: str, merchant_code: str, lock_seconds: int
) -> Priced:
    repo = uow.fx_spreads
    tier = repo.tier_of(merchant_code) or spreads.DEFAULT_TIER
    try:
        base_bps = spreads.base_spread_bps(repo.rules(), sell, buy, tier)
    except KeyError:
        raise RateUnavailable(
            f"no spread is configured for {sell}/{buy} and tier {tier}; ops set one with `xborder rates spread`",
            metadata={"pair": f"{sell}/{buy}", "tier": tier},
        ) from None
    premium = spreads.lock_premium_bps(lock_seconds)
    reference = fresh_rate(desk, sell, buy, desk.clock())
    return Priced(reference, tier, spreads.executable(reference.rate, base_bps + premium), premium)


def get_executable_rate(desk: FxDesk, sell: str, buy: str, merchant_code: str, lock_seconds: int) -> pb.ExecutableRate:
    with desk.uow_factory() as uow:
        return price_pair(desk, uow, sell, buy, merchant_code, lock_seconds).view(sell, buy)


def set_ops_rate(desk: FxDesk, base: str, quote: str, rate: Decimal, valid_minutes: int, entered_by: str) -> Rate:
    """Record an ops rate valid from now for `valid_minutes` (the CLI's `xborder rates set`)."""
    now = desk.clock()
    with desk.uow_factory() as uow:
        repo = uow.fx_ops_rates
        repo.add(base, quote, rate, now, now + timedelta(minutes=valid_minutes), entered_by)
        uow.commit()
        stored = repo.latest(base, quote)
    assert stored is not None
    return stored


def set_spread(desk: FxDesk, rule: spreads.SpreadRule) -> None:
    with desk.uow_factory() as uow:
        uow.fx_spreads.set(rule, desk.clock())
        uow.commit()


def list_spreads(desk: FxDesk) -> list[spreads.SpreadRule]:
    with desk.uow_factory() as uow:
        return sorted(uow.fx_spreads.rules(), key=lambda r: (r.tier, r.sell, r.buy))


def set_merchant_tier(desk: FxDesk, merchant_code: str, tier: str) -> None:
    """The merchant's one tier, for fee schedules and spreads alike (the ledger's own handler validates it)."""
    with desk.uow_factory() as uow:
        settlement_handlers.set_merchant_tier(uow, merchant_code, tier, desk.clock())
        uow.commit()


def refresh_rates(desk: FxDesk, pairs: tuple[str, ...] | None = None) -> events.RatesUpdated:
    """The scheduled refresh: ask the chain for every configured pair, keep the snapshot, emit rates_updated.

    A pair without a fresh rate is reported in the event, not papered over with its previous snapshot.
    """
    now = desk.clock()
    event = events.RatesUpdated()
    fresh: list[Rate] = []
    for pair in pairs if pairs is not None else desk.refresh_pairs:
        base, quote = pair.split("/")
        try:
            fresh.append(desk.chain.get(base, quote, now))
        except NoFreshRate as none:
            event.failures.append(f"{pair}: {none}")
    with desk.uow_factory() as uow:
        snapshots = uow.fx_snapshots
        for rate in fresh:
            snapshots.put(rate)
            event.rates.append(
                events.RefreshedRate(
                    base=rate.base,
                    quote=rate.quote,
                    rate=format(rate.rate, "f"),
                    source=rate.source,
                    as_of=views.timestamp(rate.as_of),
                    fresh_until=views.timestamp(rate.expires_at),
                )
            )
        uow.emit(event)
        uow.commit()
    return event


@dataclass(frozen=True)
class QuoteCommand:
    request_id: str
    fingerprint: str
    merchant_code: str
    sell: str
    buy: str
    sell_amount: Decimal | None
    buy_amount: Decimal | None
    lock_seconds: int


def create_quote(desk: FxDesk, command: QuoteCommand) -> pb.CreateQuoteResponse:
    def work(uow: PaymentsUnitOfWork) -> pb.CreateQuoteResponse:
        priced = price_pair(desk, uow, command.sell, command.buy, command.merchant_code, command.lock_seconds)
        sell_places, buy_places = minor_unit(command.sell), minor_unit(command.buy)
        try:
            pricing = q.price(
                priced.executable,
                sell_places=sell_places,
                buy_places=buy_places,
                sell_amount=command.sell_amount,
                buy_amount=command.buy_amount,
            )
        except q.AmountTooSmall as small:
            field_name = "sell_amount" if command.sell_amount is not None else "buy_amount"
            raise ValidationError.single(field_name, str(small)) from None
        now = desk.clock()
        record = QuoteRecord(
            code=codes.generate("QT", desk.zone, at=now),
            merchant_code=command.merchant_code,
            tier=priced.tier,
            sell_currency=command.sell,
            buy_currency=command.buy,
            sell_minor=Money(pricing.sell_amount, command.sell).minor,
            buy_minor=Money(pricing.buy_amount, command.buy).minor,
            spread_minor=Money(pricing.spread_amount, command.buy).minor,
            fixed_side=pricing.fixed_side,
            reference_rate=priced.reference.rate,
            spread_bps=priced.executable.spread_bps,
            rate=priced.executable.rate,
            rate_source=priced.reference.source,
            rate_as_of=priced.reference.as_of,
            rate_fresh_until=priced.reference.expires_at,
            rate_derivation=priced.reference.derivation[:80],
            lock_premium_bps=priced.lock_premium_bps,
            lock_seconds=command.lock_seconds,
            created_at=now,
            expires_at=now + timedelta(seconds=command.lock_seconds),
            status=q.OPEN,
        )
        uow.fx_quotes.add(record)
        return pb.CreateQuoteResponse(quote=views.quote(record, now))

    request = Request(f"fx.create_quote:{command.merchant_code}", command.request_id, command.fingerprint)
    return run_idempotent(desk.uow_factory, request, pb.CreateQuoteResponse, work, lock=False)


def get_quote(desk: FxDesk, code: str) -> pb.Quote:
    with desk.uow_factory() as uow:
        record = found_or_raise(uow.fx_quotes.get(code), f"no quote {code}", field="code")
    return views.quote(record, desk.clock())


def check_usable(code: str, status: str, expires_at: datetime, now: datetime) -> None:
    try:
        q.LockedOffer(code, status, expires_at).check_usable(now)
    except q.QuoteUsedError as used:
        raise QuoteUsed(str(used), metadata={"code": code}) from None
    except q.QuoteExpiredError as expired:
        raise QuoteExpired(str(expired), metadata={"code": code, "expires_at": expires_at.isoformat()}) from None


@dataclass(frozen=True)
class ConvertCommand:
    request_id: str
    fingerprint: str
    code: str
    merchant_code: str


def convert_quote(desk: FxDesk, command: ConvertCommand) -> pb.ConvertQuoteResponse:
    """Execute an open, unexpired quote once: mark it used, then post its linked transfers, in one commit.

    Marking comes first so that of two conversions racing for one quote, the loser fails before it posts
    anything; any failure (insufficient balance included) rolls back the mark and every posting together.
    """

    def work(uow: PaymentsUnitOfWork) -> pb.ConvertQuoteResponse:
        repo = uow.fx_quotes
        record = repo.get(command.code, for_update=True)
        if record is None or record.merchant_code != command.merchant_code:
            raise NotFound(f"no quote {command.code} for merchant {command.merchant_code}", field="code")
        now = desk.clock()
        check_usable(record.code, record.status, record.expires_at, now)
        conversion_code = codes.generate("PY", desk.zone, at=now)
        if not repo.mark_converted(record.code, conversion_code, now):
            raise QuoteUsed(f"{record.code} was already converted", metadata={"code": record.code})
        sell = Money.from_minor(record.sell_minor, record.sell_currency)
        buy = Money.from_minor(record.buy_minor, record.buy_currency)
        spread = Money.from_minor(record.spread_minor, record.buy_currency)
        posted = desk.ledger.post_conversion(
            uow,
            reference=conversion_code,
            merchant_code=record.merchant_code,
            sell=sell,
            buy=buy,
            spread=spread,
            metadata={
                "quote": record.code,
                "reference_rate": format(record.reference_rate, "f"),
                "rate": format(record.rate, "f"),
                "spread_bps": str(record.spread_bps),
            },
        )
        repo.record_ledger_transaction(record.code, posted.transaction)
        conversion = pb.Conversion(
            code=conversion_code,
            quote_code=record.code,
            merchant_code=record.merchant_code,
            sell=to_proto(sell),
            buy=to_proto(buy),
            spread=to_proto(spread),
            ledger_transaction=posted.transaction,
            postings=[
                pb.Posting(
                    debit_account=leg.debit_account,
                    credit_account=leg.credit_account,
                    amount=to_proto(leg.amount),
                    purpose=leg.purpose,
                )
                for leg in posted.legs
            ],
            converted_at=views.timestamp(now),
        )
        uow.emit(
            events.FxConversionCompleted(
                conversion_code=conversion_code,
                quote_code=record.code,
                merchant_code=record.merchant_code,
                sell=conversion.sell,
                buy=conversion.buy,
                spread=conversion.spread,
                ledger_transaction=posted.transaction,
            )
        )
        return pb.ConvertQuoteResponse(conversion=conversion)

    # The write lock is taken before the quote is read, as the ledger takes it before reading balances.
    request = Request(f"fx.convert_quote:{command.merchant_code}", command.request_id, command.fingerprint)
    return run_idempotent(desk.uow_factory, request, pb.ConvertQuoteResponse, work)
