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


def parse_country(value: str) -> str:
    """ISO 3166-1 alpha-2 (upper-cased). Only the shape is checked: the list of codes belongs to logistics."""
    code = value.strip().upper()
    if not _ALPHA2.match(code):
        raise ValueError(f"must be an ISO 3166-1 alpha-2 code such as CN or US, got {value!r}")
    return code
