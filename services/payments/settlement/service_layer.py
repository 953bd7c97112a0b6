"""Collections, settlement, refunds and fee tiers: each posts through the ledger in the caller's unit of work.

These functions run inside a unit of work (`run_idempotent` opens and commits it for the RPCs), so the
business row (collection) and its ledger postings and events commit together or not at all.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from google.type import money_pb2
from xborder.payments.v1 import ledger_service_pb2 as ledger_pb

from services.payments.ledger.domain import PLATFORM, AccountKind, PostTransaction, TransactionResult
from services.payments.ledger.errors import (
    CurrencyMismatch,
    DuplicatePartnerReference,
    InvalidState,
    RefundExceedsCollected,
)
from services.payments.ledger.service_layer import OpenAccount, ensure_account, record_transaction
from services.payments.settlement.domain import collections as settlement
from services.payments.settlement.domain import fees
from services.payments.settlement.domain.collections import Collection, CollectionMethod, CollectionStatus, Wallet
from services.payments.settlement.proto import collection_to_proto
from services.payments.unit_of_work import PaymentsUnitOfWork
from services.shared import codes
from services.shared.errors import (
    IdempotencyConflict,
    NotFound,
    ReferenceDataMissing,
    ValidationError,
    Violations,
    found_or_raise,
)
from services.shared.idempotency import Request, fingerprint, run_idempotent
from services.shared.logs import get_logger
from services.shared.money import Money, from_proto, to_proto

log = get_logger(__name__)

PARTNER = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,63}$")
TIER = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
PARTNER_REF_MAX = 128


def check_partner(value: str, field: str, violations: Violations) -> None:
    if not PARTNER.match(value):
        violations.add(field, f"must be 1-64 upper-case letters, digits, '_' or '-', got {value!r}")


def check_merchant(value: str, field: str, violations: Violations) -> None:
    problem = codes.problems(value)
    if problem is not None:
        violations.add(field, problem)
    elif not value.startswith("MC"):
        violations.add(field, f"must be a merchant code (MC...), got {value[:2]}")


def wallet(uow: PaymentsUnitOfWork, merchant: str, partner: str, currency: str, now: datetime) -> Wallet:
    def open_(owner: str, kind: AccountKind) -> str:
        return ensure_account(uow, OpenAccount(owner, kind, currency), now=now).code

    return Wallet(
        clearing=open_(partner, AccountKind.CLEARING),
        pending=open_(merchant, AccountKind.MERCHANT_PENDING),
        available=open_(merchant, AccountKind.MERCHANT_AVAILABLE),
        fees=open_(PLATFORM, AccountKind.FEES),
    )


@dataclass(frozen=True)
class RecordCollection:
    merchant: str
    partner: str
    partner_ref: str
    method: CollectionMethod
    gross: Money
    partner_fee: Money


def validate_record(command: RecordCollection) -> None:
    violations = Violations()
    check_merchant(command.merchant, "merchant_code", violations)
    check_partner(command.partner, "partner", violations)
    if not command.partner_ref.strip():
        violations.add("partner_ref", "is required")
    elif len(command.partner_ref) > PARTNER_REF_MAX:
        violations.add("partner_ref", f"at most {PARTNER_REF_MAX} characters")
    settlement.validate_collection(command.gross, command.partner_fee, violations)
    violations.raise_if_any()


def record_collection(uow: PaymentsUnitOfWork, command: RecordCollection, now: datetime) -> Collection:
    """Credit the gross to the merchant's PENDING wallet via the partner's CLEARING account, less its fee."""
    validate_record(command)
    uow.lock_for_write()
    repo = uow.settlements
    existing = repo.by_partner_ref(command.partner, command.partner_ref)
    if existing is not None:
        raise DuplicatePartnerReference(
            f"{command.partner} reference {command.partner_ref!r} is already collection {existing.code}",
            metadata={"collection_code": existing.code},
        )
    accounts = wallet(uow, command.merchant, command.partner, command.gross.currency, now)
    code = codes.generate("PY", at=now)
    posted = record_transaction(
        uow,
        PostTransaction(
            f"collection:{code}",
            settlement.collection_transfers(accounts, command.gross, command.partner_fee),
            "collection",
            external_ref=code,
            metadata={"partner": command.partner, "partner_ref": command.partner_ref, "method": command.method.value},
        ),
        now=now,
    )
    collection = Collection(
        code=code,
        merchant=command.merchant,
        partner=command.partner,
        partner_ref=command.partner_ref,
        method=command.method,
        gross=command.gross,
        partner_fee=command.partner_fee,
        platform_fee=None,
        pending=command.gross - command.partner_fee,
        refunded=Money.from_minor(0, command.gross.currency),
        status=CollectionStatus.PENDING,
        collected_txn=posted.code,
        settled_txn=None,
        created_at=now,
        settled_at=None,
    )
    repo.insert_collection(collection)
    return collection


def _locked(uow: PaymentsUnitOfWork, code: str) -> Collection:
    uow.lock_for_write()
    return found_or_raise(uow.settlements.get(code, lock=True), f"no collection {code!r}", field="collection_code")


def get_collection(uow: PaymentsUnitOfWork, code: str) -> Collection:
    return found_or_raise(uow.settlements.get(code), f"no collection {code!r}", field="collection_code")


def collection_owner(uow: PaymentsUnitOfWork, code: str) -> str | None:
    """The merchant whose collection `code` is; None when there is none."""
    return uow.settlements.merchant_of(code)


def fee_schedule(uow: PaymentsUnitOfWork, merchant: str, currency: str) -> fees.FeeSchedule:
    repo = uow.settlements
    tier = repo.tier_of(merchant)
    schedule = repo.schedule(tier, currency)
    if schedule is None:
        raise ReferenceDataMissing(f"no fee schedule for tier {tier} in {currency} (nor a '*' row for the tier)")
    return schedule


def confirm_settlement(uow: PaymentsUnitOfWork, collection_code: str, now: datetime) -> Collection:
    """The partner settled: what is still pending becomes AVAILABLE, less the platform fee (to FEES)."""
    collection = _locked(uow, collection_code)
    if collection.status is not CollectionStatus.PENDING:
        raise InvalidState(
            f"collection {collection.code} is already {collection.status.value}",
            field="collection_code",
            metadata={"status": collection.status.value},
        )
    scheduled = fees.platform_fee(collection.gross, fee_schedule(uow, collection.merchant, collection.gross.currency))
    fee = settlement.settlement_fee(collection.pending, scheduled.total)
    accounts = wallet(uow, collection.merchant, collection.partner, collection.gross.currency, now)
    transfers = settlement.settlement_transfers(accounts, collection.pending, fee)
    settled_txn = None
    if transfers:  # a collection refunded in full before settlement has nothing left to move
        settled_txn = record_transaction(
            uow,
            PostTransaction(
                f"settlement:{collection.code}",
                transfers,
                "settlement",
                external_ref=collection.code,
                metadata={"partner": collection.partner, "partner_ref": collection.partner_ref},
            ),
            now=now,
        ).code
    if not uow.settlements.mark_settled(collection.code, fee.minor, settled_txn, now):
        raise InvalidState(f"collection {collection.code} was settled meanwhile", field="collection_code")
    return replace(
        collection,
        status=CollectionStatus.SETTLED,
        platform_fee=fee,
        pending=Money.from_minor(0, fee.currency),
        settled_txn=settled_txn,
        settled_at=now,
    )


@dataclass(frozen=True)
class Refund:
    collection: Collection
    amount: Money
    from_pending: Money
    from_available: Money
    transaction: TransactionResult


def refund_collection(uow: PaymentsUnitOfWork, collection_code: str, amount: Money, now: datetime) -> Refund:
    """Refund in the collection's currency, never beyond the gross minus earlier refunds (concurrent ones too)."""
    collection = _locked(uow, collection_code)
    if amount.currency != collection.gross.currency:
        raise CurrencyMismatch.single(
            "amount.currency_code", f"refunds are in the collection's currency {collection.gross.currency}"
        )
    if amount.amount <= 0:
        raise ValidationError.single("amount", f"must be positive, got {amount.amount}")
    if amount.minor > collection.refundable.minor:
        raise RefundExceedsCollected(
            f"refund {amount} exceeds what collection {collection.code} can still refund ({collection.refundable})",
            field="amount",
            metadata={"refundable": str(collection.refundable.amount), "collection_code": collection.code},
        )
    from_pending, from_available = settlement.refund_sources(collection, amount)
    if not uow.settlements.add_refund(collection.code, amount.minor, from_pending.minor):
        raise RefundExceedsCollected(f"a concurrent refund of {collection.code} got there first", field="amount")
    accounts = wallet(uow, collection.merchant, collection.partner, amount.currency, now)
    posted = record_transaction(
        uow,
        PostTransaction(
            f"refund:{codes.generate('PY', at=now)}",
            settlement.refund_transfers(accounts, from_pending, from_available),
            "refund",
            external_ref=collection.code,
            metadata={"partner": collection.partner, "partner_ref": collection.partner_ref},
        ),
        now=now,
    )
    updated = replace(
        collection,
        refunded=collection.refunded + amount,
        pending=collection.pending - from_pending,
    )
    return Refund(updated, amount, from_pending, from_available, posted)


def set_merchant_tier(uow: PaymentsUnitOfWork, merchant: str, tier: str, now: datetime) -> str:
    violations = Violations()
    check_merchant(merchant, "merchant_code", violations)
    if not TIER.match(tier):
        violations.add("tier", f"must be an upper-case tier name, got {tier!r}")
    violations.raise_if_any()
    repo = uow.settlements
    if tier not in repo.tiers():
        raise ValidationError.single("tier", f"unknown tier {tier!r}; known: {', '.join(repo.tiers())}")
    repo.set_tier(merchant, tier, now)
    return tier


REFUND_SCOPES: dict[str, str] = {
    "odr_refund_requested": "payments.odr_refund",
    "return_refund_requested": "payments.return_refund",
}
"""Per event type that asks for a refund, the idempotency scope of the refunds it asks for."""
_REFUND_NAMESPACE = uuid.UUID("6f1c2a52-3d0e-5b7a-9c61-0d2f4b8e9a17")


@dataclass(frozen=True)
class RefundAsked:
    """A refund another service asks for through an event: customer service's ODR outcome (the source is
    the ticket) or logistics' return (the source is the return)."""

    event_type: str  # a key of REFUND_SCOPES
    source_reference: str  # the record that asks: one refund per source and collection
    event_id: str
    collection_code: str
    amount: money_pb2.Money


def refund_request(asked: RefundAsked) -> Request:
    """One request per source record, whatever the delivery: a redelivered (or re-sent) event finds the first
    refund's stored answer instead of refunding again."""
    name = f"{asked.event_type}:{asked.source_reference}:{asked.collection_code}"
    key = str(uuid.uuid5(_REFUND_NAMESPACE, name))
    wire = ledger_pb.RefundCollectionRequest(request_id=key, collection_code=asked.collection_code, amount=asked.amount)
    return Request(f"{REFUND_SCOPES[asked.event_type]}:{asked.collection_code}", key, fingerprint(wire))


def on_refund_requested(
    uow_factory: Callable[[], PaymentsUnitOfWork], asked: RefundAsked, now: datetime
) -> ledger_pb.RefundCollectionResponse | None:
    """Consumer of the events that ask for a refund: refund the collection through the ledger, once per source.

    A refund that cannot succeed however often it is delivered (more than the collection can still refund,
    another currency, an unknown collection, a malformed event) is logged and dropped: raising would
    redeliver it forever and hold back the producer's later events. Anything else raises and is retried.
    """
    try:
        amount = from_proto(asked.amount, field="amount")
        request = refund_request(asked)
    except ValidationError as invalid:
        log.error(
            "requested_refund_unreadable",
            event_type=asked.event_type,
            source=asked.source_reference,
            event_id=asked.event_id,
            error=str(invalid),
        )
        return None

    def work(uow: PaymentsUnitOfWork) -> ledger_pb.RefundCollectionResponse:
        refund = refund_collection(uow, asked.collection_code, amount, now)
        return ledger_pb.RefundCollectionResponse(
            collection=collection_to_proto(refund.collection),
            from_pending=to_proto(refund.from_pending),
            from_available=to_proto(refund.from_available),
        )

    try:
        return run_idempotent(uow_factory, request, ledger_pb.RefundCollectionResponse, work)
    except (RefundExceedsCollected, ValidationError, NotFound, IdempotencyConflict) as refused:
        log.error(
            "requested_refund_refused",
            event_type=asked.event_type,
            source=asked.source_reference,
            collection=asked.collection_code,
            amount=str(amount),
            reason=refused.reason,
            error=str(refused),
        )
        return None
