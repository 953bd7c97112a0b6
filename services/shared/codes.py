"""xborder unified codes and the GB 32100 check character.

A code is 18 characters `TT Z SSSSSSS RRRRRRR C` in the GB 32100 alphabet (0-9, A-Z without I O Z S V):
TT entity type, Z residency zone of the master record, S seconds since 2020-01-01 UTC in base 31 (so codes
sort by creation time), R random, C the check character of GB 32100-2015 (the unified social credit code):
weights 3^(i-1) mod 31 over positions 1..17, C = (31 - sum mod 31) mod 31. Because 31 is prime and no two
neighbouring weights are equal, every single substitution and every adjacent transposition changes the
check (see tests/unit/test_codes.py). The same check validates a real USCC such as 91110000600037341L.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.shared.errors import CodeCheckFailed, FieldViolation, ValidationError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
CODE_LENGTH = 18
_SECONDS_DIGITS = 7
_RANDOM_DIGITS = 7

ENTITY_TYPES: dict[str, str] = {
    "MC": "merchant",
    "HB": "partner",  # huoban (伙伴): carriers, payment providers, warehouses, ODR providers
    "PD": "product",
    "DD": "order",
    "YD": "shipment",
    "YL": "stock reservation",  # logistics: yuliu (预留)
    "CK": "outbound order",  # logistics: chuku (出库)
    "JC": "inbound shipment",  # logistics: jincang (进仓)
    "PY": "payment",
    "TK": "ticket",
    "TH": "return",
    "BG": "customs declaration",
    "RL": "rule",
    "PT": "party",
    "QT": "quote",
    "AC": "account",
    "HC": "sanctions screening",  # hecha, 核查
    "RK": "rule library version",  # compliance: ku (库), a published version of the rule library
    "HG": "compliance check report",  # compliance: hegui (合规)
    "BA": "bank account",
    "RC": "reconciliation run",
    "YJ": "risk alert",  # compliance: yujing (预警)
    "FX": "risk alert (issued before YJ)",  # still parsed: alerts stored with these codes keep them
}
"""Two-letter entity types (Chinese initials where they exist: DD dingdan, YD yundan, TH tuihuo, BG baoguan)."""

ZONES: dict[str, str] = {
    "C": "mainland China",
    "H": "Hong Kong SAR",
    "E": "EU/EEA",
    "U": "United States",
    "K": "United Kingdom",
    "G": "rest of the world",
}
"""Residency zone of the master record: where the record's data is kept (drives the transfer rules)."""


def check_character(body: str) -> str:
    """GB 32100 check character of the first 17 characters."""
    if len(body) != CODE_LENGTH - 1:
        raise ValueError(f"need {CODE_LENGTH - 1} characters, got {len(body)}")
    total = sum(VALUE[ch] * w for ch, w in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def _base31(value: int, width: int) -> str:
    digits = []
    for _ in range(width):
        value, rem = divmod(value, 31)
        digits.append(ALPHABET[rem])
    if value:
        raise ValueError("value does not fit")
    return "".join(reversed(digits))


def _from_base31(text: str) -> int:
    value = 0
    for ch in text:
        value = value * 31 + VALUE[ch]
    return value


@dataclass(frozen=True)
class UnifiedCode:
    entity_type: str
    zone: str
    issued_at: datetime
    random_part: str
    value: str

    def __str__(self) -> str:
        return self.value


def generate(entity_type: str, zone: str = "G", *, at: datetime | None = None) -> str:
    """A new code for an entity of this type whose master record lives in this zone."""
    if entity_type not in ENTITY_TYPES:
        raise ValueError(f"unknown entity type {entity_type!r}")
    if zone not in ZONES:
        raise ValueError(f"unknown zone {zone!r}")
    moment = at or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("issued-at time must be timezone-aware")
    seconds = int((moment - EPOCH).total_seconds())
    if seconds < 0:
        raise ValueError("codes start on 2020-01-01 UTC")
    rand = "".join(secrets.choice(ALPHABET) for _ in range(_RANDOM_DIGITS))
    body = f"{entity_type}{zone}{_base31(seconds, _SECONDS_DIGITS)}{rand}"
    return body + check_character(body)


def problems(code: str) -> str | None:
    """Why `code` is not a well-formed, check-valid code of any type; None when it is valid."""
    if len(code) != CODE_LENGTH:
        return f"must be {CODE_LENGTH} characters, got {len(code)}"
    bad = sorted({ch for ch in code if ch not in VALUE})
    if bad:
        return f"contains characters outside the GB 32100 alphabet: {''.join(bad)}"
    if check_character(code[:-1]) != code[-1]:
        return "check character does not match (GB 32100 mod 31)"
    return None


def parse(code: str, *, field: str = "code", entity_type: str | None = None) -> UnifiedCode:
    """Parse and check an xborder code; errors name `field`."""
    normalized = code.strip().upper()
    problem = problems(normalized)
    if problem is not None:
        error = CodeCheckFailed if problem.startswith("check") else ValidationError
        raise error([FieldViolation(field, problem)])
    kind, zone = normalized[:2], normalized[2]
    if kind not in ENTITY_TYPES:
        raise ValidationError.single(field, f"unknown entity type {kind!r}")
    if entity_type is not None and kind != entity_type:
        raise ValidationError.single(field, f"expected a {ENTITY_TYPES[entity_type]} code ({entity_type}), got {kind}")
    if zone not in ZONES:
        raise ValidationError.single(field, f"unknown residency zone {zone!r}")
    seconds = _from_base31(normalized[3:10])
    return UnifiedCode(kind, zone, EPOCH + timedelta(seconds=seconds), normalized[10:17], normalized)


def is_valid_uscc(code: str) -> bool:
    """A PRC unified social credit code (GB 32100-2015) with a correct check character."""
    return problems(code.strip().upper()) is None


def gtin_is_valid(gtin: str) -> bool:
    """GS1 GTIN-8/12/13/14 mod-10 check digit."""
    if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        return False
    digits = [int(d) for d in gtin]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check
