"""The migration that gives returns labelled back to origin before `returns.carrier` existed their carrier,
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import services.logistics
from services.logistics.adapters.catalogue_tables import channels
from services.logistics.adapters.return_tables import returns
from services.logistics.adapters.shipment_tables import shipments
from services.shared.db import create_engine, is_sqlite, schema_name
from services.shared.settings import Settings

MIGRATIONS = Path(services.logistics.__file__).parent / "migrations"
AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _upgrade(engine: sa.Engine, settings: Settings, to: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if not is_sqlite(engine):
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name(settings, "logistics")}"'))
        config.attributes["connection"] = connection
        config.attributes["settings"] = settings
        command.upgrade(config, to)


def _channel(code: str, carrier_id: str, definition: dict[str, str]) -> dict[str, str]:
    return {
        "code": code,
        "name": code,
        "carrier": "Sample",
        "carrier_id": carrier_id,
        "kind": "express",
        "currency": "EUR",
        "definition": json.dumps({"code": code, **definition}),
    }


def _return(code: str, *, route: str | None, labelled: bool, channel: str, carrier: str = "") -> dict[str, object]:
    option: dict[str, object] = {"route": "return_to_origin", "basis": channel, "total": None, "breakdown": [],
                                 "missing": "", "channel_code": channel, "warehouse_code": ""}  # fmt: skip
    restock = {**option, "route": "restock", "channel_code": "", "warehouse_code": "SAMPLE-WH-DE"}
    comparison = {"restock": restock, "return_to_origin": option, "recommended": route, "reason": ""}
    return {
        "code": code,
        "merchant_code": "MC1",
        "shipment_code": "YD1",
        "outbound_waybill": "EX000000001CN",
        "order_reference": "order-1",
        "reason": "too small",
        "destination_country": "DE",
        "origin_country": "CN",
        "parcels": "[]",
        "status": "label_issued" if labelled else "authorised",
        "route": route,
        "return_waybill": f"RX{code}" if labelled else None,
        "label_reference": f"labels/{code}.pdf" if labelled else "",
        "disposition": None,
        "warehouse_code": "",
        "refund_collection_code": "CL1",
        "refund_amount": None,
        "refund_currency": None,
        "note": "",
        "carrier": carrier,
        "comparison": json.dumps(comparison),
        "authorised_at": AT,
        "updated_at": AT,
    }


def test_returns_labelled_back_to_origin_before_carriers_get_their_channels_carrier(any_settings: Settings) -> None:
    engine = create_engine(any_settings, "logistics")
    try:
        _upgrade(engine, any_settings, "logistics_0009")
        with engine.begin() as connection:
            connection.execute(
                channels.insert(),
                [
                    _channel("REV-HERMES", "hermes", {}),
                    # Catalogue not reloaded since logistics_0009: the stored definition names the carrier.
                    _channel("REV-DHL", "", {"carrier_id": " DHL_Express "}),
                    _channel("REV-NONE", "", {}),  # no carrier known anywhere
                ],
            )
            connection.execute(
                shipments.insert().values(
                    code="YD1", merchant_code="MC1", channel_code="OUT-1", rate_sheet_version=1,
                    waybill_number="EX000000001CN", label_reference="labels/YD1.pdf", destination_country="DE",
                    destination_postal_code="10115", parcels="[]", booked_at=AT, status="delivered", sub_status="",
                    rec24_code="",
                )
            )  # fmt: skip
            rto = "return_to_origin"
            connection.execute(
                returns.insert(),
                [
                    _return("RT1", route=rto, labelled=True, channel="REV-HERMES"),
                    _return("RT2", route=rto, labelled=True, channel="REV-DHL"),
                    _return("RT3", route=rto, labelled=True, channel="REV-NONE"),
                    _return("RT4", route=rto, labelled=True, channel="REV-HERMES", carrier="fedex"),
                    _return("RT5", route="restock", labelled=True, channel="REV-HERMES"),
                    _return("RT6", route=None, labelled=False, channel="REV-HERMES"),
                ],
            )
        _upgrade(engine, any_settings, "head")
        with engine.connect() as connection:
            carriers = {
                row.code: row.carrier for row in connection.execute(sa.select(returns.c.code, returns.c.carrier))
            }
        assert carriers == {
            "RT1": "hermes",  # the reverse-lane channel's carrier
            "RT2": "dhl_express",  # from the channel's stored definition
            "RT3": "",  # nobody known: operators still record its steps
            "RT4": "fedex",  # a carrier set with the label is kept
            "RT5": "",  # a restock label: its warehouse reports the parcel
            "RT6": "",  # no label yet: the carrier is set when it is issued
        }
    finally:
        engine.dispose()
