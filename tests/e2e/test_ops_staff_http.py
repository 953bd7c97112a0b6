"""Ops staff through the gateway: login (password + TOTP) over REST, role scopes, and step-up.

An admin is added by ops tooling (the CLI's use case, in-process); it logs in over REST, adds a viewer
over REST after a step-up, and a viewer can read but not write. A sensitive call (rotating a merchant's
key) from a session whose second factor is older than the step-up window is 403 STEP_UP_REQUIRED on
REST and PERMISSION_DENIED on the gRPC front door, until the session steps up. Operator keys keep
working for automation without a second factor.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import grpc
import pytest
from xborder.identity.v1 import access_service_pb2 as apb
from xborder.identity.v1 import identity_service_pb2 as pb
from xborder.identity.v1 import identity_service_pb2_grpc as pb_grpc

from gateway.app import create_app
from gateway.front_door import serve_front_door
from services.identity.bootstrap import access_servicer
from services.shared.grpc_errors import status_details
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient, Stack, Tenant, start_stack
from tests.ops_staff import PASSWORD, add_operator, bearer, fresh_code, rotate_key

WINDOW_S = 2


@dataclass
class World:
    stack: Stack
    rest: AsgiClient
    door: grpc.Channel
    merchant: Tenant
    admin_secret: str
    app: Any


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XB_STEP_UP_WINDOW_S", str(WINDOW_S))
        stack = start_stack(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False))
        secret = add_operator(
            access_servicer(stack.contexts["identity"]), "ops.admin", apb.OPERATOR_ROLE_ADMIN, "Ops Admin"
        )
        app = create_app(stack.settings)
        front_door = serve_front_door(stack.settings, port=0)
        with grpc.insecure_channel(f"127.0.0.1:{front_door.port}") as door:
            yield World(stack, AsgiClient(app), door, stack.onboard("Ops Target GmbH", "DE"), secret, app)
        front_door.stop(grace=0)
        stack.stop()


def login(world: World, login_name: str, secret: str) -> str:
    answer = world.rest.post(
        "/v1/operators:login", json={"login": login_name, "password": PASSWORD, "totpCode": fresh_code(secret)}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["sessionToken"])


def rotate(world: World, token: str) -> Any:
    return rotate_key(world.rest, world.merchant, token)


def test_login_needs_both_factors_and_no_credential(world: World) -> None:
    wrong = world.rest.post(
        "/v1/operators:login", json={"login": "ops.admin", "password": "not it at all", "totpCode": "000000"}
    )
    assert wrong.status_code == 401 and wrong.json()["reason"] == "UNAUTHENTICATED"
    missing = world.rest.post("/v1/operators:login", json={"login": "ops.admin"})
    assert missing.status_code == 400
    assert {e["field"] for e in missing.json()["errors"]} >= {"password", "totp_code"}


def test_an_admin_session_acts_as_an_operator_and_steps_up_for_sensitive_calls(world: World) -> None:
    token = login(world, "ops.admin", world.admin_secret)
    balances = world.rest.get(f"/v1/merchants/{world.merchant.merchant_code}/balances", headers=bearer(token))
    assert balances.status_code == 200, balances.text
    assert rotate(world, token).status_code == 200  # within the window that the login opened
    time.sleep(WINDOW_S + 0.5)
    stale = rotate(world, token)
    assert stale.status_code == 403 and stale.json()["reason"] == "STEP_UP_REQUIRED"
    identity = pb_grpc.IdentityServiceStub(world.door)
    m = world.merchant
    with pytest.raises(grpc.RpcError) as failed:
        identity.RevokeApiKey(
            pb.RevokeApiKeyRequest(request_id=str(uuid.uuid4()), merchant_code=m.merchant_code, key_id=m.key_id),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )
    assert failed.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert status_details(failed.value)[0] == "STEP_UP_REQUIRED"
    stepped = world.rest.post(
        "/v1/operators/sessions:step-up", json={"totpCode": fresh_code(world.admin_secret)}, headers=bearer(token)
    )
    assert stepped.status_code == 200, stepped.text
    assert rotate(world, token).status_code == 200


def test_an_admin_adds_a_viewer_who_reads_but_does_not_write(world: World) -> None:
    token = login(world, "ops.admin", world.admin_secret)
    added = world.rest.post(
        "/v1/operators",
        json={"login": "ops.viewer", "displayName": "Viewer", "role": "OPERATOR_ROLE_VIEWER", "password": PASSWORD},
        headers=bearer(token, **{"Idempotency-Key": str(uuid.uuid4())}),
    )
    assert added.status_code == 200, added.text
    secret = parse_qs(urlparse(added.json()["totpUri"]).query)["secret"][0]
    viewer = login(world, "ops.viewer", secret)
    m = world.merchant
    assert world.rest.get(f"/v1/merchants/{m.merchant_code}/balances", headers=bearer(viewer)).status_code == 200
    written = rotate(world, viewer)
    assert written.status_code == 403 and written.json()["reason"] == "PERMISSION_DENIED"
    adding = world.rest.post(
        "/v1/operators",
        json={"login": "ops.other", "displayName": "X", "role": "OPERATOR_ROLE_ADMIN", "password": PASSWORD},
        headers=bearer(viewer, **{"Idempotency-Key": str(uuid.uuid4())}),
    )
    assert adding.status_code == 403


def test_logout_ends_the_session_and_only_a_session_steps_up(world: World) -> None:
    cache = world.app.state.guard.keys
    ttl, cache.ttl = cache.ttl, 0  # nothing cached: the logout shows at once, not within the cache period
    try:
        token = login(world, "ops.admin", world.admin_secret)
        assert world.rest.post("/v1/operators/sessions:logout", json={}, headers=bearer(token)).status_code == 200
        after = world.rest.get(f"/v1/merchants/{world.merchant.merchant_code}/balances", headers=bearer(token))
        assert after.status_code == 401
    finally:
        cache.ttl = ttl
    by_key = world.rest.post(
        "/v1/operators/sessions:step-up", json={"totpCode": "123456"}, headers=bearer(world.stack.operator_key())
    )
    assert by_key.status_code == 403


def test_operator_keys_keep_working_without_a_second_factor(world: World) -> None:
    key = world.stack.operator_key()
    assert rotate(world, key).status_code == 200
    merchant_key = world.stack.onboard("Self Service Ltd", "GB")
    own = world.rest.post(
        f"/v1/merchants/{merchant_key.merchant_code}/api-keys/{merchant_key.key_id}:rotate",
        json={},
        headers={**merchant_key.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert own.status_code == 200


def test_login_and_a_session_work_on_the_grpc_front_door(world: World) -> None:
    from xborder.identity.v1 import access_service_pb2_grpc as apb_grpc

    session = apb_grpc.AccessServiceStub(world.door).Login(
        apb.LoginRequest(login="ops.admin", password=PASSWORD, totp_code=fresh_code(world.admin_secret)), timeout=10
    )
    identity = pb_grpc.IdentityServiceStub(world.door)
    merchant = identity.GetMerchant(
        pb.GetMerchantRequest(merchant_code=world.merchant.merchant_code),
        metadata=(("authorization", f"Bearer {session.session_token}"),),
        timeout=10,
    )
    assert merchant.merchant.merchant_code == world.merchant.merchant_code
    with pytest.raises(grpc.RpcError) as failed:
        identity.GetMerchant(
            pb.GetMerchantRequest(merchant_code=world.merchant.merchant_code),
            metadata=(("authorization", "Bearer xbo_sess_0123456789abcdef_" + "A" * 43),),
            timeout=10,
        )
    assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED
