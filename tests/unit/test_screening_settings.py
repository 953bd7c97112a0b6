"""The screening thresholds in Settings: read from XB_*, checked at start, errors naming the variable."""

from __future__ import annotations

import pytest

from services.shared.errors import ConfigurationError
from services.shared.settings import Settings


def test_defaults_and_overrides() -> None:
    default = Settings.from_env({})
    assert (default.screening_block_threshold, default.screening_review_threshold) == (0.92, 0.80)
    tuned = Settings.from_env({"XB_SCREENING_BLOCK_THRESHOLD": "0.95", "XB_SCREENING_REVIEW_THRESHOLD": "0.7"})
    assert (tuned.screening_block_threshold, tuned.screening_review_threshold) == (0.95, 0.7)


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({"XB_SCREENING_BLOCK_THRESHOLD": "high"}, "XB_SCREENING_BLOCK_THRESHOLD must be a number between 0 and 1"),
        ({"XB_SCREENING_REVIEW_THRESHOLD": "0"}, "XB_SCREENING_REVIEW_THRESHOLD must be a number between 0 and 1"),
        ({"XB_SCREENING_BLOCK_THRESHOLD": "1.2"}, "XB_SCREENING_BLOCK_THRESHOLD must be a number between 0 and 1"),
        ({"XB_SCREENING_REVIEW_THRESHOLD": "0.95"}, "must not exceed XB_SCREENING_BLOCK_THRESHOLD"),
    ],
)
def test_bad_thresholds_are_refused_naming_the_variable(environ: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigurationError, match=says):
        Settings.from_env(environ)
