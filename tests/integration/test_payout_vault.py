"""Payouts wired as the payments process wires them: the payee comes from the encrypted vault, and with
the compliance service unreachable the payout is held, never sent."""

from __future__ import annotations

from dataclasses import replace

import grpc
import pytest
from xborder.payments.v1 import ledger_service_pb2 as pb
from xborder.payments.v1 import ledger_service_pb2_grpc as pb_grpc

from services.payments import bootstrap
from services.payments.bank_accounts.domain import BankAccountDetails
from services.payments.payouts.adapters.payees import VaultPayeeDirectory
from services.shared.clock import utcnow
from services.shared.grpc_server import serve
from services.shared.settings import Settings
from tests.e2e.stack import unused_port
from tests.fakes import RecordingBus
from tests.ledger_support import fund, key, wallets


def test_vault_payee_and_unreachable_compliance_hold_the_payout(settings: Settings) -> None:
    settings = replace(settings, service_ports={**settings.service_ports, "compliance": unused_port()})
    settings = replace(settings, screening_timeout_s=0.5)
    context = bootstrap.bootstrap(settings, RecordingBus())
    server = None
    try:
        w = wallets(context, "EUR")
        fund(context, w, "80.00")
        vault = bootstrap.bank_account_vault(context)
        details = BankAccountDetails("Müller Handels GmbH", "DE", "EUR", "DE89370400440532013000", None, "COBADEFFXXX")
        with bootstrap.unit_of_work(context)() as uow:
            vault.add(uow.bank_accounts, "BA-DE-1", w.merchant, details, utcnow())
            uow.commit()
        payees = VaultPayeeDirectory(bootstrap.unit_of_work(context), vault)
        payee = payees.payee(w.merchant, "BA-DE-1")
        assert payee is not None and (payee.holder_name, payee.country, payee.currency) == (
            "Müller Handels GmbH",
            "DE",
            "EUR",
        )
        assert payees.payee("MCSOMEONEELSE00001", "BA-DE-1") is None

        server = serve(settings, bootstrap.registrations(context), bootstrap.GRPC_SERVICES, port=0)
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = pb_grpc.LedgerServiceStub(channel)
            payout = stub.CreatePayout(
                pb.CreatePayoutRequest(
                    request_id=key("po"),
                    merchant_code=w.merchant,
                    bank_account_code="BA-DE-1",
                    amount={"currency_code": "EUR", "units": 30},
                    partner="SEPA",
                )
            ).payout
            assert payout.status == pb.PAYOUT_STATUS_ON_HOLD
            assert payout.screening_decision == "UNAVAILABLE" and "unavailable" in payout.hold_reason
            # The holder name is PERSONAL_SENSITIVE: every answer carries it masked, as the vault does.
            assert payout.payee_name == "M***** H****** G***"
            fetched = stub.GetPayout(pb.GetPayoutRequest(payout_code=payout.code)).payout
            assert fetched.payee_name == "M***** H****** G***"
            with pytest.raises(grpc.RpcError) as error:
                stub.PostPayout(pb.PostPayoutRequest(request_id=key("pp"), payout_code=payout.code))
            assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            voided = stub.VoidPayout(pb.VoidPayoutRequest(request_id=key("vp"), payout_code=payout.code)).payout
            assert voided.payee_name == "M***** H****** G***"
            assert "Müller" not in str(fetched) + str(voided)
    finally:
        if server is not None:
            server.stop(0)
        context.close()
