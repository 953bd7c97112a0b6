"""ECB reference rates: cross rates through EUR and the previous-publication rule."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.payments import bootstrap
from services.payments.reference_data import service_layer as handlers
from services.payments.reference_data.adapters.datasets import DATASETS
from services.payments.reference_data.domain import cross_rate, round_significant
from services.shared.context import ServiceContext
from services.shared.errors import RateUnavailable, ReferenceDataMissing, UnknownCurrency
from services.shared.refdata import import_dataset
from services.shared.settings import Settings
from tests.fakes import RecordingBus

per_eur = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=4)


@given(per_eur, per_eur)
def test_cross_rate_is_the_ratio_of_the_euro_rates(usd: Decimal, cny: Decimal) -> None:
    crossed = cross_rate("USD", "CNY", {"USD": usd, "CNY": cny}).rate
    assert crossed == round_significant(cny / usd)
    back = cross_rate("CNY", "USD", {"USD": usd, "CNY": cny}).rate
    assert abs(crossed * back - 1) < Decimal("1e-8")


def test_euro_legs_use_the_published_figure() -> None:
    table = {"USD": Decimal("1.0844")}
    assert cross_rate("EUR", "USD", table).rate == Decimal("1.084400000")
    assert cross_rate("EUR", "USD", table).derivation == "EUR->USD"
    assert cross_rate("USD", "EUR", table).derivation == "USD->EUR"
    assert cross_rate("USD", "USD", table).rate == 1


def test_a_currency_the_day_does_not_quote_is_named() -> None:
    with pytest.raises(KeyError) as missing:
        cross_rate("USD", "RUB", {"USD": Decimal("1.1")})
    assert missing.value.args[0] == "RUB"


ECB_SAMPLE = """Date,USD,JPY,RUB,CNY,
2024-03-28,1.0811,163.45,N/A,7.8087,
2024-03-27,1.0826,163.61,N/A,7.8223,
2024-03-15,1.0887,161.92,N/A,7.8343,
2024-03-14,1.0925,161.75,N/A,7.8653,
"""


@pytest.fixture
def payments(settings: Settings, tmp_path: Path) -> ServiceContext:
    context = bootstrap.bootstrap(settings, RecordingBus())
    currencies, rates = DATASETS
    import_dataset(context.uow(), context.datasets, currencies, settings.data_dir)
    archive = tmp_path / "eurofxref-hist.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("eurofxref-hist.csv", ECB_SAMPLE)
    import_dataset(context.uow(), context.datasets, rates, settings.data_dir, path=archive)
    return context


def ask(context: ServiceContext, base: str, quote: str, day: date | None) -> handlers.ReferenceRate:
    return handlers.get_reference_rate(bootstrap.reference_data(context), handlers.RateQuery(base, quote, day))


def test_published_day(payments: ServiceContext) -> None:
    rate = ask(payments, "USD", "CNY", date(2024, 3, 15))
    assert rate.rate == round_significant(Decimal("7.8343") / Decimal("1.0887"))
    assert rate.rate_date == date(2024, 3, 15) and not rate.previous_day_applied


def test_weekend_takes_friday_and_says_so(payments: ServiceContext) -> None:
    rate = ask(payments, "USD", "CNY", date(2024, 3, 17))
    assert rate.rate_date == date(2024, 3, 15)
    assert rate.previous_day_applied
    assert "Sunday" in rate.note and "2024-03-15" in rate.note


def test_easter_gap_is_bridged(payments: ServiceContext) -> None:
    # Good Friday 2024-03-29 and Easter Monday 2024-04-01 were TARGET holidays: Thursday's rate applies.
    assert ask(payments, "EUR", "USD", date(2024, 4, 1)).rate_date == date(2024, 3, 28)


def test_a_gap_longer_than_a_week_is_an_error_not_a_stale_rate(payments: ServiceContext) -> None:
    with pytest.raises(RateUnavailable) as error:
        ask(payments, "USD", "CNY", date(2024, 4, 10))
    assert error.value.field == "date"
    assert "2024-03-28" in error.value.message


def test_no_date_means_latest_publication(payments: ServiceContext) -> None:
    rate = ask(payments, "USD", "JPY", None)
    assert rate.rate_date == rate.requested_date == date(2024, 3, 28)


def test_unquoted_currency_names_the_field(payments: ServiceContext) -> None:
    with pytest.raises(RateUnavailable) as error:
        ask(payments, "RUB", "CNY", date(2024, 3, 15))
    assert error.value.field == "base"


def test_unknown_currency_names_both_fields(payments: ServiceContext) -> None:
    with pytest.raises(UnknownCurrency) as error:
        ask(payments, "ABC", "XYQ", date(2024, 3, 15))
    assert [v.field for v in error.value.violations] == ["base", "quote"]


def test_before_import_the_service_says_what_is_missing(settings: Settings) -> None:
    context = bootstrap.bootstrap(settings, RecordingBus())
    with pytest.raises(ReferenceDataMissing, match="xborder import"):
        ask(context, "USD", "CNY", None)


def test_a_broken_file_changes_nothing(payments: ServiceContext, tmp_path: Path) -> None:
    before = ask(payments, "USD", "CNY", date(2024, 3, 15))
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as handle:
        handle.writestr("eurofxref-hist.csv", ECB_SAMPLE.replace("7.8343", "7,83"))
    payments.relay.drain()
    published = len(payments.relay.bus.published)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="line 4 has 7 cells where the header has 6"):
        import_dataset(payments.uow(), payments.datasets, DATASETS[1], payments.settings.data_dir, path=broken)
    payments.relay.drain()
    assert ask(payments, "USD", "CNY", date(2024, 3, 15)) == before
    assert len(payments.relay.bus.published) == published  # type: ignore[attr-defined]


@pytest.mark.parametrize(("cell", "message"), [("abc", "bad rate 'abc' for CNY"), ("-7.8", "bad rate '-7.8'")])
def test_a_rate_that_is_not_a_positive_decimal_is_refused(cell: str, message: str, tmp_path: Path) -> None:
    from services.shared.ecb_file import read_ecb_history

    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("eurofxref-hist.csv", ECB_SAMPLE.replace("7.8343", cell))
    with pytest.raises(ValueError, match=message):
        read_ecb_history(archive)
