"""Plan matching and the channel list: reads of the catalogue that store nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.logistics.adapters.unit_of_work import LogisticsUnitOfWork
from services.logistics.domain.channels import Channel
from services.logistics.domain.matching import MatchResult
from services.logistics.domain.pricing import Shipment
from services.logistics.service_layer.catalogue_cache import CatalogueCache

UowFactory = Callable[[], LogisticsUnitOfWork]


def match_plans(uow_factory: UowFactory, cache: CatalogueCache, shipment: Shipment) -> MatchResult:
    return cache.current(uow_factory).match(shipment)


@dataclass(frozen=True)
class ListedChannel:
    channel: Channel
    current_version: int  # 0: no version valid yet


def list_channels(
    uow_factory: UowFactory, cache: CatalogueCache, destination: str | None, at: datetime
) -> list[ListedChannel]:
    catalogue = cache.current(uow_factory)
    listed = []
    for channel in catalogue.channels:
        if destination is not None and not channel.serves(destination):
            continue
        sheet = catalogue.current_version(channel.code, at)
        listed.append(ListedChannel(channel, sheet.version if sheet else 0))
    return listed
