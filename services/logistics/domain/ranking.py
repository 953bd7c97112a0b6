"""Ranking plans by the caller's preference and marking the Pareto set (pure Python).

Costs in different currencies are not compared (no FX rate is applied here): plans priced in the currency
most plans use rank first, the others after them, and a plan never dominates one priced in another
currency. Scores use Fractions, so the order is exact and the same on every run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from services.logistics.domain.pricing import Preference

if TYPE_CHECKING:
    from services.logistics.domain.matching import Candidate

# BEST_VALUE weights: cost, p90 transit, quality shortfall (each normalised over the plans to 0..1).
VALUE_WEIGHTS = (Fraction(1, 2), Fraction(3, 10), Fraction(1, 5))


@dataclass(frozen=True)
class RankedPlan:
    rank: int
    candidate: Candidate
    reason: str
    pareto: bool
    meets_deadline: bool


def _objectives(c: Candidate) -> tuple[str, Decimal, int, int]:
    """(currency, cost, p90 days, negated quality): lower is better in each number."""
    return (c.cost.total.currency, c.cost.total.amount, c.transit.p90_days, -c.quality)


def _dominates(a: tuple[str, Decimal, int, int], b: tuple[str, Decimal, int, int]) -> bool:
    return a[0] == b[0] and a[1] <= b[1] and a[2] <= b[2] and a[3] <= b[3] and a[1:] != b[1:]


def dominates(a: Candidate, b: Candidate) -> bool:
    """a is no worse than b in cost, p90 transit and quality, and better in at least one (same currency)."""
    return _dominates(_objectives(a), _objectives(b))


def pareto_set(candidates: Sequence[Candidate]) -> set[str]:
    """Codes of the channels no other plan dominates."""
    points = [(_objectives(c), c.channel.code) for c in candidates]
    return {code for point, code in points if not any(_dominates(other, point) for other, _ in points)}


def _normalised(value: Any, low: Any, high: Any) -> Fraction:
    return Fraction(0) if high == low else Fraction(value - low) / Fraction(high - low)


def _value_scores(group: Sequence[Candidate]) -> dict[str, Fraction]:
    costs = [c.cost.total.amount for c in group]
    times = [c.transit.p90_days for c in group]
    w_cost, w_time, w_quality = VALUE_WEIGHTS
    return {
        c.channel.code: w_cost * _normalised(c.cost.total.amount, min(costs), max(costs))
        + w_time * _normalised(c.transit.p90_days, min(times), max(times))
        + w_quality * Fraction(100 - c.quality, 100)
        for c in group
    }


def rank(candidates: Sequence[Candidate], preference: Preference, deliver_by: date | None) -> list[RankedPlan]:
    if not candidates:
        return []
    counts = Counter(c.cost.total.currency for c in candidates)
    currency = min(counts, key=lambda code: (-counts[code], code))  # the most used; ties alphabetical
    same = [c for c in candidates if c.cost.total.currency == currency]
    scores = _value_scores(same) if preference is Preference.BEST_VALUE else {}

    def meets(c: Candidate) -> bool:
        return deliver_by is None or c.transit.p90_delivery <= deliver_by

    def cost_key(c: Candidate) -> tuple:
        return (c.cost.total.currency != currency, c.cost.total.currency, c.cost.total.amount)

    def key(c: Candidate) -> tuple:
        if preference is Preference.FASTEST:
            return (c.transit.p90_days, c.transit.p50_days, *cost_key(c), c.channel.code)
        if preference is Preference.BEST_VALUE:
            in_group = c.cost.total.currency == currency
            return (not in_group, scores.get(c.channel.code, Fraction(0)), *cost_key(c), c.channel.code)
        if preference is Preference.DELIVER_BY:
            return (not meets(c), *cost_key(c), c.transit.p90_days, c.channel.code)
        return (*cost_key(c), c.transit.p90_days, -c.quality, c.channel.code)

    ordered = sorted(candidates, key=key)
    front = pareto_set(candidates)
    first = ordered[0]
    return [
        RankedPlan(
            position,
            c,
            _reason(c, position, first, preference, currency, scores, deliver_by, len(ordered)),
            c.channel.code in front,
            meets(c),
        )
        for position, c in enumerate(ordered, start=1)
    ]


def _reason(
    c: Candidate,
    position: int,
    first: Candidate,
    preference: Preference,
    currency: str,
    scores: dict[str, Fraction],
    deliver_by: date | None,
    count: int,
) -> str:
    total = c.cost.total
    if total.currency != currency:
        return (
            f"priced in {total.currency}; ranked after the plans in {currency} because costs in different "
            "currencies are not compared without an FX rate"
        )
    if preference is Preference.FASTEST:
        if position == 1:
            return f"fastest of {count}: p90 {c.transit.p90_days} days, p50 {c.transit.p50_days} days"
        slower = c.transit.p90_days - first.transit.p90_days
        return f"p90 {c.transit.p90_days} days, {slower} days slower than the fastest; ties broken by cost"
    if preference is Preference.BEST_VALUE:
        score = float(scores[c.channel.code])
        return (
            f"value score {score:.3f} (lower is better: 50% cost, 30% p90 transit, 20% quality shortfall, "
            f"each relative to the other plans)"
        )
    if preference is Preference.DELIVER_BY and deliver_by is not None:
        verdict = "meets" if c.transit.p90_delivery <= deliver_by else "misses"
        when = c.transit.p90_delivery.isoformat()
        return f"p90 delivery {when} {verdict} the deliver-by date {deliver_by.isoformat()}; then cheapest: {total}"
    if position == 1:
        return f"cheapest of {count}: {total}"
    more = total - first.cost.total if first.cost.total.currency == total.currency else None
    return f"{total}, {more.amount} {currency} more than the cheapest" if more is not None else str(total)
