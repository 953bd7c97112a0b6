"""Payment partners end to end: onboarded over REST by an operator with the ledger partner names they own,
then importing and reading their settlement statements on the gRPC front door's partner port (real TLS,
client certificates made for the test).

A payment provider imports only under a ledger partner name it owns and lists and reads back only its own
runs:
another's is a 404, never a 403. Partners of another kind are refused (403); operators keep every run.
"""

from __future__ import annotations

import base64
import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from xborder.payments.v1 import reconciliation_service_pb2 as pb
from xborder.payments.v1 import reconciliation_service_pb2_grpc as pb_grpc

from services.shared import codes
from services.shared.grpc_server import RunningServer
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient, Stack, partner_port
from tests.partner_certs import Issued, TestCa
from tests.reconciliation_fixtures import EXAMPLE, seed_example_ledger, unique_partner


@dataclass
class World:
    stack: Stack
    rest: AsgiClient
    door: RunningServer
    ca: TestCa
    ledger_name: str
    """The ledger partner name (CLEARING owner) the payment provider owns."""
    other_ledger_name: str
    """The one another payment provider owns."""
    payment_cert: Issued
    other_payment_cert: Issued
    carrier_cert: Issued
    ops: dict[str, str]

    @contextlib.contextmanager
    def stub(self, issued: Issued) -> Iterator[pb_grpc.ReconciliationServiceStub]:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=self.ca.cert_pem, private_key=issued.key_pem, certificate_chain=issued.cert_pem
        )
        with grpc.secure_channel(f"127.0.0.1:{self.door.secure_port}", credentials) as channel:
            yield pb_grpc.ReconciliationServiceStub(channel)


def post(rest: AsgiClient, path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    answer = rest.post(path, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def partner_with_certificate(
    rest: AsgiClient, ops: dict[str, str], ca: TestCa, name: str, kind: str, owns: list[str]
) -> Issued:
    partner = post(rest, "/v1/partners", ops, {"legalName": name, "kind": kind, "country": "NL", "owns": owns})
    assert partner["partner"]["status"] == "PARTNER_STATUS_ACTIVE", partner
    issued = ca.issue(name)
    path = f"/v1/partners/{partner['partner']['partnerCode']}/certificates"
    post(rest, path, ops, {"certificatePem": issued.cert_pem.decode(), "label": "e2e"})
    return issued


@pytest.fixture(scope="module")
def world(module_any_settings: Settings) -> Iterator[World]:
    """On SQLite and on PostgreSQL (module_any_settings), each with its own CA and certificates."""
    with partner_port(module_any_settings) as (stack, rest, door, ca, ops):
        ledger_name, other_ledger_name = unique_partner(), unique_partner()
        payment = partner_with_certificate(rest, ops, ca, "Tulip Payments BV", "PARTNER_KIND_PAYMENT", [ledger_name])
        other = partner_with_certificate(rest, ops, ca, "Other Pay BV", "PARTNER_KIND_PAYMENT", [other_ledger_name])
        carrier = partner_with_certificate(rest, ops, ca, "Polder Parcel BV", "PARTNER_KIND_LOGISTICS", ["hermes"])
        merchant = stack.onboard("Settlement Test Merchant GmbH", "DE")
        seed_example_ledger(stack.contexts["payments"], ledger_name, merchant.merchant_code)
        yield World(stack, rest, door, ca, ledger_name, other_ledger_name, payment, other, carrier, ops)


def statement(partner: str, content: bytes | None = None) -> pb.ImportSettlementStatementRequest:
    return pb.ImportSettlementStatementRequest(
        request_id=str(uuid.uuid4()),
        partner=partner,
        statement=EXAMPLE.read_bytes() if content is None else content,
        file_name=EXAMPLE.name,
    )


def failure(call: Any, request: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as failed:
        call(request, timeout=10)
    return failed.value.code()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def own_run(world: World) -> pb.Reconciliation:
    """The payment provider's statement, imported with its own certificate (under its name in lower case)."""
    with world.stub(world.payment_cert) as stub:
        return stub.ImportSettlementStatement(statement(world.ledger_name.lower()), timeout=10).reconciliation


def test_a_payment_provider_imports_and_reads_back_its_own_statement(world: World, own_run: pb.Reconciliation) -> None:
    assert own_run.partner == world.ledger_name
    assert (own_run.summary.lines, own_run.summary.matched, own_run.summary.mismatched) == (6, 2, 2)
    assert (own_run.summary.missing_in_ledger, own_run.summary.missing_in_statement) == (1, 1)
    with world.stub(world.payment_cert) as stub:
        read = stub.GetReconciliation(pb.GetReconciliationRequest(code=own_run.code), timeout=10).reconciliation
        assert read == own_run
        again = stub.ImportSettlementStatement(statement(world.ledger_name), timeout=10)
        assert again.already_imported and again.reconciliation.code == own_run.code
        # An empty partner is the service's 400 naming the field, as for an operator.
        assert failure(stub.ImportSettlementStatement, statement("")) == grpc.StatusCode.INVALID_ARGUMENT


def test_another_providers_statements_are_not_found(world: World, own_run: pb.Reconciliation) -> None:
    with world.stub(world.other_payment_cert) as stub:
        # Importing under a name it does not own, and reading another's run, look like nothing is there.
        assert failure(stub.ImportSettlementStatement, statement(world.ledger_name)) == grpc.StatusCode.NOT_FOUND
        foreign = pb.GetReconciliationRequest(code=own_run.code)
        assert failure(stub.GetReconciliation, foreign) == grpc.StatusCode.NOT_FOUND
        unknown = pb.GetReconciliationRequest(code=codes.generate("RC"))
        assert failure(stub.GetReconciliation, unknown) == grpc.StatusCode.NOT_FOUND
        # Its own name is open to it: a statement of its own stores a run of its own.
        own = stub.ImportSettlementStatement(statement(world.other_ledger_name), timeout=10).reconciliation
        assert own.partner == world.other_ledger_name and own.code != own_run.code
        assert own.summary.missing_in_ledger == 5  # nothing of the first provider's ledger is matched


def test_a_payment_provider_lists_only_its_own_runs(world: World, own_run: pb.Reconciliation) -> None:
    with world.stub(world.payment_cert) as stub:
        # Its own name, in any case: its runs and no one else's.
        mine = stub.ListReconciliations(pb.ListReconciliationsRequest(partner=world.ledger_name.lower()), timeout=10)
        assert own_run.code in [run.code for run in mine.reconciliations]
        assert {run.partner for run in mine.reconciliations} == {world.ledger_name}
        listed = next(run for run in mine.reconciliations if run.code == own_run.code)
        assert listed.summary == own_run.summary and not listed.items
        # Another provider's name is as absent as a name nobody owns; no name at all is a 400 naming it.
        foreign = pb.ListReconciliationsRequest(partner=world.other_ledger_name)
        assert failure(stub.ListReconciliations, foreign) == grpc.StatusCode.NOT_FOUND
        nobodys = pb.ListReconciliationsRequest(partner=unique_partner())
        assert failure(stub.ListReconciliations, nobodys) == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.RpcError) as empty:
            stub.ListReconciliations(pb.ListReconciliationsRequest(), timeout=10)
        assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "partner" in (empty.value.details() or "")
    with world.stub(world.carrier_cert) as stub:
        listing = pb.ListReconciliationsRequest(partner="HERMES")
        assert failure(stub.ListReconciliations, listing) == grpc.StatusCode.PERMISSION_DENIED


def test_a_carrier_may_not_touch_settlement_statements(world: World, own_run: pb.Reconciliation) -> None:
    with world.stub(world.carrier_cert) as stub:
        assert failure(stub.ImportSettlementStatement, statement("HERMES")) == grpc.StatusCode.PERMISSION_DENIED
        read = pb.GetReconciliationRequest(code=own_run.code)
        assert failure(stub.GetReconciliation, read) == grpc.StatusCode.PERMISSION_DENIED


def test_operators_still_import_and_read_every_run(world: World, own_run: pb.Reconciliation) -> None:
    got = world.rest.get(f"/v1/reconciliations/{own_run.code}", headers=world.ops)
    assert got.status_code == 200, got.text
    assert got.json()["partner"] == world.ledger_name
    listed = world.rest.get("/v1/reconciliations", params={"partner": world.ledger_name}, headers=world.ops)
    assert listed.status_code == 200, listed.text
    assert own_run.code in [run["code"] for run in listed.json()["reconciliations"]]
    # Without a partner, an operator lists every partner's runs.
    everyone = world.rest.get("/v1/reconciliations", params={"pageSize": 500}, headers=world.ops)
    assert everyone.status_code == 200, everyone.text
    assert own_run.code in [run["code"] for run in everyone.json()["reconciliations"]]
    body = {"statement": base64.b64encode(EXAMPLE.read_bytes()).decode(), "fileName": EXAMPLE.name}
    imported = post(world.rest, f"/v1/partners/{unique_partner()}/settlement-statements", world.ops, body)
    assert imported["reconciliation"]["summary"]["lines"] == 6


def test_a_payment_provider_needs_ledger_partner_names(world: World) -> None:
    for owns, status in (([], 400), (["Tulip Pay"], 400)):
        answer = world.rest.post(
            "/v1/partners",
            json={"legalName": "Nameless Pay BV", "kind": "PARTNER_KIND_PAYMENT", "country": "NL", "owns": owns},
            headers={**world.ops, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert answer.status_code == status and "owns" in answer.text, answer.text
