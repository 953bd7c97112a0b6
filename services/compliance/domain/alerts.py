"""Risk alerts: a stored product check or screening whose verdict got worse after a library or list change.

An alert is keyed by (cause, subject): the same publication or list version can raise at most one alert
per check or screening, however often its event is delivered (docs/risk-alerts.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from services.compliance.domain.engine import VERDICTS
from services.compliance.domain.screening import Decision

DECISION_ORDER = (Decision.CLEAR, Decision.REVIEW, Decision.BLOCK)
CODE_TYPE = "YJ"
"""Entity type of a new alert's unified code (services/shared/codes.py)."""
CODE_TYPES = (CODE_TYPE, "FX")
"""Every type an alert code can have: alerts raised before YJ keep the FX codes they were given."""


class SubjectKind(Enum):
    PRODUCT_CHECK = "PRODUCT_CHECK"
    SCREENING = "SCREENING"


class AlertStatus(Enum):
    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"


def verdict_worsened(old: str, new: str) -> bool:
    """ALLOWED < ALLOWED_WITH_CONDITIONS < RESTRICTED < PROHIBITED."""
    return VERDICTS.index(new) > VERDICTS.index(old)


def decision_worsened(old: Decision, new: Decision) -> bool:
    """CLEAR < REVIEW < BLOCK."""
    return DECISION_ORDER.index(new) > DECISION_ORDER.index(old)


def rules_cause(library_version: int) -> str:
    return f"rules:{library_version}"


def list_cause(list_name: str, list_version: str) -> str:
    return f"list:{list_name}:{list_version}"


@dataclass(frozen=True)
class RiskAlert:
    code: str
    merchant_code: str
    subject_kind: SubjectKind
    subject_code: str
    party_name: str  # screenings only
    destination: str  # product checks only
    old_verdict: str  # verdict names for checks, decision names (CLEAR/REVIEW/BLOCK) for screenings
    new_verdict: str
    cause: str
    reason: str
    raised_at: datetime
    status: AlertStatus = AlertStatus.OPEN
    acknowledged_at: datetime | None = None

    def acknowledged(self, at: datetime) -> RiskAlert:
        """ACKNOWLEDGED at `at`; an alert already acknowledged keeps its first acknowledgement."""
        if self.status is AlertStatus.ACKNOWLEDGED:
            return self
        return replace(self, status=AlertStatus.ACKNOWLEDGED, acknowledged_at=at)


def check_reason(destination: str, old: str, new: str, library_version: int) -> str:
    return f"{destination} verdict {old} -> {new} under rule library version {library_version}"


def screening_reason(party_name: str, old: Decision, new: Decision, list_name: str) -> str:
    return f"screening of {party_name!r} {old.name} -> {new.name} after {list_name} update"
