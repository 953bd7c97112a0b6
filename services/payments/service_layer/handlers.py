"""Payments use cases. Handlers are the only place that commits; these reference reads commit nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from services.payments.adapters.repositories import CurrencyRepository, ReferenceRateRepository
from services.payments.adapters.tables import DATASET_VERSIONS
from services.payments.domain import rates
from services.shared.errors import FieldViolation, NotFound, RateUnavailable, UnknownCurrency
from services.shared.iso4217 import CurrencyInfo
from services.shared.refdata import DatasetVersions
from services.shared.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


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


def get_currency(uow_factory: UowFactory, code: str) -> CurrencyInfo:
    with uow_factory() as uow:
        DatasetVersions(uow.connection, DATASET_VERSIONS).require("iso4217_currencies")
        currency = CurrencyRepository(uow.connection).get(code)
    if currency is None:
        raise NotFound(f"no ISO 4217 currency {code!r}", field="code")
    return currency


def list_currencies(uow_factory: UowFactory, include_withdrawn: bool) -> list[CurrencyInfo]:
    with uow_factory() as uow:
        DatasetVersions(uow.connection, DATASET_VERSIONS).require("iso4217_currencies")
        return CurrencyRepository(uow.connection).list(include_withdrawn)


def get_reference_rate(uow_factory: UowFactory, query: RateQuery) -> ReferenceRate:
    with uow_factory() as uow:
        versions = DatasetVersions(uow.connection, DATASET_VERSIONS)
        versions.require("iso4217_currencies")
        dataset = versions.require("ecb_reference_rates")
        known = CurrencyRepository(uow.connection)
        unknown = [
            FieldViolation(f, f"{code!r} is not an ISO 4217 currency code")
            for f, code in (("base", query.base), ("quote", query.quote))
            if known.get(code) is None
        ]
        if unknown:
            raise UnknownCurrency(unknown)
        repo = ReferenceRateRepository(uow.connection)
        requested = query.day or repo.latest_publication()
        if requested is None:
            raise RateUnavailable("no ECB reference rates are loaded", field="date")
        published = repo.publication_on_or_before(requested)
        if published is None or requested - published > timedelta(days=rates.MAX_LOOKBACK_DAYS):
            latest = repo.latest_publication()
            raise RateUnavailable(
                f"no ECB publication within {rates.MAX_LOOKBACK_DAYS} days before {requested.isoformat()}; the "
                f"loaded rates run from {rates.FIRST_PUBLICATION.isoformat()} to "
                f"{latest.isoformat() if latest else 'nothing'}",
                field="date",
                metadata={"latest_publication": latest.isoformat() if latest else ""},
            )
        per_eur = repo.rates_on(published, {query.base, query.quote} - {"EUR"})
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
        dataset.version,
        rates.describe(requested, published, query.base, query.quote),
    )
