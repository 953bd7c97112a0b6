"""Which scopes a key may hold: merchant keys get a subset of the merchant scopes; operator keys any scope.

The scopes are the `required_scope` values the RPCs declare. The gateway's tenancy table says which RPCs
a merchant may call at all; a contract test keeps the two in step (tests/contract/test_tenancy_rules.py).
"""

from __future__ import annotations

from services.shared.errors import ValidationError

MERCHANT_SCOPES: frozenset[str] = frozenset(
    {
        "bank_accounts.read",
        "bank_accounts.write",
        "compliance.alerts.read",
        "compliance.alerts.write",
        "compliance.check",
        "compliance.read",
        "compliance.screen",
        "customer_service.bot.ask",
        "customer_service.macros.write",
        "customer_service.odr.read",
        "customer_service.tickets.read",
        "customer_service.tickets.write",
        "fx.convert",
        "fx.quote",
        "fx.read",
        "identity.clients.read",
        "identity.clients.write",
        "identity.keys.write",
        "identity.legal_bases.read",
        "identity.merchants.read",
        "logistics.plans.match",
        "logistics.read",
        "logistics.returns.read",
        "logistics.returns.write",
        "logistics.shipments.read",
        "logistics.shipments.write",
        "logistics.inbound.write",
        "logistics.stock.read",
        "logistics.stock.reserve",
        "payments.collections.write",
        "payments.ledger.read",
        "payments.payouts.write",
        "payments.refunds.write",
        "statements.read",
        "vas.accept",
        "vas.quote",
        "vas.read",
    }
)
"""What a merchant may be granted: its own data only (the gateway scopes every such call to the merchant)."""

OPERATOR_SCOPES: frozenset[str] = MERCHANT_SCOPES | frozenset(
    {
        "customer_service.odr.write",
        "identity.legal_bases.write",
        "identity.merchants.write",
        "identity.transfer_rules.read",
        "identity.transfer_rules.write",
        "identity.partners.read",
        "identity.partners.write",
        "logistics.rates.write",
        "logistics.returns.receive",
        "logistics.tracking.write",
        "logistics.stock.push",
        "logistics.warehouse.write",
        "logistics.warehouses.admin",
        "payments.fees.write",
        "payments.ledger.admin",
        "payments.ledger.write",
        "payments.payouts.review",
        "reconciliation.read",
        "reconciliation.write",
    }
)
"""What an operator key may be granted. `identity.internal`, `identity.operators.write`,
`identity.sessions.write` and `identity.holds.decide` are never granted to a key: verification is the
gateway's own call, operator keys and ops staff are managed by ops tooling or an admin's session
(domain/roles.py), only an ops session steps up or logs out, and a hold is released or rejected by a
person (a compliance officer's or an admin's session)."""

PARTNER_SCOPES: dict[str, frozenset[str]] = {
    "LOGISTICS": frozenset(
        {
            "identity.partners.read",
            "logistics.rates.write",
            "logistics.read",
            "logistics.returns.receive",
            "logistics.tracking.write",
        }
    ),
    "WAREHOUSE": frozenset(
        {"identity.partners.read", "logistics.returns.receive", "logistics.stock.push", "logistics.warehouse.write"}
    ),
    "ODR": frozenset({"identity.partners.read", "customer_service.odr.write"}),
    "PAYMENT": frozenset({"identity.partners.read", "reconciliation.read", "reconciliation.write"}),
}
"""What a partner's certificate grants, by the partner's kind. Every partner-callable RPC also has a
partner-ownership rule in the gateway's tenancy table, so a partner acts only on what is its own (a
contract test keeps the table and these scopes in step)."""


def granted(requested: tuple[str, ...], allowed: frozenset[str], field: str = "scopes") -> tuple[str, ...]:
    """The sorted scopes to grant: every allowed one when none are requested; an unknown one is refused."""
    if not requested:
        return tuple(sorted(allowed))
    unknown = sorted(set(requested) - allowed)
    if unknown:
        raise ValidationError.single(field, f"not a scope this key may hold: {', '.join(unknown)}")
    return tuple(sorted(set(requested)))
