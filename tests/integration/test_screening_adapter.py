"""Payouts screened by the real compliance ScreeningService over gRPC (the generated ScreeningServiceStub):
a clear payee is paid out, a payee on the shipped sanctions lists holds the payout, and an unreachable
compliance service holds it too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import grpc
import pytest
from xborder.compliance.v1 import screening_service_pb2 as screening_pb
from xborder.compliance.v1 import screening_service_pb2_grpc as screening_grpc
from xborder.payments.v1 import ledger_service_pb2 as pb
from xborder.payments.v1 import ledger_service_pb2_grpc as pb_grpc

from services.payments import bootstrap
from services.payments.bank_accounts.domain import BankAccountDetails
from services.payments.payouts.adapters.screening_grpc import GrpcScreeningGate
from services.payments.payouts.domain import Party, ScreeningDecision, ScreeningUnavailable, screen_safely
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.context import ServiceContext
from services.shared.grpc_server import serve
from services.shared.settings import Settings
from tests.e2e.stack import unused_port
from tests.fakes import RecordingBus
from tests.ledger_support import fund, key, wallets
from tests.servers import Running, running_service

LISTED = "Banco Nacional de Cuba"  # OFAC SDN entry 306 (data/sanctions/ofac_bench_sdn.csv)


@dataclass
class Wired:
    compliance: Running
    payments: ServiceContext
    ledger: Any


@pytest.fixture(scope="module")
def wired(module_any_settings: Settings) -> Iterator[Wired]:
    with running_service(module_any_settings, "compliance", screening_grpc.ScreeningServiceStub) as compliance:
        # The first screening loads the lists into the matcher: slower than a payout's screening budget.
        warm_up = screening_pb.ScreenPartyRequest(request_id=key("w"), merchant_code=codes.generate("MC"), name="A")
        compliance.stub.ScreenParty(warm_up, timeout=120)
        settings = replace(
            module_any_settings,
            service_ports={**module_any_settings.service_ports, "compliance": compliance.port},
        )
        payments = bootstrap.bootstrap(settings, RecordingBus())
        server = serve(settings, bootstrap.registrations(payments), bootstrap.GRPC_SERVICES, port=0)
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        try:
            yield Wired(compliance, payments, pb_grpc.LedgerServiceStub(channel))
        finally:
            channel.close()
            server.stop(0)
            payments.close()


def payout_to(wired: Wired, holder: str) -> pb.Payout:
    w = wallets(wired.payments, "EUR")
    fund(wired.payments, w, "100.00")
    vault = bootstrap.bank_account_vault(wired.payments)
    account = codes.generate("BA")
    details = BankAccountDetails(holder, "DE", "EUR", "DE89370400440532013000", None, "COBADEFFXXX")
    with wired.payments.uow() as uow:
        vault.add(uow.bank_accounts, account, w.merchant, details, utcnow())
        uow.commit()
    return wired.ledger.CreatePayout(
        pb.CreatePayoutRequest(
            request_id=key("po"),
            merchant_code=w.merchant,
            bank_account_code=account,
            amount={"currency_code": "EUR", "units": 40},
            partner="SEPA",
        )
    ).payout


def test_a_clear_payee_passes_screening_and_the_payout_waits_for_the_bank(wired: Wired) -> None:
    payout = payout_to(wired, "Müller Handels GmbH")
    assert (payout.status, payout.screening_decision, payout.hold_reason) == (pb.PAYOUT_STATUS_PENDING, "CLEAR", "")


def test_a_listed_payee_holds_the_payout_naming_the_screening(wired: Wired) -> None:
    payout = payout_to(wired, LISTED)
    assert (payout.status, payout.screening_decision) == (pb.PAYOUT_STATUS_ON_HOLD, "BLOCK")
    screening_code = payout.hold_reason.rsplit("screening ", 1)[1]
    screening = wired.compliance.stub.GetScreening(screening_pb.GetScreeningRequest(code=screening_code)).screening
    assert screening.decision == screening_pb.SCREENING_DECISION_BLOCK
    assert ("ofac_sdn", "306") in {(hit.list_name, hit.entry_id) for hit in screening.hits}
    assert screening.merchant_code == payout.merchant_code and screening.party.name == LISTED
    with pytest.raises(grpc.RpcError) as held:
        wired.ledger.PostPayout(pb.PostPayoutRequest(request_id=key("pp"), payout_code=payout.code))
    assert held.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_the_gate_sends_the_party_and_reads_the_decision(wired: Wired) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{wired.compliance.port}") as channel:
        gate = GrpcScreeningGate(channel)
        clear = gate.screen(key("s"), Party(codes.generate("MC"), "Acme Trading Ltd", "HK"))
        blocked = gate.screen(key("s"), Party(codes.generate("MC"), LISTED, "CU"))
    assert clear.decision is ScreeningDecision.CLEAR and codes.parse(clear.reference, entity_type="HC")
    assert blocked.decision is ScreeningDecision.BLOCK


def test_unreachable_compliance_holds_instead_of_passing() -> None:
    with grpc.insecure_channel(f"127.0.0.1:{unused_port()}") as channel:
        gate = GrpcScreeningGate(channel, timeout_s=0.5)
        with pytest.raises(ScreeningUnavailable):
            gate.screen("req-3", Party("MC1", "Acme", "HK"))
        outcome, unavailable = screen_safely(gate, "req-4", Party("MC1", "Acme", "HK"))
    assert outcome is None and unavailable is not None and "UNAVAILABLE" in unavailable
