"""Decisions on holds: a compliance officer releases or rejects a merchant or partner its screening held.

Onboarding holds an entity on a REVIEW or BLOCK screening (merchants.py). A person then decides:

- RELEASE: the screening's match is not this entity; it becomes ACTIVE and may use the platform at once.
- REJECT: the hold is confirmed; it becomes REJECTED, which is final (refused like a held entity, and no
  later decision moves it: a corrected registration is onboarded again and screened afresh).

Only a held entity (REVIEW or BLOCKED) is decided on; an ACTIVE or REJECTED one is refused with
FAILED_PRECONDITION, so a decision never silently overrides another. Each decision is kept, append-only,
with who made it, when and why. Only ops staff whose role may decide (compliance officers and admins)
decide, from a session with a recent second factor.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from services.identity.domain.merchants import MerchantStatus
from services.identity.domain.roles import HOLD_DECISIONS, ROLE_SCOPES
from services.shared.errors import FieldError, Violations

MIN_REASON_CHARS = 3
MAX_REASON_CHARS = 1000
DECIDERS = frozenset(role for role, scopes in ROLE_SCOPES.items() if scopes >= HOLD_DECISIONS)
"""The roles whose sessions may decide: those granted `identity.holds.decide` (compliance officer, admin)."""

HELD = frozenset({MerchantStatus.REVIEW, MerchantStatus.BLOCKED})


class Decision(enum.Enum):
    RELEASE = "RELEASE"
    REJECT = "REJECT"


AFTER = {Decision.RELEASE: MerchantStatus.ACTIVE, Decision.REJECT: MerchantStatus.REJECTED}


class NotHeld(FieldError):
    """The entity is not held (ACTIVE, or REJECTED for good): there is nothing to decide."""

    reason = "FAILED_PRECONDITION"


class Entity(enum.Enum):
    MERCHANT = "merchant"
    PARTNER = "partner"


@dataclass(frozen=True)
class HoldDecision:
    """One decision, as kept with the entity (never changed or removed)."""

    entity: Entity
    code: str
    decision: Decision
    previous_status: MerchantStatus
    status: MerchantStatus
    reason: str
    decided_by: str
    decided_at: datetime


def decide(
    entity: Entity,
    code: str,
    status: MerchantStatus,
    decision: Decision,
    reason: str,
    decided_by: str,
    now: datetime,
) -> HoldDecision:
    """The decision on an entity in `status`; NotHeld when it is not held."""
    if status not in HELD:
        why = "it is active" if status is MerchantStatus.ACTIVE else "it was rejected, which is final"
        raise NotHeld(
            f"{entity.value} {code} is not held ({why}): only a REVIEW or BLOCKED {entity.value} is decided on",
            field=f"{entity.value}_code",
        )
    return HoldDecision(entity, code, decision, status, AFTER[decision], reason, decided_by, now)


def reason(value: str, violations: Violations, field: str = "reason") -> str:
    text = " ".join(value.split())
    if not MIN_REASON_CHARS <= len(text) <= MAX_REASON_CHARS:
        violations.add(field, f"is required: why, {MIN_REASON_CHARS}..{MAX_REASON_CHARS} characters, got {len(text)}")
    return text
