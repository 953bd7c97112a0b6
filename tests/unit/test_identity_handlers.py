"""Identity use cases on in-memory fakes of the unit of work, the screener and the hasher."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from xborder.identity.v1 import identity_service_pb2 as pb

from services.identity.domain.keys import ApiKey
from services.identity.domain.merchants import Merchant, Registration, Screening, ScreeningOutcome
from services.identity.service_layer import handlers
from services.shared.errors import NotFound, Unauthenticated
from tests.fakes import CopyingUnitOfWork


@dataclass
class Store:
    merchants: dict[str, Merchant] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)
    answers: dict[tuple[str, str], tuple[str, bytes]] = field(default_factory=dict)


class FakeMerchants:
    def __init__(self, rows: dict[str, Merchant]) -> None:
        self.rows = rows

    def add(self, merchant: Merchant) -> None:
        self.rows[merchant.merchant_code] = merchant

    def get(self, code: str) -> Merchant | None:
        return self.rows.get(code)


class FakeKeys:
    def __init__(self, rows: dict[str, ApiKey]) -> None:
        self.rows = rows

    def add(self, key: ApiKey) -> None:
        self.rows[key.key_id] = key

    def get(self, key_id: str, *, for_update: bool = False) -> ApiKey | None:
        return self.rows.get(key_id)

    def save_ends(self, key: ApiKey) -> None:
        self.rows[key.key_id] = key


class FakeUow(CopyingUnitOfWork):
    store: Store
    pending: Store

    def _bind(self) -> None:
        self.merchants = FakeMerchants(self.pending.merchants)
        self.keys = FakeKeys(self.pending.keys)


@dataclass
class FakeScreener:
    decision: Screening = Screening.CLEAR
    calls: int = 0

    def screen(self, request_id: str, merchant_code: str, legal_name: str, country: str, uscc: str) -> ScreeningOutcome:
        self.calls += 1
        return ScreeningOutcome("HC" + merchant_code[2:], self.decision)


@dataclass
class FakeHasher:
    verified: list[str | None] = field(default_factory=list)

    def hash(self, secret: str) -> str:
        return f"hashed:{secret[::-1]}"

    def verify(self, stored: str | None, secret: str) -> bool:
        self.verified.append(stored)
        return stored == self.hash(secret)


REGISTRATION = Registration("Acme GmbH", "DE", "", "EUR", ())


@pytest.fixture
def store() -> Store:
    return Store()


def factory(store: Store) -> Any:
    return lambda: FakeUow(store)


def onboard(store: Store, screener: FakeScreener, request_id: str = "r1") -> pb.OnboardMerchantResponse:
    request = pb.OnboardMerchantRequest(request_id=request_id, legal_name="Acme GmbH", country="DE")
    return handlers.onboard_merchant(factory(store), screener, FakeHasher(), request, REGISTRATION, ("fx.read",))


def test_onboarding_stores_a_hash_and_shows_the_key_once(store: Store) -> None:
    screener = FakeScreener()
    first = onboard(store, screener)
    [key] = store.keys.values()
    assert first.secret.endswith(key.secret_hash.removeprefix("hashed:")[::-1])
    assert first.secret not in key.secret_hash
    assert all(first.secret.encode() not in answer for _, answer in store.answers.values())
    again = onboard(store, screener)
    assert (again.merchant, again.api_key, again.secret) == (first.merchant, first.api_key, "")
    assert screener.calls == 1


@pytest.mark.parametrize(
    ("decision", "status"),
    [
        (Screening.CLEAR, pb.MERCHANT_STATUS_ACTIVE),
        (Screening.REVIEW, pb.MERCHANT_STATUS_REVIEW),
        (Screening.BLOCK, pb.MERCHANT_STATUS_BLOCKED),
    ],
)
def test_the_screening_decides_the_status(store: Store, decision: Screening, status: int) -> None:
    assert onboard(store, FakeScreener(decision)).merchant.status == status


def test_verification_answers_the_holder_and_refuses_wrong_secrets(store: Store) -> None:
    answer = onboard(store, FakeScreener())
    hasher = FakeHasher()
    holder = handlers.verify_key(factory(store), hasher, answer.secret)
    assert holder.merchant is not None and holder.merchant.merchant_code == answer.merchant.merchant_code
    with pytest.raises(Unauthenticated):
        handlers.verify_key(factory(store), hasher, answer.secret[:-1] + ("A" if answer.secret[-1] != "A" else "B"))


def test_an_unknown_key_id_costs_a_verification_too(store: Store) -> None:
    hasher = FakeHasher()
    with pytest.raises(Unauthenticated):
        handlers.verify_key(factory(store), hasher, "xbk_live_0123456789abcdef_" + "a" * 43)
    assert hasher.verified == [None]


def test_rotation_ends_the_old_key_after_the_overlap_and_revocation_at_once(store: Store) -> None:
    first = onboard(store, FakeScreener())
    code, key_id = first.merchant.merchant_code, first.api_key.key_id
    request = pb.RotateApiKeyRequest(request_id="rot", merchant_code=code, key_id=key_id)
    rotated = handlers.rotate_key(factory(store), FakeHasher(), request, code, key_id, timedelta(0))
    assert rotated.secret and rotated.api_key.scopes == ["fx.read"]
    with pytest.raises(Unauthenticated):
        handlers.verify_key(factory(store), FakeHasher(), first.secret)
    handlers.verify_key(factory(store), FakeHasher(), rotated.secret)
    new_id = rotated.api_key.key_id
    revoke = pb.RevokeApiKeyRequest(request_id="rev", merchant_code=code, key_id=new_id)
    handlers.revoke_key(factory(store), revoke, code, new_id)
    with pytest.raises(Unauthenticated):
        handlers.verify_key(factory(store), FakeHasher(), rotated.secret)
    with pytest.raises(NotFound):  # a revoked key is not rotated into a fresh one
        handlers.rotate_key(
            factory(store), FakeHasher(), pb.RotateApiKeyRequest(request_id="rot-2"), code, new_id, timedelta(hours=1)
        )
