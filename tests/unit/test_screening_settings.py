"""XB_SCREENING_* override the imported screening thresholds: checked at start, errors naming the variable."""

from __future__ import annotations

import pytest

from services.compliance import bootstrap
from services.compliance.domain.screening import OVERRIDDEN, ThresholdProblem, Thresholds
from services.compliance.settings import ScreeningSettings
from services.shared.errors import ConfigurationError
from services.shared.settings import Settings
from tests.fakes import RecordingBus

IMPORTED = Thresholds(0.92, 0.80, "a" * 64)


def test_without_variables_the_imported_thresholds_apply() -> None:
    settings = ScreeningSettings.from_env({})
    applied = settings.apply(IMPORTED)
    assert (applied, applied.version) == (IMPORTED, IMPORTED.version)
    assert "imported screening_thresholds dataset" in settings.describe()


def test_variables_override_and_say_so() -> None:
    tuned = ScreeningSettings.from_env({"XB_SCREENING_BLOCK_THRESHOLD": "0.95", "XB_SCREENING_REVIEW_THRESHOLD": "0.7"})
    applied = tuned.apply(IMPORTED)
    assert (applied.block, applied.review, applied.version) == (0.95, 0.7, OVERRIDDEN)
    assert "XB_SCREENING_BLOCK_THRESHOLD=0.95" in tuned.describe()
    # One variable alone replaces only its own threshold.
    only_block = ScreeningSettings.from_env({"XB_SCREENING_BLOCK_THRESHOLD": "0.97"}).apply(IMPORTED)
    assert (only_block.block, only_block.review, only_block.version) == (0.97, 0.80, OVERRIDDEN)


def test_an_override_that_crosses_the_imported_value_is_refused() -> None:
    with pytest.raises(ThresholdProblem):
        ScreeningSettings.from_env({"XB_SCREENING_REVIEW_THRESHOLD": "0.95"}).apply(IMPORTED)


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({"XB_SCREENING_BLOCK_THRESHOLD": "high"}, "XB_SCREENING_BLOCK_THRESHOLD must be a number between 0 and 1"),
        ({"XB_SCREENING_REVIEW_THRESHOLD": "0"}, "XB_SCREENING_REVIEW_THRESHOLD must be a number between 0 and 1"),
        ({"XB_SCREENING_BLOCK_THRESHOLD": "1.2"}, "XB_SCREENING_BLOCK_THRESHOLD must be a number between 0 and 1"),
        ({"XB_SCREENING_BLOCK_THRESHOLD": "nan"}, "XB_SCREENING_BLOCK_THRESHOLD must be a number between 0 and 1"),
        (
            {"XB_SCREENING_BLOCK_THRESHOLD": "0.9", "XB_SCREENING_REVIEW_THRESHOLD": "0.95"},
            "must not exceed XB_SCREENING_BLOCK_THRESHOLD",
        ),
    ],
)
def test_bad_thresholds_are_refused_naming_the_variable(environ: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigurationError, match=says):
        ScreeningSettings.from_env(environ)


def test_the_service_does_not_start_with_a_bad_threshold(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XB_SCREENING_REVIEW_THRESHOLD", "1.5")
    with pytest.raises(ConfigurationError, match="XB_SCREENING_REVIEW_THRESHOLD"):
        bootstrap.bootstrap(settings, RecordingBus())
