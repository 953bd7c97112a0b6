"""What every xborder gRPC server does: health, reflection, request ids, limits, errors, shutdown."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from services.shared.errors import ValidationError
from services.shared.grpc_errors import status_details
from services.shared.grpc_server import RunningServer, serve
from services.shared.local_calls import LocalRpcError, invoke_local
from services.shared.settings import Settings

SERVICE = "test.v1.Probe"


def _echo(request: bytes, context: grpc.ServicerContext) -> bytes:
    return request


def _boom(request: bytes, context: grpc.ServicerContext) -> bytes:
    raise RuntimeError("database password is hunter2")


def _invalid(request: bytes, context: grpc.ServicerContext) -> bytes:
    raise ValidationError.single("order.code", "check character does not match")


def _register(server: grpc.Server) -> None:
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                SERVICE,
                {
                    name: grpc.unary_unary_rpc_method_handler(fn)
                    for name, fn in {"Echo": _echo, "Boom": _boom, "Invalid": _invalid}.items()
                },
            ),
        )
    )


@pytest.fixture
def running(settings: Settings) -> Iterator[RunningServer]:
    server = serve(replace(settings, grpc_max_message_bytes=64 * 1024), [_register], [SERVICE], port=0)
    yield server
    server.stop(0)


def call(server: RunningServer, method: str, payload: bytes, metadata: tuple = ()) -> tuple[bytes, dict[str, str]]:
    with grpc.insecure_channel(
        f"127.0.0.1:{server.port}", options=[("grpc.max_send_message_length", 1 << 24)]
    ) as channel:
        response, rpc = channel.unary_unary(
            f"/{SERVICE}/{method}", request_serializer=None, response_deserializer=None
        ).with_call(payload, metadata=metadata, timeout=5)
        return response, {key: str(value) for key, value in rpc.trailing_metadata() or ()}


def test_health_and_reflection(running: RunningServer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=SERVICE))
        assert status.status == health_pb2.HealthCheckResponse.SERVING
        services = ProtoReflectionDescriptorDatabase(channel).get_services()
        assert SERVICE in services and "grpc.health.v1.Health" in services


def test_request_id_is_kept_or_made(running: RunningServer) -> None:
    _, trailers = call(running, "Echo", b"x", (("x-request-id", "abc-123"),))
    assert trailers["x-request-id"] == "abc-123"
    _, trailers = call(running, "Echo", b"x")
    assert len(trailers["x-request-id"]) == 32


def test_oversized_message_is_refused(running: RunningServer) -> None:
    with pytest.raises(grpc.RpcError) as error:
        call(running, "Echo", b"x" * (128 * 1024))
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_domain_errors_carry_reason_and_field(running: RunningServer) -> None:
    with pytest.raises(grpc.RpcError) as error:
        call(running, "Invalid", b"")
    reason, violations, metadata = status_details(error.value)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason == "VALIDATION_FAILED"
    assert violations == [("order.code", "check character does not match")]
    assert metadata["request_id"]


def test_unexpected_errors_reveal_nothing_but_the_request_id(running: RunningServer) -> None:
    with pytest.raises(grpc.RpcError) as error:
        call(running, "Boom", b"", (("x-request-id", "req-9"),))
    assert error.value.code() == grpc.StatusCode.INTERNAL
    assert "hunter2" not in (error.value.details() or "")
    assert "req-9" in (error.value.details() or "")


def test_graceful_shutdown_reports_not_serving_first(settings: Settings) -> None:
    server = serve(settings, [_register], [SERVICE], port=0)
    server.health.enter_graceful_shutdown()
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=SERVICE))
        assert status.status == health_pb2.HealthCheckResponse.NOT_SERVING
    server.stop(0)


@pytest.mark.parametrize(
    ("handler", "code", "reason"),
    [(_invalid, grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED"), (_boom, grpc.StatusCode.INTERNAL, "INTERNAL")],
)
def test_in_process_calls_fail_like_real_ones(handler: Any, code: grpc.StatusCode, reason: str) -> None:
    with pytest.raises(LocalRpcError) as error:
        invoke_local(
            grpc.unary_unary_rpc_method_handler(handler),
            b"",
            method=f"/{SERVICE}/X",
            metadata=(("x-request-id", "req-7"),),
            timeout=5,
            default_deadline_s=10,
        )
    got_reason, _, metadata = status_details(error.value)
    assert (error.value.code(), got_reason, metadata["request_id"]) == (code, reason, "req-7")
    assert "hunter2" not in error.value.details()
    assert dict(error.value.trailing_metadata())["x-request-id"] == "req-7"


def test_in_process_calls_return_the_reply() -> None:
    handler = grpc.unary_unary_rpc_method_handler(_echo)
    assert invoke_local(handler, b"ping", method=f"/{SERVICE}/Echo", metadata=(), timeout=5, default_deadline_s=10) == (
        b"ping"
    )
