"""Returns (RMA) and their lines in the database; the cost comparison made at authorisation is kept as JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.logistics.adapters.return_tables import return_lines, returns
from services.logistics.domain.pricing import Parcel
from services.logistics.domain.returns import (
    Condition,
    CostComparison,
    CostOption,
    Disposition,
    ReasonCode,
    ReturnLine,
    ReturnStatus,
    Rma,
    Route,
)
from services.shared.money import Money


def parcels_to_json(parcels: tuple[Parcel, ...]) -> str:
    """The shipments table's layout: weights and sides as exact decimal strings."""
    keys = ("weight_kg", "length_cm", "width_cm", "height_cm")
    return json.dumps([{k: str(getattr(p, k)) for k in keys} for p in parcels])


def parcels_from_json(text: str) -> tuple[Parcel, ...]:
    keys = ("weight_kg", "length_cm", "width_cm", "height_cm")
    return tuple(Parcel(*(Decimal(p[k]) for k in keys)) for p in json.loads(text))


def _money(value: Money | None) -> dict[str, str] | None:
    return None if value is None else {"amount": str(value.amount), "currency": value.currency}


def _from_money(value: dict[str, str] | None) -> Money | None:
    return None if value is None else Money(Decimal(value["amount"]), value["currency"])


def _option(option: CostOption) -> dict[str, Any]:
    return {
        "route": option.route.value,
        "basis": option.basis,
        "total": _money(option.total),
        "breakdown": [[name, _money(m)] for name, m in option.breakdown],
        "missing": option.missing,
        "channel_code": option.channel_code,
        "warehouse_code": option.warehouse_code,
    }


def _from_option(raw: dict[str, Any]) -> CostOption:
    return CostOption(
        Route(raw["route"]),
        raw["basis"],
        _from_money(raw["total"]),
        tuple((name, _from_money(m)) for name, m in raw["breakdown"]),  # type: ignore[misc]
        raw["missing"],
        raw["channel_code"],
        raw["warehouse_code"],
    )


def comparison_to_json(comparison: CostComparison | None) -> str:
    if comparison is None:
        return "null"
    return json.dumps(
        {
            "restock": _option(comparison.restock),
            "return_to_origin": _option(comparison.return_to_origin),
            "recommended": comparison.recommended.value if comparison.recommended else None,
            "reason": comparison.reason,
        },
        sort_keys=True,
    )


def comparison_from_json(text: str) -> CostComparison | None:
    raw = json.loads(text)
    if raw is None:
        return None
    recommended = Route(raw["recommended"]) if raw["recommended"] else None
    return CostComparison(
        _from_option(raw["restock"]), _from_option(raw["return_to_origin"]), recommended, raw["reason"]
    )


class ReturnRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, rma: Rma) -> None:
        self.connection.execute(returns.insert().values(**self._row(rma), code=rma.code))
        self.connection.execute(
            return_lines.insert(),
            [
                {
                    "return_code": rma.code,
                    "line_no": line.line_no,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "reason": line.reason.value,
                    "condition": None,
                }
                for line in rma.lines
            ],
        )

    def update(self, rma: Rma) -> None:
        """The return's state and each line's condition, as the lifecycle moved them."""
        self.connection.execute(returns.update().where(returns.c.code == rma.code).values(**self._row(rma)))
        for line in rma.lines:
            self.connection.execute(
                return_lines.update()
                .where(return_lines.c.return_code == rma.code, return_lines.c.line_no == line.line_no)
                .values(condition=line.condition.value if line.condition else None)
            )

    def get(self, code: str, *, for_update: bool = False) -> Rma | None:
        query = sa.select(returns).where(returns.c.code == code)
        if for_update and self.connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if row is None:
            return None
        lines = self.connection.execute(
            sa.select(return_lines).where(return_lines.c.return_code == code).order_by(return_lines.c.line_no)
        )
        amount = None
        if row.refund_amount and row.refund_currency:
            amount = Money(Decimal(row.refund_amount), row.refund_currency)
        return Rma(
            row.code,
            row.merchant_code,
            row.shipment_code,
            row.outbound_waybill,
            row.order_reference,
            row.reason,
            row.destination_country,
            row.origin_country,
            tuple(
                ReturnLine(
                    r.line_no,
                    r.sku,
                    r.quantity,
                    ReasonCode(r.reason),
                    Condition(r.condition) if r.condition else None,
                )
                for r in lines
            ),
            parcels_from_json(row.parcels),
            ReturnStatus(row.status),
            row.authorised_at,
            row.updated_at,
            Route(row.route) if row.route else None,
            row.return_waybill or "",
            row.label_reference,
            Disposition(row.disposition) if row.disposition else None,
            row.warehouse_code,
            row.refund_collection_code,
            amount,
            row.note,
            comparison_from_json(row.comparison),
            row.carrier,
        )

    def waybill_taken(self, waybill: str) -> bool:
        return (
            self.connection.execute(sa.select(returns.c.code).where(returns.c.return_waybill == waybill)).first()
            is not None
        )

    @staticmethod
    def _row(rma: Rma) -> dict[str, Any]:
        return {
            "merchant_code": rma.merchant_code,
            "shipment_code": rma.shipment_code,
            "outbound_waybill": rma.outbound_waybill,
            "order_reference": rma.order_reference,
            "reason": rma.reason,
            "destination_country": rma.destination_country,
            "origin_country": rma.origin_country,
            "parcels": parcels_to_json(rma.parcels),
            "status": rma.status.value,
            "route": rma.route.value if rma.route else None,
            "return_waybill": rma.return_waybill or None,
            "label_reference": rma.label_reference,
            "disposition": rma.disposition.value if rma.disposition else None,
            "warehouse_code": rma.warehouse_code,
            "refund_collection_code": rma.refund_collection_code,
            "refund_amount": str(rma.refund_amount.amount) if rma.refund_amount else None,
            "refund_currency": rma.refund_amount.currency if rma.refund_amount else None,
            "note": rma.note,
            "carrier": rma.carrier,
            "comparison": comparison_to_json(rma.comparison),
            "authorised_at": rma.authorised_at,
            "updated_at": rma.updated_at,
        }
