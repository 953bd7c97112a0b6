"""Plan matching and the channel list: reads of the catalogue that store nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.domain.channels import Channel
from services.logistics.domain.matching import MatchResult
from services.logistics.domain.pricing import Shipment
from services.logistics.domain.stock import Line, StockRefused, pick_warehouse
from services.logistics.domain.warehouse_plans import match_with_stock
from services.logistics.service_layer.catalogue_cache import CatalogueCache

UowFactory = Callable[[], LogisticsUnitOfWork]


def match_plans(uow_factory: UowFactory, cache: CatalogueCache, shipment: Shipment) -> MatchResult:
    return cache.current(uow_factory).match(shipment)


@dataclass(frozen=True)
class StockPlans:
    result: MatchResult
    note: str


def match_plans_with_stock(
    uow_factory: UowFactory, cache: CatalogueCache, shipment: Shipment, merchant: str, lines: tuple[Line, ...]
) -> StockPlans:
    """Direct plans and, when a warehouse in the destination market holds every line, its last-mile plans."""
    catalogue = cache.current(uow_factory)
    with uow_factory() as uow:
        local = {w.code: w for w in uow.stock.warehouses(shipment.country)}
        levels = [x for x in uow.stock.levels_of(merchant, [x.sku for x in lines]) if x.warehouse_code in local]
    warehouse = None
    if not local:
        note = f"no overseas warehouse in {shipment.country}"
    else:
        try:
            warehouse = local[pick_warehouse(levels, lines, {code: w.country for code, w in local.items()})]
            note = f"stock for every line at {warehouse.code} ({warehouse.country})"
        except StockRefused as short:
            details = "; ".join(v.description for v in short.violations)
            note = f"no warehouse in {shipment.country} holds every line: {details}"
    return StockPlans(match_with_stock(catalogue, shipment, warehouse), note)


@dataclass(frozen=True)
class ListedChannel:
    channel: Channel
    current_version: int  # 0: no version valid yet


def list_channels(
    uow_factory: UowFactory, cache: CatalogueCache, destination: str | None, at: datetime, carrier: str = ""
) -> list[ListedChannel]:
    """The catalogue, or the channels serving a destination, or one carrier's (a carrier id; "": all)."""
    catalogue = cache.current(uow_factory)
    listed = []
    for channel in catalogue.channels:
        if destination is not None and not channel.serves(destination):
            continue
        if carrier and channel.carrier_id != carrier:
            continue
        sheet = catalogue.current_version(channel.code, at)
        listed.append(ListedChannel(channel, sheet.version if sheet else 0))
    return listed
