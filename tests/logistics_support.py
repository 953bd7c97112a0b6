"""The sample channel catalogue (data/logistics) as domain objects, and shipments to match against it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

from services.logistics.domain.channels import Battery, BatteryPacking, Channel, channel_from_mapping
from services.logistics.domain.matching import Catalogue
from services.logistics.domain.pricing import Goods, Parcel, Preference, Shipment
from services.logistics.domain.rate_sheets import RateSheet, ZoneRates, parse_sheet
from services.shared.money import Money, minor_unit

DATA = Path(__file__).resolve().parents[1] / "data" / "logistics"
SAMPLE_VALID_FROM = datetime(2026, 1, 1, tzinfo=UTC)
SHIP_AT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai: before every sample cut-off

# Valid postal codes per destination, including remote-area and island ranges of the sample channels.
POSTAL_CODES = {
    "US": ["10001", "94105", "99501", "96813", "30301"],
    "DE": ["10115", "80331"],
    "FR": ["75001"],
    "NL": ["1012AB"],
    "ES": ["28013"],
    "IT": ["00144"],
    "GB": ["EC1Y8SY", "HS12AB", "BT11AA", "IV11AA"],
    "JP": ["1000001", "9000001"],
    "AU": ["2000", "0800", "6701"],
    "SA": ["11564"],
    "AE": [""],
}


def channel(definition: dict) -> Channel:
    return channel_from_mapping(definition, minor_unit(definition["currency"]))


@lru_cache(maxsize=1)
def sample_definitions() -> tuple[dict, ...]:
    return tuple(yaml.safe_load((DATA / "channels.yaml").read_text(encoding="utf-8"))["channels"])


def sample_channels() -> dict[str, Channel]:
    return {d["code"]: channel(d) for d in sample_definitions()}


def sheets_from(text: str, channels: dict[str, Channel], version: int = 1, valid_from: datetime = SAMPLE_VALID_FROM):
    return {
        code: [RateSheet(code, version, valid_from, {z: ZoneRates.of(b) for z, b in zones.items()})]
        for code, zones in parse_sheet(text, channels).items()
    }


def sample_catalogue() -> Catalogue:
    channels = sample_channels()
    return Catalogue(tuple(channels.values()), sheets_from((DATA / "rates.csv").read_text(encoding="utf-8"), channels))


def shipment(**changes: object) -> Shipment:
    """One 1.2 kg speaker (lithium-ion cells inside) from CN to New York; fields replaced by `changes`."""
    base = Shipment(
        parcels=(Parcel(Decimal("1.2"), Decimal(30), Decimal(20), Decimal(10)),),
        origin="CN",
        country="US",
        postal_code="10001",
        goods=Goods("851822", Battery("UN3481", BatteryPacking.CONTAINED_IN_EQUIPMENT), False, False, False),
        declared_value=Money(Decimal("40.00"), "USD"),
        preference=Preference.CHEAPEST,
        deliver_by=None,
        ship_at=SHIP_AT,
    )
    return replace(base, **changes)  # type: ignore[arg-type]
