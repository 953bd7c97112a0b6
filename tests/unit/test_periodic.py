"""The embedded runtime's periodic tasks: a failing run does not stop the schedule; stop() is prompt."""

from __future__ import annotations

import threading
import time

import pytest

from services.shared.periodic import PeriodicTask


def test_a_failing_run_does_not_stop_the_schedule_and_stop_is_prompt() -> None:
    calls: list[float] = []
    enough = threading.Event()

    def task() -> None:
        calls.append(time.monotonic())
        if len(calls) >= 3:
            enough.set()
        if len(calls) == 1:
            raise RuntimeError("provider outage")

    timer = PeriodicTask("t", 0.05, task)
    timer.start()
    assert enough.wait(5)
    timer.interval_s = 60  # the next wait would be long: stop() must not wait it out
    started = time.monotonic()
    timer.stop()
    assert time.monotonic() - started < 5
    assert timer.runs >= 3


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        PeriodicTask("t", 0, lambda: None)
