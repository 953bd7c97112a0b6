"""Start one service on real gRPC (port 0) for a test, with its reference data imported."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from services.registry import bootstrap_module
from services.shared.context import ServiceContext
from services.shared.grpc_errors import status_details
from services.shared.grpc_server import serve
from services.shared.settings import Settings
from tests.fakes import RecordingBus


@dataclass
class Running:
    context: ServiceContext
    stub: Any
    bus: RecordingBus
    settings: Settings
    port: int


@contextlib.contextmanager
def running_service(
    settings: Settings, name: str, stub: Callable[[grpc.Channel], Any], *, seed: bool = True
) -> Iterator[Running]:
    module = bootstrap_module(name)
    bus = RecordingBus()
    context = module.bootstrap(settings, bus)
    if seed:
        context.import_reference_data()
        context.relay.drain()
    server = serve(settings, module.registrations(context), module.GRPC_SERVICES, port=0)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield Running(context, stub(channel), bus, settings, server.port)
    finally:
        channel.close()
        server.stop(0)
        context.close()


@contextlib.contextmanager
def serving(
    settings: Settings, registrations: Sequence[Callable[[grpc.Server], None]], services: Sequence[str]
) -> Iterator[grpc.Channel]:
    """Servicers the test built itself (each registration adds one to the server) on real gRPC, port 0: a
    channel to them, and the server stopped afterwards."""
    server = serve(settings, registrations, services, port=0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            yield channel
    finally:
        server.stop(0)


@contextlib.contextmanager
def identity_and_access(settings: Settings, identity: Any, access: Any) -> Iterator[grpc.Channel]:
    """An IdentityService and an AccessService servicer the test built, on real gRPC: a channel to both."""
    from xborder.identity.v1 import access_service_pb2_grpc, identity_service_pb2_grpc

    from services.identity.bootstrap import GRPC_SERVICES

    def add(server: grpc.Server) -> None:
        identity_service_pb2_grpc.add_IdentityServiceServicer_to_server(identity, server)
        access_service_pb2_grpc.add_AccessServiceServicer_to_server(access, server)

    with serving(settings, [add], GRPC_SERVICES) as channel:
        yield channel


def rejected(call: grpc.RpcError) -> tuple[grpc.StatusCode, str | None, dict[str, str]]:
    """(status, ErrorInfo reason, {field: description}) of a failed call."""
    reason, violations, _ = status_details(call)
    return call.code(), reason, dict(violations)
