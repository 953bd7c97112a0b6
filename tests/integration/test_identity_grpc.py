"""The identity service on real gRPC and its database (SQLite, and PostgreSQL when reachable).

Screening is a fake here (compliance's real ScreeningService is used in tests/e2e/test_auth_http.py), so
each screening decision can be chosen: CLEAR makes an ACTIVE merchant, REVIEW and BLOCK hold it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from xborder.identity.v1 import identity_service_pb2 as pb
from xborder.identity.v1 import identity_service_pb2_grpc as pb_grpc

from services.identity import bootstrap
from services.identity.adapters.hashing import Argon2Hasher
from services.identity.domain.merchants import Screening, ScreeningOutcome
from services.identity.entrypoints.grpc_api import IdentityServicer
from services.shared.grpc_server import serve
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.servers import rejected


@dataclass
class FakeScreener:
    """Answers the decision named in the legal name ("... REVIEW", "... BLOCK"), CLEAR otherwise."""

    asked: list[tuple[str, str, str, str]] = field(default_factory=list)

    def screen(self, request_id: str, merchant_code: str, legal_name: str, country: str, uscc: str) -> ScreeningOutcome:
        self.asked.append((merchant_code, legal_name, country, uscc))
        decision = next((d for d in Screening if legal_name.endswith(d.value)), Screening.CLEAR)
        return ScreeningOutcome("HC" + merchant_code[2:], decision)


@dataclass
class Running:
    stub: pb_grpc.IdentityServiceStub
    screener: FakeScreener
    engine: sa.engine.Engine


@pytest.fixture
def identity(any_settings: Settings) -> Iterator[Running]:
    context = bootstrap.bootstrap(any_settings, RecordingBus())
    screener = FakeScreener()
    servicer = IdentityServicer(context.uow, screener, Argon2Hasher())  # type: ignore[arg-type]

    def add(server: grpc.Server) -> None:
        pb_grpc.add_IdentityServiceServicer_to_server(servicer, server)

    server = serve(any_settings, [add], bootstrap.GRPC_SERVICES, port=0)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield Running(pb_grpc.IdentityServiceStub(channel), screener, context.engine)
    server.stop(0)
    context.close()


def onboard(running: Running, name: str = "Shenzhen Lighting Co", **fields: Any) -> pb.OnboardMerchantResponse:
    request = pb.OnboardMerchantRequest(
        request_id=str(uuid.uuid4()), legal_name=name, country=fields.pop("country", "CN"), **fields
    )
    if request.country == "CN" and not request.uscc:
        request.uscc = "91440300MA5DXB0T0W"
    return running.stub.OnboardMerchant(request, timeout=10)


def test_onboarding_screens_and_issues_a_key_shown_once(identity: Running) -> None:
    answer = onboard(identity)
    merchant = answer.merchant
    assert merchant.status == pb.MERCHANT_STATUS_ACTIVE and merchant.settlement_currency == "CNY"
    assert identity.screener.asked == [(merchant.merchant_code, "Shenzhen Lighting Co", "CN", "91440300MA5DXB0T0W")]
    assert answer.secret.startswith(f"xbk_live_{answer.api_key.key_id}_")
    verified = identity.stub.VerifyApiKey(pb.VerifyApiKeyRequest(secret=answer.secret), timeout=10)
    assert verified.api_key.merchant_code == merchant.merchant_code
    assert verified.merchant_status == pb.MERCHANT_STATUS_ACTIVE


def test_the_secret_is_stored_nowhere_in_clear(identity: Running) -> None:
    answer = onboard(identity)
    secret = answer.secret.rsplit("_", 1)[1]
    with identity.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT secret_hash FROM api_keys")).scalars().all()
        remembered = connection.execute(sa.text("SELECT response FROM idempotency_keys")).scalars().all()
    assert all(h.startswith("$argon2id$") and secret not in h for h in stored)
    assert all(secret.encode() not in bytes(r) for r in remembered)


def test_a_replayed_onboarding_answers_the_same_merchant_without_the_secret(identity: Running) -> None:
    request = pb.OnboardMerchantRequest(request_id="once", legal_name="Replay GmbH", country="DE")
    first = identity.stub.OnboardMerchant(request, timeout=10)
    again = identity.stub.OnboardMerchant(request, timeout=10)
    assert again.merchant == first.merchant and again.api_key == first.api_key
    assert first.secret and not again.secret
    assert len(identity.screener.asked) == 1


@pytest.mark.parametrize(
    ("name", "status"),
    [("Doubtful Ltd REVIEW", pb.MERCHANT_STATUS_REVIEW), ("Listed Ltd BLOCK", pb.MERCHANT_STATUS_BLOCKED)],
)
def test_a_review_or_block_screening_holds_the_merchant(identity: Running, name: str, status: int) -> None:
    answer = onboard(identity, name, country="GB")
    assert answer.merchant.status == status
    verified = identity.stub.VerifyApiKey(pb.VerifyApiKeyRequest(secret=answer.secret), timeout=10)
    assert verified.merchant_status == status


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"legal_name": "", "country": "CN", "uscc": "91440300MA5DXB0T0X"}, {"legal_name", "uscc"}),
        ({"legal_name": "X", "country": "China"}, {"country"}),
        ({"legal_name": "X", "country": "DE", "uscc": "91440300MA5DXB0T0W"}, {"uscc"}),
        ({"legal_name": "X", "country": "DE", "settlement_currency": "XYZ"}, {"settlement_currency"}),
        ({"legal_name": "X", "country": "DE", "scopes": ["payments.ledger.admin"]}, {"scopes"}),
    ],
)
def test_bad_registrations_name_every_field(identity: Running, fields: dict, bad: set[str]) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        identity.stub.OnboardMerchant(pb.OnboardMerchantRequest(request_id="r", **fields), timeout=10)
    code, _, violations = rejected(failure.value)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(violations) == bad
    assert identity.screener.asked == []


def test_rotation_overlaps_then_revocation_ends(identity: Running) -> None:
    first = onboard(identity)
    code, old_id = first.merchant.merchant_code, first.api_key.key_id
    rotated = identity.stub.RotateApiKey(
        pb.RotateApiKeyRequest(request_id="rot-1", merchant_code=code, key_id=old_id, overlap_seconds=600), timeout=10
    )
    assert rotated.previous.HasField("expires_at") and rotated.api_key.scopes == first.api_key.scopes
    for secret in (first.secret, rotated.secret):
        identity.stub.VerifyApiKey(pb.VerifyApiKeyRequest(secret=secret), timeout=10)
    identity.stub.RevokeApiKey(
        pb.RevokeApiKeyRequest(request_id="rev-1", merchant_code=code, key_id=old_id), timeout=10
    )
    with pytest.raises(grpc.RpcError) as failure:
        identity.stub.VerifyApiKey(pb.VerifyApiKeyRequest(secret=first.secret), timeout=10)
    assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_another_merchants_key_cannot_be_rotated_or_revoked(identity: Running) -> None:
    mine, theirs = onboard(identity), onboard(identity)
    with pytest.raises(grpc.RpcError) as failure:
        identity.stub.RevokeApiKey(
            pb.RevokeApiKeyRequest(
                request_id="rev-x", merchant_code=mine.merchant.merchant_code, key_id=theirs.api_key.key_id
            ),
            timeout=10,
        )
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    identity.stub.VerifyApiKey(pb.VerifyApiKeyRequest(secret=theirs.secret), timeout=10)


@pytest.mark.parametrize("presented", ["", "xbk_live_", "xbk_live_0123456789abcdef_" + "a" * 43, "Bearer x"])
def test_unknown_or_malformed_keys_are_unauthenticated(identity: Running, presented: str) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        identity.stub.VerifyApiKey(pb.VerifyApiKeyRequest(secret=presented), timeout=10)
    assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED
