"""Transit times and quality learned from tracking history, per channel and lane (destination country).

A shipment counts once, when its status first reaches a final rank (EXPIRED or above: delivered, lost,
returned). Delivered ones add their transit in whole days, booking day to delivery day (UTC); an EXPIRED
one is lost; a shipment whose status was EXCEPTION when it finished had an incident (the total order of
statuses keeps a shipment in EXCEPTION until it finishes, so that is exactly "had an exception").

Until a lane has `minimum` delivered shipments, matching uses the channel's published range and default
score; then p50/p90 are nearest-rank percentiles of the delivered transits, and the quality score is
`100 x (0.6 x on-time rate + 0.2 x (1 - exception rate) + 0.2 x (1 - loss rate))`, on time meaning
delivered within the published maximum of the lane's zone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_MINIMUM = 20


@dataclass(frozen=True)
class Finish:
    """One shipment reaching a final status: what the lane learns from it."""

    channel_code: str
    country: str
    delivered_days: int | None  # None: not delivered (lost or returned)
    lost: bool
    exception: bool


@dataclass(frozen=True)
class LaneHistory:
    finished: int = 0
    delivered: int = 0
    exceptions: int = 0
    lost: int = 0
    transit_days: Mapping[int, int] = field(default_factory=dict)  # days -> delivered shipments

    def percentile(self, q: float) -> int:
        """Nearest-rank percentile of the delivered transit days (q in (0, 1])."""
        rank = max(1, math.ceil(q * self.delivered))
        seen = 0
        for days in sorted(self.transit_days):
            seen += self.transit_days[days]
            if seen >= rank:
                return days
        raise ValueError("no delivered shipments")


@dataclass(frozen=True)
class Learned:
    p50_days: int
    p90_days: int
    on_time_rate: float
    exception_rate: float
    loss_rate: float
    quality: int
    sample: int  # delivered shipments the transit figures come from


def learn(history: LaneHistory | None, published_max_days: int, minimum: int) -> Learned | None:
    """The learned figures, or None while the lane has fewer than `minimum` delivered shipments."""
    if history is None or history.delivered < max(1, minimum):
        return None
    on_time = sum(n for days, n in history.transit_days.items() if days <= published_max_days) / history.delivered
    exception_rate = history.exceptions / history.finished
    loss_rate = history.lost / history.finished
    quality = round(100 * (0.6 * on_time + 0.2 * (1 - exception_rate) + 0.2 * (1 - loss_rate)))
    return Learned(
        history.percentile(0.5),
        history.percentile(0.9),
        on_time,
        exception_rate,
        loss_rate,
        quality,
        history.delivered,
    )
