"""Payouts -> LedgerService proto messages."""

from __future__ import annotations

from typing import cast

from xborder.payments.v1 import ledger_service_pb2 as pb

from services.payments.bank_accounts.domain import mask_holder_name
from services.payments.ledger.entrypoints.grpc_api import timestamp
from services.payments.payouts.domain import Payout, PayoutStatus
from services.shared.money import to_proto

_PAYOUT_STATUS = {s: cast(pb.PayoutStatus, pb.PayoutStatus.Value(f"PAYOUT_STATUS_{s.value}")) for s in PayoutStatus}


def payout_to_proto(p: Payout) -> pb.Payout:
    return pb.Payout(
        code=p.code,
        merchant_code=p.merchant,
        amount=to_proto(p.amount),
        bank_account_code=p.bank_account_code,
        partner=p.partner,
        payee_name=mask_holder_name(p.payee_name),  # PERSONAL_SENSITIVE: answered as the vault answers it
        payee_country=p.payee_country,
        status=_PAYOUT_STATUS[p.status],
        hold_reason=p.hold_reason,
        screening_decision=p.screening_decision,
        pending_transfer_id=p.pending_transfer_id or 0,
        posted=None if p.posted is None else to_proto(p.posted),
        timeout_seconds=int(p.timeout.total_seconds()),
        created_at=timestamp(p.created_at),
        updated_at=timestamp(p.updated_at),
    )
