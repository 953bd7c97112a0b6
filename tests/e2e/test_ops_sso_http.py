"""Single sign-on of ops staff through the gateway: an IdP's ID token for a session, on both doors.

The identity provider is tests/oidc_idp.py (a locally generated key in a JWKS file the identity service
reads). An admin (password + TOTP) links operators to IdP identities over REST; they sign in with
POST /v1/operators:sso-login. A session whose token showed no multi-factor authentication reads, but a
sensitive call is 403 STEP_UP_REQUIRED until it steps up with a TOTP code; a token with MFA may make it
at once. A replayed token, an unknown identity and a disabled operator get the same 401.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from xborder.identity.v1 import access_service_pb2 as apb
from xborder.identity.v1 import access_service_pb2_grpc as apb_grpc

from gateway.app import create_app
from gateway.front_door import serve_front_door
from services.identity.bootstrap import access_servicer
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient, Stack, Tenant, start_stack
from tests.oidc_idp import Idp
from tests.ops_staff import PASSWORD, add_operator, bearer, fresh_code, rotate_key

SSO_LOGIN = "/v1/operators:sso-login"


@dataclass
class World:
    stack: Stack
    rest: AsgiClient
    door: grpc.Channel
    merchant: Tenant
    idp: Idp
    admin_token: str
    secrets: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    idp = Idp(tmp_path_factory.mktemp("idp") / "jwks.json")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in idp.env().items():
            patch.setenv(name, value)
        stack = start_stack(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False))
        ops = access_servicer(stack.contexts["identity"])
        secrets = {
            "sso.admin": add_operator(ops, "sso.admin", apb.OPERATOR_ROLE_ADMIN),
            "sso.finance": add_operator(ops, "sso.finance", apb.OPERATOR_ROLE_FINANCE),
        }
        app = create_app(stack.settings)
        rest = AsgiClient(app)
        login = rest.post(
            "/v1/operators:login",
            json={"login": "sso.admin", "password": PASSWORD, "totpCode": fresh_code(secrets["sso.admin"])},
        )
        assert login.status_code == 200, login.text
        front_door = serve_front_door(stack.settings, port=0)
        with grpc.insecure_channel(f"127.0.0.1:{front_door.port}") as door:
            merchant = stack.onboard("Sso Target GmbH", "DE")
            yield World(stack, rest, door, merchant, idp, login.json()["sessionToken"], secrets)
        front_door.stop(grace=0)
        stack.stop()


def link(world: World, login: str, subject: str) -> Any:
    return world.rest.post(
        f"/v1/operators/{login}:link-sso",
        json={"subject": subject},
        headers=bearer(world.admin_token, **{"Idempotency-Key": str(uuid.uuid4())}),
    )


def rotate(world: World, token: str) -> Any:
    return rotate_key(world.rest, world.merchant, token)


def test_an_admin_links_an_operator_and_the_idp_token_opens_a_session(world: World) -> None:
    linked = link(world, "sso.finance", "00u-finance")
    assert linked.status_code == 200, linked.text
    assert linked.json()["operator"]["ssoSubject"] == "00u-finance"
    answer = world.rest.post(SSO_LOGIN, json={"idToken": world.idp.token("00u-finance", amr=["pwd"])})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["operator"]["login"] == "sso.finance" and body["multiFactor"] is False
    assert "stepUpUntil" not in body
    token = body["sessionToken"]
    balances = world.rest.get(f"/v1/merchants/{world.merchant.merchant_code}/balances", headers=bearer(token))
    assert balances.status_code == 200, balances.text


def test_without_mfa_a_sensitive_call_waits_for_a_totp_step_up(world: World) -> None:
    assert link(world, "sso.admin", "00u-admin").status_code == 200
    single = world.rest.post(SSO_LOGIN, json={"idToken": world.idp.token("00u-admin", amr=["pwd"])}).json()
    refused = rotate(world, single["sessionToken"])
    assert refused.status_code == 403 and refused.json()["reason"] == "STEP_UP_REQUIRED"
    stepped = world.rest.post(
        "/v1/operators/sessions:step-up",
        json={"totpCode": fresh_code(world.secrets["sso.admin"])},
        headers=bearer(single["sessionToken"]),
    )
    assert stepped.status_code == 200, stepped.text
    assert rotate(world, single["sessionToken"]).status_code == 200
    with_mfa = world.rest.post(SSO_LOGIN, json={"idToken": world.idp.token("00u-admin", amr=["pwd", "hwk"])})
    assert with_mfa.json()["multiFactor"] is True and "stepUpUntil" in with_mfa.json()
    assert rotate(world, with_mfa.json()["sessionToken"]).status_code == 200


def test_replay_unknown_identity_disabled_operator_and_forgery_get_the_same_401(world: World) -> None:
    assert link(world, "sso.finance", "00u-finance").status_code == 200
    token = world.idp.token("00u-finance")
    assert world.rest.post(SSO_LOGIN, json={"idToken": token}).status_code == 200
    other = Idp(world.idp.jwks_path.with_name("other.json"))
    answers = [
        world.rest.post(SSO_LOGIN, json={"idToken": token}),  # replayed
        world.rest.post(SSO_LOGIN, json={"idToken": world.idp.token("00u-nobody")}),
        world.rest.post(SSO_LOGIN, json={"idToken": other.token("00u-finance")}),
        world.rest.post(SSO_LOGIN, json={"idToken": world.idp.token("00u-finance", aud="another-app")}),
    ]
    disabled = add_operator(access_servicer(world.stack.contexts["identity"]), "sso.leaver", apb.OPERATOR_ROLE_VIEWER)
    assert disabled and link(world, "sso.leaver", "00u-leaver").status_code == 200
    off = world.rest.post(
        "/v1/operators/sso.leaver:disable",
        json={},
        headers=bearer(world.admin_token, **{"Idempotency-Key": str(uuid.uuid4())}),
    )
    assert off.status_code == 200, off.text
    answers.append(world.rest.post(SSO_LOGIN, json={"idToken": world.idp.token("00u-leaver")}))
    assert {a.status_code for a in answers} == {401}
    assert len({a.json()["detail"] for a in answers}) == 1


def test_bad_input_names_the_field(world: World) -> None:
    missing = world.rest.post(SSO_LOGIN, json={})
    assert missing.status_code == 400
    assert [e["field"] for e in missing.json()["errors"]] == ["id_token"]
    not_a_jwt = world.rest.post(SSO_LOGIN, json={"idToken": "password123"})
    assert not_a_jwt.status_code == 400 and not_a_jwt.json()["errors"][0]["field"] == "id_token"
    taken = world.rest.post(
        "/v1/operators/sso.admin:link-sso",
        json={"subject": "00u-finance"},
        headers=bearer(world.admin_token, **{"Idempotency-Key": str(uuid.uuid4())}),
    )
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "subject"


def test_sign_in_on_the_grpc_front_door_and_the_published_contract(world: World) -> None:
    assert link(world, "sso.finance", "00u-finance").status_code == 200
    answer = apb_grpc.AccessServiceStub(world.door).LoginWithIdToken(
        apb.LoginWithIdTokenRequest(id_token=world.idp.token("00u-finance", alg="ES256")), timeout=10
    )
    assert answer.operator.login == "sso.finance" and answer.multi_factor
    with pytest.raises(grpc.RpcError) as failed:
        apb_grpc.AccessServiceStub(world.door).LoginWithIdToken(
            apb.LoginWithIdTokenRequest(id_token=world.idp.token("00u-finance", iss="https://evil.test")), timeout=10
        )
    assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED
    operation = world.rest.get("/openapi.json").json()["paths"][SSO_LOGIN]["post"]
    assert operation["security"] == [] and operation["x-tenancy"] == "sign-in"
    linking = world.rest.get("/openapi.json").json()["paths"]["/v1/operators/{login}:link-sso"]["post"]
    assert linking.get("x-step-up") is True
