"""OAuth2 client credentials through the gateway: register a client, POST /oauth/token, call with the JWT.

A full stack behind the REST app and the gRPC front door. The token endpoint's RFC 6749 errors, and the
credential attacks (missing, expired, forged, wrong audience, alg=none, another key id, revoked client)
as a caller sees them: 401 with a WWW-Authenticate challenge on REST, UNAUTHENTICATED on gRPC. Another
merchant's token reads and acts on none of this merchant's clients (404).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import jwt
import pytest
from xborder.payments.v1 import ledger_service_pb2 as ledger_pb
from xborder.payments.v1 import ledger_service_pb2_grpc as ledger_grpc

from gateway.app import create_app
from gateway.front_door import serve_front_door
from services.identity.settings import IdentitySettings
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient, Stack, Tenant, start_stack


@dataclass
class World:
    stack: Stack
    rest: AsgiClient
    door: grpc.Channel
    a: Tenant
    b: Tenant
    client_id: str
    secret: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    stack = start_stack(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False))
    app = create_app(stack.settings)
    app.state.guard.keys.ttl = 0  # every call asks identity: revocation shows at once
    rest = AsgiClient(app)
    front_door = serve_front_door(stack.settings, port=0)
    a, b = stack.onboard("Alpha OAuth GmbH", "DE"), stack.onboard("Beta OAuth Ltd", "GB")
    registered = rest.post(
        f"/v1/merchants/{a.merchant_code}/oauth-clients",
        json={"label": "ERP sync", "scopes": ["payments.ledger.read", "identity.merchants.read"]},
        headers={**a.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert registered.status_code == 200, registered.text
    body = registered.json()
    with grpc.insecure_channel(f"127.0.0.1:{front_door.port}") as door:
        yield World(stack, rest, door, a, b, body["client"]["clientId"], body["clientSecret"])
    front_door.stop(grace=0)
    rest.close()
    stack.stop()


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def token_call(world: World, body: str, headers: dict[str, str] | None = None) -> Any:
    return world.rest.post("/oauth/token", content=body.encode(), headers={**FORM, **(headers or {})})


def get_token(world: World, scope: str = "") -> str:
    body = "grant_type=client_credentials" + (f"&scope={scope}" if scope else "")
    answer = token_call(world, body, basic(world.client_id, world.secret))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_token_endpoint_answers_a_bearer_jwt_not_cached(world: World) -> None:
    answer = token_call(
        world, "grant_type=client_credentials&scope=payments.ledger.read", basic(world.client_id, world.secret)
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 600 and body["scope"] == "payments.ledger.read"
    assert answer.headers["cache-control"] == "no-store" and answer.headers["pragma"] == "no-cache"
    in_body = token_call(
        world, f"grant_type=client_credentials&client_id={world.client_id}&client_secret={world.secret}"
    )
    assert in_body.status_code == 200, in_body.text


def test_a_token_reads_its_merchants_data_on_both_doors(world: World) -> None:
    token = get_token(world)
    own = world.rest.get(f"/v1/merchants/{world.a.merchant_code}/balances", headers=bearer(token))
    assert own.status_code == 200, own.text
    ledger = ledger_grpc.LedgerServiceStub(world.door)
    reply = ledger.GetBalances(
        ledger_pb.GetBalancesRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=10
    )
    assert reply.merchant_code == world.a.merchant_code


def test_a_token_carries_only_its_scopes(world: World) -> None:
    token = get_token(world, "identity.merchants.read")
    refused = world.rest.get(f"/v1/merchants/{world.a.merchant_code}/balances", headers=bearer(token))
    assert refused.status_code == 403 and refused.json()["reason"] == "PERMISSION_DENIED"
    payout = world.rest.post("/v1/payouts", json={}, headers={**bearer(get_token(world)), "Idempotency-Key": "x1"})
    assert payout.status_code == 403


@pytest.mark.parametrize(
    ("body", "headers", "status", "error"),
    [
        ("grant_type=password&username=a&password=b", "basic", 400, "unsupported_grant_type"),
        ("scope=payments.ledger.read", "basic", 400, "invalid_request"),
        ("grant_type=client_credentials&grant_type=client_credentials", "basic", 400, "invalid_request"),
        ("grant_type=client_credentials&client_id=xbc_0123456789abcdef", "basic", 400, "invalid_request"),
        ("grant_type=client_credentials&scope=payments.payouts.write", "basic", 400, "invalid_scope"),
        ("grant_type=client_credentials", "wrong", 401, "invalid_client"),
        ("grant_type=client_credentials", "none", 401, "invalid_client"),
    ],
)
def test_token_endpoint_errors_are_rfc_6749_json(
    world: World, body: str, headers: str, status: int, error: str
) -> None:
    sent = {
        "basic": basic(world.client_id, world.secret),
        "wrong": basic(world.client_id, "xbcs_" + "Z" * 43),
        "none": {},
    }[headers]
    answer = token_call(world, body, sent)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Basic")


def test_a_json_body_is_not_a_token_request(world: World) -> None:
    answer = world.rest.post(
        "/oauth/token", json={"grant_type": "client_credentials"}, headers=basic(world.client_id, world.secret)
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def crafted(world: World, **changes: Any) -> str:
    own = IdentitySettings.from_env()  # the same process: the same signing key as the running identity service
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": own.jwt_issuer,
        "aud": own.jwt_audience,
        "sub": world.client_id,
        "mc": world.a.merchant_code,
        "scope": "payments.ledger.read",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    kid = changes.pop("kid", own.active_kid)
    key = changes.pop("key", own.jwt_signing_keys[own.active_kid])
    algorithm = changes.pop("alg", "HS256")
    claims.update(changes)
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def test_credential_attacks_are_401_on_rest_and_unauthenticated_on_grpc(world: World) -> None:
    now = int(time.time())
    good = get_token(world)
    head, payload, signature = good.split(".")
    attacks = {
        "forged signature": f"{head}.{payload}.{signature[::-1]}",
        "expired": crafted(world, iat=now - 900, nbf=now - 900, exp=now - 1),
        "wrong audience": crafted(world, aud="another-api"),
        "alg none": crafted(world, alg="none", key=None),
        "another key id": crafted(world, kid="retired-2025"),
        "another key, same key id": crafted(world, key=b"k" * 32),
        "another merchant claimed": crafted(world, mc=world.b.merchant_code),
    }
    ledger = ledger_grpc.LedgerServiceStub(world.door)
    balances = f"/v1/merchants/{world.a.merchant_code}/balances"
    assert world.rest.get(balances, headers=bearer(crafted(world))).status_code == 200
    for name, token in attacks.items():
        answer = world.rest.get(balances, headers=bearer(token))
        assert answer.status_code == 401, name
        assert 'error="invalid_token"' in answer.headers["www-authenticate"], name
        with pytest.raises(grpc.RpcError) as failed:
            ledger.GetBalances(
                ledger_pb.GetBalancesRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=10
            )
        assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED, name
    missing = world.rest.get(balances)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == 'Bearer realm="xborder"'


def test_another_merchant_sees_none_of_the_clients(world: World) -> None:
    b = world.b.headers
    base = f"/v1/merchants/{world.a.merchant_code}/oauth-clients"
    assert world.rest.get(base, headers=b).status_code == 404
    assert (
        world.rest.post(base, json={"label": "x"}, headers={**b, "Idempotency-Key": str(uuid.uuid4())}).status_code
        == 404
    )
    revoke = world.rest.post(
        f"{base}/{world.client_id}:revoke", json={}, headers={**b, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert revoke.status_code == 404
    own = world.rest.get(base, headers=world.a.headers).json()["clients"]
    assert [c["clientId"] for c in own] == [world.client_id] and "revokedAt" not in own[0]


def test_a_revoked_clients_token_stops_and_no_new_token_is_issued(world: World) -> None:
    headers = {**world.a.headers, "Idempotency-Key": str(uuid.uuid4())}
    registered = world.rest.post(
        f"/v1/merchants/{world.a.merchant_code}/oauth-clients", json={"label": "to revoke"}, headers=headers
    ).json()
    client_id, secret = registered["client"]["clientId"], registered["clientSecret"]
    answer = token_call(world, "grant_type=client_credentials", basic(client_id, secret))
    token = answer.json()["access_token"]
    balances = f"/v1/merchants/{world.a.merchant_code}/balances"
    assert world.rest.get(balances, headers=bearer(token)).status_code == 200
    revoked = world.rest.post(
        f"/v1/merchants/{world.a.merchant_code}/oauth-clients/{client_id}:revoke",
        json={},
        headers={**world.a.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert revoked.status_code == 200 and revoked.json()["client"]["revokedAt"]
    assert world.rest.get(balances, headers=bearer(token)).status_code == 401
    again = token_call(world, "grant_type=client_credentials", basic(client_id, secret))
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"


def test_openapi_declares_the_three_schemes_and_the_token_endpoint(world: World) -> None:
    document = world.rest.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert set(schemes) == {"apiKey", "oauth2", "opsSession"}
    balances = document["paths"]["/v1/merchants/{merchant_code}/balances"]["get"]["security"]
    assert {"oauth2": ["payments.ledger.read"]} in balances
    rotate = document["paths"]["/v1/merchants/{merchant_code}/api-keys/{key_id}:rotate"]["post"]
    assert rotate["x-step-up"] is True
    assert document["paths"]["/oauth/token"]["post"]["security"] == []
    assert document["paths"]["/v1/operators:login"]["post"]["security"] == []
