"""Fakes for our own interfaces (preferred over mocks)."""

from __future__ import annotations

from services.shared.events import Event


class RecordingBus:
    """An EventBus that records what was published and can be told to fail like a broker outage."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self.fail = False

    def publish(self, event: Event) -> None:
        if self.fail:
            raise ConnectionError("bus unavailable")
        self.published.append(event)

    def close(self) -> None:
        pass
