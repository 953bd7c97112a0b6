"""An ODR outcome with a refund over the embedded bus, wired from the topology as the nameko workers are:
customer service announces `odr_refund_requested` and payments refunds the collection through the ledger,
exactly once however often the event is delivered; a refund above what was collected is refused and dropped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from xborder.customer_service.v1 import customer_service_pb2 as pb

from services.customer_service import bootstrap as cs_bootstrap
from services.customer_service.domain.tickets import LinkKind
from services.customer_service.entrypoints.grpc_api import CustomerServicer
from services.customer_service.settings import CustomerServiceSettings
from services.embedded import subscribe_all
from services.payments import bootstrap as payments_bootstrap
from services.payments.settlement import service_layer as sh
from services.payments.settlement.domain.collections import CollectionMethod
from services.shared import codes
from services.shared.bus import InProcessBus
from services.shared.clock import utcnow
from services.shared.context import ServiceContext
from services.shared.events import Event
from services.shared.money import Money
from services.shared.settings import Settings
from tests.ledger_support import in_uow


class CollectionsInPayments:
    """Linked records as payments' ledger knows them (in process; the test has no logistics)."""

    def __init__(self, payments: ServiceContext) -> None:
        self.payments = payments

    def owner(self, kind: LinkKind, code: str) -> str | None:
        with self.payments.uow() as uow:
            found = uow.settlements.get(code)  # type: ignore[attr-defined]  # the payments unit of work
        return None if found is None or kind is not LinkKind.COLLECTION else found.merchant

    def tracking(self, shipment_code: str) -> None:
        return None


@dataclass
class Wired:
    bus: InProcessBus
    customer_service: ServiceContext
    payments: ServiceContext
    servicer: CustomerServicer
    refund_requests: list[dict[str, Any]]


@pytest.fixture
def wired(any_settings: Settings) -> Iterator[Wired]:
    bus = InProcessBus()
    customer_service = cs_bootstrap.bootstrap(any_settings, bus)
    payments = payments_bootstrap.bootstrap(any_settings, bus)
    subscribe_all(bus, {"customer_service": customer_service, "payments": payments})
    requests: list[dict[str, Any]] = []
    bus.subscribe("customer_service", "odr_refund_requested", "test.recorder", requests.append)
    own = CustomerServiceSettings()
    servicer = CustomerServicer(
        cs_bootstrap.uow_factory(customer_service),
        cs_bootstrap.sla_book(customer_service),
        cs_bootstrap.blob_store(any_settings),
        own.ticket_attachment_max_bytes,
        cs_bootstrap.odr_policy(own),
        CollectionsInPayments(payments),
    )
    try:
        payments.import_reference_data()
        payments.relay.drain()
        yield Wired(bus, customer_service, payments, servicer, requests)
    finally:
        customer_service.close()
        payments.close()


def collected(payments: ServiceContext, merchant: str, gross: str) -> str:
    command = sh.RecordCollection(
        merchant, "TESTPSP", codes.generate("PY"), CollectionMethod.CARD, Money.of(gross, "USD"), Money.of("0", "USD")
    )
    return in_uow(payments, lambda uow, now: sh.record_collection(uow, command, now)).code


def refunded(payments: ServiceContext, code: str) -> Money:
    with payments.uow() as uow:
        return sh.get_collection(uow, code).refunded


def settle_at_odr(wired: Wired, merchant: str, collection: str, refund: str) -> None:
    """A complaint about the collection, escalated, and settled at ODR with a refund of `refund` USD."""
    s = wired.servicer
    rid = lambda: str(uuid.uuid4())  # noqa: E731
    code = s.OpenTicket(
        pb.OpenTicketRequest(
            request_id=rid(),
            merchant_code=merchant,
            type=pb.TICKET_TYPE_NOT_AS_DESCRIBED,
            subject="Wrong colour",
            links=[pb.LinkedCode(kind=pb.LINK_KIND_COLLECTION, code=collection)],
        ),
        None,  # type: ignore[arg-type]
    ).ticket.code
    s.EscalateToOdr(pb.EscalateToOdrRequest(request_id=rid(), ticket_code=code), None)  # type: ignore[arg-type]
    for status in (pb.ODR_STATUS_ACCEPTED, pb.ODR_STATUS_NEGOTIATION):
        s.RecordOdrStatus(pb.RecordOdrStatusRequest(request_id=rid(), ticket_code=code, status=status), None)  # type: ignore[arg-type]
    units, cents = refund.split(".")
    outcome = pb.OdrOutcome(
        summary=f"refund {refund} USD",
        refund={"currency_code": "USD", "units": int(units), "nanos": int(cents) * 10_000_000},
        refund_collection_code=collection,
    )
    s.RecordOdrStatus(
        pb.RecordOdrStatusRequest(request_id=rid(), ticket_code=code, status=pb.ODR_STATUS_SETTLED, outcome=outcome),
        None,  # type: ignore[arg-type]
    )
    assert wired.customer_service.relay.drain()


def redeliver(wired: Wired, payload: dict[str, Any]) -> None:
    wired.bus.publish(Event(payload["event_id"], "customer_service", "odr_refund_requested", utcnow(), payload))


def test_an_odr_outcome_refunds_the_collection_once_however_often_it_is_delivered(wired: Wired) -> None:
    merchant = codes.generate("MC", "G")
    collection = collected(wired.payments, merchant, "100.00")
    settle_at_odr(wired, merchant, collection, "40.50")

    [payload] = wired.refund_requests
    assert (payload["collection_code"], payload["amount"]["currency_code"]) == (collection, "USD")
    assert refunded(wired.payments, collection) == Money.of("40.50", "USD")
    redeliver(wired, payload)
    redeliver(wired, payload)
    assert refunded(wired.payments, collection) == Money.of("40.50", "USD")
    with wired.payments.uow() as uow:
        assert sh.get_collection(uow, collection).refundable == Money.of("59.50", "USD")


def test_a_refund_above_what_was_collected_is_refused_not_retried(wired: Wired) -> None:
    merchant = codes.generate("MC", "G")
    collection = collected(wired.payments, merchant, "30.00")
    settle_at_odr(wired, merchant, collection, "45.00")  # the relay drained: the consumer did not raise

    [payload] = wired.refund_requests
    assert refunded(wired.payments, collection) == Money.of("0", "USD")
    redeliver(wired, payload)  # nothing raises, nothing is refunded
    assert refunded(wired.payments, collection) == Money.of("0", "USD")
    assert not wired.customer_service.relay.pending()
