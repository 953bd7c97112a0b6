"""Risk alert table (schema `compliance`): one row per worsened check or screening per cause."""

from __future__ import annotations

import sqlalchemy as sa

from services.compliance.adapters.tables import metadata
from services.shared.clock import UtcDateTime

# (cause, subject_code) is unique: a redelivered event, or a replay after a crash, cannot raise the same
# alert twice (the handler also claims the event, this is the second line of defence).
risk_alerts = sa.Table(
    "risk_alerts",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("subject_kind", sa.String(16), nullable=False),
    sa.Column("subject_code", sa.String(18), nullable=False),
    sa.Column("party_name", sa.Text, nullable=False),
    sa.Column("destination", sa.String(2), nullable=False),
    sa.Column("old_verdict", sa.String(32), nullable=False),
    sa.Column("new_verdict", sa.String(32), nullable=False),
    sa.Column("cause", sa.String(120), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raised_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("acknowledged_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("cause", "subject_code", name="uq_risk_alerts_cause_subject"),
    sa.Index("ix_risk_alerts_merchant_time", "merchant_code", "raised_at", "code"),
)
