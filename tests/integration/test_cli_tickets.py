"""`xborder tickets open|list|show` against a customer-service server on a real port, as an operator runs them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner
from xborder.customer_service.v1 import customer_service_pb2_grpc as pb_grpc

from cli.main import app
from services.shared import codes
from services.shared.settings import Settings
from tests.servers import Running, running_service

runner = CliRunner()


@pytest.fixture
def served(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    with running_service(settings, "customer_service", pb_grpc.CustomerServiceStub, seed=False) as running:
        monkeypatch.setenv("XB_CUSTOMER_SERVICE_PORT", str(running.port))
        monkeypatch.setenv("COLUMNS", "250")
        yield running


def test_open_then_list_then_show(served: Running) -> None:
    merchant, order = codes.generate("MC"), codes.generate("DD")
    opened = runner.invoke(
        app,
        [
            "tickets",
            "open",
            merchant,
            "--subject",
            "Wrong size",
            "--type",
            "return",
            "--order",
            order,
            "--description",
            "Please send a label.",
        ],
    )
    assert opened.exit_code == 0, opened.output
    code = opened.output.split("opened ")[1].split(";")[0].strip()
    assert codes.parse(code, entity_type="TK").value == code

    listed = runner.invoke(app, ["tickets", "list", merchant])
    assert listed.exit_code == 0, listed.output
    assert code in listed.output and "RETURN" in listed.output and "1 ticket(s)" in listed.output

    shown = runner.invoke(app, ["tickets", "show", code])
    assert shown.exit_code == 0, shown.output
    assert "Please send a label." in shown.output and order in shown.output and "first_response: active" in shown.output


def test_bad_input_names_the_field_and_exits_non_zero(served: Running) -> None:
    bad = runner.invoke(app, ["tickets", "open", "MC123", "--subject", "x"])
    assert bad.exit_code == 1 and "merchant_code" in bad.output
    assert (
        runner.invoke(app, ["tickets", "open", codes.generate("MC"), "--subject", "x", "--type", "rant"]).exit_code == 2
    )
    missing = runner.invoke(app, ["tickets", "show", codes.generate("TK")])
    assert missing.exit_code == 1 and "NOT_FOUND" in missing.output
