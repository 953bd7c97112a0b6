"""Domain -> proto for the identity answers (used by the handlers, whose remembered answers are protos)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2
from xborder.identity.v1 import identity_service_pb2 as pb

from services.identity.domain.holds import Decision, HoldDecision
from services.identity.domain.keys import ApiKey
from services.identity.domain.merchants import Merchant, MerchantStatus

STATUS_TO_PROTO = {
    MerchantStatus.ACTIVE: pb.MERCHANT_STATUS_ACTIVE,
    MerchantStatus.REVIEW: pb.MERCHANT_STATUS_REVIEW,
    MerchantStatus.BLOCKED: pb.MERCHANT_STATUS_BLOCKED,
    MerchantStatus.REJECTED: pb.MERCHANT_STATUS_REJECTED,
}
DECISION_TO_PROTO = {Decision.RELEASE: pb.HOLD_DECISION_RELEASE, Decision.REJECT: pb.HOLD_DECISION_REJECT}
DECISION_FROM_PROTO = {value: decision for decision, value in DECISION_TO_PROTO.items()}


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def decision_to_proto(decided: HoldDecision) -> pb.HoldDecisionRecord:
    return pb.HoldDecisionRecord(
        decision=DECISION_TO_PROTO[decided.decision],
        previous_status=decided.previous_status.value,
        status=decided.status.value,
        reason=decided.reason,
        decided_by=decided.decided_by,
        decided_at=timestamp(decided.decided_at),
    )


def merchant_to_proto(merchant: Merchant, decisions: list[HoldDecision] | None = None) -> pb.Merchant:
    r = merchant.registration
    return pb.Merchant(
        merchant_code=merchant.merchant_code,
        legal_name=r.legal_name,
        country=r.country,
        uscc=r.uscc,
        settlement_currency=r.settlement_currency,
        status=STATUS_TO_PROTO[merchant.status],
        screening_code=merchant.screening_code,
        contacts=[pb.Contact(name=c.name, email=c.email, phone=c.phone, role=c.role) for c in r.contacts],
        created_at=timestamp(merchant.created_at),
        hold_decisions=[decision_to_proto(d) for d in decisions or ()],
    )


def key_to_proto(key: ApiKey) -> pb.ApiKey:
    answer = pb.ApiKey(
        key_id=key.key_id,
        merchant_code=key.merchant_code or "",
        scopes=list(key.scopes),
        created_at=timestamp(key.created_at),
        label=key.label,
    )
    if key.expires_at is not None:
        answer.expires_at.CopyFrom(timestamp(key.expires_at))
    if key.revoked_at is not None:
        answer.revoked_at.CopyFrom(timestamp(key.revoked_at))
    return answer
