"""Identity use cases: onboard a merchant, issue, rotate, revoke and verify keys. The only code that commits.

A key's secret is never stored: not in `api_keys` (only its argon2id hash) and not in the idempotency
table. The remembered answer of an issuing request carries the key's description without the secret; the
request that created the key adds the secret to its own answer, so a replay answers the same key id with
an empty secret (a lost key is rotated, never shown again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from xborder.identity.v1 import identity_service_pb2 as pb

from services.identity.domain import keys
from services.identity.domain.holds import Entity
from services.identity.domain.keys import ApiKey
from services.identity.domain.merchants import STATUS_AFTER_SCREENING, Merchant, Registration, ScreeningOutcome
from services.identity.service_layer.mapping import key_to_proto, merchant_to_proto
from services.identity.service_layer.uow import IdentityUnitOfWork
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import NotFound, Unauthenticated
from services.shared.idempotency import Request, fingerprint, replayed, run_idempotent

UowFactory = Callable[[], IdentityUnitOfWork]


class Screener(Protocol):
    def screen(
        self, request_id: str, merchant_code: str, legal_name: str, country: str, uscc: str
    ) -> ScreeningOutcome: ...


class Hasher(Protocol):
    def hash(self, secret: str) -> str: ...

    def verify(self, stored: str | None, secret: str) -> bool: ...


@dataclass
class _Shown:
    """The secret of the key this very request created (see the module docstring)."""

    key_id: str = ""
    presented: str = ""

    def for_answer(self, key_id: str) -> str:
        return self.presented if key_id and key_id == self.key_id else ""


def _new_key(hasher: Hasher, merchant_code: str | None, scopes: tuple[str, ...], label: str = "") -> tuple[ApiKey, str]:
    fresh = keys.generate()
    stored = ApiKey(fresh.key_id, hasher.hash(fresh.secret), merchant_code, scopes, utcnow(), label)
    return stored, fresh.presented


def onboard_merchant(
    uow_factory: UowFactory,
    screener: Screener,
    hasher: Hasher,
    request: pb.OnboardMerchantRequest,
    registration: Registration,
    scopes: tuple[str, ...],
) -> pb.OnboardMerchantResponse:
    """Screen the entity, then register it and its first key in one transaction."""
    ask = Request("identity.onboard", request.request_id, fingerprint(request))
    earlier = replayed(uow_factory, ask, pb.OnboardMerchantResponse)
    if earlier is not None:
        return earlier
    merchant_code = codes.generate("MC")
    # Screening is slow and outside any transaction; its own request id is this attempt's merchant code.
    outcome = screener.screen(
        f"identity-onboard-{merchant_code}",
        merchant_code,
        registration.legal_name,
        registration.country,
        registration.uscc,
    )
    shown = _Shown()

    def work(uow: IdentityUnitOfWork) -> pb.OnboardMerchantResponse:
        status = STATUS_AFTER_SCREENING[outcome.decision]
        merchant = Merchant(merchant_code, registration, status, outcome.screening_code, utcnow())
        uow.merchants.add(merchant)
        key, shown.presented = _new_key(hasher, merchant_code, scopes)
        shown.key_id = key.key_id
        uow.keys.add(key)
        return pb.OnboardMerchantResponse(merchant=merchant_to_proto(merchant), api_key=key_to_proto(key))

    answer = run_idempotent(uow_factory, ask, pb.OnboardMerchantResponse, work)
    answer.secret = shown.for_answer(answer.api_key.key_id)
    return answer


def get_merchant(uow_factory: UowFactory, merchant_code: str) -> Merchant:
    with uow_factory() as uow:
        merchant = uow.merchants.get(merchant_code)
    if merchant is None:
        raise NotFound(f"no merchant {merchant_code}", field="merchant_code")
    return merchant


def merchant_with_history(uow_factory: UowFactory, merchant_code: str) -> pb.Merchant:
    """The merchant as GetMerchant answers it: its registration, status and the decisions on its hold."""
    with uow_factory() as uow:
        merchant = uow.merchants.get(merchant_code)
        decisions = uow.holds.of(Entity.MERCHANT, merchant_code) if merchant is not None else []
    if merchant is None:
        raise NotFound(f"no merchant {merchant_code}", field="merchant_code")
    return merchant_to_proto(merchant, decisions)


def _merchant_key(uow: IdentityUnitOfWork, merchant_code: str, key_id: str) -> ApiKey:
    """The merchant's key; another merchant's key is as unknown as a key that does not exist."""
    key = uow.keys.get(key_id, for_update=True)
    if key is None or key.merchant_code != merchant_code:
        raise NotFound(f"merchant {merchant_code} has no API key {key_id}", field="key_id")
    return key


def rotate_key(
    uow_factory: UowFactory,
    hasher: Hasher,
    request: pb.RotateApiKeyRequest,
    merchant_code: str,
    key_id: str,
    overlap: timedelta,
) -> pb.RotateApiKeyResponse:
    """A new key with the old one's scopes; the old one ends after `overlap` (revoked keys are not rotated)."""
    ask = Request(f"identity.rotate:{merchant_code}", request.request_id, fingerprint(request))
    shown = _Shown()

    def work(uow: IdentityUnitOfWork) -> pb.RotateApiKeyResponse:
        old = _merchant_key(uow, merchant_code, key_id)
        now = utcnow()
        if not old.valid_at(now):
            raise NotFound(f"API key {key_id} is revoked or expired: it cannot be rotated", field="key_id")
        ending = old.ending(now + overlap)
        uow.keys.save_ends(ending)
        key, shown.presented = _new_key(hasher, merchant_code, old.scopes)
        shown.key_id = key.key_id
        uow.keys.add(key)
        return pb.RotateApiKeyResponse(api_key=key_to_proto(key), previous=key_to_proto(ending))

    answer = run_idempotent(uow_factory, ask, pb.RotateApiKeyResponse, work)
    answer.secret = shown.for_answer(answer.api_key.key_id)
    return answer


def revoke_key(
    uow_factory: UowFactory, request: pb.RevokeApiKeyRequest, merchant_code: str, key_id: str
) -> pb.RevokeApiKeyResponse:
    ask = Request(f"identity.revoke:{merchant_code}", request.request_id, fingerprint(request))

    def work(uow: IdentityUnitOfWork) -> pb.RevokeApiKeyResponse:
        key = _merchant_key(uow, merchant_code, key_id).revoked(utcnow())
        uow.keys.save_ends(key)
        return pb.RevokeApiKeyResponse(api_key=key_to_proto(key))

    return run_idempotent(uow_factory, ask, pb.RevokeApiKeyResponse, work)


def issue_operator_key(
    uow_factory: UowFactory, hasher: Hasher, request: pb.IssueOperatorKeyRequest, label: str, scopes: tuple[str, ...]
) -> pb.IssueOperatorKeyResponse:
    ask = Request("identity.operator-key", request.request_id, fingerprint(request))
    shown = _Shown()

    def work(uow: IdentityUnitOfWork) -> pb.IssueOperatorKeyResponse:
        key, shown.presented = _new_key(hasher, None, scopes, label)
        shown.key_id = key.key_id
        uow.keys.add(key)
        return pb.IssueOperatorKeyResponse(api_key=key_to_proto(key))

    answer = run_idempotent(uow_factory, ask, pb.IssueOperatorKeyResponse, work)
    answer.secret = shown.for_answer(answer.api_key.key_id)
    return answer


@dataclass(frozen=True)
class Holder:
    key: ApiKey
    merchant: Merchant | None


def verify_key(uow_factory: UowFactory, hasher: Hasher, presented: str) -> Holder:
    """Who holds a presented key; Unauthenticated (one message for every failure) when nobody valid does."""
    key_id, secret = keys.split(presented)
    with uow_factory() as uow:
        key = uow.keys.get(key_id)
        merchant = uow.merchants.get(key.merchant_code) if key is not None and key.merchant_code else None
    # Verified even for an unknown id, so timing does not tell a real key id from a made-up one.
    matches = hasher.verify(key.secret_hash if key is not None else None, secret)
    if key is None or not matches or not key.valid_at(utcnow()):
        raise Unauthenticated("the API key is not valid (unknown, revoked or expired)")
    return Holder(key, merchant)
