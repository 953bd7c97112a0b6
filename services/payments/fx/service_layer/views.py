"""Domain records -> FxService proto messages (what handlers store for idempotent replays)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from xborder.payments.v1 import fx_service_pb2 as pb

from services.payments.fx.adapters.repositories import QuoteRecord
from services.payments.fx.domain import quotes as q
from services.payments.fx.domain.rates import Rate
from services.payments.fx.domain.spreads import ExecutableRate
from services.shared.money import Money, to_proto

_STATUS = {
    q.OPEN: pb.QUOTE_STATUS_OPEN,
    q.CONVERTED: pb.QUOTE_STATUS_CONVERTED,
    q.ACCEPTED: pb.QUOTE_STATUS_ACCEPTED,
}


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def executable_rate(
    sell: str, buy: str, reference: Rate, tier: str, executable: ExecutableRate, lock_premium_bps: int
) -> pb.ExecutableRate:
    return pb.ExecutableRate(
        sell_currency=sell,
        buy_currency=buy,
        reference_rate=format(reference.rate, "f"),
        source=reference.source,
        as_of=timestamp(reference.as_of),
        fresh_until=timestamp(reference.expires_at),
        derivation=reference.derivation,
        tier=tier,
        spread_bps=executable.spread_bps,
        lock_premium_bps=lock_premium_bps,
        rate=format(executable.rate, "f"),
    )


def status_at(status: str, expires_at: datetime, now: datetime) -> int:
    if status == q.OPEN and now >= expires_at:
        return pb.QUOTE_STATUS_EXPIRED
    return _STATUS[status]


def quote(record: QuoteRecord, now: datetime) -> pb.Quote:
    return pb.Quote(
        code=record.code,
        merchant_code=record.merchant_code,
        sell=to_proto(Money.from_minor(record.sell_minor, record.sell_currency)),
        buy=to_proto(Money.from_minor(record.buy_minor, record.buy_currency)),
        spread=to_proto(Money.from_minor(record.spread_minor, record.buy_currency)),
        fixed_side=pb.FIXED_SIDE_SELL if record.fixed_side == "sell" else pb.FIXED_SIDE_BUY,
        rate=stored_rate(record),
        lock_seconds=record.lock_seconds,
        created_at=timestamp(record.created_at),
        expires_at=timestamp(record.expires_at),
        status=status_at(record.status, record.expires_at, now),  # type: ignore[arg-type]
        conversion_code=record.conversion_code or "",
    )


def stored_rate(record: QuoteRecord) -> pb.ExecutableRate:
    """The locked rate as the quote stored it."""
    return pb.ExecutableRate(
        sell_currency=record.sell_currency,
        buy_currency=record.buy_currency,
        reference_rate=format(record.reference_rate, "f"),
        source=record.rate_source,
        as_of=timestamp(record.rate_as_of),
        fresh_until=timestamp(record.rate_fresh_until),
        derivation=record.rate_derivation,
        tier=record.tier,
        spread_bps=record.spread_bps,
        lock_premium_bps=record.lock_premium_bps,
        rate=format(record.rate, "f"),
    )
