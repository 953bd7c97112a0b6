"""Logistics use cases. Handlers are the only place that commits; these reference reads commit nothing."""

from __future__ import annotations

from collections.abc import Callable

from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.domain.countries import Country, CountryCode
from services.logistics.domain.status_codes import StatusCode
from services.shared.errors import ValidationError, found_or_raise

UowFactory = Callable[[], LogisticsUnitOfWork]
COUNTRIES = "iso3166_countries"
STATUS_CODES = "unece_rec24_status_codes"


def get_country(uow_factory: UowFactory, code: CountryCode) -> Country:
    with uow_factory() as uow:
        uow.datasets.require(COUNTRIES)
        country = uow.countries.get(code)
    return found_or_raise(country, f"no ISO 3166-1 country with {code.kind.value} code {code.value!r}", field="code")


def list_countries(uow_factory: UowFactory, region: str | None) -> list[Country]:
    """Every country, or those of one UN M49 region (matched case-insensitively, e.g. "europe")."""
    with uow_factory() as uow:
        uow.datasets.require(COUNTRIES)
        repository = uow.countries
        if region is None:
            return repository.list(None)
        # The valid names come from the loaded table, so a new M49 region needs no code change.
        regions = repository.regions()
        canonical = next((name for name in regions if name.casefold() == region.casefold()), None)
        if canonical is None:
            raise ValidationError.single("region", f"{region!r} is not a UN M49 region; one of: {', '.join(regions)}")
        return repository.list(canonical)


def get_status_code(uow_factory: UowFactory, code: str) -> StatusCode:
    with uow_factory() as uow:
        uow.datasets.require(STATUS_CODES)
        found = uow.status_codes.get(code)
    return found_or_raise(found, f"no UN/CEFACT Rec. 24 status code {code!r}", field="code")


def list_status_codes(uow_factory: UowFactory, words: tuple[str, ...]) -> list[StatusCode]:
    with uow_factory() as uow:
        uow.datasets.require(STATUS_CODES)
        return uow.status_codes.list(words)
