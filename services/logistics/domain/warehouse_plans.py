"""Plans that ship a merchant's stock from an overseas warehouse, offered beside direct shipping.

The warehouse plans are the catalogue's plans from the warehouse's country to the destination (its
last-mile channels), marked with the warehouse; they rank together with the direct plans. Their cost is
the last mile only: the first leg into the warehouse was paid when the stock went there.
"""

from __future__ import annotations

from dataclasses import replace

from services.logistics.domain.matching import Catalogue, MatchResult
from services.logistics.domain.pricing import Shipment
from services.logistics.domain.ranking import rank
from services.logistics.domain.warehouses import Warehouse


def match_with_stock(catalogue: Catalogue, shipment: Shipment, warehouse: Warehouse | None) -> MatchResult:
    """Direct plans, and, when a warehouse holds the order, its last-mile plans (a channel once)."""
    direct, excluded = catalogue.outcomes(shipment)
    direct = [replace(c, ship_from=shipment.origin) for c in direct]
    if warehouse is None or warehouse.country == shipment.origin:
        return MatchResult(tuple(rank(direct, shipment.preference, shipment.deliver_by)), tuple(excluded))
    from_stock, _ = catalogue.outcomes(replace(shipment, origin=warehouse.country))
    taken = {c.channel.code for c in direct}
    note = f"ships the merchant's stock from {warehouse.code} ({warehouse.country}): last mile only"
    via = [
        replace(c, warehouse_code=warehouse.code, ship_from=warehouse.country, notes=(*c.notes, note))
        for c in from_stock
        if c.channel.code not in taken
    ]
    offered = {c.channel.code for c in via}
    kept = tuple(e for e in excluded if e.channel.code not in offered)
    return MatchResult(tuple(rank(direct + via, shipment.preference, shipment.deliver_by)), kept)
