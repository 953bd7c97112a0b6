"""The services behind the gateway, started in-process for tests that go through the gateway.

Every service in the registry is booted on SQLite, seeded and served on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import grpc
import httpx
import uvicorn
from xborder.identity.v1 import identity_service_pb2 as identity_pb2
from xborder.identity.v1 import identity_service_pb2_grpc as identity_pb2_grpc

from gateway.app import create_app
from gateway.front_door import serve_front_door
from services.registry import SERVICES, bootstrap_module
from services.shared.bus import InProcessBus
from services.shared.context import ServiceContext
from services.shared.grpc_server import RunningServer, serve
from services.shared.settings import Settings
from tests.partner_certs import TestCa, partner_tls


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Tenant:
    """An onboarded merchant and its API key."""

    merchant_code: str
    api_key: str
    key_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@dataclass
class Stack:
    settings: Settings
    """Settings whose service ports are the ones actually bound."""
    contexts: dict[str, ServiceContext] = field(default_factory=dict)
    servers: dict[str, RunningServer] = field(default_factory=dict)
    tenant: Tenant | None = None
    """The merchant `stack_and_gateway`'s client calls as (onboarded when the stack starts)."""
    operator: str = ""
    """An operator key (ledger administration, partner statements, payout review)."""

    @property
    def operator_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.operator}"}

    def identity(self) -> Any:
        channel = grpc.insecure_channel(f"127.0.0.1:{self.servers['identity'].port}")
        return identity_pb2_grpc.IdentityServiceStub(channel)

    def onboard(self, name: str = "Acme Trading GmbH", country: str = "DE", **fields: Any) -> Tenant:
        """A merchant registered through the identity service (screened by compliance), with its key."""
        answer = self.identity().OnboardMerchant(
            identity_pb2.OnboardMerchantRequest(
                request_id=f"onboard-{uuid.uuid4()}", legal_name=name, country=country, **fields
            )
        )
        return Tenant(answer.merchant.merchant_code, answer.secret, answer.api_key.key_id)

    def operator_key(self, label: str = "tests") -> str:
        answer = self.identity().IssueOperatorKey(
            identity_pb2.IssueOperatorKeyRequest(request_id=f"operator-{uuid.uuid4()}", label=label)
        )
        return str(answer.secret)

    def stop_service(self, name: str) -> None:
        self.servers.pop(name).stop(grace=0)

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop(grace=0)
        for context in self.contexts.values():
            context.close()


def start_stack(settings: Settings) -> Stack:
    bus = InProcessBus()
    stack = Stack(settings)
    ports = {name: unused_port() for name in settings.service_ports}
    for name in SERVICES:
        module = bootstrap_module(name)
        context = module.bootstrap(settings, bus)
        stack.contexts[name] = context
        context.import_reference_data()
        seed = getattr(module, "seed", None)  # content beyond reference data (compliance: the rule library)
        if seed is not None:
            seed(context)
        server = serve(settings, module.registrations(context), module.GRPC_SERVICES, port=0)
        stack.servers[name] = server
        ports[name] = server.port
    stack.settings = replace(settings, service_ports=ports, gateway_grpc_port=0, gateway_http_port=0)
    for context in stack.contexts.values():  # identity's screening reaches compliance on its bound port
        context.settings = stack.settings
    return stack


@contextlib.contextmanager
def http_gateway(stack: Stack, headers: dict[str, str] | None = None) -> Iterator[httpx.Client]:
    """The gateway app on a real uvicorn server on a free port, and an HTTP client for it (sending
    `headers` on every request)."""
    port = unused_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(stack.settings), host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, name="gateway-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=headers) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def stack_and_gateway(settings: Settings) -> Iterator[tuple[Stack, httpx.Client]]:
    """Every service started and seeded, behind a real HTTP gateway; all stopped afterwards.

    The client calls as `stack.tenant`, a merchant onboarded for the module (its key in every request).
    """
    stack = start_stack(settings)
    try:
        stack.tenant = stack.onboard()
        stack.operator = stack.operator_key()
        with http_gateway(stack, stack.tenant.headers) as client:
            yield stack, client
    finally:
        stack.stop()


class AsgiClient:
    """A synchronous HTTP client over httpx's ASGI transport (no sockets), for one app."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


async def chunks(count: int, size: int) -> AsyncIterator[bytes]:
    """A request body sent in chunks without a Content-Length."""
    for _ in range(count):
        yield b"x" * size


@contextlib.contextmanager
def partner_port(settings: Settings) -> Iterator[tuple[Stack, AsgiClient, RunningServer, TestCa, dict[str, str]]]:
    """Every service started, the gRPC front door with its partner port (real TLS, a throw-away CA of the
    test's), a REST client and an operator key's headers; all stopped afterwards."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    stack = start_stack(settings)
    ca = TestCa()
    door = serve_front_door(stack.settings, port=0, partner_tls=partner_tls(ca, settings.var_dir))
    rest = AsgiClient(create_app(stack.settings))
    try:
        yield stack, rest, door, ca, {"Authorization": f"Bearer {stack.operator_key()}"}
    finally:
        door.stop(grace=0)
        rest.close()
        stack.stop()
