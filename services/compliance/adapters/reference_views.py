"""In-memory views of the datasets a check reads on every call (refreshed when an import changes them)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from threading import Lock

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.compliance.adapters.check_datasets import COUNTRIES, ECB_RATES, EU_VAT
from services.compliance.adapters.tables import hs_codes, ref_countries, ref_ecb_rates, ref_vat_rates
from services.compliance.domain.engine import CompiledLibrary
from services.compliance.domain.fx import EcbRates
from services.compliance.domain.rules import Rule
from services.compliance.domain.vat import VatTable
from services.shared.context import ServiceContext
from services.shared.refcache import DatasetCache
from services.shared.refdata import DatasetVersion

HS_DATASET = "hs2022"


@dataclass(frozen=True)
class HsView:
    codes: frozenset[str]  # every level: 2, 4 and 6 digits
    version: str


@dataclass(frozen=True)
class CountryView:
    names: dict[str, tuple[str, str]]  # alpha-2 -> (English, Chinese)
    version: str


def _hs(connection: Connection, current: DatasetVersion) -> HsView:
    return HsView(frozenset(connection.execute(sa.select(hs_codes.c.code)).scalars()), current.version)


def _countries(connection: Connection, current: DatasetVersion) -> CountryView:
    t = ref_countries
    rows = connection.execute(sa.select(t.c.alpha2, t.c.name_en, t.c.name_zh))
    return CountryView({r.alpha2: (r.name_en, r.name_zh) for r in rows}, current.version)


def _rates(connection: Connection, current: DatasetVersion) -> EcbRates:
    t = ref_ecb_rates
    rows = connection.execute(sa.select(t.c.rate_date, t.c.rates))
    return EcbRates.from_rows(
        [(r.rate_date, currency, Decimal(rate)) for r in rows for currency, rate in json.loads(r.rates).items()],
        current.version,
    )


def _vat(connection: Connection, current: DatasetVersion) -> VatTable:
    t = ref_vat_rates
    rows = connection.execute(sa.select(t.c.country, t.c.effective_from, t.c.standard_percent))
    return VatTable.from_rows(
        [(r.country, r.effective_from, Decimal(r.standard_percent)) for r in rows], current.version
    )


class CompiledLibraries:
    """Compiled rule indexes by library version. A published version never changes, so entries never go stale;
    the few most recent are kept (a check `as_of` an old date may ask for an old version)."""

    def __init__(self, size: int = 8) -> None:
        self._items: OrderedDict[int, CompiledLibrary] = OrderedDict()
        self._lock = Lock()
        self.size = size

    def get(self, version: int, load: Callable[[int], list[Rule]]) -> CompiledLibrary:
        with self._lock:
            if version in self._items:
                self._items.move_to_end(version)
                return self._items[version]
        compiled = CompiledLibrary(load(version))
        with self._lock:
            self._items[version] = compiled
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return compiled


@dataclass
class CheckViews:
    hs: DatasetCache[HsView]
    countries: DatasetCache[CountryView]
    rates: DatasetCache[EcbRates]
    vat: DatasetCache[VatTable]
    libraries: CompiledLibraries


def check_views(context: ServiceContext) -> CheckViews:
    return CheckViews(
        hs=context.cache(HS_DATASET, _hs),
        countries=context.cache(COUNTRIES, _countries),
        rates=context.cache(ECB_RATES, _rates, ttl=5.0),
        vat=context.cache(EU_VAT, _vat),
        libraries=CompiledLibraries(),
    )
