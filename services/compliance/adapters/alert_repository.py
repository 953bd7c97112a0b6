"""Stored risk alerts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.compliance.adapters.alert_tables import risk_alerts
from services.compliance.domain.alerts import AlertStatus, RiskAlert, SubjectKind


class AlertRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def raised_for(self, cause: str, subject_codes: list[str]) -> set[str]:
        """Subjects that already have an alert for this cause (a replay after a partial crash skips them)."""
        found: set[str] = set()
        t = risk_alerts
        for start in range(0, len(subject_codes), 500):  # bounded IN lists
            chunk = subject_codes[start : start + 500]
            rows = self.connection.execute(
                sa.select(t.c.subject_code).where(t.c.cause == cause, t.c.subject_code.in_(chunk))
            )
            found.update(r.subject_code for r in rows)
        return found

    def add_all(self, alerts: list[RiskAlert]) -> None:
        if alerts:
            self.connection.execute(risk_alerts.insert(), [_row(a) for a in alerts])

    def get(self, code: str) -> RiskAlert | None:
        row = self.connection.execute(sa.select(risk_alerts).where(risk_alerts.c.code == code)).first()
        return _alert(row) if row is not None else None

    def for_merchant(self, merchant_code: str, status: AlertStatus | None, offset: int, limit: int) -> list[RiskAlert]:
        t = risk_alerts
        query = sa.select(t).where(t.c.merchant_code == merchant_code)
        if status is not None:
            query = query.where(t.c.status == status.value)
        query = query.order_by(t.c.raised_at.desc(), t.c.code.desc()).offset(offset).limit(limit)
        return [_alert(row) for row in self.connection.execute(query)]

    def save_status(self, alert: RiskAlert) -> None:
        self.connection.execute(
            risk_alerts.update()
            .where(risk_alerts.c.code == alert.code)
            .values(status=alert.status.value, acknowledged_at=alert.acknowledged_at)
        )

    def count(self) -> int:
        return int(self.connection.execute(sa.select(sa.func.count()).select_from(risk_alerts)).scalar_one())


def _row(alert: RiskAlert) -> dict[str, object]:
    return {
        "code": alert.code,
        "merchant_code": alert.merchant_code,
        "subject_kind": alert.subject_kind.value,
        "subject_code": alert.subject_code,
        "party_name": alert.party_name,
        "destination": alert.destination,
        "old_verdict": alert.old_verdict,
        "new_verdict": alert.new_verdict,
        "cause": alert.cause,
        "reason": alert.reason,
        "raised_at": alert.raised_at,
        "status": alert.status.value,
        "acknowledged_at": alert.acknowledged_at,
    }


def _alert(row: sa.Row) -> RiskAlert:
    return RiskAlert(
        code=row.code,
        merchant_code=row.merchant_code,
        subject_kind=SubjectKind(row.subject_kind),
        subject_code=row.subject_code,
        party_name=row.party_name,
        destination=row.destination,
        old_verdict=row.old_verdict,
        new_verdict=row.new_verdict,
        cause=row.cause,
        reason=row.reason,
        raised_at=row.raised_at,
        status=AlertStatus(row.status),
        acknowledged_at=row.acknowledged_at,
    )
