"""The screening thresholds of compliance: read from XB_SCREENING_*, checked at start, errors naming the variable."""

from __future__ import annotations

import pytest

from services.compliance import bootstrap
from services.compliance.domain.screening import Thresholds
from services.compliance.settings import ScreeningSettings
from services.shared.errors import ConfigurationError
from services.shared.settings import Settings
from tests.fakes import RecordingBus


def test_defaults_and_overrides() -> None:
    assert ScreeningSettings.from_env({}).thresholds == Thresholds(0.92, 0.80)
    tuned = ScreeningSettings.from_env({"XB_SCREENING_BLOCK_THRESHOLD": "0.95", "XB_SCREENING_REVIEW_THRESHOLD": "0.7"})
    assert tuned.thresholds == Thresholds(0.95, 0.7)


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({"XB_SCREENING_BLOCK_THRESHOLD": "high"}, "XB_SCREENING_BLOCK_THRESHOLD must be a number between 0 and 1"),
        ({"XB_SCREENING_REVIEW_THRESHOLD": "0"}, "XB_SCREENING_REVIEW_THRESHOLD must be a number between 0 and 1"),
        ({"XB_SCREENING_BLOCK_THRESHOLD": "1.2"}, "XB_SCREENING_BLOCK_THRESHOLD must be a number between 0 and 1"),
        ({"XB_SCREENING_BLOCK_THRESHOLD": "nan"}, "XB_SCREENING_BLOCK_THRESHOLD must be a number between 0 and 1"),
        ({"XB_SCREENING_REVIEW_THRESHOLD": "0.95"}, "must not exceed XB_SCREENING_BLOCK_THRESHOLD"),
    ],
)
def test_bad_thresholds_are_refused_naming_the_variable(environ: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigurationError, match=says):
        ScreeningSettings.from_env(environ)


def test_the_service_does_not_start_with_a_bad_threshold(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XB_SCREENING_REVIEW_THRESHOLD", "0.99")
    with pytest.raises(ConfigurationError, match="XB_SCREENING_REVIEW_THRESHOLD"):
        bootstrap.bootstrap(settings, RecordingBus())
