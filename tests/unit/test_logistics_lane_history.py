"""Figures learned from a lane's history: p50 <= p90 within the observed days, rates within [0, 1]."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.logistics.domain.lane_history import LaneHistory, learn

histories = st.builds(
    lambda days, returned, lost, exceptions: LaneHistory(
        finished=sum(days.values()) + returned + lost,
        delivered=sum(days.values()),
        exceptions=min(exceptions, sum(days.values()) + returned + lost),
        lost=lost,
        transit_days=days,
    ),
    st.dictionaries(st.integers(0, 120), st.integers(1, 50), min_size=1, max_size=30),
    st.integers(0, 40),
    st.integers(0, 40),
    st.integers(0, 200),
)


@given(histories, st.integers(1, 60), st.integers(1, 30))
def test_learned_percentiles_are_ordered_and_rates_are_shares(
    history: LaneHistory, published: int, minimum: int
) -> None:
    learned = learn(history, published, minimum)
    if history.delivered < minimum:
        assert learned is None
        return
    assert learned is not None
    assert min(history.transit_days) <= learned.p50_days <= learned.p90_days <= max(history.transit_days)
    for rate in (learned.on_time_rate, learned.exception_rate, learned.loss_rate):
        assert 0 <= rate <= 1
    assert 0 <= learned.quality <= 100 and learned.sample == history.delivered


def test_nearest_rank_percentiles_and_the_score() -> None:
    history = LaneHistory(finished=12, delivered=10, exceptions=3, lost=1, transit_days={5: 4, 7: 4, 12: 2})
    learned = learn(history, published_max_days=10, minimum=10)
    assert learned is not None
    assert (learned.p50_days, learned.p90_days) == (7, 12)
    assert (learned.on_time_rate, learned.exception_rate, learned.loss_rate) == (0.8, 0.25, 1 / 12)
    assert learned.quality == round(100 * (0.6 * 0.8 + 0.2 * 0.75 + 0.2 * (11 / 12)))
    assert learn(history, 10, minimum=11) is None
