"""The customer-service adapter for linked records over real gRPC: a code payments does not know is "no
such record"; a service nobody answers on is Unavailable (the use case turns it into UNAVAILABLE naming the
link, tests/integration/test_customer_service_grpc.py). Found records and tracking are walked end to end in
tests/e2e/test_auth_http.py."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from xborder.payments.v1 import ledger_service_pb2_grpc as ledger_grpc

from services.customer_service.adapters.platform_records import GrpcLinkedRecords
from services.customer_service.domain.tickets import LinkKind
from services.shared import codes
from services.shared.errors import Unavailable
from services.shared.settings import Settings
from tests.e2e.stack import unused_port
from tests.servers import running_service


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
