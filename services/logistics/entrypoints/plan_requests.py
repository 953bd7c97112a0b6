"""Parsing MatchPlansRequest into a domain Shipment, naming every bad field at once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Protocol

from google.protobuf import timestamp_pb2
from google.type import date_pb2
from xborder.logistics.v1 import plans_service_pb2 as pb

from services.logistics.domain.channels import BATTERY_UN_NUMBERS, Battery, BatteryPacking, normalise_postal_code
from services.logistics.domain.pricing import Goods, Parcel, Preference, Shipment
from services.logistics.domain.stock import Line
from services.shared import request_fields
from services.shared.errors import Violations

MAX_PARCELS = 50
MAX_WEIGHT_KG = Decimal(1000)  # far above any parcel channel; beyond it the number is a unit mistake
MAX_SIDE_CM = Decimal(500)
MAX_DECIMALS = 3
MAX_SHIP_AHEAD = timedelta(days=366)
_ALPHA2 = re.compile(r"^[A-Z]{2}$")
_HS = re.compile(r"^[0-9]{6,10}$")
_CARRIER_ID = re.compile(r"^[a-z0-9][a-z0-9_]{1,39}$")

PREFERENCES = {
    pb.PREFERENCE_UNSPECIFIED: Preference.CHEAPEST,
    pb.PREFERENCE_CHEAPEST: Preference.CHEAPEST,
    pb.PREFERENCE_FASTEST: Preference.FASTEST,
    pb.PREFERENCE_BEST_VALUE: Preference.BEST_VALUE,
    pb.PREFERENCE_DELIVER_BY: Preference.DELIVER_BY,
}
PACKINGS = {
    pb.BATTERY_PACKING_ALONE: BatteryPacking.ALONE,
    pb.BATTERY_PACKING_PACKED_WITH_EQUIPMENT: BatteryPacking.PACKED_WITH_EQUIPMENT,
    pb.BATTERY_PACKING_CONTAINED_IN_EQUIPMENT: BatteryPacking.CONTAINED_IN_EQUIPMENT,
}


class PostalRules(Protocol):
    def known(self, country: str) -> bool: ...

    def problem(self, country: str, postal_code: str) -> str | None: ...

    def uses_postal_codes(self, country: str) -> bool: ...


def quantity(text: str, field: str, violations: Violations, *, unit: str, maximum: Decimal) -> Decimal | None:
    """A positive decimal string of at most MAX_DECIMALS places, not above `maximum`."""
    if not text.strip():
        violations.add(field, "is required")
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        violations.add(field, f"{text!r} is not a decimal number")
        return None
    if not value.is_finite() or value <= 0:
        violations.add(field, f"must be a positive number of {unit}, got {text}")
        return None
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > MAX_DECIMALS and value != value.quantize(Decimal(1).scaleb(-MAX_DECIMALS)):
        violations.add(field, f"at most {MAX_DECIMALS} decimal places, got {text}")
        return None
    if value > maximum:
        violations.add(field, f"{value} {unit} is not a parcel (at most {maximum} {unit})")
        return None
    return value


def parcel(message: pb.Parcel, prefix: str, violations: Violations) -> Parcel | None:
    weight: Decimal | None = None
    if message.weight_kg and message.weight_g:
        violations.add(f"{prefix}.weight_kg", "give weight_kg or weight_g, not both")
    elif message.weight_g:
        grams = quantity(message.weight_g, f"{prefix}.weight_g", violations, unit="g", maximum=MAX_WEIGHT_KG * 1000)
        weight = None if grams is None else grams / 1000
    else:
        weight = quantity(message.weight_kg, f"{prefix}.weight_kg", violations, unit="kg", maximum=MAX_WEIGHT_KG)
    sides = [
        quantity(getattr(message, name), f"{prefix}.{name}", violations, unit="cm", maximum=MAX_SIDE_CM)
        for name in ("length_cm", "width_cm", "height_cm")
    ]
    length, width, height = sides
    if weight is None or length is None or width is None or height is None:
        return None
    return Parcel(weight, length, width, height)


def carrier_id(value: str, field: str, violations: Violations) -> str:
    """An optional carrier id (as channels and tracking events name carriers), lower-cased; "" when empty."""
    carrier = value.strip().lower()
    if carrier and not _CARRIER_ID.match(carrier):
        violations.add(field, f"{value!r} is not a carrier id: 2-40 letters, digits or '_', e.g. 'hermes'")
    return carrier


def country(value: str, field: str, violations: Violations, postal: PostalRules) -> str:
    code = value.strip().upper()
    if not code:
        violations.add(field, "is required")
    elif not _ALPHA2.match(code):
        violations.add(field, f"{value!r} is not an ISO 3166-1 alpha-2 code")
    elif not postal.known(code):
        violations.add(field, f"{code!r} is not a known country")
    else:
        return code
    return ""


def goods(message: pb.Goods, has: bool, violations: Violations) -> Goods | None:
    if not has:
        violations.add("goods", "is required (at least goods.hs_code)")
        return None
    hs = re.sub(r"[.\s]", "", message.hs_code)
    if not _HS.match(hs):
        violations.add("goods.hs_code", f"{message.hs_code!r} is not an HS code of 6 to 10 digits")
    battery = None
    if message.HasField("battery"):
        un = message.battery.un_number.strip().upper().replace(" ", "")
        packing = PACKINGS.get(message.battery.packing)
        if un not in BATTERY_UN_NUMBERS:
            violations.add(
                "goods.battery.un_number",
                f"{message.battery.un_number!r} is not one of {', '.join(sorted(BATTERY_UN_NUMBERS))}",
            )
        elif packing is None:
            violations.add("goods.battery.packing", "is required with a battery")
        elif packing not in BATTERY_UN_NUMBERS[un][1]:
            allowed = " or ".join(sorted(p.value for p in BATTERY_UN_NUMBERS[un][1]))
            violations.add("goods.battery.packing", f"{un} describes batteries {allowed}, not {packing.value}")
        else:
            battery = Battery(un, packing)
    return Goods(hs, battery, message.liquid, message.magnet, message.powder)


def calendar_date(message: date_pb2.Date, field: str, violations: Violations) -> date | None:
    try:
        return date(message.year, message.month, message.day)
    except ValueError:
        violations.add(field, f"{message.year:04d}-{message.month:02d}-{message.day:02d} is not a calendar date")
        return None


def ship_time(message: timestamp_pb2.Timestamp, has: bool, now: datetime, violations: Violations) -> datetime:
    if not has:
        return now
    at = message.ToDatetime(tzinfo=UTC)
    if at > now + MAX_SHIP_AHEAD:
        violations.add("ship_at", f"at most {MAX_SHIP_AHEAD.days} days ahead")
    return at


def shipment(request: pb.MatchPlansRequest, postal: PostalRules, now: datetime) -> Shipment:
    violations = Violations()
    if not request.parcels:
        violations.add("parcels", "at least one parcel is required")
    if len(request.parcels) > MAX_PARCELS:
        violations.add("parcels", f"at most {MAX_PARCELS} parcels, got {len(request.parcels)}")
    parcels = [parcel(p, f"parcels[{i}]", violations) for i, p in enumerate(request.parcels[:MAX_PARCELS])]
    origin = country(request.origin_country, "origin_country", violations, postal)
    destination = country(request.destination.country, "destination.country", violations, postal)
    postal_code = ""
    if destination:
        problem = postal.problem(destination, request.destination.postal_code)
        if problem:
            violations.add("destination.postal_code", problem)
        elif postal.uses_postal_codes(destination):
            postal_code = normalise_postal_code(request.destination.postal_code.strip())
    parsed_goods = goods(request.goods, request.HasField("goods"), violations)
    declared = request_fields.money(
        request.declared_value if request.HasField("declared_value") else None,
        violations,
        "declared_value",
        positive=True,
    )
    preference = PREFERENCES.get(request.preference)
    if preference is None:
        violations.add("preference", f"unknown preference {request.preference}")
    deliver_by = calendar_date(request.deliver_by, "deliver_by", violations) if request.HasField("deliver_by") else None
    if preference is Preference.DELIVER_BY and not request.HasField("deliver_by"):
        violations.add("deliver_by", "is required with PREFERENCE_DELIVER_BY")
    ship_at = ship_time(request.ship_at, request.HasField("ship_at"), now, violations)
    violations.raise_if_any()
    assert parsed_goods is not None and declared is not None and preference is not None
    return Shipment(
        tuple(p for p in parcels if p is not None),
        origin,
        destination,
        postal_code,
        parsed_goods,
        declared,
        preference,
        deliver_by,
        ship_at,
    )


MAX_STOCK_LINES = 100


def stock_lines(request: pb.MatchPlansRequest) -> tuple[str, tuple[Line, ...]] | None:
    """(merchant, lines) when the request names the order's SKUs; None when it names none."""
    if not request.lines:
        return None
    violations = Violations()
    merchant = request_fields.merchant_code(request.merchant_code, violations)
    if len(request.lines) > MAX_STOCK_LINES:
        violations.add("lines", f"at most {MAX_STOCK_LINES} lines, got {len(request.lines)}")
    lines = []
    seen: set[str] = set()
    for i, line in enumerate(request.lines[:MAX_STOCK_LINES]):
        sku = line.sku.strip()
        if not sku or len(sku) > 64:
            violations.add(f"lines[{i}].sku", "is required, at most 64 characters")
        elif sku in seen:
            violations.add(f"lines[{i}].sku", f"SKU {sku} appears twice")
        seen.add(sku)
        if line.quantity < 1:
            violations.add(f"lines[{i}].quantity", f"{line.quantity} is below 1: at least 1 unit")
        lines.append(Line(sku, line.quantity))
    violations.raise_if_any()
    return merchant, tuple(lines)
