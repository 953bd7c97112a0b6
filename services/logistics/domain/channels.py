"""Shipping channels: who carries what where, at which published transit times (pure Python).

A channel's definition (zones, limits, goods restrictions, surcharges) is data; its prices live in
versioned rate sheets (domain.rate_sheets). Definitions are read from a mapping (the seed file's YAML, the
stored JSON) by `channel_from_mapping`, which names the channel and the key of every problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.shared.money import Money


class ChannelKind(Enum):
    POSTAL = "postal"
    EXPRESS = "express"
    DEDICATED_LINE = "dedicated_line"
    AIR_FREIGHT_WAREHOUSE = "air_freight_warehouse"
    SEA_FREIGHT_WAREHOUSE = "sea_freight_warehouse"


class BatteryPacking(Enum):
    ALONE = "alone"
    PACKED_WITH_EQUIPMENT = "packed_with_equipment"
    CONTAINED_IN_EQUIPMENT = "contained_in_equipment"


# UN numbers of lithium cells and the packings each one describes (IATA DGR: UN3480/UN3090 are cells on
# their own; UN3481/UN3091 are cells packed with or contained in equipment).
BATTERY_UN_NUMBERS: dict[str, tuple[str, frozenset[BatteryPacking]]] = {
    "UN3480": ("lithium-ion", frozenset({BatteryPacking.ALONE})),
    "UN3090": ("lithium metal", frozenset({BatteryPacking.ALONE})),
    "UN3481": (
        "lithium-ion",
        frozenset({BatteryPacking.PACKED_WITH_EQUIPMENT, BatteryPacking.CONTAINED_IN_EQUIPMENT}),
    ),
    "UN3091": (
        "lithium metal",
        frozenset({BatteryPacking.PACKED_WITH_EQUIPMENT, BatteryPacking.CONTAINED_IN_EQUIPMENT}),
    ),
}

_PACKING_WORDS = {
    BatteryPacking.ALONE: "shipped alone",
    BatteryPacking.PACKED_WITH_EQUIPMENT: "packed with equipment",
    BatteryPacking.CONTAINED_IN_EQUIPMENT: "contained in equipment",
}


@dataclass(frozen=True)
class Battery:
    un_number: str
    packing: BatteryPacking

    def describe(self) -> str:
        chemistry = BATTERY_UN_NUMBERS[self.un_number][0]
        return f"{self.un_number} {chemistry} batteries {_PACKING_WORDS[self.packing]}"


_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
_CARRIER_ID = re.compile(r"^[a-z0-9][a-z0-9_]{1,39}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_POSTAL_BOUND = re.compile(r"^[A-Z0-9]{1,10}$")
_CHAPTER = re.compile(r"^[0-9]{2}$")


def normalise_postal_code(code: str) -> str:
    """Upper case without spaces or hyphens ("154-0023" -> "1540023", "ec1y 8sy" -> "EC1Y8SY")."""
    return code.upper().replace(" ", "").replace("-", "")


@dataclass(frozen=True)
class PostalRange:
    """Codes whose first len(low) characters lie between low and high, e.g. 995-999 (Alaska ZIPs), HS (Outer
    Hebrides). Bounds have one length, so prefixes compare as strings whether they hold digits or letters."""

    low: str
    high: str

    @classmethod
    def parse(cls, text: str) -> PostalRange:
        low, _, high = text.strip().upper().partition("-")
        high = high or low
        if not (_POSTAL_BOUND.match(low) and _POSTAL_BOUND.match(high)):
            raise ValueError(f"postal range {text!r} is not FROM-TO of letters and digits")
        if len(low) != len(high) or low > high:
            raise ValueError(f"postal range {text!r}: bounds need one length and FROM <= TO")
        return cls(low, high)

    def contains(self, normalised: str) -> bool:
        prefix = normalised[: len(self.low)]
        return len(prefix) == len(self.low) and self.low <= prefix <= self.high

    def __str__(self) -> str:
        return self.low if self.low == self.high else f"{self.low}-{self.high}"


@dataclass(frozen=True)
class Zone:
    name: str
    countries: frozenset[str]
    postal_ranges: tuple[PostalRange, ...]  # empty: the whole countries
    transit_min_days: int
    transit_max_days: int

    def covers(self, country: str, normalised_postal: str) -> bool:
        if country not in self.countries:
            return False
        return not self.postal_ranges or any(r.contains(normalised_postal) for r in self.postal_ranges)


@dataclass(frozen=True)
class Restrictions:
    batteries: frozenset[tuple[str, BatteryPacking]]  # accepted (UN number, packing) pairs
    liquids: bool
    magnets: bool
    powders: bool
    max_declared_value: Money | None
    max_weight_kg: Decimal
    max_side_cm: Decimal
    max_girth_cm: Decimal | None  # length + 2 x (width + height)
    prohibited_hs_chapters: frozenset[str]

    def describe(self) -> list[str]:
        accepted = sorted(f"{un} {_PACKING_WORDS[p]}" for un, p in self.batteries)
        lines = [f"batteries: {', '.join(accepted)}" if accepted else "no lithium batteries"]
        lines += [f"{word}: {'accepted' if ok else 'not accepted'}" for word, ok in self._goods()]
        lines.append(f"max {self.max_weight_kg} kg and {self.max_side_cm} cm longest side per parcel")
        if self.max_girth_cm is not None:
            lines.append(f"max {self.max_girth_cm} cm length + girth")
        if self.max_declared_value is not None:
            lines.append(f"max declared value {self.max_declared_value}")
        if self.prohibited_hs_chapters:
            lines.append(f"prohibited HS chapters: {', '.join(sorted(self.prohibited_hs_chapters))}")
        return lines

    def _goods(self) -> list[tuple[str, bool]]:
        return [("liquids", self.liquids), ("magnets", self.magnets), ("powders", self.powders)]


@dataclass(frozen=True)
class RemoteArea:
    fee_per_parcel: Decimal
    ranges: Mapping[str, tuple[PostalRange, ...]]  # country -> ranges

    def applies(self, country: str, normalised_postal: str) -> bool:
        return any(r.contains(normalised_postal) for r in self.ranges.get(country, ()))


@dataclass(frozen=True)
class Channel:
    code: str
    name: str
    carrier: str
    carrier_id: str  # the owning carrier (a code table's id): its events move the shipments, its partner the rates
    kind: ChannelKind
    origin_countries: frozenset[str]
    currency: str
    currency_exponent: int
    dim_divisor: int | None  # cm3 per kg; None: priced on actual weight only (most postal services)
    weight_increment_kg: Decimal
    zones: tuple[Zone, ...]
    fuel_surcharge_percent: Decimal
    remote_area: RemoteArea | None
    cutoff: time
    timezone: ZoneInfo
    restrictions: Restrictions
    default_quality: int  # 0-100 until tracking history exists
    definition: Mapping[str, Any] = field(compare=False, repr=False)  # the mapping it was read from
    # Further carriers whose events move its shipments (first mile, line haul, last mile); never carrier_id.
    tracking_carriers: frozenset[str] = frozenset()

    def zone_for(self, country: str, normalised_postal: str) -> Zone | None:
        """The zone pricing this destination; a zone limited to postal ranges wins over a country-wide one."""
        country_wide = None
        for zone in self.zones:
            if zone.covers(country, normalised_postal):
                if zone.postal_ranges:
                    return zone
                country_wide = country_wide or zone
        return country_wide

    @cached_property
    def destinations(self) -> frozenset[str]:
        return frozenset(country for zone in self.zones for country in zone.countries)

    def serves(self, country: str) -> bool:
        return country in self.destinations

    def zone_names(self) -> frozenset[str]:
        return frozenset(zone.name for zone in self.zones)


class DefinitionProblem(ValueError):
    """A channel definition is unusable; the message names the channel and the key."""


def _decimal(value: Any, where: str, *, positive: bool = False, allow_zero: bool = True) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise DefinitionProblem(f"{where}: {value!r} is not a decimal number") from None
    if not number.is_finite() or number < 0 or (positive and number == 0) or (not allow_zero and number == 0):
        raise DefinitionProblem(f"{where}: must be a {'positive' if positive else 'non-negative'} number")
    return number


def _countries(values: Any, where: str, known: frozenset[str]) -> frozenset[str]:
    if not isinstance(values, list) or not values:
        raise DefinitionProblem(f"{where}: a non-empty list of ISO 3166-1 alpha-2 codes is required")
    for value in values:
        if not isinstance(value, str) or not _COUNTRY.match(value) or (known and value not in known):
            raise DefinitionProblem(f"{where}: {value!r} is not an ISO 3166-1 alpha-2 country code")
    return frozenset(values)


def _ranges(values: Any, where: str) -> tuple[PostalRange, ...]:
    if not isinstance(values, list):
        raise DefinitionProblem(f"{where}: a list of postal ranges FROM-TO is required")
    try:
        return tuple(PostalRange.parse(str(value)) for value in values)
    except ValueError as problem:
        raise DefinitionProblem(f"{where}: {problem}") from None


def _zone(raw: Any, where: str, known: frozenset[str]) -> Zone:
    if not isinstance(raw, dict) or not raw.get("name"):
        raise DefinitionProblem(f"{where}: a zone needs a name")
    where = f"{where} ({raw['name']})"
    transit = raw.get("transit_days")
    if not (isinstance(transit, list) and len(transit) == 2 and all(isinstance(d, int) for d in transit)):
        raise DefinitionProblem(f"{where}.transit_days: [min, max] whole days are required")
    low, high = transit
    if not 0 < low <= high <= 180:
        raise DefinitionProblem(f"{where}.transit_days: need 0 < min <= max <= 180, got {transit}")
    return Zone(
        str(raw["name"]),
        _countries(raw.get("countries"), f"{where}.countries", known),
        _ranges(raw.get("postal_ranges", []), f"{where}.postal_ranges"),
        low,
        high,
    )


def _batteries(values: Any, where: str) -> frozenset[tuple[str, BatteryPacking]]:
    accepted: set[tuple[str, BatteryPacking]] = set()
    for value in values or []:
        un, _, packing = str(value).partition(":")
        try:
            parsed = BatteryPacking(packing)
        except ValueError:
            raise DefinitionProblem(f"{where}: {value!r} is not UN number:packing") from None
        if un not in BATTERY_UN_NUMBERS or parsed not in BATTERY_UN_NUMBERS[un][1]:
            raise DefinitionProblem(f"{where}: {value!r} is not a lithium UN number with a packing it allows")
        accepted.add((un, parsed))
    return frozenset(accepted)


def _restrictions(raw: Any, where: str) -> Restrictions:
    if not isinstance(raw, dict):
        raise DefinitionProblem(f"{where}: a mapping is required")
    declared = raw.get("max_declared_value")
    max_value = None
    if declared is not None:
        amount, _, currency = str(declared).partition(" ")
        try:
            max_value = Money.of(_decimal(amount, f"{where}.max_declared_value", positive=True), currency)
        except Exception as problem:  # a ValidationError from Money names the currency problem
            raise DefinitionProblem(f"{where}.max_declared_value: {problem}") from None
    chapters = [str(c) for c in raw.get("prohibited_hs_chapters", [])]
    for chapter in chapters:
        if not _CHAPTER.match(chapter):
            raise DefinitionProblem(f"{where}.prohibited_hs_chapters: {chapter!r} is not a 2-digit HS chapter")
    girth = raw.get("max_girth_cm")
    return Restrictions(
        batteries=_batteries(raw.get("batteries"), f"{where}.batteries"),
        liquids=bool(raw.get("liquids", False)),
        magnets=bool(raw.get("magnets", False)),
        powders=bool(raw.get("powders", False)),
        max_declared_value=max_value,
        max_weight_kg=_decimal(raw.get("max_weight_kg"), f"{where}.max_weight_kg", positive=True),
        max_side_cm=_decimal(raw.get("max_side_cm"), f"{where}.max_side_cm", positive=True),
        max_girth_cm=None if girth is None else _decimal(girth, f"{where}.max_girth_cm", positive=True),
        prohibited_hs_chapters=frozenset(chapters),
    )


def _cutoff(raw: Any, where: str) -> tuple[time, ZoneInfo]:
    if not isinstance(raw, dict):
        raise DefinitionProblem(f"{where}: {{time: 'HH:MM', timezone: IANA name}} is required")
    try:
        hours, minutes = (int(part) for part in str(raw.get("time", "")).split(":"))
        at = time(hours, minutes)
    except ValueError:
        raise DefinitionProblem(f"{where}.time: {raw.get('time')!r} is not HH:MM") from None
    try:
        zone = ZoneInfo(str(raw.get("timezone", "")))
    except (ZoneInfoNotFoundError, ValueError):
        raise DefinitionProblem(f"{where}.timezone: {raw.get('timezone')!r} is not an IANA time zone") from None
    return at, zone


def _tracking_carriers(values: Any, carrier_id: str, where: str, known: frozenset[str]) -> frozenset[str]:
    if values is None:
        return frozenset()
    if not isinstance(values, list):
        raise DefinitionProblem(f"{where}: a list of carrier ids is required")
    found = set()
    for value in values:
        carrier = str(value or "").strip().lower()
        if not _CARRIER_ID.match(carrier):
            raise DefinitionProblem(f"{where}: {value!r} is not a carrier id (2-40 lower-case letters, digits or '_')")
        if known and carrier not in known:
            raise DefinitionProblem(f"{where}: {value!r} has no carrier code table (known: {', '.join(sorted(known))})")
        if carrier == carrier_id:
            raise DefinitionProblem(f"{where}: {value!r} is the channel's carrier_id, which tracks it already")
        if carrier in found:
            raise DefinitionProblem(f"{where}: {value!r} is named twice")
        found.add(carrier)
    return frozenset(found)


def channel_from_mapping(
    raw: Mapping[str, Any],
    currency_exponent: int,
    known_countries: frozenset[str] = frozenset(),
    known_carriers: frozenset[str] = frozenset(),
) -> Channel:
    """A channel from its definition; `known_countries` (when given) is the ISO 3166-1 list to check against,
    `known_carriers` (when given) the carrier ids that have a code table."""
    code = str(raw.get("code", ""))
    if not _CODE.match(code):
        raise DefinitionProblem(f"channel {code!r}: code must be 2-40 upper-case letters, digits or '-'")
    where = f"channel {code}"
    try:
        kind = ChannelKind(raw.get("kind"))
    except ValueError:
        kinds = ", ".join(k.value for k in ChannelKind)
        raise DefinitionProblem(f"{where}.kind: {raw.get('kind')!r} is not one of {kinds}") from None
    zones = tuple(_zone(z, f"{where}.zones[{i}]", known_countries) for i, z in enumerate(raw.get("zones") or []))
    if not zones:
        raise DefinitionProblem(f"{where}.zones: at least one zone is required")
    names = [zone.name for zone in zones]
    if len(set(names)) != len(names):
        raise DefinitionProblem(f"{where}.zones: zone names must be unique")
    divisor = raw.get("dim_divisor")
    if divisor is not None and (not isinstance(divisor, int) or not 1000 <= divisor <= 20000):
        raise DefinitionProblem(f"{where}.dim_divisor: a whole number of cm3 per kg between 1000 and 20000")
    remote = raw.get("remote_area")
    remote_area = None
    if remote is not None:
        ranges = remote.get("ranges") if isinstance(remote, dict) else None
        if not isinstance(ranges, dict):
            raise DefinitionProblem(f"{where}.remote_area.ranges: a mapping country -> ranges is required")
        remote_area = RemoteArea(
            _decimal(remote.get("fee_per_parcel"), f"{where}.remote_area.fee_per_parcel", positive=True),
            {
                country: _ranges(values, f"{where}.remote_area.ranges.{country}")
                for country, values in sorted(ranges.items())
            },
        )
    quality = raw.get("default_quality")
    if not isinstance(quality, int) or not 0 <= quality <= 100:
        raise DefinitionProblem(f"{where}.default_quality: a whole number 0-100 is required")
    cutoff, timezone = _cutoff(raw.get("cutoff"), f"{where}.cutoff")
    carrier_id = str(raw.get("carrier_id") or "").strip().lower()
    if not _CARRIER_ID.match(carrier_id):
        raise DefinitionProblem(
            f"{where}.carrier_id: {raw.get('carrier_id')!r} is not a carrier id (2-40 lower-case letters, digits "
            "or '_', as tracking events name the carrier)"
        )
    if known_carriers and carrier_id not in known_carriers:
        raise DefinitionProblem(
            f"{where}.carrier_id: {raw.get('carrier_id')!r} has no carrier code table "
            f"(known: {', '.join(sorted(known_carriers))})"
        )
    tracking = _tracking_carriers(
        raw.get("tracking_carriers"), carrier_id, f"{where}.tracking_carriers", known_carriers
    )
    return Channel(
        code=code,
        name=str(raw.get("name") or code),
        carrier=str(raw.get("carrier") or ""),
        carrier_id=carrier_id,
        kind=kind,
        origin_countries=_countries(raw.get("origin_countries"), f"{where}.origin_countries", known_countries),
        currency=str(raw.get("currency")),
        currency_exponent=currency_exponent,
        dim_divisor=divisor,
        weight_increment_kg=_decimal(raw.get("weight_increment_kg"), f"{where}.weight_increment_kg", positive=True),
        zones=zones,
        fuel_surcharge_percent=_decimal(raw.get("fuel_surcharge_percent", 0), f"{where}.fuel_surcharge_percent"),
        remote_area=remote_area,
        cutoff=cutoff,
        timezone=timezone,
        restrictions=_restrictions(raw.get("restrictions"), f"{where}.restrictions"),
        default_quality=quality,
        definition=raw,
        tracking_carriers=tracking,
    )
