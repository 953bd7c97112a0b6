"""The audit log of calls through the REST gateway, on a full stack with two onboarded merchants."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from gateway.app import create_app
from gateway.audit_chain import verify
from gateway.audit_log import AuditLog
from gateway.audit_store import AuditStore
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient, Stack, Tenant, start_stack


@dataclass
class World:
    stack: Stack
    rest: AsgiClient
    a: Tenant
    b: Tenant
    audit: AuditLog


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    stack = start_stack(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False))
    app = create_app(stack.settings)
    rest = AsgiClient(app)
    yield World(
        stack, rest, stack.onboard("Alpha Export Co", "DE"), stack.onboard("Beta Import Ltd", "GB"), app.state.audit
    )
    rest.close()
    app.state.audit.close()
    stack.stop()


def test_every_call_is_audited_with_who_and_where_and_no_personal_data(world: World) -> None:
    screened = world.rest.post(
        "/v1/compliance/screenings",
        json={"name": "Jane Smith"},
        headers={**world.a.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert screened.status_code == 200, screened.text
    code = screened.json()["screening"]["code"]
    refused = world.rest.get(f"/v1/compliance/screenings/{code}", headers=world.b.headers)
    assert refused.status_code == 404
    unauthenticated = world.rest.get(f"/v1/compliance/screenings/{code}")
    assert unauthenticated.status_code == 401
    world.audit.flush()
    entries = list(world.audit.store.entries())
    assert verify(entries) == (len(entries), None)
    screening, denied, anonymous = (e.call for e in entries[-3:])
    assert screening.rpc.endswith("/ScreenParty")
    assert (screening.key_id, screening.merchant_code, screening.caller_country, screening.outcome) == (
        world.a.key_id,
        world.a.merchant_code,
        "DE",
        "200",
    )
    assert "PERSONAL" in screening.request_classes
    assert (denied.merchant_code, denied.caller_country, denied.outcome) == (world.b.merchant_code, "GB", "404")
    assert (anonymous.key_id, anonymous.outcome) == ("", "401")
    assert isinstance(world.audit.store, AuditStore)  # the SQLite file of the embedded default
    stored = world.audit.store.path.read_bytes()
    assert b"Jane Smith" not in stored
    assert world.a.api_key.encode() not in stored
