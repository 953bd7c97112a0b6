"""A booked shipment and its sample carrier waybill number.

Waybill numbers follow the UPU S10 layout (two letters, eight digits, a check digit, the origin country),
which postal and many express channels use. The two letters are a sample prefix per channel kind, not
any carrier's real range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.logistics.domain.channels import ChannelKind
from services.logistics.domain.pricing import Parcel
from services.logistics.domain.tracking import Status

WAYBILL_PREFIX: dict[ChannelKind, str] = {
    ChannelKind.POSTAL: "RX",
    ChannelKind.EXPRESS: "EX",
    ChannelKind.DEDICATED_LINE: "LX",
    ChannelKind.AIR_FREIGHT_WAREHOUSE: "AX",
    ChannelKind.SEA_FREIGHT_WAREHOUSE: "SX",
}
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> str:
    """The S10 check digit of eight digits: 11 - (weighted sum mod 11), 10 -> 0, 11 -> 5."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError(f"an S10 serial is eight digits, got {serial!r}")
    check = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    return {10: "0", 11: "5"}.get(check, str(check))


def waybill_number(kind: ChannelKind, serial: int, origin: str = "CN") -> str:
    digits = f"{serial:08d}"
    return f"{WAYBILL_PREFIX[kind]}{digits}{s10_check_digit(digits)}{origin}"


def label_reference(code: str) -> str:
    """Where the label document is kept; the document itself is rendered by the carrier integration."""
    return f"labels/{code}.pdf"


@dataclass(frozen=True)
class Shipment:
    code: str
    merchant_code: str
    channel_code: str
    rate_sheet_version: int
    waybill_number: str
    label_reference: str
    destination_country: str
    destination_postal_code: str
    parcels: tuple[Parcel, ...]
    booked_at: datetime
    status: Status
