"""Reference-data reads: ISO 4217 currencies and ECB reference rates (crossed through EUR). Nothing commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from services.payments.reference_data import domain as rates
from services.payments.reference_data.adapters.catalog import CurrencyTable, RateCalendar
from services.payments.unit_of_work import PaymentsUnitOfWork
from services.shared.errors import FieldViolation, RateUnavailable, UnknownCurrency, found_or_raise
from services.shared.iso4217 import CurrencyInfo

UowFactory = Callable[[], PaymentsUnitOfWork]


@dataclass(frozen=True)
class RateQuery:
    base: str
    quote: str
    day: date | None  # None: the latest publication


@dataclass(frozen=True)
class ReferenceRate:
    base: str
    quote: str
    rate: Decimal
    requested_date: date
    rate_date: date
    derivation: str
    source: str
    dataset_version: str
    note: str

    @property
    def previous_day_applied(self) -> bool:
        return self.rate_date < self.requested_date


@dataclass(frozen=True)
class ReferenceData:
    """What the payments reads need: the in-memory tables and, for the rates themselves, the database."""

    uow_factory: UowFactory
    currencies: Callable[[], CurrencyTable]
    calendar: Callable[[], RateCalendar]


def get_currency(refs: ReferenceData, code: str) -> CurrencyInfo:
    return found_or_raise(refs.currencies().get(code), f"no ISO 4217 currency {code!r}", field="code")


def list_currencies(refs: ReferenceData, include_withdrawn: bool) -> list[CurrencyInfo]:
    return refs.currencies().listed(include_withdrawn)


def get_reference_rate(refs: ReferenceData, query: RateQuery) -> ReferenceRate:
    currencies = refs.currencies()
    unknown = [
        FieldViolation(f, f"{code!r} is not an ISO 4217 currency code")
        for f, code in (("base", query.base), ("quote", query.quote))
        if currencies.by_code.get(code) is None
    ]
    if unknown:
        raise UnknownCurrency(unknown)
    calendar = refs.calendar()
    requested = query.day or calendar.latest
    if requested is None:
        raise RateUnavailable("no ECB reference rates are loaded", field="date")
    published = calendar.on_or_before(requested)
    if published is None or requested - published > timedelta(days=rates.MAX_LOOKBACK_DAYS):
        latest = calendar.latest
        raise RateUnavailable(
            f"no ECB publication within {rates.MAX_LOOKBACK_DAYS} days before {requested.isoformat()}; the "
            f"loaded rates run from {rates.FIRST_PUBLICATION.isoformat()} to "
            f"{latest.isoformat() if latest else 'nothing'}",
            field="date",
            metadata={"latest_publication": latest.isoformat() if latest else ""},
        )
    with refs.uow_factory() as uow:
        per_eur = uow.reference_rates.rates_on(published, {query.base, query.quote} - {"EUR"})
    try:
        crossed = rates.cross_rate(query.base, query.quote, per_eur)
    except KeyError as missing:
        code = missing.args[0]
        field = "base" if code == query.base else "quote"
        raise RateUnavailable(
            f"the ECB did not publish a {code} rate on {published.isoformat()}", field=field
        ) from None
    return ReferenceRate(
        query.base,
        query.quote,
        crossed.rate,
        requested,
        published,
        crossed.derivation,
        rates.SOURCE,
        calendar.version,
        rates.describe(requested, published, query.base, query.quote),
    )
