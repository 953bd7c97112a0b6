"""CSAT arithmetic and macro templates, as properties: good + bad = rated <= offered, CSAT within 0-100 and
exact to the cent; a rendered reply keeps no known placeholder and substitutes nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.customer_service.domain.macros import PLACEHOLDERS, render, unknown_placeholders
from services.customer_service.domain.surveys import Survey, satisfaction
from services.customer_service.domain.tickets import Priority, Status, StatusChange, Ticket, TicketType
from services.shared.errors import AlreadyExists

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def survey(score: int | None) -> Survey:
    return Survey("TK", "MC", AT, score, "", None if score is None else AT)


@given(st.lists(st.one_of(st.none(), st.integers(min_value=1, max_value=5)), max_size=200))
def test_csat_counts_add_up_and_stay_in_range(scores: list[int | None]) -> None:
    result = satisfaction(survey(s) for s in scores)
    rated = [s for s in scores if s is not None]
    assert (result.offered, result.rated) == (len(scores), len(rated))
    assert result.good + result.bad == result.rated and result.good == sum(s >= 4 for s in rated)
    if rated:
        assert result.csat_percent is not None and Decimal(0) <= result.csat_percent <= Decimal(100)
        assert abs(result.csat_percent - Decimal(100 * result.good) / len(rated)) <= Decimal("0.005")
    else:
        assert result.csat_percent is None
    assert (result.response_rate_percent is None) == (not scores)


def test_a_survey_is_rated_once() -> None:
    rated = survey(None).rate(5, "great", AT)
    assert (rated.score, rated.comment) == (5, "great")
    with pytest.raises(AlreadyExists):
        rated.rate(1, "", AT)


TICKET = Ticket(
    code="TKG0000000000000X1",
    merchant_code="MCG0000000000000X1",
    type=TicketType.RETURN,
    subject="Wrong {{size}}",
    priority=Priority.HIGH,
    created_at=AT,
    history=(StatusChange(Status.NEW, AT, AT, 1, "opened"),),
)


@given(
    st.lists(st.sampled_from([*PLACEHOLDERS, "customer.name", "x"]), max_size=10),
    st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=30),
)
def test_rendering_substitutes_known_placeholders_only(names: list[str], filler: str) -> None:
    template = filler.join("{{" + name + "}}" for name in names)
    rendered = render(template, TICKET, "ann")
    for name in PLACEHOLDERS:
        assert "{{" + name + "}}" not in rendered
    assert unknown_placeholders(template) == sorted({n for n in names if n not in PLACEHOLDERS})


def test_values_are_not_templates_again() -> None:
    # The subject holds "{{size}}": substituted text is never expanded a second time.
    assert render("Re: {{ticket.subject}} ({{ticket.priority}})", TICKET, "ann") == "Re: Wrong {{size}} (HIGH)"
