"""Ops staff roles and the scopes each grants (the `required_scope` values of the RPCs).

The roles follow the split of duties of the operations desk: a viewer reads, an agent handles customer
service, a compliance officer screens, checks and onboards, finance runs the ledger, payouts and
reconciliation, and an admin does everything, including keys, OAuth clients and operator management.
Only ops sessions hold `identity.sessions.write` (step-up, logout) and only admins
`identity.operators.write`. Deciding on a held merchant or partner (`identity.holds.decide`) is a
person's call: compliance officers and admins hold it, and no key can. A contract test
(tests/contract/test_operator_roles.py) keeps the table in step with the scopes the RPCs declare.
"""

from __future__ import annotations

import enum

from services.identity.domain.scopes import OPERATOR_SCOPES


class Role(enum.Enum):
    VIEWER = "viewer"
    AGENT = "agent"
    COMPLIANCE_OFFICER = "compliance_officer"
    FINANCE = "finance"
    ADMIN = "admin"


SESSION_SCOPES: frozenset[str] = frozenset({"identity.sessions.write"})
"""Every ops session holds these: stepping up and logging out of its own session."""

HOLD_DECISIONS: frozenset[str] = frozenset({"identity.holds.decide"})
"""Releasing or rejecting a held merchant or partner (domain/holds.py): sessions of the deciding roles only."""

_READ: frozenset[str] = frozenset(s for s in OPERATOR_SCOPES if s.endswith(".read"))

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.VIEWER: _READ | SESSION_SCOPES,
    Role.AGENT: _READ
    | SESSION_SCOPES
    | {
        "customer_service.tickets.write",
        "customer_service.odr.write",
        "compliance.alerts.write",
    },
    Role.COMPLIANCE_OFFICER: _READ
    | SESSION_SCOPES
    | {
        "compliance.check",
        "compliance.screen",
        "compliance.alerts.write",
        "identity.merchants.write",
    }
    | HOLD_DECISIONS,
    Role.FINANCE: _READ
    | SESSION_SCOPES
    | {
        "bank_accounts.write",
        "fx.convert",
        "fx.quote",
        "payments.collections.write",
        "payments.fees.write",
        "payments.ledger.admin",
        "payments.ledger.write",
        "payments.payouts.review",
        "payments.payouts.write",
        "payments.refunds.write",
        "reconciliation.write",
        "vas.accept",
        "vas.quote",
    },
    Role.ADMIN: OPERATOR_SCOPES | SESSION_SCOPES | HOLD_DECISIONS | {"identity.operators.write"},
}
