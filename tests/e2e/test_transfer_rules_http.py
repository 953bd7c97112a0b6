"""Cross-border transfer rules through the REST gateway, on a full stack (identity's seeded rule table).

The operator key is configured in CN (the default `XB_TRANSFER_OPERATOR_COUNTRY`), so an operator reading
an EU merchant's data is an EEA -> CN transfer under GDPR Chapter V: personal fields are masked without
standard contractual clauses on file, clear with them; sensitive ones are refused. A merchant declaring
an onward destination gets that destination's rules; a kill switch blocks at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from xborder.identity.v1 import identity_service_pb2 as identity_pb
from xborder.identity.v1 import identity_service_pb2_grpc as identity_grpc
from xborder.identity.v1 import transfer_rules_service_pb2 as rules_pb
from xborder.identity.v1 import transfer_rules_service_pb2_grpc as rules_grpc

from gateway.app import create_app
from gateway.audit_log import AuditLog
from gateway.edge_settings import EdgeSettings
from gateway.front_door import serve_front_door
from gateway.transfer_guard import TransferSettings
from services.registry import bootstrap_module
from services.shared.grpc_errors import status_details
from services.shared.grpc_server import method_handlers
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient, Stack, Tenant, start_stack

CONTACTS = [{"name": "Erika Mustermann", "email": "erika@alpha.example", "phone": "+4930123456", "role": "business"}]


@dataclass
class World:
    stack: Stack
    rest: AsgiClient
    audit: AuditLog
    ops: dict[str, str]


def idem() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    stack = start_stack(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False))
    app = create_app(
        stack.settings,
        edge=EdgeSettings(audit=True, rate_limit_per_s=0),
        transfer=TransferSettings(policy_ttl_s=60.0),  # long: changes through the gateway must still show at once
    )
    rest = AsgiClient(app)
    yield World(stack, rest, app.state.audit, {"Authorization": f"Bearer {stack.operator_key()}"})
    rest.close()
    app.state.audit.close()
    stack.stop()


def eu_merchant(world: World, name: str) -> Tenant:
    return world.stack.onboard(name, "DE", contacts=[identity_pb.Contact(**CONTACTS[0])])


def last_entry(world: World) -> Any:
    world.audit.flush()
    return list(world.audit.store.entries())[-1].call


def test_an_operator_abroad_sees_an_eu_merchants_contacts_masked_until_sccs_are_on_file(world: World) -> None:
    a = eu_merchant(world, "Alpha Export GmbH")
    own = ok(world.rest.get(f"/v1/merchants/{a.merchant_code}", headers=a.headers))
    assert own["contacts"][0]["name"] == "Erika Mustermann"  # DE -> DE is no transfer
    assert all(":ALLOW:DOMESTIC" in t for t in last_entry(world).transfers)

    masked = ok(world.rest.get(f"/v1/merchants/{a.merchant_code}", headers=world.ops))
    assert masked["contacts"][0] == {"name": "***", "email": "***", "phone": "***", "role": "business"}
    assert masked["legalName"] == "Alpha Export GmbH"  # business data goes out
    entry = last_entry(world)
    assert entry.destination == "CN"
    assert "PERSONAL>CN:MASK:EU-PD-THIRD-COUNTRY@v1" in entry.transfers
    assert "Erika" not in repr(entry)

    basis = {
        "kind": "LEGAL_BASIS_KIND_STANDARD_CONTRACT",
        "reference": "SCC-2021/914-ALPHA-01",
        "destination": "CN",
        "validFrom": "2026-01-01",
        "registeredBy": "compliance officer",
    }
    filed = ok(
        world.rest.post(f"/v1/merchants/{a.merchant_code}/legal-bases", json=basis, headers={**world.ops, **idem()})
    )
    basis_id = filed["legalBasis"]["basisId"]
    clear = ok(world.rest.get(f"/v1/merchants/{a.merchant_code}", headers=world.ops))
    assert clear["contacts"][0]["email"] == "erika@alpha.example"
    assert f"PERSONAL>CN:ALLOW:EU-PD-THIRD-COUNTRY@v1:{basis_id}" in last_entry(world).transfers
    listed = ok(world.rest.get(f"/v1/merchants/{a.merchant_code}/legal-bases", headers=a.headers))
    assert [b["basisId"] for b in listed["legalBases"]] == [basis_id]


def test_a_declared_onward_destination_gets_its_own_rules(world: World) -> None:
    a = eu_merchant(world, "Gamma Handels GmbH")
    onward = ok(
        world.rest.get(f"/v1/merchants/{a.merchant_code}", headers={**a.headers, "X-Transfer-Destination": "us"})
    )
    assert onward["contacts"][0]["name"] == "***"
    assert "PERSONAL>US:MASK:EU-PD-US-DPF@v1" in last_entry(world).transfers
    japan = ok(
        world.rest.get(f"/v1/merchants/{a.merchant_code}", headers={**a.headers, "X-Transfer-Destination": "JP"})
    )
    assert japan["contacts"][0]["name"] == "Erika Mustermann"  # adequacy decision
    bad = world.rest.get(f"/v1/merchants/{a.merchant_code}", headers={**a.headers, "X-Transfer-Destination": "USA"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "X-Transfer-Destination"


def test_a_screening_answer_carries_no_sensitive_data_and_its_personal_data_is_masked_abroad(world: World) -> None:
    d = eu_merchant(world, "Delta Trade GmbH")
    screened = ok(
        world.rest.post(
            "/v1/compliance/screenings",
            json={
                "name": "Max Muster",
                "dateOfBirth": "1980-02-03",
                "identifiers": [{"type": "passport", "value": "C01X00T47"}],
            },
            headers={**d.headers, **idem()},
        )
    )
    party = screened["screening"]["party"]
    assert party["dateOfBirth"] == "1980-**-**" and party["identifiers"][0]["value"] == "**** 0T47"
    assert "1980-02-03" not in str(screened) and "C01X00T47" not in str(screened)
    assert not any(t.startswith("PERSONAL_SENSITIVE") for t in last_entry(world).transfers)
    code = screened["screening"]["code"]
    abroad = ok(world.rest.get(f"/v1/compliance/screenings/{code}", headers=world.ops))
    assert abroad["party"]["name"] == abroad["party"]["dateOfBirth"] == "***"
    assert "Max" not in str(abroad)
    assert "PERSONAL>CN:MASK:EU-PD-THIRD-COUNTRY@v1" in last_entry(world).transfers


def test_a_kill_switch_blocks_at_once_and_releases(world: World) -> None:
    e = eu_merchant(world, "Epsilon Versand GmbH")

    def switch(engaged: bool) -> None:
        body = {
            "target": "class",
            "value": "PERSONAL",
            "engaged": engaged,
            "changedBy": "ops on call",
            "reason": "breach",
        }
        ok(world.rest.post("/v1/transfer-rules/kill-switches", json=body, headers={**world.ops, **idem()}))

    switch(True)
    try:
        home = world.rest.get(f"/v1/merchants/{e.merchant_code}", headers=e.headers)
        assert home.status_code == 200  # DE -> DE is no transfer: kill switches are about transfers
        onward = {**e.headers, "X-Transfer-Destination": "JP"}  # adequate, but the class is switched off
        blocked = world.rest.get(f"/v1/merchants/{e.merchant_code}", headers=onward)
        assert blocked.status_code == 451
        assert blocked.json()["reason"] == "TRANSFER_BLOCKED"
        assert blocked.json()["transfer"]["why"] == "KILL_SWITCH_CLASS"
        public = world.rest.get("/v1/currencies/JPY")
        assert public.status_code == 200  # reference data carries no personal class
    finally:
        switch(False)
    released = ok(
        world.rest.get(f"/v1/merchants/{e.merchant_code}", headers={**e.headers, "X-Transfer-Destination": "JP"})
    )
    assert released["contacts"][0]["name"] == "Erika Mustermann"


def test_the_rule_table_is_versioned_through_the_gateway(world: World) -> None:
    policy = ok(world.rest.get("/v1/transfer-rules", headers=world.ops))
    assert policy["version"] >= 1 and all(r["sourceReadOn"] for r in policy["rules"])
    merchant = eu_merchant(world, "Zeta Shop GmbH")
    refused = world.rest.get("/v1/transfer-rules", headers=merchant.headers)
    assert refused.status_code == 403


@pytest.fixture(scope="module", params=["forwarding", "in-process"])
def front_door(request: pytest.FixtureRequest, world: World) -> Iterator[grpc.Channel]:
    local = {}
    if request.param == "in-process":
        for name, context in world.stack.contexts.items():
            local.update(method_handlers(bootstrap_module(name).registrations(context)))
    running = serve_front_door(
        world.stack.settings, port=0, local=local, edge=EdgeSettings(audit=False, rate_limit_per_s=0)
    )
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as opened:
        yield opened
    running.stop(grace=0)


def test_the_front_door_masks_allows_with_a_basis_and_refuses_like_rest(world: World, front_door: grpc.Channel) -> None:
    a = eu_merchant(world, f"Eta Front Door GmbH {uuid.uuid4().hex[:6]}")
    identity = identity_grpc.IdentityServiceStub(front_door)
    rules = rules_grpc.TransferRuleServiceStub(front_door)
    operator = (("authorization", world.ops["Authorization"]),)
    own = (("authorization", f"Bearer {a.api_key}"),)
    ask = identity_pb.GetMerchantRequest(merchant_code=a.merchant_code)
    assert identity.GetMerchant(ask, metadata=operator, timeout=10).merchant.contacts[0].name == "***"
    onward = identity.GetMerchant(ask, metadata=(*own, ("x-transfer-destination", "US")), timeout=10)
    assert onward.merchant.contacts[0].email == "***"
    rules.RegisterLegalBasis(
        rules_pb.RegisterLegalBasisRequest(
            request_id=str(uuid.uuid4()),
            merchant_code=a.merchant_code,
            kind=rules_pb.LEGAL_BASIS_KIND_STANDARD_CONTRACT,
            reference="SCC-ETA",
            destination="*",
            registered_by="compliance officer",
        ),
        metadata=operator,
        timeout=10,
    )
    assert identity.GetMerchant(ask, metadata=operator, timeout=10).merchant.contacts[0].name == "Erika Mustermann"
    switch = rules_pb.SetKillSwitchRequest(target="destination", value="CN", changed_by="ops", reason="drill")
    rules.SetKillSwitch(
        rules_pb.SetKillSwitchRequest(request_id=str(uuid.uuid4()), engaged=True, **_fields(switch)),
        metadata=operator,
        timeout=10,
    )
    try:
        with pytest.raises(grpc.RpcError) as caught:
            identity.GetMerchant(ask, metadata=operator, timeout=10)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert status_details(caught.value)[0] == "TRANSFER_BLOCKED"
    finally:
        rules.SetKillSwitch(
            rules_pb.SetKillSwitchRequest(request_id=str(uuid.uuid4()), engaged=False, **_fields(switch)),
            metadata=operator,
            timeout=10,
        )


def _fields(message: Any) -> dict[str, Any]:
    return {f.name: v for f, v in message.ListFields()}
