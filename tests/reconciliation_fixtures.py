"""Ledger postings that tests/data/settlement_statement_example.csv is reconciled against."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import AccountKind, PostTransaction, Transfer
from services.shared import codes
from services.shared.context import ServiceContext
from services.shared.money import Money

EXAMPLE = Path(__file__).parent / "data" / "settlement_statement_example.csv"
STATEMENT_DAY = datetime(2026, 11, 30, 10, tzinfo=UTC)


def unique_partner() -> str:
    return f"PSP{uuid.uuid4().hex[:10].upper()}"


def post(
    context: ServiceContext,
    partner: str,
    merchant: str,
    reference: str,
    amount: str,
    currency: str,
    *,
    at: datetime = STATEMENT_DAY,
    fee: str | None = None,
) -> str:
    """A collection as the partner sees it: the partner owes us `amount` (debit its CLEARING), less its fee."""
    clearing = lh.open_account(context.uow, lh.OpenAccount(partner, AccountKind.CLEARING, currency))
    wallet = lh.open_account(context.uow, lh.OpenAccount(merchant, AccountKind.MERCHANT_PENDING, currency))
    transfers = [Transfer(clearing.code, wallet.code, Money.of(amount, currency), code="collection")]
    if fee is not None:
        transfers.append(Transfer(wallet.code, clearing.code, Money.of(fee, currency), code="partner_fee"))
    result = lh.post_transaction(
        context.uow,
        PostTransaction(uuid.uuid4().hex, tuple(transfers), "collection", external_ref=reference),
        clock=lambda: at,
    )
    return result.code


def seed_example_ledger(context: ServiceContext, partner: str, merchant: str | None = None) -> dict[str, str]:
    """The ledger side of the example statement: one match (gross and fee netted), one amount and one
    currency mismatch, one KWD match, one posting the statement lacks, and one outside its period
    (for `merchant`, a fresh code when None)."""
    merchant = merchant or codes.generate("MC", "E")
    return {
        "PSP-CH-1001": post(context, partner, merchant, "PSP-CH-1001", "120.00", "EUR", fee="3.78"),
        "PSP-CH-1002": post(context, partner, merchant, "PSP-CH-1002", "79.00", "USD"),
        "PSP-CH-1003": post(context, partner, merchant, "PSP-CH-1003", "100.00", "CNY"),
        "PSP-CH-1005": post(context, partner, merchant, "PSP-CH-1005", "12.345", "KWD"),
        "PSP-CH-1004": post(context, partner, merchant, "PSP-CH-1004", "50.00", "EUR"),
        "PSP-CH-0500": post(
            context, partner, merchant, "PSP-CH-0500", "10.00", "EUR", at=datetime(2026, 11, 20, tzinfo=UTC)
        ),
        "merchant": merchant,
    }
