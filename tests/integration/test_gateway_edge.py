"""The edge of both doors on a service built for the test: audit entries, rate limits, security headers and
errors that name nothing internal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from gateway.app import build_app
from gateway.audit_chain import verify
from gateway.audit_log import AuditLog
from gateway.audit_store import AuditStore
from gateway.descriptors import describe_service, message_class
from gateway.edge_settings import EdgeSettings
from gateway.front_door import RETRY_AFTER_METADATA, serve_front_door
from gateway.rate_limits import RateLimiter
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient
from tests.integration.test_gateway_transcoding import PACKAGE, Fake, fake_backend, thing_service


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Fake, Settings]]:
    base = Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False, default_deadline_s=5.0)
    fake = fake_backend(base, thing_service())
    settings = Settings(
        var_dir=base.var_dir, log_json=False, default_deadline_s=5.0, service_ports={"gwtest": fake.server.port}
    )
    yield fake, settings
    fake.server.stop(0)


class Rest:
    def __init__(self, settings: Settings, audit_path: Path, clock: Clock) -> None:
        self.audit = AuditLog(AuditStore(audit_path))
        self.app = build_app(
            settings,
            [describe_service(thing_service())],
            audit=self.audit,
            limiter=RateLimiter(per_second=1.0, burst=2, clock=clock),
        )
        self.client = AsgiClient(self.app)

    def entries(self) -> list[Any]:
        self.audit.flush()
        return list(self.audit.store.entries())

    def close(self) -> None:
        self.client.close()
        self.app.state.backends.close()
        self.audit.close()


@pytest.fixture
def rest(backend: tuple[Fake, Settings], tmp_path: Path) -> Iterator[Rest]:
    harness = Rest(backend[1], tmp_path / "audit.sqlite3", Clock())
    yield harness
    harness.close()


def test_a_rest_call_is_audited_with_its_classes_and_no_values(rest: Rest) -> None:
    response = rest.client.post(
        "/v1/shelves/s1/things", json={"displayName": "Zhang Wei"}, headers={"X-Request-Id": "corr-1"}
    )
    assert response.status_code == 200, response.text
    refused = rest.client.post("/v1/shelves/s1/things", json={"displayName": "fail"})
    assert refused.status_code == 400
    entries = rest.entries()
    assert len(entries) == 2 and verify(entries) == (2, None)
    first = entries[0].call
    assert (first.door, first.rpc, first.outcome, first.service) == (
        "http",
        f"/{PACKAGE}.ThingService/CreateThing",
        "200",
        "gwtest",
    )
    assert "PERSONAL" in first.request_classes and "PERSONAL" in first.response_classes
    assert first.correlation_id == "corr-1"
    assert entries[1].call.outcome == "400"
    assert isinstance(rest.audit.store, AuditStore)  # the SQLite file of the embedded default
    stored = Path(rest.audit.store.path).read_bytes()
    assert b"Zhang" not in stored


def test_an_unknown_route_is_audited_too(rest: Rest) -> None:
    assert rest.client.get("/v1/nowhere").status_code == 404
    assert [(e.call.rpc, e.call.outcome) for e in rest.entries()] == [("unmatched", "404")]


def test_a_caller_over_its_rate_gets_429_with_retry_after(backend: tuple[Fake, Settings], tmp_path: Path) -> None:
    clock = Clock()
    rest = Rest(backend[1], tmp_path / "audit.sqlite3", clock)
    try:
        headers = {"Authorization": "Bearer caller-a"}
        codes = [rest.client.get("/v1/things/n:echo", headers=headers).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        limited = rest.client.get("/v1/things/n:echo", headers=headers)
        assert limited.headers["content-type"] == "application/problem+json"
        assert limited.json()["reason"] == "RATE_LIMITED"
        assert limited.headers["retry-after"] == "1"
        # Another caller and another method have buckets of their own.
        assert rest.client.get("/v1/things/n:echo", headers={"Authorization": "Bearer caller-b"}).status_code == 200
        assert rest.client.get("/v1/shelves/s1/things", headers=headers).status_code == 200
        clock.now += 1.0
        assert rest.client.get("/v1/things/n:echo", headers=headers).status_code == 200
        assert [e.call.outcome for e in rest.entries()].count("429") == 2
    finally:
        rest.close()


def test_responses_carry_security_headers_and_no_cors_by_default(rest: Rest) -> None:
    response = rest.client.get(
        "/v1/things/n:echo", headers={"Authorization": "Bearer k", "Origin": "https://shop.example"}
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_an_internal_fault_names_nothing_internal(rest: Rest, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("psycopg pool at db-internal.svc:5432 in services/payments/adapters/sql.py")

    monkeypatch.setattr(rest.app.state.backends, "call", broken)
    response = rest.client.get("/v1/things/n:echo")
    assert response.status_code == 500
    body = response.text
    assert response.headers["content-type"] == "application/problem+json"
    for leak in ("db-internal", "psycopg", "adapters", "Traceback", "RuntimeError", ".py"):
        assert leak not in body
    assert response.json()["correlation_id"] == response.headers["x-request-id"]
    assert rest.entries()[-1].call.outcome == "500"


def test_the_front_door_audits_and_rate_limits(backend: tuple[Fake, Settings], tmp_path: Path) -> None:
    audit_path = tmp_path / "front-door-audit.sqlite3"
    edge = EdgeSettings(audit=True, audit_path=audit_path, rate_limit_per_s=0.001, rate_limit_burst=2)
    running = serve_front_door(
        backend[1], port=0, services=[describe_service(thing_service())], authenticate=False, edge=edge
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    echo = channel.unary_unary(
        f"/{PACKAGE}.ThingService/EchoThing", request_serializer=None, response_deserializer=None
    )
    thing = message_class(thing_service().methods_by_name["EchoThing"].input_type)(name="n", display_name="Zhang")
    for _ in range(2):
        echo(thing.SerializeToString(), timeout=5, metadata=(("x-request-id", "p-1"),))
    with pytest.raises(grpc.RpcError) as refused:
        echo(thing.SerializeToString(), timeout=5)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    error: Any = refused.value
    trailing = {str(key): value for key, value in error.trailing_metadata() or ()}
    assert int(trailing[RETRY_AFTER_METADATA]) >= 1
    hidden = channel.unary_unary(
        f"/{PACKAGE}.ThingService/HiddenThing", request_serializer=None, response_deserializer=None
    )
    with pytest.raises(grpc.RpcError):
        hidden(b"", timeout=5)
    channel.close()
    running.stop(grace=0)  # a clean stop writes every queued entry
    store = AuditStore(audit_path)
    try:
        entries = list(store.entries())
        assert [(e.call.door, e.call.rpc.rsplit("/", 1)[1], e.call.outcome) for e in entries] == [
            ("grpc", "EchoThing", "OK"),
            ("grpc", "EchoThing", "OK"),
            ("grpc", "EchoThing", "RESOURCE_EXHAUSTED"),
            ("grpc", "HiddenThing", "PERMISSION_DENIED"),
        ]
        assert entries[0].call.correlation_id == "p-1"
        assert "PERSONAL" in entries[0].call.request_classes and "PERSONAL" in entries[0].call.response_classes
        assert verify(entries) == (4, None)
        assert b"Zhang" not in audit_path.read_bytes()
    finally:
        store.close()


def test_an_internal_fault_behind_the_front_door_names_nothing_internal(
    backend: tuple[Fake, Settings], tmp_path: Path
) -> None:
    service = describe_service(thing_service())
    echo = next(m for m in service.methods if m.name == "EchoThing")

    def broken(request: Any, context: grpc.ServicerContext) -> Any:
        raise RuntimeError("psycopg pool at db-internal.svc:5432 in services/payments/adapters/sql.py")

    local = {
        echo.grpc_path: grpc.unary_unary_rpc_method_handler(
            broken,
            request_deserializer=echo.input_class.FromString,
            response_serializer=echo.output_class.SerializeToString,
        )
    }
    edge = EdgeSettings(audit=True, audit_path=tmp_path / "audit.sqlite3", rate_limit_per_s=0)
    running = serve_front_door(backend[1], port=0, services=[service], local=local, authenticate=False, edge=edge)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        call = channel.unary_unary(echo.grpc_path, request_serializer=None, response_deserializer=None)
        with pytest.raises(grpc.RpcError) as failure:
            call(b"", timeout=5)
        assert failure.value.code() == grpc.StatusCode.INTERNAL
        details = failure.value.details() or ""
        for leak in ("db-internal", "psycopg", "adapters", "Traceback", "RuntimeError", ".py"):
            assert leak not in details
    finally:
        channel.close()
        running.stop(grace=0)
    store = AuditStore(tmp_path / "audit.sqlite3")
    try:
        assert [e.call.outcome for e in store.entries()] == ["INTERNAL"]
    finally:
        store.close()
