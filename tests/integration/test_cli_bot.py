"""`xborder tickets open --bot` and `xborder tickets ask` against the real wiring (bootstrap's bot, whose
logistics lookup finds no logistics service listening and says so)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner
from xborder.customer_service.v1 import customer_service_pb2_grpc as pb_grpc

from cli.main import app
from services.customer_service.domain.tickets import LinkKind
from services.shared import codes
from services.shared.settings import Settings
from tests.customer_service_fakes import FakeLinkedRecords
from tests.servers import Running, running_service

runner = CliRunner()


@pytest.fixture
def served(settings: Settings, monkeypatch: pytest.MonkeyPatch, linked_records: FakeLinkedRecords) -> Iterator[Running]:
    monkeypatch.setenv("XB_BOT_CONTEXT_TIMEOUT_S", "0.5")
    monkeypatch.setenv("XB_LOGISTICS_PORT", "1")  # nothing listens there
    with running_service(settings, "customer_service", pb_grpc.CustomerServiceStub, seed=False) as running:
        monkeypatch.setenv("XB_CUSTOMER_SERVICE_PORT", str(running.port))
        monkeypatch.setenv("COLUMNS", "250")
        yield running


def test_ask_the_bot_then_a_human(served: Running, linked_records: FakeLinkedRecords) -> None:
    merchant, shipment = codes.generate("MC"), codes.generate("YD")
    linked_records.add(LinkKind.SHIPMENT, shipment, merchant)  # the link check passes; the bot's own lookup cannot
    opened = runner.invoke(app, ["tickets", "open", merchant, "--subject", "Chat", "--bot", "--shipment", shipment])
    assert opened.exit_code == 0, opened.output
    code = opened.output.split("opened ")[1].split(";")[0].strip()

    asked = runner.invoke(app, ["tickets", "ask", code, "我的包裹到哪里了"])
    assert asked.exit_code == 0, asked.output
    assert "物流系统暂时无法响应" in asked.output and "intent where_is_my_parcel" in asked.output

    human = runner.invoke(app, ["tickets", "ask", code, "I want to talk to a human"])
    assert human.exit_code == 0, human.output
    assert "handed off to a human" in human.output and "first_response: active" in human.output

    again = runner.invoke(app, ["tickets", "ask", code, "hello?"])
    assert again.exit_code == 1 and "BOT_INACTIVE" in again.output
