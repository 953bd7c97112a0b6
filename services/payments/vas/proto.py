"""Offer records -> FxService proto messages (what the offer use cases store for idempotent replays)."""

from __future__ import annotations

from datetime import datetime

from xborder.payments.v1 import fx_service_pb2 as pb

from services.payments.fx.service_layer.views import status_at, timestamp
from services.payments.vas.adapters.repository import OfferRecord
from services.shared.money import Money, to_proto

_KIND = {"CARGO_INSURANCE": pb.OFFER_KIND_CARGO_INSURANCE, "TRADE_FINANCING": pb.OFFER_KIND_TRADE_FINANCING}


def offer_to_proto(record: OfferRecord, now: datetime) -> pb.Offer:
    return pb.Offer(
        code=record.code,
        kind=_KIND[record.kind],  # type: ignore[arg-type]
        merchant_code=record.merchant_code,
        amount=to_proto(Money.from_minor(record.amount_minor, record.currency)),
        basis=to_proto(Money.from_minor(record.basis_minor, record.currency)),
        components=[pb.PriceComponent(name=name, value=value) for name, value in record.components()],
        created_at=timestamp(record.created_at),
        expires_at=timestamp(record.expires_at),
        status=status_at(record.status, record.expires_at, now),  # type: ignore[arg-type]
    )
