"""Collections, settlement net of fees, refunds and fee tiers, on the SQLite unit of work."""

from __future__ import annotations

import pytest

from services.payments.ledger import service_layer as lh
from services.payments.ledger.domain import PLATFORM, AccountKind
from services.payments.ledger.errors import (
    CurrencyMismatch,
    DuplicatePartnerReference,
    InsufficientFunds,
    InvalidState,
    RefundExceedsCollected,
)
from services.payments.settlement import service_layer as sh
from services.payments.settlement.domain.collections import CollectionMethod, CollectionStatus
from services.shared.context import ServiceContext
from services.shared.errors import ValidationError
from services.shared.money import Money
from tests.ledger_support import in_uow, merchant, outbox_types, transfer_count, usd


@pytest.fixture
def context(payments: ServiceContext) -> ServiceContext:
    return payments


def collect(context: ServiceContext, merchant_code: str, gross: str, fee: str, ref: str, currency: str = "USD"):  # type: ignore[no-untyped-def]
    command = sh.RecordCollection(
        merchant_code, "STRIPE", ref, CollectionMethod.CARD, Money.of(gross, currency), Money.of(fee, currency)
    )
    return in_uow(context, lambda uow, now: sh.record_collection(uow, command, now))


def wallet_of(context: ServiceContext, merchant_code: str) -> lh.WalletBalance:
    (balance,) = lh.get_balances(context.uow, merchant_code)
    return balance


def fees_account(context: ServiceContext, currency: str = "USD") -> lh.Account:
    (account,) = lh.list_accounts(context.uow, owner=PLATFORM, kind=AccountKind.FEES, currency=currency)
    return account


def test_collection_is_pending_net_of_the_partner_fee_until_settled(context: ServiceContext) -> None:
    m = merchant()
    collection = collect(context, m, "100.00", "1.50", "ch_1")
    assert collection.status is CollectionStatus.PENDING and collection.pending == usd("98.50")
    wallet = wallet_of(context, m)
    assert (wallet.pending, wallet.available) == (usd("98.50"), usd("0.00"))
    settled = in_uow(context, lambda uow, now: sh.confirm_settlement(uow, collection.code, now))
    # STANDARD tier in USD: 2.9 % + 0.30 = 3.20; available = 98.50 - 3.20
    assert settled.platform_fee == usd("3.20") and settled.status is CollectionStatus.SETTLED
    wallet = wallet_of(context, m)
    assert (wallet.pending, wallet.available) == (usd("0.00"), usd("95.30"))
    assert fees_account(context).posted == usd("3.20")
    assert outbox_types(context).count("ledger_transaction_posted") == 2
    assert lh.verify_ledger(context.uow).ok


def test_settling_twice_is_refused_and_changes_nothing(context: ServiceContext) -> None:
    collection = collect(context, merchant(), "10.00", "0", "ch_2")
    in_uow(context, lambda uow, now: sh.confirm_settlement(uow, collection.code, now))
    before = transfer_count(context)
    with pytest.raises(InvalidState) as error:
        in_uow(context, lambda uow, now: sh.confirm_settlement(uow, collection.code, now))
    assert error.value.metadata["status"] == "SETTLED"
    assert transfer_count(context) == before


def test_merchant_tier_changes_the_fee(context: ServiceContext) -> None:
    m = merchant()
    in_uow(context, lambda uow, now: sh.set_merchant_tier(uow, m, "ENTERPRISE", now))
    collection = collect(context, m, "200.00", "0", "ch_3")
    settled = in_uow(context, lambda uow, now: sh.confirm_settlement(uow, collection.code, now))
    assert settled.platform_fee == usd("3.00")  # ENTERPRISE "*": 1.5 %, no fixed part
    with pytest.raises(ValidationError) as error:
        in_uow(context, lambda uow, now: sh.set_merchant_tier(uow, m, "GOLD", now))
    assert error.value.violations[0].field == "tier"


def test_partner_reference_is_unique_per_partner(context: ServiceContext) -> None:
    m = merchant()
    first = collect(context, m, "5.00", "0", "dup-ref")
    with pytest.raises(DuplicatePartnerReference) as error:
        collect(context, m, "5.00", "0", "dup-ref")
    assert error.value.metadata["collection_code"] == first.code


@pytest.mark.parametrize(
    ("gross", "fee", "field"),
    [("0", "0", "gross"), ("10.00", "10.00", "partner_fee"), ("10.00", "-1", "partner_fee")],
)
def test_bad_collections_name_the_field(context: ServiceContext, gross: str, fee: str, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        collect(context, merchant(), gross, fee, f"bad-{field}-{gross}-{fee}")
    assert field in [v.field for v in error.value.violations]
    assert transfer_count(context) == 0


def test_partial_refunds_never_exceed_the_gross(context: ServiceContext) -> None:
    m = merchant()
    collection = collect(context, m, "100.00", "2.00", "ch_r")
    in_uow(context, lambda uow, now: sh.confirm_settlement(uow, collection.code, now))
    first = in_uow(context, lambda uow, now: sh.refund_collection(uow, collection.code, usd("60.00"), now))
    assert (first.from_pending, first.from_available) == (usd("0.00"), usd("60.00"))
    assert first.collection.refundable == usd("40.00")
    with pytest.raises(RefundExceedsCollected) as error:
        in_uow(context, lambda uow, now: sh.refund_collection(uow, collection.code, usd("40.01"), now))
    assert error.value.violations[0].field == "amount" and error.value.metadata["refundable"] == "40.00"
    # 100 - 2 - 3.20 = 94.80 available, 60 refunded: 34.80 left, so the last 40.00 lacks 5.20
    with pytest.raises(InsufficientFunds):
        in_uow(context, lambda uow, now: sh.refund_collection(uow, collection.code, usd("40.00"), now))
    assert sh_get(context, collection.code).refunded == usd("60.00")  # the failed refund counted nothing
    with pytest.raises(CurrencyMismatch):
        in_uow(context, lambda uow, now: sh.refund_collection(uow, collection.code, Money.of("1", "JPY"), now))
    assert lh.verify_ledger(context.uow).ok


def test_refund_before_settlement_comes_from_pending_first(context: ServiceContext) -> None:
    m = merchant()
    collection = collect(context, m, "50.00", "1.00", "ch_p")
    refund = in_uow(context, lambda uow, now: sh.refund_collection(uow, collection.code, usd("20.00"), now))
    assert (refund.from_pending, refund.from_available) == (usd("20.00"), usd("0.00"))
    assert wallet_of(context, m).pending == usd("29.00")
    settled = in_uow(context, lambda uow, now: sh.confirm_settlement(uow, collection.code, now))
    # the fee is on the gross (2.9 % of 50 + 0.30 = 1.75), taken from what is left pending
    assert settled.platform_fee == usd("1.75")
    assert wallet_of(context, m).available == usd("27.25")
    assert lh.verify_ledger(context.uow).ok


def sh_get(context: ServiceContext, code: str):  # type: ignore[no-untyped-def]
    with context.uow() as uow:
        return sh.get_collection(uow, code)
