"""FxService over real gRPC (port 0) on SQLite and PostgreSQL: rates, quotes, errors, idempotency, offers."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.type import money_pb2
from xborder.payments.v1 import fx_service_pb2 as pb
from xborder.payments.v1 import fx_service_pb2_grpc as pb_grpc

from services.payments import bootstrap
from services.payments.fx.adapters.rate_providers import NoFreshRate
from services.payments.fx.domain.spreads import SpreadRule
from services.payments.fx.service_layer import desk as fx
from services.payments.fx.settings import FxSettings
from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import PLATFORM, AccountKind
from services.payments.settlement import service_layer as sh
from services.payments.settlement.domain.collections import CollectionMethod
from services.shared import codes
from services.shared.context import ServiceContext
from services.shared.grpc_errors import status_details
from services.shared.grpc_server import serve
from services.shared.money import Money, from_proto
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.ledger_support import Wallets, balance, fund, transfer_count, wallets
from tests.servers import rejected


class FakeClock:
    """Starts at a fixed moment: 2026-12-01, months after the last ECB publication in data/ (2026-04-13)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Fx:
    context: ServiceContext
    desk: fx.FxDesk
    stub: Any
    clock: FakeClock


@pytest.fixture(scope="module")
def fx_service(module_any_settings: Settings) -> Iterator[Fx]:
    context = bootstrap.bootstrap(module_any_settings, RecordingBus())
    context.import_reference_data()
    clock = FakeClock()
    desk = bootstrap.fx_desk(context, clock=clock)
    server = serve(module_any_settings, [bootstrap.fx_registration(desk)], bootstrap.GRPC_SERVICES, port=0)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    fx.set_ops_rate(desk, "USD", "CNY", Decimal("7.1234"), 24 * 60, "test")
    fx.set_ops_rate(desk, "USD", "JPY", Decimal("149.505"), 24 * 60, "test")
    fx.set_ops_rate(desk, "USD", "KWD", Decimal("0.30745"), 24 * 60, "test")
    try:
        yield Fx(context, desk, pb_grpc.FxServiceStub(channel), clock)
    finally:
        channel.close()
        server.stop(0)
        context.close()


def money(currency: str, amount: str) -> money_pb2.Money:
    value = Decimal(amount)
    units = int(value)
    return money_pb2.Money(currency_code=currency, units=units, nanos=int((value - units) * 10**9))


def quote_request(merchant: str, **fields: Any) -> pb.CreateQuoteRequest:
    defaults: dict[str, Any] = {
        "request_id": codes.generate("QT"),
        "merchant_code": merchant,
        "sell_currency": "USD",
        "buy_currency": "CNY",
        "sell_amount": money("USD", "1000"),
        "lock_seconds": 60,
    }
    defaults.update(fields)
    return pb.CreateQuoteRequest(**defaults)


def rows(context: ServiceContext, table: str) -> int:
    with context.engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_quote_locks_the_executable_rate_and_prices_both_sides(fx_service: Fx) -> None:
    merchant = codes.generate("MC")
    quote = fx_service.stub.CreateQuote(quote_request(merchant)).quote
    assert codes.parse(quote.code, entity_type="QT")
    assert (quote.rate.source, quote.rate.reference_rate, quote.rate.spread_bps) == ("ops", "7.1234", 60)
    assert quote.rate.rate == "7.080659600"
    assert from_proto(quote.buy).amount == Decimal("7080.66")
    assert from_proto(quote.spread).amount == Decimal("42.74")
    assert quote.status == pb.QUOTE_STATUS_OPEN and quote.fixed_side == pb.FIXED_SIDE_SELL
    assert quote.expires_at.ToDatetime(tzinfo=UTC) - quote.created_at.ToDatetime(tzinfo=UTC) == timedelta(seconds=60)
    assert fx_service.stub.GetQuote(pb.GetQuoteRequest(code=quote.code)).quote == quote


def test_a_longer_lock_and_the_merchant_tier_change_the_spread(fx_service: Fx) -> None:
    merchant = codes.generate("MC")
    day = fx_service.stub.CreateQuote(quote_request(merchant, lock_seconds=86_400)).quote
    assert (day.rate.spread_bps, day.rate.lock_premium_bps) == (100, 40)
    fx.set_merchant_tier(fx_service.desk, merchant, "ENTERPRISE")
    minute = fx_service.stub.CreateQuote(quote_request(merchant)).quote
    assert (minute.rate.tier, minute.rate.spread_bps) == ("ENTERPRISE", 25)
    assert from_proto(minute.buy).amount > from_proto(day.buy).amount


def test_ops_can_change_a_spread(fx_service: Fx) -> None:
    fx.set_spread(fx_service.desk, SpreadRule("USD", "KWD", "STANDARD", 80))
    rate = fx_service.stub.GetExecutableRate(
        pb.GetExecutableRateRequest(sell_currency="USD", buy_currency="KWD", merchant_code=codes.generate("MC"))
    ).rate
    assert (rate.spread_bps, rate.source, rate.derivation) == (80, "ops", "entered by test")


def test_jpy_and_kwd_quotes_carry_their_minor_units(fx_service: Fx) -> None:
    merchant = codes.generate("MC")
    yen = fx_service.stub.CreateQuote(
        quote_request(merchant, buy_currency="JPY", sell_amount=money("USD", "100"))
    ).quote
    # 149.505 * (1 - 0.01) = 148.00995 per USD; 100 USD -> 14800.995 -> 14801 JPY, no decimals.
    assert (yen.buy.units, yen.buy.nanos) == (14801, 0)
    dinar = fx_service.stub.CreateQuote(
        quote_request(merchant, buy_currency="KWD", sell_amount=None, buy_amount=money("KWD", "100.125"))
    ).quote
    assert dinar.fixed_side == pb.FIXED_SIDE_BUY
    assert from_proto(dinar.buy).amount == Decimal("100.125")
    sell = from_proto(dinar.sell).amount
    assert sell == sell.quantize(Decimal("0.01"))
    assert abs(sell - Decimal("100.125") / Decimal(dinar.rate.rate)) <= Decimal("0.005")


def test_a_replayed_request_returns_the_first_quote_and_a_changed_one_is_refused(fx_service: Fx) -> None:
    merchant = codes.generate("MC")
    request = quote_request(merchant)
    first = fx_service.stub.CreateQuote(request)
    before = rows(fx_service.context, "fx_quotes")
    fx_service.clock.advance(5)
    assert fx_service.stub.CreateQuote(request) == first
    assert rows(fx_service.context, "fx_quotes") == before
    changed = pb.CreateQuoteRequest()
    changed.CopyFrom(request)
    changed.lock_seconds = 120
    with pytest.raises(grpc.RpcError) as refused:
        fx_service.stub.CreateQuote(changed)
    assert rejected(refused.value)[:2] == (grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_CONFLICT")
    assert "request_id" in rejected(refused.value)[2]
    # Keys are per merchant: another merchant's identical key is another request.
    other = pb.CreateQuoteRequest()
    other.CopyFrom(request)
    other.merchant_code = codes.generate("MC")
    assert fx_service.stub.CreateQuote(other).quote.code != first.quote.code


@pytest.mark.parametrize(
    ("fields", "reason", "field"),
    [
        ({"sell_currency": "XYZ", "sell_amount": money("XYZ", "1")}, "UNKNOWN_CURRENCY", "sell_currency"),
        ({"buy_currency": "USD"}, "VALIDATION_FAILED", "buy_currency"),
        ({"sell_amount": money("USD", "-5")}, "VALIDATION_FAILED", "sell_amount"),
        ({"sell_amount": money("USD", "0")}, "VALIDATION_FAILED", "sell_amount"),
        ({"sell_amount": money("USD", "10.001")}, "VALIDATION_FAILED", "sell_amount"),
        (
            {"buy_currency": "JPY", "sell_amount": None, "buy_amount": money("JPY", "100.5")},
            "VALIDATION_FAILED",
            "buy_amount",
        ),
        ({"sell_amount": money("CNY", "10")}, "VALIDATION_FAILED", "sell_amount.currency_code"),
        ({"sell_amount": None}, "VALIDATION_FAILED", "sell_amount"),
        ({"buy_amount": money("CNY", "10")}, "VALIDATION_FAILED", "sell_amount"),
        ({"lock_seconds": 59}, "VALIDATION_FAILED", "lock_seconds"),
        ({"lock_seconds": 86_401}, "VALIDATION_FAILED", "lock_seconds"),
        ({"merchant_code": "MC123"}, "VALIDATION_FAILED", "merchant_code"),
        ({"request_id": ""}, "VALIDATION_FAILED", "request_id"),
    ],
)
def test_bad_quote_requests_name_the_field_and_store_nothing(
    fx_service: Fx, fields: dict, reason: str, field: str
) -> None:
    before = rows(fx_service.context, "fx_quotes"), rows(fx_service.context, "idempotency_keys")
    with pytest.raises(grpc.RpcError) as refused:
        fx_service.stub.CreateQuote(quote_request(codes.generate("MC"), **fields))
    status, got, violations = rejected(refused.value)
    assert (status, got) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
    assert field in violations
    assert (rows(fx_service.context, "fx_quotes"), rows(fx_service.context, "idempotency_keys")) == before


def test_a_pair_without_a_fresh_rate_is_refused_by_name(fx_service: Fx) -> None:
    # EUR/GBP: no ops rate; the ECB file in data/ ends 2026-04-13, far beyond the ECB staleness limit.
    with pytest.raises(grpc.RpcError) as stale:
        fx_service.stub.CreateQuote(
            quote_request(codes.generate("MC"), sell_currency="EUR", buy_currency="GBP", sell_amount=money("EUR", "10"))
        )
    assert rejected(stale.value)[:2] == (grpc.StatusCode.UNAVAILABLE, "RATE_STALE")
    assert "EUR/GBP" in (stale.value.details() or "") and "ecb: stale" in (stale.value.details() or "")
    # A currency the ECB never quotes and ops never entered: unavailable.
    with pytest.raises(grpc.RpcError) as missing:
        fx_service.stub.CreateQuote(
            quote_request(codes.generate("MC"), sell_currency="USD", buy_currency="XOF", sell_amount=money("USD", "10"))
        )
    assert rejected(missing.value)[:2] == (grpc.StatusCode.NOT_FOUND, "RATE_UNAVAILABLE")
    assert "USD/XOF" in (missing.value.details() or "")


def test_an_expired_ops_rate_is_never_used(fx_service: Fx) -> None:
    fx.set_ops_rate(fx_service.desk, "USD", "SGD", Decimal("1.35"), 1, "test")
    request = pb.GetExecutableRateRequest(sell_currency="USD", buy_currency="SGD", merchant_code=codes.generate("MC"))
    assert fx_service.stub.GetExecutableRate(request).rate.reference_rate == "1.35"
    fx_service.clock.advance(61)
    with pytest.raises(grpc.RpcError) as stale:
        fx_service.stub.GetExecutableRate(request)
    assert rejected(stale.value)[1] == "RATE_STALE"
    assert "ops: stale" in (stale.value.details() or "")


def test_an_insurance_offer_is_priced_from_the_table_and_accepted_once_before_expiry(fx_service: Fx) -> None:
    merchant = codes.generate("MC")
    request = pb.CreateInsuranceQuoteRequest(
        request_id=codes.generate("QT"),
        merchant_code=merchant,
        declared_value=money("USD", "10000"),
        origin_country="CN",
        destination_country="de",
        goods_class="electronics",
        lock_seconds=3600,
    )
    offer = fx_service.stub.CreateInsuranceQuote(request).offer
    assert offer.kind == pb.OFFER_KIND_CARGO_INSURANCE
    assert from_proto(offer.amount).amount == Decimal("56.25")  # 10000 * 0.45 % * 1.25 (intercontinental)
    assert fx_service.stub.CreateInsuranceQuote(request).offer == offer
    accept = pb.AcceptOfferRequest(request_id=codes.generate("QT"), code=offer.code, merchant_code=merchant)
    accepted = fx_service.stub.AcceptOffer(accept).offer
    assert accepted.status == pb.QUOTE_STATUS_ACCEPTED
    assert fx_service.stub.AcceptOffer(accept).offer == accepted  # replay
    again = pb.AcceptOfferRequest(request_id=codes.generate("QT"), code=offer.code, merchant_code=merchant)
    with pytest.raises(grpc.RpcError) as used:
        fx_service.stub.AcceptOffer(again)
    assert rejected(used.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "QUOTE_USED")


def test_an_expired_offer_cannot_be_accepted(fx_service: Fx) -> None:
    merchant = codes.generate("MC")
    offer = fx_service.stub.CreateInsuranceQuote(
        pb.CreateInsuranceQuoteRequest(
            request_id=codes.generate("QT"),
            merchant_code=merchant,
            declared_value=money("JPY", "5000"),
            origin_country="CN",
            destination_country="JP",
            goods_class="GENERAL",
            lock_seconds=60,
        )
    ).offer
    assert from_proto(offer.amount).amount == Decimal("700")  # the JPY minimum premium
    fx_service.clock.advance(60)
    assert fx_service.stub.GetOffer(pb.GetOfferRequest(code=offer.code)).offer.status == pb.QUOTE_STATUS_EXPIRED
    with pytest.raises(grpc.RpcError) as expired:
        fx_service.stub.AcceptOffer(
            pb.AcceptOfferRequest(request_id=codes.generate("QT"), code=offer.code, merchant_code=merchant)
        )
    assert rejected(expired.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "QUOTE_EXPIRED")


def test_bad_insurance_requests_name_every_field(fx_service: Fx) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        fx_service.stub.CreateInsuranceQuote(
            pb.CreateInsuranceQuoteRequest(
                request_id="x",
                merchant_code=codes.generate("MC"),
                declared_value=money("USD", "-1"),
                origin_country="CHN",
                destination_country="QQ",
                goods_class="LIVESTOCK",
            )
        )
    assert {"declared_value", "origin_country", "goods_class"} <= set(rejected(refused.value)[2])
    with pytest.raises(grpc.RpcError) as unknown_country:
        fx_service.stub.CreateInsuranceQuote(
            pb.CreateInsuranceQuoteRequest(
                request_id="y",
                merchant_code=codes.generate("MC"),
                declared_value=money("USD", "10"),
                origin_country="CN",
                destination_country="QQ",
                goods_class="GENERAL",
            )
        )
    assert "destination_country" in rejected(unknown_country.value)[2]


def test_the_refresh_records_fresh_rates_and_reports_the_rest(fx_service: Fx) -> None:
    event = fx.refresh_rates(fx_service.desk, ("USD/CNY", "USD/XOF"))
    assert [(r.base, r.quote, r.source) for r in event.rates] == [("USD", "CNY", "ops")]
    assert len(event.failures) == 1 and event.failures[0].startswith("USD/XOF: ")
    with fx_service.context.engine.connect() as connection:
        outbox = connection.execute(
            sa.text("SELECT event_type FROM outbox WHERE event_id = :id"), {"id": event.event_id}
        ).scalar_one()
        snapshot = connection.execute(
            sa.text("SELECT rate FROM fx_rate_snapshots WHERE base='USD' AND quote='CNY'")
        ).scalar_one()
    assert (outbox, snapshot) == ("rates_updated", "7.1234")


# ---- conversion through the ledger ----


def funded_merchant(fx_service: Fx, currency: str, amount: str) -> tuple[str, Wallets]:
    w = wallets(fx_service.context, currency)
    fund(fx_service.context, w, amount)
    return w.merchant, w


def account_of(fx_service: Fx, owner: str, kind: AccountKind, currency: str):
    found = lh.list_accounts(fx_service.context.uow, owner=owner, kind=kind, currency=currency)
    return found[0] if found else None


def test_converting_a_quote_posts_both_legs_and_the_spread_once(fx_service: Fx) -> None:
    merchant, usd = funded_merchant(fx_service, "USD", "5000.00")
    quote = fx_service.stub.CreateQuote(quote_request(merchant)).quote  # 1000 USD -> 7080.66 CNY, spread 42.74
    liquidity_before = account_of(fx_service, PLATFORM, AccountKind.FX_LIQUIDITY, "CNY")
    fees_before = account_of(fx_service, PLATFORM, AccountKind.FEES, "CNY")
    request = pb.ConvertQuoteRequest(request_id=codes.generate("QT"), code=quote.code, merchant_code=merchant)
    conversion = fx_service.stub.ConvertQuote(request).conversion
    assert [p.purpose for p in conversion.postings] == ["fx_sell_leg", "fx_buy_leg", "fx_spread"]
    assert [from_proto(p.amount).amount for p in conversion.postings] == [
        Decimal("1000.00"),
        Decimal("7080.66"),
        Decimal("42.74"),
    ]
    assert balance(fx_service.context, usd.available.code).posted.amount == Decimal("4000.00")
    cny_wallet = account_of(fx_service, merchant, AccountKind.MERCHANT_AVAILABLE, "CNY")
    assert cny_wallet.posted.amount == Decimal("7080.66")
    liquidity = account_of(fx_service, PLATFORM, AccountKind.FX_LIQUIDITY, "CNY")
    fees = account_of(fx_service, PLATFORM, AccountKind.FEES, "CNY")
    paid_out = liquidity.balances.debits_posted - (liquidity_before.balances.debits_posted if liquidity_before else 0)
    earned = fees.balances.credits_posted - (fees_before.balances.credits_posted if fees_before else 0)
    assert (paid_out, earned) == (708066 + 4274, 4274)
    assert lh.verify_ledger(fx_service.context.uow).ok

    # A replay returns the first conversion; another request for the same quote is refused; nothing moves.
    assert fx_service.stub.ConvertQuote(request).conversion == conversion
    again = pb.ConvertQuoteRequest(request_id=codes.generate("QT"), code=quote.code, merchant_code=merchant)
    with pytest.raises(grpc.RpcError) as used:
        fx_service.stub.ConvertQuote(again)
    assert rejected(used.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "QUOTE_USED")
    assert balance(fx_service.context, usd.available.code).posted.amount == Decimal("4000.00")
    read = fx_service.stub.GetQuote(pb.GetQuoteRequest(code=quote.code)).quote
    assert (read.status, read.conversion_code) == (pb.QUOTE_STATUS_CONVERTED, conversion.code)
    with fx_service.context.engine.connect() as connection:
        emitted = connection.execute(
            sa.text("SELECT count(*) FROM outbox WHERE event_type = 'fx_conversion_completed' AND payload LIKE :c"),
            {"c": f"%{conversion.code}%"},
        ).scalar_one()
    assert emitted == 1


def test_an_expired_quote_cannot_be_converted_and_the_ledger_is_untouched(fx_service: Fx) -> None:
    merchant, usd = funded_merchant(fx_service, "USD", "2000.00")
    quote = fx_service.stub.CreateQuote(quote_request(merchant)).quote
    fx_service.clock.advance(60)
    transfers = transfer_count(fx_service.context)
    with pytest.raises(grpc.RpcError) as expired:
        fx_service.stub.ConvertQuote(
            pb.ConvertQuoteRequest(request_id=codes.generate("QT"), code=quote.code, merchant_code=merchant)
        )
    assert rejected(expired.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "QUOTE_EXPIRED")
    assert transfer_count(fx_service.context) == transfers
    assert balance(fx_service.context, usd.available.code).posted.amount == Decimal("2000.00")
    assert fx_service.stub.GetQuote(pb.GetQuoteRequest(code=quote.code)).quote.status == pb.QUOTE_STATUS_EXPIRED


def test_insufficient_balance_is_refused_and_the_quote_stays_usable(fx_service: Fx) -> None:
    merchant, usd = funded_merchant(fx_service, "USD", "999.99")
    quote = fx_service.stub.CreateQuote(quote_request(merchant, lock_seconds=600)).quote
    transfers = transfer_count(fx_service.context)
    request = pb.ConvertQuoteRequest(request_id=codes.generate("QT"), code=quote.code, merchant_code=merchant)
    with pytest.raises(grpc.RpcError) as poor:
        fx_service.stub.ConvertQuote(request)
    assert rejected(poor.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_FUNDS")
    # The wallet and the shortfall, on the field the caller sent; no ledger account code.
    expected = (
        f"converting quote {quote.code} needs 1000.00 USD; merchant {merchant}'s USD AVAILABLE wallet holds "
        "999.99 USD: 0.01 USD missing"
    )
    assert poor.value.details() == expected
    assert rejected(poor.value)[2] == {"code": expected}
    assert status_details(poor.value)[2] | {"request_id": "-"} == {
        "request_id": "-",
        "merchant_code": merchant,
        "currency": "USD",
        "wallet": "AVAILABLE",
        "needed": "1000.00 USD",
        "available": "999.99 USD",
        "missing": "0.01 USD",
    }
    assert transfer_count(fx_service.context) == transfers
    assert fx_service.stub.GetQuote(pb.GetQuoteRequest(code=quote.code)).quote.status == pb.QUOTE_STATUS_OPEN
    fund(fx_service.context, usd, "0.01")
    # The failed attempt stored no answer: the same request now succeeds.
    assert fx_service.stub.ConvertQuote(request).conversion.quote_code == quote.code
    assert balance(fx_service.context, usd.available.code).posted.amount == Decimal("0.00")


def test_a_merchant_without_a_sell_currency_wallet_is_told_the_whole_amount_is_missing(fx_service: Fx) -> None:
    merchant = codes.generate("MC")
    quote = fx_service.stub.CreateQuote(quote_request(merchant, buy_currency="JPY", sell_amount=money("USD", "50")))
    request = pb.ConvertQuoteRequest(request_id=codes.generate("QT"), code=quote.quote.code, merchant_code=merchant)
    with pytest.raises(grpc.RpcError) as poor:
        fx_service.stub.ConvertQuote(request)
    reason, violations, metadata = status_details(poor.value)
    assert (poor.value.code(), reason, list(dict(violations))) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "INSUFFICIENT_FUNDS",
        ["code"],
    )
    assert (metadata["needed"], metadata["available"], metadata["missing"]) == ("50.00 USD", "0.00 USD", "50.00 USD")
    # The wallet it opened rolled back: no account code (AC + 16) in the message. Other codes may hold "AC".
    assert not re.search(r"\bAC[0-9A-Z]{16}\b", poor.value.details() or "")
    assert account_of(fx_service, merchant, AccountKind.MERCHANT_AVAILABLE, "USD") is None


def test_only_the_quotes_merchant_can_convert_it(fx_service: Fx) -> None:
    merchant, _ = funded_merchant(fx_service, "USD", "2000.00")
    quote = fx_service.stub.CreateQuote(quote_request(merchant)).quote
    with pytest.raises(grpc.RpcError) as other:
        fx_service.stub.ConvertQuote(
            pb.ConvertQuoteRequest(request_id=codes.generate("QT"), code=quote.code, merchant_code=codes.generate("MC"))
        )
    assert rejected(other.value)[:2] == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")


def test_concurrent_conversions_of_one_quote_post_once(fx_service: Fx) -> None:
    merchant, usd = funded_merchant(fx_service, "USD", "10000.00")
    quote = fx_service.stub.CreateQuote(quote_request(merchant, lock_seconds=600)).quote
    outcomes: list[str] = []

    def convert() -> None:
        try:
            fx_service.stub.ConvertQuote(
                pb.ConvertQuoteRequest(request_id=codes.generate("QT"), code=quote.code, merchant_code=merchant),
                timeout=30,
            )
            outcomes.append("converted")
        except grpc.RpcError as error:
            outcomes.append(rejected(error)[1] or "?")

    threads = [threading.Thread(target=convert) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["QUOTE_USED"] * 5 + ["converted"]
    assert balance(fx_service.context, usd.available.code).posted.amount == Decimal("9000.00")
    assert lh.verify_ledger(fx_service.context.uow).ok


def test_a_financing_offer_is_a_share_of_the_settled_volume(fx_service: Fx) -> None:
    merchant = codes.generate("MC")
    now = fx_service.clock.now

    def collect(gross: str, settled_days_ago: int | None, refund: str | None = None) -> None:
        with fx_service.context.uow() as uow:
            collection = sh.record_collection(
                uow,
                sh.RecordCollection(
                    merchant,
                    "TESTPSP",
                    codes.generate("PY"),
                    CollectionMethod.CARD,
                    Money.of(gross, "USD"),
                    Money.of("0", "USD"),
                ),
                now - timedelta(days=(settled_days_ago or 0) + 1),
            )
            if settled_days_ago is not None:
                sh.confirm_settlement(uow, collection.code, now - timedelta(days=settled_days_ago))
            if refund is not None:
                sh.refund_collection(uow, collection.code, Money.of(refund, "USD"), now)
            uow.commit()

    collect("60000.00", 5)
    collect("50000.00", 40, refund="10000.00")
    collect("99999.00", 120)  # settled before the 90-day window
    collect("7777.00", None)  # collected, never settled
    request = pb.CreateFinancingOfferRequest(request_id=codes.generate("QT"), merchant_code=merchant, currency="USD")
    offer = fx_service.stub.CreateFinancingOffer(request).offer
    # Trailing 90 days: 60,000 + (50,000 - 10,000) = 100,000 USD settled; 30 % of it. The 120-day-old one is out.
    assert from_proto(offer.basis).amount == Decimal("100000.00")
    assert from_proto(offer.amount).amount == Decimal("30000.00")
    assert offer.kind == pb.OFFER_KIND_TRADE_FINANCING
    assert fx_service.stub.CreateFinancingOffer(request).offer == offer
    with pytest.raises(grpc.RpcError) as none:
        fx_service.stub.CreateFinancingOffer(
            pb.CreateFinancingOfferRequest(
                request_id=codes.generate("QT"), merchant_code=codes.generate("MC"), currency="USD"
            )
        )
    assert rejected(none.value)[0] == grpc.StatusCode.NOT_FOUND
    assert "no settled collections" in (none.value.details() or "")


def test_concurrent_retries_of_one_quote_request_create_one_quote(fx_service: Fx) -> None:
    request = quote_request(codes.generate("MC"), lock_seconds=600)
    before = rows(fx_service.context, "fx_quotes")
    answers: list[pb.CreateQuoteResponse] = []

    def create() -> None:
        answers.append(fx_service.stub.CreateQuote(request, timeout=30))

    threads = [threading.Thread(target=create) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 5 and all(a == answers[0] for a in answers)
    assert rows(fx_service.context, "fx_quotes") == before + 1


def test_the_configured_provider_order_is_the_chain_order(fx_service: Fx) -> None:
    from tests.unit.test_fx_rate_chain import FakeCurrencyRates

    live = FakeCurrencyRates({("USD", "CNY"): Decimal("7.3001")})
    chain = bootstrap.rate_chain(fx_service.context, FxSettings(providers=("live", "ops")), live_client=live)
    assert chain.order == ("live", "ops")
    assert chain.get("USD", "CNY", fx_service.clock.now).rate == Decimal("7.3001")
    assert chain.get("USD", "JPY", fx_service.clock.now).source == "ops"  # live fails offline: ops answers
    default = bootstrap.rate_chain(fx_service.context)
    assert default.order == ("ops", "ecb")  # the live provider is off unless configured


def test_the_refresh_feeds_live_rates_to_quoting_in_another_process(fx_service: Fx) -> None:
    from tests.unit.test_fx_rate_chain import FakeCurrencyRates

    live_only = FxSettings(providers=("live",))
    # The worker's refresh reaches the live source...
    source = FakeCurrencyRates({("EUR", "HKD"): Decimal("8.4300")})
    chain = bootstrap.rate_chain(fx_service.context, live_only, live_client=source, refreshing=True)
    worker = bootstrap.fx_desk(fx_service.context, clock=fx_service.clock, chain=chain)
    assert [r.source for r in fx.refresh_rates(worker, ("EUR/HKD",)).rates] == ["live"]
    # Each refresh asks the source again (never its own cache or snapshot), so the snapshot follows it.
    source.rates[("EUR", "HKD")] = Decimal("8.4321")
    fx_service.clock.advance(10)
    assert [Decimal(r.rate) for r in fx.refresh_rates(worker, ("EUR/HKD",)).rates] == [Decimal("8.4321")]
    assert source.calls == 2
    # ...and the gRPC process, whose own live calls fail (offline), quotes from the stored live snapshot.
    offline = FakeCurrencyRates({})
    server_chain = bootstrap.rate_chain(fx_service.context, live_only, live_client=offline)
    rate = server_chain.get("EUR", "HKD", fx_service.clock.now)
    assert (rate.source, rate.rate, offline.calls) == ("live", Decimal("8.4321"), 0)
    fx_service.clock.advance(301)  # past the live staleness limit: the snapshot no longer counts
    with pytest.raises(NoFreshRate, match="no fresh EUR/HKD rate"):
        server_chain.get("EUR", "HKD", fx_service.clock.now)
