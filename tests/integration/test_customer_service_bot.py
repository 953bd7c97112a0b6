"""The bot over real gRPC (port 0), on SQLite and on PostgreSQL: answers in the customer's language, live
context through fake logistics and payments ports (known, unknown, unreachable), hand-off with its packet
starting the SLA clocks, idempotent retries, and refusals."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
import pytest
from xborder.customer_service.v1 import customer_service_pb2 as pb
from xborder.customer_service.v1 import customer_service_pb2_grpc as pb_grpc

from services.customer_service import bootstrap
from services.customer_service.adapters import knowledge_base_file
from services.customer_service.adapters.intent_matcher import TfidfIntentMatcher
from services.customer_service.domain.bot import LiveContext
from services.customer_service.domain.knowledge_base import ContextKind, ContextState
from services.customer_service.domain.tickets import LinkKind
from services.customer_service.entrypoints.grpc_api import CustomerServicer
from services.customer_service.service_layer.bot import Bot
from services.customer_service.settings import CustomerServiceSettings
from services.shared import codes
from services.shared.grpc_server import serve
from services.shared.settings import Settings
from tests.customer_service_fakes import FakeLinkedRecords
from tests.fakes import RecordingBus
from tests.servers import rejected

MERCHANT = codes.generate("MC", "G")
SHIPMENT, LOST_SHIPMENT, COLLECTION = codes.generate("YD"), codes.generate("YD"), codes.generate("PY")


@dataclass
class FakeLogistics:
    """Knows SHIPMENT (in customs); any other code is unknown; `down` makes it unreachable."""

    down: bool = False
    asked: list[str] = field(default_factory=list)

    def tracking(self, shipment_code: str, merchant_code: str) -> LiveContext:
        self.asked.append(shipment_code)
        if self.down:
            return LiveContext(ContextKind.SHIPMENT, shipment_code, ContextState.UNAVAILABLE)
        if shipment_code != SHIPMENT or merchant_code != MERCHANT:
            return LiveContext(ContextKind.SHIPMENT, shipment_code, ContextState.UNKNOWN)
        at = datetime(2026, 12, 5, 8, 30, tzinfo=UTC)
        return LiveContext(ContextKind.SHIPMENT, shipment_code, ContextState.LIVE, "CUSTOMS", "Frankfurt", at)


@dataclass
class FakePayments:
    down: bool = False

    def collection(self, collection_code: str, merchant_code: str) -> LiveContext:
        if self.down:
            return LiveContext(ContextKind.COLLECTION, collection_code, ContextState.UNAVAILABLE)
        return LiveContext(
            ContextKind.COLLECTION, collection_code, ContextState.LIVE, "SETTLED", "120.00 USD collected"
        )


@dataclass
class Running:
    stub: pb_grpc.CustomerServiceStub
    logistics: FakeLogistics
    payments: FakePayments
    bus: RecordingBus
    relay: object


def linked() -> FakeLinkedRecords:
    """The codes the tickets link exist in their services; whether the bot's live lookups know them is the
    other fakes' business (a shipment can exist and still have no tracking to tell)."""
    records = FakeLinkedRecords()
    for kind, code in (
        (LinkKind.SHIPMENT, SHIPMENT),
        (LinkKind.SHIPMENT, LOST_SHIPMENT),
        (LinkKind.COLLECTION, COLLECTION),
    ):
        records.add(kind, code, MERCHANT)
    return records


@pytest.fixture
def service(any_settings: Settings) -> Iterator[Running]:
    bus = RecordingBus()
    context = bootstrap.bootstrap(any_settings, bus)
    own = CustomerServiceSettings()
    kb = knowledge_base_file.load(any_settings.data_dir)
    logistics, payments = FakeLogistics(), FakePayments()
    bot = Bot(kb, TfidfIntentMatcher(kb), logistics, payments, own.bot_confidence_threshold)
    servicer = CustomerServicer(
        bootstrap.uow_factory(context),
        bootstrap.sla_book(context),
        bootstrap.blob_store(any_settings),
        own.ticket_attachment_max_bytes,
        bootstrap.odr_policy(own),
        linked(),
        bot=bot,
    )

    def add(server: grpc.Server) -> None:
        pb_grpc.add_CustomerServiceServicer_to_server(servicer, server)

    server = serve(any_settings, [add], bootstrap.GRPC_SERVICES, port=0)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield Running(pb_grpc.CustomerServiceStub(channel), logistics, payments, bus, context.relay)
    server.stop(0)
    context.close()


def open_bot_ticket(service: Running, *links: pb.LinkedCode) -> pb.Ticket:
    request = pb.OpenTicketRequest(
        request_id=str(uuid.uuid4()),
        merchant_code=MERCHANT,
        type=pb.TICKET_TYPE_CONSULTATION,
        subject="Chat",
        bot=True,
        links=list(links),
    )
    return service.stub.OpenTicket(request).ticket


def ask(service: Running, code: str, question: str, request_id: str | None = None, **fields: str) -> pb.AskBotResponse:
    request = pb.AskBotRequest(request_id=request_id or str(uuid.uuid4()), code=code, question=question, **fields)
    return service.stub.AskBot(request)


def test_a_bot_conversation_has_no_clocks_until_it_is_handed_off(service: Running) -> None:
    ticket = open_bot_ticket(service)
    assert ticket.source == "bot" and list(ticket.sla) == []

    answer = ask(service, ticket.code, "How long does shipping to Germany take?")
    assert (answer.turn.intent, answer.turn.language, answer.turn.handed_off) == ("delivery_time", "en", False)
    assert "days" in answer.turn.answer and list(answer.ticket.sla) == []
    assert answer.conversation.active

    handed = ask(service, ticket.code, "转人工")
    assert (handed.turn.intent, handed.turn.language, handed.turn.handed_off) == ("talk_to_human", "zh-CN", True)
    assert "人工" in handed.turn.answer
    first = handed.ticket.sla[0]
    assert first.target == pb.SLA_TARGET_FIRST_RESPONSE and first.state == pb.SLA_STATE_ACTIVE
    conversation = handed.conversation
    assert not conversation.active and conversation.hand_off_reason == pb.BOT_HAND_OFF_REASON_ASKED
    assert conversation.handed_off_at == handed.turn.asked_at
    packet = json.loads(conversation.hand_off_packet_json)
    assert (packet["intent"], packet["reason"], packet["language"]) == ("talk_to_human", "ASKED", "zh-CN")
    assert [t["question"] for t in packet["transcript"]] == ["How long does shipping to Germany take?", "转人工"]
    assert "customer asked for a human" in packet["summary"] and packet["suggested_ticket_type"] == "CONSULTATION"
    # The agent finds the summary as an internal note on the ticket.
    notes = service.stub.GetTicket(pb.GetTicketRequest(code=ticket.code)).ticket.messages
    assert [(m.author_kind, m.visibility) for m in notes] == [(pb.AUTHOR_KIND_SYSTEM, pb.VISIBILITY_INTERNAL)]

    service.relay.drain()  # type: ignore[attr-defined]
    assert [e.event_type for e in service.bus.published].count("bot_handed_off") == 1

    with pytest.raises(grpc.RpcError) as refused:
        ask(service, ticket.code, "hello again")
    assert rejected(refused.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "BOT_INACTIVE")
    fetched = service.stub.GetBotConversation(pb.GetBotConversationRequest(code=ticket.code)).conversation
    assert fetched == conversation


def test_a_question_the_bot_is_not_sure_of_hands_off_with_its_best_guess(service: Running) -> None:
    ticket = open_bot_ticket(service)
    answer = ask(service, ticket.code, "深圳今天天气怎么样")
    assert answer.turn.handed_off and answer.turn.intent == "" and answer.turn.language == "zh-CN"
    assert answer.turn.confidence < CustomerServiceSettings().bot_confidence_threshold
    assert answer.conversation.hand_off_reason == pb.BOT_HAND_OFF_REASON_LOW_CONFIDENCE
    assert "转接人工" in answer.turn.answer
    assert [c.state for c in answer.ticket.sla][:1] == [pb.SLA_STATE_ACTIVE]


def test_where_is_my_parcel_answers_from_the_tracking_and_says_when_it_cannot(service: Running) -> None:
    known = open_bot_ticket(service, pb.LinkedCode(kind=pb.LINK_KIND_SHIPMENT, code=SHIPMENT))
    answer = ask(service, known.code, "Where is my parcel?")
    assert answer.turn.context.state == pb.BOT_CONTEXT_STATE_LIVE and answer.turn.context.status == "CUSTOMS"
    assert f"Shipment {SHIPMENT} is in customs clearance (Frankfurt)" in answer.turn.answer
    zh = ask(service, known.code, "我的包裹到哪里了")
    assert f"运单 {SHIPMENT} 当前状态\uff1a清关中" in zh.turn.answer  # full-width colon

    unknown = open_bot_ticket(service, pb.LinkedCode(kind=pb.LINK_KIND_SHIPMENT, code=LOST_SHIPMENT))
    answer = ask(service, unknown.code, "where is my package")
    assert answer.turn.context.state == pb.BOT_CONTEXT_STATE_UNKNOWN and "could not find" in answer.turn.answer

    service.logistics.down = True
    answer = ask(service, known.code, "where is my package")
    assert answer.turn.context.state == pb.BOT_CONTEXT_STATE_UNAVAILABLE
    assert "not answering right now" in answer.turn.answer and not answer.turn.handed_off

    unlinked = open_bot_ticket(service)
    answer = ask(service, unlinked.code, "where is my package")
    assert not answer.turn.HasField("context") and "linked to its shipment" in answer.turn.answer


def test_payment_questions_show_the_collection_state(service: Running) -> None:
    ticket = open_bot_ticket(service, pb.LinkedCode(kind=pb.LINK_KIND_COLLECTION, code=COLLECTION))
    answer = ask(service, ticket.code, "付款成功了吗")
    assert answer.turn.intent == "payment_status" and "已结算给商家" in answer.turn.answer
    service.payments.down = True
    answer = ask(service, ticket.code, "did my payment go through", language="zh-CN")
    assert answer.turn.language == "zh-CN" and "支付系统暂时无法响应" in answer.turn.answer


def test_a_retry_gets_the_first_answer_without_asking_again(service: Running) -> None:
    ticket = open_bot_ticket(service, pb.LinkedCode(kind=pb.LINK_KIND_SHIPMENT, code=SHIPMENT))
    first = ask(service, ticket.code, "where is my parcel", request_id="ask-1")
    service.logistics.down = True
    again = ask(service, ticket.code, "where is my parcel", request_id="ask-1")
    assert again == first and service.logistics.asked == [SHIPMENT]
    with pytest.raises(grpc.RpcError) as conflict:
        ask(service, ticket.code, "something else", request_id="ask-1")
    assert rejected(conflict.value)[1] == "IDEMPOTENCY_CONFLICT"


def test_bad_questions_and_tickets_are_refused_naming_the_field(service: Running) -> None:
    plain = service.stub.OpenTicket(
        pb.OpenTicketRequest(request_id="p", merchant_code=MERCHANT, type=pb.TICKET_TYPE_CONSULTATION, subject="x")
    ).ticket
    with pytest.raises(grpc.RpcError) as refused:
        ask(service, plain.code, "where is my parcel")
    assert rejected(refused.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "BOT_INACTIVE")
    with pytest.raises(grpc.RpcError) as refused:
        ask(service, plain.code, " ", language="fr")
    status, reason, fields = rejected(refused.value)
    assert (status, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert set(fields) == {"question", "language"}
    with pytest.raises(grpc.RpcError) as missing:
        ask(service, codes.generate("TK", "G"), "where is my parcel")
    assert rejected(missing.value)[:2] == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    with pytest.raises(grpc.RpcError) as missing:
        service.stub.GetBotConversation(pb.GetBotConversationRequest(code=plain.code))
    assert rejected(missing.value)[0] == grpc.StatusCode.NOT_FOUND
