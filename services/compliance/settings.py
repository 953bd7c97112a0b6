"""Compliance's own configuration: the sanctions screening decision thresholds, read from XB_SCREENING_*.

Scores are 0..1: BLOCK at or above the block threshold, REVIEW from the review threshold (docs/screening.md).
A wrong value stops the service at start with a ConfigurationError naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.compliance.domain.screening import DEFAULT_BLOCK_THRESHOLD, DEFAULT_REVIEW_THRESHOLD, Thresholds
from services.shared.errors import ConfigurationError

BLOCK_VARIABLE = "XB_SCREENING_BLOCK_THRESHOLD"
REVIEW_VARIABLE = "XB_SCREENING_REVIEW_THRESHOLD"


@dataclass(frozen=True)
class ScreeningSettings:
    block_threshold: float = DEFAULT_BLOCK_THRESHOLD
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ScreeningSettings:
        env = os.environ if environ is None else environ
        block = _threshold(env, BLOCK_VARIABLE, cls.block_threshold)
        review = _threshold(env, REVIEW_VARIABLE, cls.review_threshold)
        if review > block:
            raise ConfigurationError(f"{REVIEW_VARIABLE} ({review}) must not exceed {BLOCK_VARIABLE} ({block})")
        return cls(block, review)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.block_threshold, self.review_threshold)


def _threshold(env: Mapping[str, str], variable: str, default: float) -> float:
    raw = env.get(variable)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:  # NaN fails this too
        raise ConfigurationError(f"{variable} must be a number between 0 and 1, got {raw!r}")
    return value
