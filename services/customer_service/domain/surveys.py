"""Satisfaction surveys on solved tickets and the CSAT aggregate.

As Zendesk's customer satisfaction ratings do (https://support.zendesk.com/hc/en-us/articles/203662256, read
2026-12-06): a ticket is offered a survey when it is solved, the customer rates it and may add a comment,
and ratings are per ticket. The scale here is 1-5; a 4 or 5 is a good rating, 1-3 a bad one (the mapping
Zendesk applies to its 1-5 scale), and CSAT is good ratings as a percentage of all ratings. A survey is
offered once per ticket (the first time it is solved) and rated once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from services.shared.errors import AlreadyExists

LOWEST, HIGHEST = 1, 5
GOOD_FROM = 4
"""The lowest score counted as a good rating."""


@dataclass(frozen=True)
class Survey:
    ticket_code: str
    merchant_code: str
    offered_at: datetime
    score: int | None = None
    comment: str = ""
    rated_at: datetime | None = None

    @property
    def rated(self) -> bool:
        return self.score is not None

    def rate(self, score: int, comment: str, at: datetime) -> Survey:
        if self.rated:
            raise AlreadyExists(
                f"ticket {self.ticket_code} was already rated {self.score} at {self.rated_at}; a rating is given once",
                field="score",
            )
        return replace(self, score=score, comment=comment, rated_at=at)


@dataclass(frozen=True)
class Satisfaction:
    offered: int
    rated: int
    good: int
    bad: int
    csat_percent: Decimal | None  # good / rated; None while nothing is rated
    response_rate_percent: Decimal | None  # rated / offered; None while nothing is offered


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def satisfaction(surveys: Iterable[Survey]) -> Satisfaction:
    offered = rated = good = 0
    for survey in surveys:
        offered += 1
        if survey.score is not None:
            rated += 1
            good += survey.score >= GOOD_FROM
    return Satisfaction(offered, rated, good, rated - good, _percent(good, rated), _percent(rated, offered))
