"""FX quote use cases on an in-memory unit of work: pricing, idempotent replays, converting once.

The SQLite/PostgreSQL behaviour (row locks, concurrent requests) is covered by tests/integration/test_fx_grpc.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from xborder.payments.v1 import events_pb2, fx_service_pb2

from services.payments.fx.adapters.rate_providers import RateChain
from services.payments.fx.domain.rates import Rate
from services.payments.fx.errors import QuoteExpired, QuoteUsed
from services.payments.fx.service_layer import desk as fx
from services.payments.ledger.errors import InsufficientFunds
from services.shared import codes
from services.shared.errors import NotFound
from services.shared.idempotency import IdempotencyKeyReused
from tests.payments_fakes import FakeConversionLedger, FakePayments

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MERCHANT = codes.generate("MC", "E")


class FixedRates:
    name = "ops"

    def fetch(self, base: str, quote: str, now: datetime) -> Rate:
        rates = {("USD", "CNY"): Decimal("7.2"), ("CNY", "USD"): Decimal("0.1388888889")}
        return Rate(base, quote, rates[(base, quote)], self.name, now, now, timedelta(minutes=5))


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db() -> FakePayments:
    return FakePayments()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger() -> FakeConversionLedger:
    return FakeConversionLedger()


@pytest.fixture
def desk(db: FakePayments, clock: Clock, ledger: FakeConversionLedger) -> fx.FxDesk:
    return fx.FxDesk(db, RateChain([FixedRates()]), clock, ledger)  # type: ignore[arg-type]


def quote(desk: fx.FxDesk, request_id: str = "q-1", amount: str = "100.00") -> fx_service_pb2.CreateQuoteResponse:
    command = fx.QuoteCommand(request_id, f"fp-{amount}", MERCHANT, "USD", "CNY", Decimal(amount), None, 60)
    return fx.create_quote(desk, command)


def test_a_quote_sells_at_the_reference_rate_less_the_spread_and_is_stored_once(
    desk: fx.FxDesk, db: FakePayments
) -> None:
    created = quote(desk).quote
    assert (created.sell.currency_code, created.sell.units) == ("USD", 100)
    # STANDARD tier on USD/CNY: 60 bps off 7.2 -> 7.1568; the spread is what the reference rate would add.
    assert (created.buy.units, created.buy.nanos) == (715, 680_000_000)
    assert (created.spread.units, created.spread.nanos) == (4, 320_000_000)
    assert list(db.state.quotes) == [created.code]


def test_a_retried_quote_request_answers_the_same_bytes_and_stores_nothing_more(
    desk: fx.FxDesk, db: FakePayments, clock: Clock
) -> None:
    first = quote(desk)
    clock.now += timedelta(seconds=5)
    again = quote(desk)
    assert again.SerializeToString(deterministic=True) == first.SerializeToString(deterministic=True)
    assert len(db.state.quotes) == 1
    with pytest.raises(IdempotencyKeyReused):
        quote(desk, amount="200.00")
    assert len(db.state.quotes) == 1


def test_a_quote_converts_once_posting_its_legs_and_announcing_it(desk: fx.FxDesk, db: FakePayments) -> None:
    code = quote(desk).quote.code
    converted = fx.convert_quote(desk, fx.ConvertCommand("c-1", "fp", code, MERCHANT)).conversion
    assert converted.quote_code == code and converted.ledger_transaction == f"TX-{converted.code}"
    assert [purpose for _, purpose, _ in db.state.postings] == ["sell", "buy", "spread"]
    assert [type(e) for e in db.state.events] == [events_pb2.FxConversionCompleted]
    assert db.locks >= 1  # conversions read the quote under the write lock
    replay = fx.convert_quote(desk, fx.ConvertCommand("c-1", "fp", code, MERCHANT)).conversion
    assert replay == converted and len(db.state.postings) == 3
    with pytest.raises(QuoteUsed):
        fx.convert_quote(desk, fx.ConvertCommand("c-2", "fp", code, MERCHANT))
    assert len(db.state.postings) == 3 and len(db.state.events) == 1


def test_an_expired_quote_is_refused_and_posts_nothing(desk: fx.FxDesk, db: FakePayments, clock: Clock) -> None:
    code = quote(desk).quote.code
    clock.now += timedelta(seconds=61)
    with pytest.raises(QuoteExpired):
        fx.convert_quote(desk, fx.ConvertCommand("c-1", "fp", code, MERCHANT))
    assert db.state.postings == [] and db.state.quotes[code].status == "OPEN"


def test_a_conversion_the_wallet_cannot_pay_leaves_the_quote_open_and_nothing_remembered(
    desk: fx.FxDesk, db: FakePayments, ledger: FakeConversionLedger
) -> None:
    code = quote(desk).quote.code
    ledger.short = MERCHANT
    with pytest.raises(InsufficientFunds):
        fx.convert_quote(desk, fx.ConvertCommand("c-1", "fp", code, MERCHANT))
    assert db.state.quotes[code].status == "OPEN" and db.state.postings == []
    ledger.short = None  # funded now: the same request id may try again and succeeds
    converted = fx.convert_quote(desk, fx.ConvertCommand("c-1", "fp", code, MERCHANT)).conversion
    assert converted.quote_code == code and db.state.quotes[code].status == "CONVERTED"


def test_a_quote_of_another_merchant_is_not_found(desk: fx.FxDesk) -> None:
    code = quote(desk).quote.code
    with pytest.raises(NotFound):
        fx.convert_quote(desk, fx.ConvertCommand("c-1", "fp", code, codes.generate("MC", "E")))
