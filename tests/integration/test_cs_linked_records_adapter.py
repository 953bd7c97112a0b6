"""The customer-service adapter for linked records over real gRPC: a collection or payout payments knows
answers its merchant (LedgerService.GetRecordOwner), a code it does not know is "no such record"; a service
nobody answers on is Unavailable (the use case turns it into UNAVAILABLE naming the link,
tests/integration/test_customer_service_grpc.py). Links to another merchant's records and tracking are
walked end to end in tests/e2e/test_auth_http.py."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import pytest
from xborder.payments.v1 import ledger_service_pb2_grpc as ledger_grpc

from services.customer_service.adapters.platform_records import GrpcLinkedRecords
from services.customer_service.domain.tickets import LinkKind
from services.payments.payouts import service_layer as ph
from services.payments.settlement import service_layer as sh
from services.payments.settlement.domain.collections import CollectionMethod
from services.shared import codes
from services.shared.errors import Unavailable
from services.shared.settings import Settings
from tests.e2e.stack import unused_port
from tests.ledger_support import FakePayees, FakeScreeningGate, fund, in_uow, key, usd, wallets
from tests.servers import running_service


def test_known_collections_and_payouts_answer_their_merchant(any_settings: Settings) -> None:
    with running_service(any_settings, "payments", ledger_grpc.LedgerServiceStub) as payments:
        w = wallets(payments.context)
        fund(payments.context, w, "100.00")
        collected = sh.RecordCollection(
            w.merchant, "TESTPSP", key("ref"), CollectionMethod.CARD, usd("10.00"), usd("0")
        )
        collection = in_uow(payments.context, lambda uow, now: sh.record_collection(uow, collected, now))
        payees = FakePayees()
        payees.add(w.merchant, "BA1", "Acme Trading Ltd", "HK", "USD")
        paid = ph.CreatePayout(key("po"), w.merchant, "BA1", usd("40.00"), "HSBC", timedelta(minutes=60))
        screened = ph.screen_payee(payees, FakeScreeningGate("CLEAR"), paid)
        payout = in_uow(payments.context, lambda uow, now: ph.create_payout(uow, paid, screened, now))
        ports = {**any_settings.service_ports, "payments": payments.port}
        records = GrpcLinkedRecords(lambda: replace(any_settings, service_ports=ports))
        try:
            assert records.owner(LinkKind.COLLECTION, collection.code) == w.merchant
            assert records.owner(LinkKind.PAYOUT, payout.code) == w.merchant
            assert records.owner(LinkKind.PAYOUT, collection.code) is None  # a collection's code is no payout
        finally:
            records.close()


def test_unknown_codes_are_no_record_and_an_unreachable_service_is_unavailable(any_settings: Settings) -> None:
    with running_service(any_settings, "payments", ledger_grpc.LedgerServiceStub, seed=False) as payments:
        ports = {**any_settings.service_ports, "payments": payments.port, "logistics": unused_port()}
        settings = replace(any_settings, service_ports=ports, default_deadline_s=2.0)
        records = GrpcLinkedRecords(lambda: settings)
        try:
            assert records.owner(LinkKind.COLLECTION, codes.generate("PY")) is None
            assert records.owner(LinkKind.PAYOUT, codes.generate("PY")) is None
            with pytest.raises(Unavailable, match="logistics"):
                records.owner(LinkKind.SHIPMENT, codes.generate("YD"))
            with pytest.raises(Unavailable, match="logistics"):
                records.tracking(codes.generate("YD"))
        finally:
            records.close()


WORKER_CALL = """
import eventlet
eventlet.monkey_patch()
import sys
import subprocess
import sys
from dataclasses import replace
from services.customer_service.adapters.platform_records import GrpcLinkedRecords
from services.customer_service.domain.tickets import LinkKind
from services.shared import codes
from services.shared.settings import Settings
settings = replace(Settings(), service_ports={**Settings().service_ports, "payments": int(sys.argv[1])})
print(GrpcLinkedRecords(lambda: settings).owner(LinkKind.COLLECTION, codes.generate("PY")))
"""


def test_the_adapter_answers_inside_an_eventlet_patched_worker(settings: Settings) -> None:
    """The ODR sweep runs in the nameko worker too, where grpcio must run off the eventlet hub."""
    with running_service(settings, "payments", ledger_grpc.LedgerServiceStub, seed=False) as payments:
        done = subprocess.run(
            [sys.executable, "-c", WORKER_CALL, str(payments.port)], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "None"
