"""Decisions on holds (services/identity/domain/holds.py): only a held entity is decided on, a release
makes it ACTIVE and a rejection REJECTED for good, and only compliance officers and admins decide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.identity.domain import holds
from services.identity.domain.holds import Decision, Entity, NotHeld
from services.identity.domain.merchants import MerchantStatus
from services.identity.domain.operators import Operator, Session
from services.identity.domain.roles import Role
from services.identity.service_layer.holds import decider
from services.shared.errors import StepUpRequired, ValidationError, Violations

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("held", [MerchantStatus.REVIEW, MerchantStatus.BLOCKED])
@pytest.mark.parametrize(
    ("decision", "after"), [(Decision.RELEASE, MerchantStatus.ACTIVE), (Decision.REJECT, MerchantStatus.REJECTED)]
)
def test_a_held_entity_is_released_to_active_or_rejected(
    held: MerchantStatus, decision: Decision, after: MerchantStatus
) -> None:
    decided = holds.decide(Entity.MERCHANT, "MC1", held, decision, "name match is a namesake", "li.wei", NOW)
    assert (decided.previous_status, decided.status) == (held, after)
    assert (decided.decided_by, decided.decided_at, decided.reason) == ("li.wei", NOW, "name match is a namesake")


@pytest.mark.parametrize("status", [MerchantStatus.ACTIVE, MerchantStatus.REJECTED])
@pytest.mark.parametrize("decision", list(Decision))
def test_an_active_or_rejected_entity_is_not_decided_on(status: MerchantStatus, decision: Decision) -> None:
    with pytest.raises(NotHeld) as refused:
        holds.decide(Entity.PARTNER, "HB1", status, decision, "again", "li.wei", NOW)
    assert refused.value.reason == "FAILED_PRECONDITION"
    assert refused.value.violations[0].field == "partner_code"


@given(st.lists(st.tuples(st.sampled_from(list(Decision)), st.sampled_from(list(Entity))), max_size=6))
def test_at_most_one_decision_ever_changes_an_entity(decisions: list[tuple[Decision, Entity]]) -> None:
    """Whatever is asked, in any order, a held entity moves once and then stays where it went."""
    status, moved = MerchantStatus.REVIEW, 0
    for decision, entity in decisions:
        try:
            status = holds.decide(entity, "X", status, decision, "why not", "li.wei", NOW).status
            moved += 1
        except NotHeld:
            pass
    assert moved == (1 if decisions else 0)
    assert status in ({MerchantStatus.ACTIVE, MerchantStatus.REJECTED} if decisions else {MerchantStatus.REVIEW})


@pytest.mark.parametrize("reason", ["", "  ", "ok", "x" * 1001])
def test_a_decision_says_why(reason: str) -> None:
    violations = Violations()
    holds.reason(reason, violations)
    with pytest.raises(ValidationError) as refused:
        violations.raise_if_any()
    assert refused.value.violations[0].field == "reason"


def test_the_reason_is_kept_with_its_whitespace_collapsed() -> None:
    violations = Violations()
    assert holds.reason("  a  namesake,\n not the listed bank ", violations) == "a namesake, not the listed bank"
    assert not violations


def test_only_compliance_officers_and_admins_decide() -> None:
    assert {Role.COMPLIANCE_OFFICER, Role.ADMIN} == holds.DECIDERS


class _Found:
    """A repository fake answering `get` from a dict."""

    def __init__(self, rows: dict[str, object]) -> None:
        self.rows = rows

    def get(self, key: str) -> object:
        return self.rows.get(key)


class _DecidingUow:
    """What `decider` reads: one ops session and its operator."""

    def __init__(self, session: Session, operator: Operator) -> None:
        self.sessions = _Found({session.session_id: session})
        self.operators = _Found({operator.login: operator})


@pytest.mark.parametrize(
    ("second_factor_at", "decides"),
    [(NOW - timedelta(minutes=1), True), (NOW - timedelta(hours=1), False), (None, False)],
)
def test_a_decision_needs_a_recent_second_factor(second_factor_at: datetime | None, decides: bool) -> None:
    # None: a single sign-on session whose IdP gave no second factor, which must step up with TOTP first.
    session = Session(
        "s1",
        "hash",
        "zhang.min",
        Role.COMPLIANCE_OFFICER,
        NOW - timedelta(hours=2),
        NOW + timedelta(hours=6),
        second_factor_at,
    )
    operator = Operator("zhang.min", "Zhang Min", Role.COMPLIANCE_OFFICER, "hash", "secret", NOW - timedelta(days=1))
    uow = _DecidingUow(session, operator)
    window = timedelta(minutes=5)
    if decides:
        assert decider(uow, "s1", window, NOW) == "zhang.min"  # type: ignore[arg-type]
    else:
        with pytest.raises(StepUpRequired):
            decider(uow, "s1", window, NOW)  # type: ignore[arg-type]
