"""`xborder logistics returns ...` against a real logistics server (port 0)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from google.protobuf import json_format, timestamp_pb2
from typer.testing import CliRunner
from xborder.logistics.v1 import shipments_service_pb2 as spb
from xborder.logistics.v1 import shipments_service_pb2_grpc as spb_grpc

from cli.main import app
from services.shared import codes
from services.shared.settings import Settings
from tests.servers import Running, running_service


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    settings = Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False)
    with running_service(settings, "logistics", spb_grpc.ShipmentServiceStub) as running:
        yield running


@pytest.fixture
def cli(service: Running, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("XB_LOGISTICS_PORT", str(service.port))
    monkeypatch.setenv("XB_VAR_DIR", str(service.settings.var_dir))
    monkeypatch.setenv("COLUMNS", "250")
    return CliRunner()


def delivered(service: Running) -> str:
    booking = {
        "requestId": str(uuid.uuid4()),
        "merchantCode": codes.generate("MC"),
        "channelCode": "SAMPLE-EXP-PRIORITY",
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": "US", "postalCode": "10001"},
    }
    shipment = service.stub.BookShipment(json_format.ParseDict(booking, spb.BookShipmentRequest())).shipment
    at = timestamp_pb2.Timestamp()
    at.FromDatetime(datetime(2026, 3, 2, tzinfo=UTC))
    event = spb.CarrierEvent(carrier="fedex", waybill_number=shipment.waybill_number, code="DL", occurred_at=at)
    service.stub.PushTrackingEvents(spb.PushTrackingEventsRequest(events=[event]))
    return str(shipment.code)


def test_authorise_prints_the_comparison_and_the_steps_move_it(cli: CliRunner, service: Running) -> None:
    shipment = delivered(service)
    result = cli.invoke(app, ["logistics", "returns", "authorise", shipment, "--line", "MUG-BLUE:2:no_longer_needed"])
    assert result.exit_code == 0, result.output
    assert "restock: 63.00 CNY" in result.output
    assert "return_to_origin: 122.40 CNY" in result.output and "recommended: restock" in result.output
    code = re.search(r"TH[0-9A-Z]{16}", result.output).group(0)  # type: ignore[union-attr]
    labelled = cli.invoke(app, ["logistics", "returns", "label", code])
    assert labelled.exit_code == 0 and "label_issued" in labelled.output and "return waybill" in labelled.output
    early = cli.invoke(app, ["logistics", "returns", "receive", code])
    assert early.exit_code == 1 and "it cannot become received" in early.output


def test_a_bad_line_is_refused_before_any_call(cli: CliRunner) -> None:
    result = cli.invoke(app, ["logistics", "returns", "authorise", codes.generate("YD"), "--line", "MUG:2:lost"])
    assert result.exit_code == 2 and "is not one of damaged" in result.output
    unknown = cli.invoke(app, ["logistics", "returns", "show", codes.generate("TH")])
    assert unknown.exit_code == 1
