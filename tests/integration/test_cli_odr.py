"""`xborder odr list|show|escalate|status|retry` against a customer-service server on a real port, as operations
staff run them: a case whose provider drop is broken stays undelivered, a retry after the fix delivers it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner
from xborder.customer_service.v1 import customer_service_pb2 as pb
from xborder.customer_service.v1 import customer_service_pb2_grpc as pb_grpc

from cli.main import app
from services.shared import codes
from services.shared.settings import Settings
from tests.customer_service_fakes import FakeLinkedRecords
from tests.servers import Running, running_service

runner = CliRunner()
MERCHANT = codes.generate("MC", "G")


@pytest.fixture
def served(settings: Settings, monkeypatch: pytest.MonkeyPatch, linked_records: FakeLinkedRecords) -> Iterator[Running]:
    with running_service(settings, "customer_service", pb_grpc.CustomerServiceStub, seed=False) as running:
        monkeypatch.setenv("XB_CUSTOMER_SERVICE_PORT", str(running.port))
        monkeypatch.setenv("COLUMNS", "250")
        yield running


def odr(*args: str) -> str:
    result = runner.invoke(app, ["odr", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_escalate_list_retry_record_and_show(served: Running) -> None:
    ticket = served.stub.OpenTicket(
        pb.OpenTicketRequest(
            request_id=str(uuid.uuid4()),
            merchant_code=MERCHANT,
            type=pb.TICKET_TYPE_NOT_RECEIVED,
            subject="Parcel never arrived",
            description="Tracking stopped in Leipzig.",
        )
    ).ticket.code
    drop = served.settings.var_dir / "customer_service" / "odr_cases"
    drop.parent.mkdir(parents=True, exist_ok=True)
    drop.write_text("a file where the drop directory should be")  # the provider cannot take the case

    escalated = odr(
        "escalate", ticket, "--reason", "buyer asked", "--remedy", "refund", "--amount", "40.00", "--currency", "USD"
    )
    assert ticket in escalated and "SUBMITTED" in escalated and "pending, 0 attempt(s)" in escalated
    failed = odr("retry", ticket)
    assert "pending, 1 attempt(s)" in failed and "last error: cannot write to" in failed
    listed = odr("list", "--undelivered")
    assert ticket in listed and "1 case(s)" in listed
    assert "0 case(s)" in odr("list", "--status", "settled")
    assert ticket in odr("list", "--merchant", MERCHANT)

    drop.unlink()
    delivered = odr("retry", ticket)
    assert "delivered" in delivered and f"{ticket}-v1.json" in delivered
    assert "0 case(s)" in odr("list", "--undelivered")
    assert "delivered" in odr("retry", ticket)  # nothing more to do: answered unchanged

    assert "ACCEPTED" in odr("status", ticket, "accepted", "--reference", "ODR-9")
    assert "SETTLED" in odr("status", ticket, "settled", "--outcome", "seller refunds in full")
    shown = odr("show", ticket, "--case-file")
    assert "ODR-9" in shown and "seller refunds in full" in shown and "xborder.odr.case_file/1" in shown
    assert served.stub.GetTicket(pb.GetTicketRequest(code=ticket)).ticket.status == pb.TICKET_STATUS_SOLVED


def test_bad_input_names_the_problem_and_exits_non_zero(served: Running) -> None:
    unknown = codes.generate("TK")
    assert runner.invoke(app, ["odr", "status", unknown, "bogus"]).exit_code == 2
    assert runner.invoke(app, ["odr", "list", "--status", "bogus"]).exit_code == 2
    missing = runner.invoke(app, ["odr", "show", unknown])
    assert missing.exit_code == 1 and "NOT_FOUND" in missing.output
    bad = runner.invoke(app, ["odr", "list", "--merchant", "MC123"])
    assert bad.exit_code == 1 and "merchant_code" in bad.output
