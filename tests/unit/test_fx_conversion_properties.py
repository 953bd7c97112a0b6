"""Property test (hypothesis): any quote, once converted, posts exactly its amounts and every currency sums to zero.

Runs the real handlers on a SQLite payments schema with a fixed-rate provider (no network, fake clock).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.payments import bootstrap
from services.payments.fx.adapters.rate_providers import RateChain
from services.payments.fx.domain.rates import Rate
from services.payments.fx.service_layer import desk as fx
from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import PLATFORM, AccountKind
from services.shared import codes
from services.shared.context import ServiceContext
from services.shared.errors import ValidationError
from services.shared.money import Money, from_proto
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.ledger_support import fund, wallets

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PLACES = {"USD": 2, "JPY": 0, "KWD": 3, "CNY": 2}


class FixedRates:
    name = "ops"

    def __init__(self) -> None:
        self.rate = Decimal(1)

    def fetch(self, base: str, quote: str, now: datetime) -> Rate:
        return Rate(base, quote, self.rate, self.name, now, now, timedelta(minutes=5))


@pytest.fixture(scope="module")
def setup() -> Iterator[tuple[ServiceContext, fx.FxDesk, FixedRates]]:
    with tempfile.TemporaryDirectory() as tmp:
        context = bootstrap.bootstrap(Settings(var_dir=Path(tmp), log_json=False), RecordingBus())
        provider = FixedRates()
        desk = bootstrap.fx_desk(context, clock=lambda: NOW, chain=RateChain([provider]))
        yield context, desk, provider
        context.close()


def posted_minor(context: ServiceContext, owner: str, kind: AccountKind, currency: str) -> tuple[int, int]:
    found = lh.list_accounts(context.uow, owner=owner, kind=kind, currency=currency)
    return (found[0].balances.debits_posted, found[0].balances.credits_posted) if found else (0, 0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    buy=st.sampled_from(["JPY", "KWD", "CNY"]),
    rate=st.decimals(min_value=Decimal("0.05"), max_value=Decimal("500"), places=5),
    sell_minor=st.integers(min_value=100, max_value=10**9),
    lock=st.sampled_from([60, 900, 86_400]),
    fix_buy=st.booleans(),
)
def test_a_conversion_posts_exactly_the_quote_and_balances_per_currency(
    setup: tuple[ServiceContext, fx.FxDesk, FixedRates],
    buy: str,
    rate: Decimal,
    sell_minor: int,
    lock: int,
    fix_buy: bool,
) -> None:
    context, desk, provider = setup
    provider.rate = rate
    w = wallets(context, "USD")
    sell = Money.from_minor(sell_minor, "USD")
    buy_amount = Money(Decimal(sell_minor).scaleb(-PLACES[buy]), buy) if fix_buy else None
    command = fx.QuoteCommand(
        codes.generate("QT"),
        codes.generate("QT"),
        w.merchant,
        "USD",
        buy,
        None if fix_buy else sell.amount,
        buy_amount.amount if buy_amount else None,
        lock,
    )
    try:
        quote = fx.create_quote(desk, command).quote
    except ValidationError as error:  # an amount that rounds to nothing is refused, naming the field
        assert error.violations[0].field in ("sell_amount", "buy_amount")
        return
    fund(context, w, str(from_proto(quote.sell).amount + 1))
    liquidity_before = posted_minor(context, PLATFORM, AccountKind.FX_LIQUIDITY, buy)
    fees_before = posted_minor(context, PLATFORM, AccountKind.FEES, buy)
    conversion = fx.convert_quote(
        desk, fx.ConvertCommand(codes.generate("QT"), codes.generate("QT"), quote.code, w.merchant)
    ).conversion
    sold, bought, spread = (from_proto(m) for m in (conversion.sell, conversion.buy, conversion.spread))
    assert (sold, bought, spread) == (from_proto(quote.sell), from_proto(quote.buy), from_proto(quote.spread))
    assert lh.get_account(context.uow, w.available.code).posted == Money.of("1.00", "USD")
    liquidity = posted_minor(context, PLATFORM, AccountKind.FX_LIQUIDITY, buy)
    fees = posted_minor(context, PLATFORM, AccountKind.FEES, buy)
    assert liquidity[0] - liquidity_before[0] == bought.minor + spread.minor
    assert fees[1] - fees_before[1] == spread.minor
    assert lh.verify_ledger(context.uow).ok


def test_a_rolled_back_first_conversion_leaves_no_stale_platform_account(tmp_path: Path) -> None:
    from services.shared.errors import XborderError

    context = bootstrap.bootstrap(Settings(var_dir=tmp_path, log_json=False), RecordingBus())
    clock = [NOW]
    provider = FixedRates()
    provider.rate = Decimal("0.30745")
    desk = bootstrap.fx_desk(context, clock=lambda: clock[0], chain=RateChain([provider]))
    try:
        w = wallets(context, "USD")

        def convert() -> None:
            clock[0] += timedelta(seconds=1)
            quote = fx.create_quote(
                desk, fx.QuoteCommand(codes.generate("QT"), "f", w.merchant, "USD", "KWD", Decimal("100"), None, 60)
            ).quote
            fx.convert_quote(desk, fx.ConvertCommand(codes.generate("QT"), "g", quote.code, w.merchant))

        # The first conversion opens FX_LIQUIDITY and FEES in KWD, then fails: all of it rolls back.
        try:
            convert()
            raise AssertionError("an empty wallet converted")
        except XborderError as error:
            assert error.reason == "INSUFFICIENT_FUNDS"
        assert lh.list_accounts(context.uow, owner=PLATFORM, currency="KWD") == []
        fund(context, w, "100.00")
        convert()
        assert {a.kind for a in lh.list_accounts(context.uow, owner=PLATFORM, currency="KWD")} == {
            AccountKind.FX_LIQUIDITY,
            AccountKind.FEES,
        }
        assert lh.verify_ledger(context.uow).ok
    finally:
        context.close()
