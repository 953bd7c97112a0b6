"""Compliance's own configuration: overrides of the screening decision thresholds, read from XB_SCREENING_*.

The thresholds are data (data/screening/thresholds.yaml, the `screening_thresholds` dataset); a variable set
here replaces the imported value in every screening, which then reports its thresholds version as "env"
(docs/screening.md). Scores are 0..1. A wrong value stops the service at start with a ConfigurationError
naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.compliance.domain.screening import OVERRIDDEN, Thresholds
from services.shared.errors import ConfigurationError
from services.shared.settings import env_setting

BLOCK_VARIABLE = "XB_SCREENING_BLOCK_THRESHOLD"
REVIEW_VARIABLE = "XB_SCREENING_REVIEW_THRESHOLD"
_SCORE = "a number between 0 and 1"


def _score(value: float) -> bool:
    return 0 < value <= 1  # NaN fails this too


@dataclass(frozen=True)
class ScreeningSettings:
    block_threshold: float | None = None  # None: the imported value applies
    review_threshold: float | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ScreeningSettings:
        env = os.environ if environ is None else environ
        block = env_setting(env, "screening_block_threshold", float, _SCORE, _score)
        review = env_setting(env, "screening_review_threshold", float, _SCORE, _score)
        if block is not None and review is not None and review > block:
            raise ConfigurationError(f"{REVIEW_VARIABLE} ({review}) must not exceed {BLOCK_VARIABLE} ({block})")
        return cls(block, review)

    @property
    def overrides(self) -> bool:
        return self.block_threshold is not None or self.review_threshold is not None

    def describe(self) -> str:
        """Which thresholds apply, for `xborder status`."""
        if not self.overrides:
            return "screening thresholds: the imported screening_thresholds dataset"
        given = [
            f"{variable}={value}"
            for variable, value in ((BLOCK_VARIABLE, self.block_threshold), (REVIEW_VARIABLE, self.review_threshold))
            if value is not None
        ]
        return f"screening thresholds: overridden by {', '.join(given)} (the rest from the imported dataset)"

    def apply(self, imported: Thresholds) -> Thresholds:
        """The thresholds in force: `imported` unless a variable is set (then version OVERRIDDEN).

        ThresholdProblem when a variable and the imported value together put review above block.
        """
        if not self.overrides:
            return imported
        block = imported.block if self.block_threshold is None else self.block_threshold
        review = imported.review if self.review_threshold is None else self.review_threshold
        return Thresholds(block, review, OVERRIDDEN)
