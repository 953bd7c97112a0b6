"""OAuth2 clients and access tokens, ops staff logins, TOTP and sessions, on real gRPC and a database
(SQLite, and PostgreSQL when reachable). Screening is the fake of test_identity_grpc.py.

The token attacks: expired, forged signature, wrong audience, wrong issuer, alg=none, a token of a key id
that is not configured (or no longer), and a revoked client's token, each refused as UNAUTHENTICATED.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import grpc
import jwt
import pyotp
import pytest
from xborder.identity.v1 import access_service_pb2 as apb
from xborder.identity.v1 import access_service_pb2_grpc as apb_grpc
from xborder.identity.v1 import identity_service_pb2 as pb
from xborder.identity.v1 import identity_service_pb2_grpc as pb_grpc

from services.identity import bootstrap
from services.identity.adapters.hashing import Argon2Hasher
from services.identity.adapters.tokens import JwtSigner, looks_like_jwt
from services.identity.adapters.totp import Totp
from services.identity.adapters.totp_secrets import EnvelopeTotpSecrets
from services.identity.domain.roles import ROLE_SCOPES, Role
from services.identity.entrypoints.access_api import AccessServicer
from services.identity.entrypoints.grpc_api import IdentityServicer
from services.identity.service_layer import access
from services.identity.settings import IdentitySettings
from services.shared.crypto import EnvelopeCipher
from services.shared.crypto.config import load_key_ring
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.integration.test_identity_grpc import FakeScreener
from tests.servers import identity_and_access, rejected

KEY_A = b"a" * 32
KEY_B = b"b" * 32
PASSWORD = "correct horse battery staple"


@dataclass
class Running:
    identity: pb_grpc.IdentityServiceStub
    access: apb_grpc.AccessServiceStub
    own: IdentitySettings


def build(any_settings: Settings, own: IdentitySettings) -> Iterator[Running]:
    context = bootstrap.bootstrap(any_settings, RecordingBus())
    hasher = Argon2Hasher()
    signer = JwtSigner(own)

    def verifier(presented: str) -> pb.VerifyApiKeyResponse:
        return access.verify_credential(context.uow, hasher, signer, own, presented, looks_like_jwt)  # type: ignore[arg-type]

    identity = IdentityServicer(context.uow, FakeScreener(), hasher, verifier)  # type: ignore[arg-type]
    box = EnvelopeTotpSecrets(EnvelopeCipher(load_key_ring(any_settings)))
    access_api = AccessServicer(context.uow, hasher, signer, Totp(), box, own)  # type: ignore[arg-type]

    with identity_and_access(any_settings, identity, access_api) as channel:
        yield Running(pb_grpc.IdentityServiceStub(channel), apb_grpc.AccessServiceStub(channel), own)
    context.close()


@pytest.fixture
def running(any_settings: Settings) -> Iterator[Running]:
    yield from build(any_settings, IdentitySettings(jwt_signing_keys={"k1": KEY_A, "k2": KEY_B}, jwt_active_kid="k1"))


def merchant(running: Running, name: str = "Shenzhen Lighting Co") -> pb.OnboardMerchantResponse:
    return running.identity.OnboardMerchant(
        pb.OnboardMerchantRequest(
            request_id=str(uuid.uuid4()), legal_name=name, country="CN", uscc="91440300MA5DXB0T0W"
        ),
        timeout=10,
    )


def client(running: Running, code: str, scopes: tuple[str, ...] = ()) -> apb.RegisterClientResponse:
    return running.access.RegisterClient(
        apb.RegisterClientRequest(request_id=str(uuid.uuid4()), merchant_code=code, label="erp", scopes=scopes),
        timeout=10,
    )


def token(running: Running, registered: apb.RegisterClientResponse, scope: str = "") -> str:
    answer = running.access.IssueAccessToken(
        apb.IssueAccessTokenRequest(
            client_id=registered.client.client_id, client_secret=registered.client_secret, scope=scope
        ),
        timeout=10,
    )
    return str(answer.access_token)


def verify(running: Running, presented: str) -> pb.VerifyApiKeyResponse:
    return running.identity.VerifyApiKey(pb.VerifyApiKeyRequest(secret=presented), timeout=10)


def refused(running: Running, presented: str) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as failed:
        verify(running, presented)
    return failed.value.code()


def claims(running: Running, registered: apb.RegisterClientResponse, **changes: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": running.own.jwt_issuer,
        "aud": running.own.jwt_audience,
        "sub": registered.client.client_id,
        "mc": registered.client.merchant_code,
        "scope": "identity.merchants.read",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_client_gets_a_short_lived_token_that_verifies_as_its_merchant(running: Running) -> None:
    code = merchant(running).merchant.merchant_code
    registered = client(running, code, ("identity.merchants.read", "payments.ledger.read"))
    assert registered.client.client_id.startswith("xbc_") and registered.client_secret.startswith("xbcs_")
    issued = running.access.IssueAccessToken(
        apb.IssueAccessTokenRequest(
            client_id=registered.client.client_id,
            client_secret=registered.client_secret,
            scope="payments.ledger.read",
        ),
        timeout=10,
    )
    assert issued.token_type == "Bearer" and 0 < issued.expires_in <= 600 and issued.scope == "payments.ledger.read"
    header = jwt.get_unverified_header(issued.access_token)
    assert header == {"alg": "HS256", "typ": "JWT", "kid": "k1"}
    who = verify(running, issued.access_token)
    assert who.principal_kind == "oauth_client"
    assert who.api_key.key_id == registered.client.client_id and who.api_key.merchant_code == code
    assert list(who.api_key.scopes) == ["payments.ledger.read"]
    assert who.merchant_status == pb.MERCHANT_STATUS_ACTIVE and who.api_key.HasField("expires_at")


def test_the_secret_is_shown_once_and_a_replay_answers_the_same_client(running: Running) -> None:
    code = merchant(running).merchant.merchant_code
    request = apb.RegisterClientRequest(request_id=str(uuid.uuid4()), merchant_code=code, label="erp")
    first = running.access.RegisterClient(request, timeout=10)
    again = running.access.RegisterClient(request, timeout=10)
    assert again.client.client_id == first.client.client_id and first.client_secret and not again.client_secret
    listed = running.access.ListClients(apb.ListClientsRequest(merchant_code=code), timeout=10)
    assert [c.client_id for c in listed.clients] == [first.client.client_id]


def test_wrong_secret_unknown_client_and_foreign_scope_are_refused(running: Running) -> None:
    code = merchant(running).merchant.merchant_code
    registered = client(running, code, ("identity.merchants.read",))
    for client_id, secret in (
        (registered.client.client_id, "xbcs_" + "A" * 43),
        ("xbc_0123456789abcdef", registered.client_secret),
        ("", ""),
    ):
        with pytest.raises(grpc.RpcError) as failed:
            running.access.IssueAccessToken(
                apb.IssueAccessTokenRequest(client_id=client_id, client_secret=secret), timeout=10
            )
        assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as failed:
        token(running, registered, "payments.payouts.write")
    assert rejected(failed.value)[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert "scope" in rejected(failed.value)[2]


def test_token_attacks_are_unauthenticated(running: Running) -> None:
    code = merchant(running).merchant.merchant_code
    registered = client(running, code)
    good = token(running, registered)
    head, body, signature = good.split(".")
    forged = f"{head}.{body}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    now = int(time.time())
    attacks = {
        "forged signature": forged,
        "signed with another key under the same kid": jwt.encode(
            claims(running, registered), b"x" * 32, algorithm="HS256", headers={"kid": "k1"}
        ),
        "expired": jwt.encode(
            claims(running, registered, iat=now - 900, nbf=now - 900, exp=now - 1),
            KEY_A,
            algorithm="HS256",
            headers={"kid": "k1"},
        ),
        "not yet valid": jwt.encode(
            claims(running, registered, nbf=now + 600), KEY_A, algorithm="HS256", headers={"kid": "k1"}
        ),
        "wrong audience": jwt.encode(
            claims(running, registered, aud="someone-else"), KEY_A, algorithm="HS256", headers={"kid": "k1"}
        ),
        "wrong issuer": jwt.encode(
            claims(running, registered, iss="evil"), KEY_A, algorithm="HS256", headers={"kid": "k1"}
        ),
        "no exp": jwt.encode(claims(running, registered, exp=None), KEY_A, algorithm="HS256", headers={"kid": "k1"}),
        "alg none": jwt.encode(claims(running, registered), "", algorithm="none", headers={"kid": "k1"}),
        "unknown kid": jwt.encode(claims(running, registered), KEY_A, algorithm="HS256", headers={"kid": "k9"}),
        "HS512": jwt.encode(claims(running, registered), KEY_A + KEY_A, algorithm="HS512", headers={"kid": "k1"}),
        "another merchant in mc": jwt.encode(
            claims(running, registered, mc="MC0000000000000000"), KEY_A, algorithm="HS256", headers={"kid": "k1"}
        ),
        "garbage": "eyJhbGciOiJIUzI1NiJ9.not-json.x",
    }
    assert verify(running, good).api_key.merchant_code == code
    for name, presented in attacks.items():
        assert refused(running, presented) == grpc.StatusCode.UNAUTHENTICATED, name


def test_a_revoked_clients_tokens_stop_and_it_gets_no_new_one(running: Running) -> None:
    code = merchant(running).merchant.merchant_code
    registered = client(running, code)
    issued = token(running, registered)
    revoked = running.access.RevokeClient(
        apb.RevokeClientRequest(
            request_id=str(uuid.uuid4()), merchant_code=code, client_id=registered.client.client_id
        ),
        timeout=10,
    )
    assert revoked.client.HasField("revoked_at")
    assert refused(running, issued) == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as failed:
        token(running, registered)
    assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_another_merchants_client_cannot_be_revoked_through_this_merchant(running: Running) -> None:
    a, b = merchant(running).merchant.merchant_code, merchant(running, "Other Co").merchant.merchant_code
    registered = client(running, a)
    with pytest.raises(grpc.RpcError) as failed:
        running.access.RevokeClient(
            apb.RevokeClientRequest(
                request_id=str(uuid.uuid4()), merchant_code=b, client_id=registered.client.client_id
            ),
            timeout=10,
        )
    assert failed.value.code() == grpc.StatusCode.NOT_FOUND


def test_key_rotation_old_kid_works_until_it_is_removed(any_settings: Settings) -> None:
    old = IdentitySettings(jwt_signing_keys={"k1": KEY_A}, jwt_active_kid="k1")
    running = build(any_settings, old)
    first = next(running)
    code = merchant(first).merchant.merchant_code
    registered = client(first, code)
    issued = token(first, registered)
    # Rotation: k2 added and made active; tokens signed with k1 still verify while k1 is configured.
    first.own = replace(old, jwt_signing_keys={"k1": KEY_A, "k2": KEY_B}, jwt_active_kid="k2")
    rotated = JwtSigner(first.own)
    assert rotated.verify(issued).client_id == registered.client.client_id
    # Once k1 is removed, its tokens are a key id the service does not know.
    with pytest.raises(Exception) as failed:
        JwtSigner(replace(old, jwt_signing_keys={"k2": KEY_B}, jwt_active_kid="k2")).verify(issued)
    assert type(failed.value).__name__ == "Unauthenticated"
    with pytest.raises(StopIteration):
        next(running)


# --- ops staff ---


def add_operator(running: Running, login: str = "li.wei", role: apb.OperatorRole = apb.OPERATOR_ROLE_ADMIN) -> str:
    answer = running.access.AddOperator(
        apb.AddOperatorRequest(
            request_id=str(uuid.uuid4()), login=login, display_name="Li Wei", role=role, password=PASSWORD
        ),
        timeout=10,
    )
    uri = urlparse(answer.totp_uri)
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    return str(parse_qs(uri.query)["secret"][0])


def code_at(secret: str, offset_s: int = 0) -> str:
    return str(pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=offset_s)))


def login(running: Running, secret: str, login_name: str = "li.wei", offset_s: int = 0) -> apb.LoginResponse:
    return running.access.Login(
        apb.LoginRequest(login=login_name, password=PASSWORD, totp_code=code_at(secret, offset_s)), timeout=10
    )


def test_login_with_password_and_totp_gives_a_session_with_the_roles_scopes(running: Running) -> None:
    secret = add_operator(running, role=apb.OPERATOR_ROLE_FINANCE)
    session = login(running, secret)
    assert session.session_token.startswith("xbo_sess_") and session.operator.role == apb.OPERATOR_ROLE_FINANCE
    who = verify(running, session.session_token)
    assert who.principal_kind == "ops_session" and not who.api_key.merchant_code
    assert set(who.api_key.scopes) == ROLE_SCOPES[Role.FINANCE] and who.api_key.label == "li.wei"
    assert who.step_up_until.ToDatetime(UTC) > datetime.now(UTC)
    running.access.Logout(apb.LogoutRequest(session_id=who.api_key.key_id), timeout=10)
    assert refused(running, session.session_token) == grpc.StatusCode.UNAUTHENTICATED


def test_a_totp_code_is_used_once_and_a_wrong_factor_is_refused(running: Running) -> None:
    secret = add_operator(running)
    login(running, secret)
    with pytest.raises(grpc.RpcError) as replay:
        login(running, secret)
    assert replay.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as wrong:
        running.access.Login(
            apb.LoginRequest(login="li.wei", password="not the password!", totp_code=code_at(secret, 30)), timeout=10
        )
    assert wrong.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as unknown:
        running.access.Login(apb.LoginRequest(login="nobody", password=PASSWORD, totp_code="123456"), timeout=10)
    assert unknown.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # The next step's code (within the allowed drift) is new, so it logs in.
    assert login(running, secret, offset_s=30).session_token


def test_repeated_failures_lock_the_login(any_settings: Settings) -> None:
    own = IdentitySettings(jwt_signing_keys={"k1": KEY_A}, login_max_failures=3)
    for running in build(any_settings, own):
        secret = add_operator(running)
        for _ in range(3):
            with pytest.raises(grpc.RpcError):
                running.access.Login(
                    apb.LoginRequest(login="li.wei", password="wrong password!!", totp_code="000000"), timeout=10
                )
        with pytest.raises(grpc.RpcError) as locked:
            login(running, secret)  # the right factors, but locked
        assert locked.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_step_up_renews_the_window_and_disabling_ends_sessions(running: Running) -> None:
    secret = add_operator(running)
    session = login(running, secret)
    session_id = verify(running, session.session_token).api_key.key_id
    with pytest.raises(grpc.RpcError) as reused:
        running.access.StepUp(apb.StepUpRequest(session_id=session_id, totp_code=code_at(secret)), timeout=10)
    assert rejected(reused.value)[2].keys() == {"totp_code"}
    stepped = running.access.StepUp(apb.StepUpRequest(session_id=session_id, totp_code=code_at(secret, 30)), timeout=10)
    assert stepped.step_up_until.ToDatetime(UTC) >= session.step_up_until.ToDatetime(UTC)
    running.access.DisableOperator(apb.DisableOperatorRequest(request_id=str(uuid.uuid4()), login="li.wei"), timeout=10)
    assert refused(running, session.session_token) == grpc.StatusCode.UNAUTHENTICATED


def test_operator_input_is_checked_and_a_password_never_reaches_the_idempotency_table(running: Running) -> None:
    with pytest.raises(grpc.RpcError) as failed:
        running.access.AddOperator(
            apb.AddOperatorRequest(request_id=str(uuid.uuid4()), login="X", display_name="", password="short"),
            timeout=10,
        )
    assert rejected(failed.value)[2].keys() == {"login", "display_name", "password", "role"}
    request = apb.AddOperatorRequest(
        request_id=str(uuid.uuid4()),
        login="zhang.min",
        display_name="Zhang Min",
        role=apb.OPERATOR_ROLE_VIEWER,
        password=PASSWORD,
    )
    first = running.access.AddOperator(request, timeout=10)
    again = running.access.AddOperator(request, timeout=10)
    assert first.totp_uri and not again.totp_uri and again.operator.login == "zhang.min"


def test_session_tokens_of_a_wrong_shape_or_secret_are_refused(running: Running) -> None:
    secret = add_operator(running)
    session = login(running, secret)
    prefix, _, tail = session.session_token.rpartition("_")
    wrong = base64.urlsafe_b64encode(b"\x00" * 32).decode().rstrip("=")
    assert refused(running, f"{prefix}_{wrong}") == grpc.StatusCode.UNAUTHENTICATED
    assert refused(running, "xbo_sess_short") == grpc.StatusCode.UNAUTHENTICATED
    assert tail


def test_the_totp_secret_is_stored_encrypted_and_bound_to_its_login(any_settings: Settings) -> None:
    import sqlalchemy as sa

    from services.identity.adapters.tables import operators

    own = IdentitySettings(jwt_signing_keys={"k1": KEY_A})
    for running in build(any_settings, own):
        secret = add_operator(running, "a.one")
        add_operator(running, "b.two")
        context = bootstrap.bootstrap(any_settings, RecordingBus())
        try:
            with context.engine.begin() as connection:
                stored = dict(connection.execute(sa.select(operators.c.login, operators.c.totp_secret)).all())
                assert secret not in stored["a.one"]
                # A's ciphertext moved to B's row does not open there: B's login fails, A's still works.
                connection.execute(
                    operators.update().where(operators.c.login == "b.two").values(totp_secret=stored["a.one"])
                )
        finally:
            context.close()
        with pytest.raises(grpc.RpcError):
            login(running, secret, "b.two")
        assert login(running, secret, "a.one").session_token
