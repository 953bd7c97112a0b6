"""Domain -> proto for the identity answers (used by the handlers, whose remembered answers are protos)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2
from xborder.identity.v1 import identity_service_pb2 as pb

from services.identity.domain.keys import ApiKey
from services.identity.domain.merchants import Merchant, MerchantStatus

STATUS_TO_PROTO = {
    MerchantStatus.ACTIVE: pb.MERCHANT_STATUS_ACTIVE,
    MerchantStatus.REVIEW: pb.MERCHANT_STATUS_REVIEW,
    MerchantStatus.BLOCKED: pb.MERCHANT_STATUS_BLOCKED,
}


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def merchant_to_proto(merchant: Merchant) -> pb.Merchant:
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
