"""Collections and fee schedules -> LedgerService proto messages."""

from __future__ import annotations

from typing import cast

from xborder.payments.v1 import ledger_service_pb2 as pb

from services.payments.ledger.entrypoints.grpc_api import timestamp
from services.payments.settlement.domain.collections import Collection, CollectionMethod
from services.payments.settlement.domain.fees import FeeSchedule
from services.shared.money import to_proto

METHODS = {pb.CollectionMethod.Value(f"COLLECTION_METHOD_{m.value}"): m for m in CollectionMethod}
_METHOD_NUMBERS = {m: cast(pb.CollectionMethod, n) for n, m in METHODS.items()}


def collection_to_proto(c: Collection) -> pb.Collection:
    return pb.Collection(
        code=c.code,
        merchant_code=c.merchant,
        partner=c.partner,
        partner_ref=c.partner_ref,
        method=_METHOD_NUMBERS[c.method],
        gross=to_proto(c.gross),
        partner_fee=to_proto(c.partner_fee),
        platform_fee=None if c.platform_fee is None else to_proto(c.platform_fee),
        pending=to_proto(c.pending),
        refunded=to_proto(c.refunded),
        status=c.status.value,
        collected_transaction=c.collected_txn,
        settled_transaction=c.settled_txn or "",
        created_at=timestamp(c.created_at),
        settled_at=timestamp(c.settled_at),
    )


def fee_to_proto(f: FeeSchedule) -> pb.FeeSchedule:
    return pb.FeeSchedule(tier=f.tier, currency=f.currency, percent=format(f.percent, "f"), fixed_minor=f.fixed_minor)
