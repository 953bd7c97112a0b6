"""`xborder up` onboards the demo merchant even when screening is not ready on the first attempts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cli.merchants import demo_credentials_when_ready
from services.shared.errors import Unavailable


class FlakyOnboarding:
    """Refuses with Unavailable `refusals` times, then answers."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.calls = 0

    def __call__(self, context: Any, var_dir: Path) -> tuple[Path, dict[str, str] | None]:
        self.calls += 1
        if self.calls <= self.refusals:
            raise Unavailable("compliance screening is not available right now; retry later")
        return var_dir / "demo-credentials.json", {"merchantCode": "MC1"}


def test_onboarding_is_asked_again_while_screening_is_unavailable(tmp_path: Path) -> None:
    waits: list[float] = []
    onboard = FlakyOnboarding(refusals=3)
    path, written = demo_credentials_when_ready(None, tmp_path, wait=waits.append, onboard=onboard)  # type: ignore[arg-type]
    assert (path, written) == (tmp_path / "demo-credentials.json", {"merchantCode": "MC1"})
    assert onboard.calls == 4
    assert waits == [1.0, 2.0, 4.0]


def test_the_last_refusal_is_raised_after_the_attempts(tmp_path: Path) -> None:
    waits: list[float] = []
    onboard = FlakyOnboarding(refusals=99)
    with pytest.raises(Unavailable):
        demo_credentials_when_ready(None, tmp_path, attempts=5, wait=waits.append, onboard=onboard)  # type: ignore[arg-type]
    assert onboard.calls == 5
    assert waits == [1.0, 2.0, 4.0, 8.0]  # no wait after the last attempt
