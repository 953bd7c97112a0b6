"""Start one service on real gRPC (port 0) for a test, with its reference data imported."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
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


def rejected(call: grpc.RpcError) -> tuple[grpc.StatusCode, str | None, dict[str, str]]:
    """(status, ErrorInfo reason, {field: description}) of a failed call."""
    reason, violations, _ = status_details(call)
    return call.code(), reason, dict(violations)
