"""Screening decisions: from the matcher's hits and the configured thresholds to CLEAR / REVIEW / BLOCK."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

from services.compliance.domain.matching import Hit
from services.compliance.domain.sanctions import ListInfo

DEFAULT_BLOCK_THRESHOLD = 0.92
DEFAULT_REVIEW_THRESHOLD = 0.80
MAX_NAME_LENGTH = 300
MAX_IDENTIFIERS = 20

_ALPHA2 = re.compile(r"^[A-Z]{2}$")


class Decision(Enum):
    CLEAR = "clear"
    REVIEW = "review"
    BLOCK = "block"


class ThresholdProblem(ValueError):
    pass


OVERRIDDEN = "env"


@dataclass(frozen=True)
class Thresholds:
    block: float = DEFAULT_BLOCK_THRESHOLD
    review: float = DEFAULT_REVIEW_THRESHOLD
    # The `screening_thresholds` dataset version they come from, or OVERRIDDEN when XB_SCREENING_* set them.
    version: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not (0.0 < self.review <= self.block <= 1.0):
            raise ThresholdProblem(f"need 0 < review ({self.review}) <= block ({self.block}) <= 1")

    def decide(self, hits: Sequence[Hit]) -> Decision:
        """BLOCK on an identifier match or a score at the block threshold; REVIEW from the review one."""
        top = max((h.score for h in hits), default=0.0)
        if any("identifier" in h.matched_fields for h in hits) or top >= self.block:
            return Decision.BLOCK
        if top >= self.review:
            return Decision.REVIEW
        return Decision.CLEAR


@dataclass(frozen=True)
class Screening:
    code: str
    merchant_code: str
    request_id: str
    decision: Decision
    hits: tuple[Hit, ...]
    lists: tuple[ListInfo, ...]
    thresholds: Thresholds
    screened_at: datetime
    name_variants_version: str = ""  # the `name_variants` dataset version the matcher was built with


def parse_date_of_birth(value: str, today: date) -> str:
    """YYYY-MM-DD, not in the future, not before 1900; ValueError saying what is wrong."""
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}") from None
    if len(value) != 10:
        raise ValueError(f"must be a date YYYY-MM-DD, got {value!r}")
    if parsed > today:
        raise ValueError(f"{value} is in the future")
    if parsed.year < 1900:
        raise ValueError(f"{value} is before 1900")
    return value


MASK = "****"
IDENTIFIER_SHOWN = 4
IDENTIFIER_MIN_SHOWN = 8  # a shorter number would be half given away by its last four
_MASKED_DATE = re.compile(r"[0-9]{4}-\*\*-\*\*")
_MASKED_IDENTIFIER = re.compile(r"\*{4}( [0-9A-Z]{4})?")


def mask_date_of_birth(value: str) -> str:
    """The year only ("1980-**-**"): enough to tell two namesakes apart, not to confirm a birthday.
    A value already masked (an answer stored masked) is returned as it is."""
    if not value or _MASKED_DATE.fullmatch(value):
        return value
    return f"{value[:4]}-**-**"


def mask_identifier(value: str) -> str:
    """ "**** " and the last four (ASCII) letters or digits of a number of at least eight, "****" otherwise: a
    fixed-width mask that hides the length, as the bank-account vault masks account numbers. A value
    already masked is returned as it is."""
    if _MASKED_IDENTIFIER.fullmatch(value):
        return value
    plain = "".join(ch for ch in value if ch.isascii() and ch.isalnum()).upper()
    if len(plain) < IDENTIFIER_MIN_SHOWN:
        return MASK
    return f"{MASK} {plain[-IDENTIFIER_SHOWN:]}"


def parse_country(value: str) -> str:
    """ISO 3166-1 alpha-2 (upper-cased). Only the shape is checked: the list of codes belongs to logistics."""
    code = value.strip().upper()
    if not _ALPHA2.match(code):
        raise ValueError(f"must be an ISO 3166-1 alpha-2 code such as CN or US, got {value!r}")
    return code
