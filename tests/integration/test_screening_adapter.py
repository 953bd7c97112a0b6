"""GrpcScreeningGate against a real gRPC server speaking the ScreenParty contract (names, not numbers).

The compliance proto lands from another branch, so the test builds a stand-in of the contract in its own
descriptor pool (deliberately different field numbers: the adapter must only rely on names).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

from services.payments.payouts.adapters.screening_grpc import GrpcScreeningGate
from services.payments.payouts.domain import Party, ScreeningDecision, ScreeningUnavailable, screen_safely
from tests.e2e.stack import unused_port


def contract_pool() -> descriptor_pool.DescriptorPool:
    f = descriptor_pb2.FileDescriptorProto(name="test/screening_contract.proto", package="xborder.compliance.v1")
    party_type = f.enum_type.add(name="PartyType")
    for number, name in enumerate(["PARTY_TYPE_UNSPECIFIED", "PARTY_TYPE_PERSON", "PARTY_TYPE_COMPANY"]):
        party_type.value.add(name=name, number=number)
    decision = f.enum_type.add(name="ScreeningDecision")
    for number, name in enumerate(["UNSPECIFIED", "CLEAR", "REVIEW", "BLOCK"]):
        decision.value.add(name=f"SCREENING_DECISION_{name}", number=number)
    string, enum, message = (
        descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        descriptor_pb2.FieldDescriptorProto.TYPE_ENUM,
        descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
    )
    optional = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    request = f.message_type.add(name="ScreenPartyRequest")
    for number, name in ((11, "request_id"), (12, "merchant_code"), (13, "name"), (15, "country")):
        request.field.add(name=name, number=number, type=string, label=optional)
    request.field.add(
        name="party_type", number=14, type=enum, label=optional, type_name=".xborder.compliance.v1.PartyType"
    )
    screening = f.message_type.add(name="Screening")
    screening.field.add(name="code", number=7, type=string, label=optional)
    screening.field.add(
        name="decision", number=9, type=enum, label=optional, type_name=".xborder.compliance.v1.ScreeningDecision"
    )
    response = f.message_type.add(name="ScreenPartyResponse")
    response.field.add(
        name="screening", number=3, type=message, label=optional, type_name=".xborder.compliance.v1.Screening"
    )
    service = f.service.add(name="ScreeningService")
    service.method.add(
        name="ScreenParty",
        input_type=".xborder.compliance.v1.ScreenPartyRequest",
        output_type=".xborder.compliance.v1.ScreenPartyResponse",
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return pool


@pytest.fixture
def compliance() -> Iterator[tuple[str, list[dict[str, Any]], descriptor_pool.DescriptorPool]]:
    pool = contract_pool()
    request_type = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("xborder.compliance.v1.ScreenPartyRequest")
    )
    response_type = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("xborder.compliance.v1.ScreenPartyResponse")
    )
    seen: list[dict[str, Any]] = []

    def screen(request: Any, context: grpc.ServicerContext) -> Any:
        data = json_format.MessageToDict(request, preserving_proto_field_name=True)
        seen.append(data)
        decision = "BLOCK" if "Sanctioned" in data["name"] else "CLEAR"
        return json_format.ParseDict(
            {"screening": {"code": "SCR1", "decision": f"SCREENING_DECISION_{decision}"}}, response_type()
        )

    handler = grpc.method_handlers_generic_handler(
        "xborder.compliance.v1.ScreeningService",
        {
            "ScreenParty": grpc.unary_unary_rpc_method_handler(
                screen,
                request_deserializer=request_type.FromString,
                response_serializer=lambda m: m.SerializeToString(),
            )
        },
    )
    from concurrent.futures import ThreadPoolExecutor

    server = grpc.server(ThreadPoolExecutor(2))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", seen, pool
    finally:
        server.stop(0)


def test_the_gate_sends_the_party_by_field_name_and_reads_the_decision(compliance: Any) -> None:
    address, seen, pool = compliance
    with grpc.insecure_channel(address) as channel:
        gate = GrpcScreeningGate(channel, pool=pool)
        clear = gate.screen("req-1", Party("MC123", "Acme Trading Ltd", "HK"))
        blocked = gate.screen("req-2", Party("MC123", "Sanctioned Shipping Co", "IR", "COMPANY"))
    assert (clear.decision, clear.reference) == (ScreeningDecision.CLEAR, "SCR1")
    assert blocked.decision is ScreeningDecision.BLOCK
    assert seen[0] == {
        "request_id": "req-1",
        "merchant_code": "MC123",
        "name": "Acme Trading Ltd",
        "party_type": "PARTY_TYPE_COMPANY",
        "country": "HK",
    }


def test_unreachable_compliance_holds_instead_of_passing() -> None:
    with grpc.insecure_channel(f"127.0.0.1:{unused_port()}") as channel:
        gate = GrpcScreeningGate(channel, pool=contract_pool(), timeout_s=0.5)
        with pytest.raises(ScreeningUnavailable):
            gate.screen("req-3", Party("MC1", "Acme", "HK"))
        outcome, unavailable = screen_safely(gate, "req-4", Party("MC1", "Acme", "HK"))
    assert outcome is None and unavailable is not None and "UNAVAILABLE" in unavailable


def test_missing_contract_holds_instead_of_passing() -> None:
    with grpc.insecure_channel(f"127.0.0.1:{unused_port()}") as channel:
        gate = GrpcScreeningGate(channel, proto_module="xborder.compliance.v1.no_such_module_pb2")
        outcome, unavailable = screen_safely(gate, "req-5", Party("MC1", "Acme", "HK"))
    assert outcome is None and unavailable is not None and "not installed" in unavailable
