"""`xborder logistics channels | import-rates | match | track` against a real logistics server (port 0)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format
from typer.testing import CliRunner
from xborder.logistics.v1 import plans_service_pb2_grpc as pb_grpc
from xborder.logistics.v1 import shipments_service_pb2 as spb
from xborder.logistics.v1 import shipments_service_pb2_grpc as spb_grpc

from cli.main import app
from services.shared import codes
from services.shared.settings import Settings
from tests.servers import Running, running_service

MATCH = ["logistics", "match", "--weight", "1.2kg", "--dims", "30x20x10", "--to", "US", "--postal-code", "10001"]
SPEAKER = [*MATCH, "--hs", "851822", "--battery", "UN3481:contained_in_equipment", "--value", "40 USD"]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    settings = Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False)
    with running_service(settings, "logistics", pb_grpc.LogisticsPlanServiceStub) as running:
        yield running


@pytest.fixture
def cli(service: Running, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("XB_LOGISTICS_PORT", str(service.port))
    monkeypatch.setenv("XB_VAR_DIR", str(service.settings.var_dir))
    monkeypatch.setenv("COLUMNS", "250")
    return CliRunner()


def test_channels_lists_the_catalogue(cli: CliRunner) -> None:
    result = cli.invoke(app, ["logistics", "channels", "--to", "JP"])
    assert result.exit_code == 0, result.output
    assert "6 channels to JP" in result.output and "SAMPLE-LINE-JP" in result.output
    assert "SAMPLE-LINE-US" not in result.output
    hermes = cli.invoke(app, ["logistics", "channels", "--to", "JP", "--carrier", "Hermes"])
    assert hermes.exit_code == 0, hermes.output
    assert "2 channels to JP" in hermes.output and "Sample Post (hermes)" in hermes.output
    assert "SAMPLE-LINE-JP" not in hermes.output


def test_match_prints_ranked_plans_and_exclusions(cli: CliRunner) -> None:
    result = cli.invoke(app, SPEAKER)
    assert result.exit_code == 0, result.output
    assert "7 plans" in result.output and "122.00 CNY" in result.output
    assert "SAMPLE-LINE-JP: does not serve US" in result.output


def test_match_names_a_bad_field(cli: CliRunner) -> None:
    result = cli.invoke(app, [*SPEAKER[:-2], "--value", "40 USD", "--from", "XX"])
    assert result.exit_code == 1
    assert "origin_country: 'XX' is not a known country" in result.output


def test_import_rates_stores_a_version_and_refuses_a_bad_sheet(cli: CliRunner, tmp_path: Path) -> None:
    sheet = tmp_path / "jp.csv"
    sheet.write_text(
        "channel,zone,weight_from_kg,weight_to_kg,per_parcel,per_kg\n"
        "SAMPLE-LINE-JP,JP-MAIN,0,25,15.00,48.00\nSAMPLE-LINE-JP,JP-OKINAWA,0,25,18.00,60.00\n"
    )
    result = cli.invoke(app, ["logistics", "import-rates", str(sheet), "--valid-from", "2099-01-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "SAMPLE-LINE-JP" in result.output and "2099-01-01" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(sheet.read_text().replace("0,25,18.00", "1,25,18.00"))
    refused = cli.invoke(app, ["logistics", "import-rates", str(bad)])
    assert refused.exit_code == 1
    assert "csv: row 3, column weight_from_kg: gap in zone JP-OKINAWA: nothing prices 0-1 kg" in refused.output
    foreign = cli.invoke(app, ["logistics", "import-rates", str(sheet), "--carrier", "hermes"])
    assert foreign.exit_code == 1
    assert "csv: row 2, column channel: carrier hermes has no channel 'SAMPLE-LINE-JP'" in foreign.output


def test_track_prints_the_status_and_the_timeline_with_raw_codes(cli: CliRunner, service: Running) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{service.port}")
    stub = spb_grpc.ShipmentServiceStub(channel)
    booking = {
        "requestId": "cli-track",
        "merchantCode": codes.generate("MC"),
        "channelCode": "SAMPLE-POST-EMS",
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "1", "lengthCm": "20", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": "DE", "postalCode": "10115"},
    }
    shipment = stub.BookShipment(json_format.ParseDict(booking, spb.BookShipmentRequest())).shipment
    events = [
        {
            "carrier": "hermes",
            "waybillNumber": shipment.waybill_number,
            "code": c,
            "occurredAt": t,
            "location": "Berlin",
        }
        for c, t in (("3010", "2026-03-05T07:00:00Z"), ("9327", "2026-03-05T08:00:00Z"))
    ]
    stub.PushTrackingEvents(json_format.ParseDict({"events": events}, spb.PushTrackingEventsRequest()))
    channel.close()
    result = cli.invoke(app, ["logistics", "track", shipment.code])
    assert result.exit_code == 0, result.output
    assert "OUT_FOR_DELIVERY / on_delivery_tour" in result.output and shipment.waybill_number in result.output
    assert "9327" in result.output and "unmapped" in result.output
    missing = cli.invoke(app, ["logistics", "track", codes.generate("YD")])
    assert missing.exit_code == 1


def test_warehouses_and_a_merchants_stock(cli: CliRunner, service: Running) -> None:
    from xborder.logistics.v1 import warehouses_service_pb2 as wpb
    from xborder.logistics.v1 import warehouses_service_pb2_grpc as wpb_grpc

    listed = cli.invoke(app, ["logistics", "warehouses", "--country", "JP"])
    assert listed.exit_code == 0, listed.output
    assert "1 warehouses" in listed.output and "SAMPLE-WH-JP-NRT" in listed.output and "Asia/Tokyo" in listed.output
    merchant = codes.generate("MC")
    channel = grpc.insecure_channel(f"127.0.0.1:{service.port}")
    wpb_grpc.WarehouseServiceStub(channel).PushInventory(
        wpb.PushInventoryRequest(
            push_id="cli-1",
            warehouse_code="SAMPLE-WH-JP-NRT",
            merchant_code=merchant,
            kind=wpb.INVENTORY_PUSH_KIND_SNAPSHOT,
            lines=[wpb.InventoryLine(sku="TEA-1", on_hand=12, in_transit_inbound=3)],
        )
    )
    channel.close()
    shown = cli.invoke(app, ["logistics", "stock", "--merchant", merchant, "--sku", "TEA-1"])
    assert shown.exit_code == 0, shown.output
    assert "SAMPLE-WH-JP-NRT" in shown.output and "total" in shown.output and "12" in shown.output
    bad = cli.invoke(app, ["logistics", "stock", "--merchant", "MC123"])
    assert bad.exit_code == 1 and "merchant_code" in bad.output


def test_import_tracking_prints_each_row_and_exits_1_on_a_rejected_row(
    cli: CliRunner, service: Running, tmp_path: Path
) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{service.port}")
    stub = spb_grpc.ShipmentServiceStub(channel)
    booking = {
        "requestId": "cli-file",
        "merchantCode": codes.generate("MC"),
        "channelCode": "SAMPLE-POST-EMS",
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "1", "lengthCm": "20", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": "DE", "postalCode": "10115"},
    }
    shipment = stub.BookShipment(json_format.ParseDict(booking, spb.BookShipmentRequest())).shipment
    channel.close()
    good = tmp_path / "hermes.csv"
    good.write_text(f"waybill,code,time,location\n{shipment.waybill_number},1510,2026-03-04T08:00:00Z,Hamburg\n")
    result = cli.invoke(app, ["logistics", "import-tracking", str(good), "--carrier", "hermes"])
    assert result.exit_code == 0, result.output
    assert "applied (moved)" in result.output and "1 applied, 0 duplicate" in result.output
    again = cli.invoke(app, ["logistics", "import-tracking", str(good), "--carrier", "hermes"])
    assert again.exit_code == 0 and "0 applied, 1 duplicate" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_text(f"waybill,code,time\n{shipment.waybill_number},3500,yesterday\n")
    refused = cli.invoke(app, ["logistics", "import-tracking", str(bad), "--carrier", "hermes"])
    assert refused.exit_code == 1
    assert "column time" in refused.output and "1 rejected" in refused.output
    unknown = cli.invoke(app, ["logistics", "import-tracking", str(good), "--carrier", "acme"])
    assert unknown.exit_code == 1 and "carrier" in unknown.output


def test_an_operator_registers_and_updates_a_warehouse(cli: CliRunner) -> None:
    register = [
        "logistics",
        "warehouse-register",
        "PARTNER-WH-MX-MEX",
        "--name",
        "Partner Mexico City",
        "--operator",
        "Partner Logistica",
        "--country",
        "MX",
        "--address",
        "Av. Ejemplo 1, CDMX",
        "--time-zone",
        "America/Mexico_City",
        "--request-id",
        "cli-wh-1",
    ]
    made = cli.invoke(app, register)
    assert made.exit_code == 0, made.output
    assert "registered PARTNER-WH-MX-MEX (MX, America/Mexico_City)" in made.output
    again = cli.invoke(app, register)  # the same request id replays
    assert again.exit_code == 0 and "registered PARTNER-WH-MX-MEX" in again.output
    listed = cli.invoke(app, ["logistics", "warehouses", "--country", "MX"])
    assert "PARTNER-WH-MX-MEX" in listed.output
    updated = cli.invoke(app, ["logistics", "warehouse-update", "PARTNER-WH-MX-MEX", "--name", "Partner CDMX"])
    assert updated.exit_code == 0 and "Partner CDMX" in updated.output
    bad = cli.invoke(app, ["logistics", "warehouse-update", "PARTNER-WH-MX-MEX", "--time-zone", "Mexico/Nowhere"])
    assert bad.exit_code == 1 and "time_zone" in bad.output
