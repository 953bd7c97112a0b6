"""A worker's one nameko timer runs every periodic task when its own interval has passed; a
failing task is logged and neither stops the others nor its own next run."""

from __future__ import annotations

from services.worker.dependencies import PeriodicTasks


def test_each_task_runs_on_its_own_interval_and_a_failure_stops_nothing() -> None:
    runs: list[str] = []

    def failing() -> None:
        runs.append("failing")
        raise RuntimeError("provider outage")

    timer = PeriodicTasks()
    timer.tasks = [
        ("often", 0.0, lambda: runs.append("often")),
        ("failing", 0.0, failing),
        ("rare", 3600.0, lambda: runs.append("rare")),
    ]
    timer.next_due = {"often": 0.0, "failing": 0.0, "rare": 0.0}
    timer.run_due()
    timer.run_due()
    assert runs == ["often", "failing", "rare", "often", "failing"]
