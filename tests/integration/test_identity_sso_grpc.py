"""Single sign-on on real gRPC and a database (SQLite, and PostgreSQL when reachable).

What the database adds to the unit tests: the migration that lets a session have no second factor, the
replay keys and the linked identities, each unique in the table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from xborder.identity.v1 import access_service_pb2 as apb
from xborder.identity.v1 import access_service_pb2_grpc as apb_grpc
from xborder.identity.v1 import identity_service_pb2 as pb
from xborder.identity.v1 import identity_service_pb2_grpc as pb_grpc

from services.identity import bootstrap
from services.identity.settings import IdentitySettings
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.oidc_idp import Idp
from tests.servers import identity_and_access

PASSWORD = "correct horse battery staple"


@dataclass
class Running:
    access: apb_grpc.AccessServiceStub
    identity: pb_grpc.IdentityServiceStub
    idp: Idp


def build(any_settings: Settings, own: IdentitySettings, idp: Idp) -> Iterator[Running]:
    context = bootstrap.bootstrap(any_settings, RecordingBus())
    access_api = bootstrap.access_servicer(context, own)
    identity = bootstrap.servicer(context, own)

    with identity_and_access(any_settings, identity, access_api) as channel:
        yield Running(apb_grpc.AccessServiceStub(channel), pb_grpc.IdentityServiceStub(channel), idp)
    context.close()


@pytest.fixture
def running(any_settings: Settings, tmp_path: Path) -> Iterator[Running]:
    idp = Idp(tmp_path / "jwks.json")
    yield from build(any_settings, IdentitySettings.from_env(idp.env()), idp)


def operator(running: Running, login: str, subject: str) -> None:
    running.access.AddOperator(
        apb.AddOperatorRequest(
            request_id=str(uuid.uuid4()),
            login=login,
            display_name=login,
            role=apb.OPERATOR_ROLE_AGENT,
            password=PASSWORD,
        ),
        timeout=10,
    )
    running.access.LinkOperatorSso(
        apb.LinkOperatorSsoRequest(request_id=str(uuid.uuid4()), login=login, subject=subject), timeout=10
    )


def sign_in(running: Running, token: str) -> apb.LoginWithIdTokenResponse:
    return running.access.LoginWithIdToken(apb.LoginWithIdTokenRequest(id_token=token), timeout=10)


def code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as failed:
        call()  # type: ignore[operator]
    return failed.value.code()


def test_a_session_without_mfa_is_stored_and_verifies_without_a_step_up_window(running: Running) -> None:
    operator(running, "li.wei", "00u-li-wei")
    single = sign_in(running, running.idp.token("00u-li-wei", amr=["pwd"]))
    verified = running.identity.VerifyApiKey(pb.VerifyApiKeyRequest(secret=single.session_token), timeout=10)
    assert verified.principal_kind == "ops_session" and not verified.HasField("step_up_until")
    assert "customer_service.tickets.write" in verified.api_key.scopes
    multi = sign_in(running, running.idp.token("00u-li-wei"))
    verified = running.identity.VerifyApiKey(pb.VerifyApiKeyRequest(secret=multi.session_token), timeout=10)
    assert verified.HasField("step_up_until")


def test_a_token_signs_in_once(running: Running) -> None:
    operator(running, "li.wei", "00u-li-wei")
    token = running.idp.token("00u-li-wei")
    sign_in(running, token)
    assert code_of(lambda: sign_in(running, token)) == grpc.StatusCode.UNAUTHENTICATED


def test_an_identity_is_linked_to_one_operator_and_a_link_can_be_removed(running: Running) -> None:
    operator(running, "li.wei", "00u-li-wei")
    taken = code_of(
        lambda: operator(running, "wang.fang", "00u-li-wei")  # added, then the link is refused
    )
    assert taken == grpc.StatusCode.ALREADY_EXISTS
    unlinked = running.access.LinkOperatorSso(
        apb.LinkOperatorSsoRequest(request_id=str(uuid.uuid4()), login="li.wei"), timeout=10
    )
    assert (unlinked.operator.sso_subject, unlinked.operator.sso_email) == ("", "")
    assert code_of(lambda: sign_in(running, running.idp.token("00u-li-wei"))) == grpc.StatusCode.UNAUTHENTICATED


def test_without_configuration_single_sign_on_is_not_found(any_settings: Settings, tmp_path: Path) -> None:
    idp = Idp(tmp_path / "jwks.json")
    for running in build(any_settings, IdentitySettings(), idp):
        refused = code_of(lambda: sign_in(running, idp.token()))  # noqa: B023 (called at once)
        assert refused == grpc.StatusCode.NOT_FOUND
