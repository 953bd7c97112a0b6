"""The gateway's bearer parsing, key cache and tenancy steps, without a network."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from xborder.compliance.v1 import product_compliance_service_pb2 as checks_pb
from xborder.compliance.v1 import screening_service_pb2 as screening_pb
from xborder.identity.v1 import identity_service_pb2 as ipb
from xborder.identity.v1 import partner_service_pb2 as ppb
from xborder.logistics.v1 import shipments_service_pb2 as logistics_pb
from xborder.payments.v1 import ledger_service_pb2 as ledger_pb
from xborder.payments.v1 import reconciliation_service_pb2 as rec_pb

from gateway.auth import CACHE_MAX_ENTRIES, Checked, Guard, MissingCredential, TtlCache, parse_bearer, www_authenticate
from gateway.descriptors import discover
from gateway.tenancy import (
    BY_REQUEST,
    OPS,
    RULES,
    Kind,
    PartnerFacts,
    Principal,
    admit,
    bind_request,
    rule_for,
    screen_response,
)
from services.shared.errors import MerchantHeld, NotFound, PermissionDenied, Unauthenticated

A, B = "MCG07KQQDYBCA31AJ7", "MCG07KQQE3LL2G3089"
ALICE = Principal("k1", A, frozenset({"compliance.screen", "payments.ledger.read", "compliance.check"}))
OPERATOR = Principal("k0", None, frozenset({"payments.ledger.read", "payments.fees.write"}))

TOKEN = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=200)


@given(TOKEN)
def test_a_bearer_header_gives_back_its_token(token: str) -> None:
    assert parse_bearer(f"Bearer {token}") == token
    assert parse_bearer(f"bearer  {token} ") == token


@given(st.text(max_size=300))
def test_any_header_is_a_token_or_a_401_never_another_error(header: str) -> None:
    try:
        token = parse_bearer(header)
    except Unauthenticated as refused:
        assert www_authenticate(refused).startswith('Bearer realm="xborder"')
    else:
        assert token and all(0x21 <= ord(c) <= 0x7E for c in token)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer a b", "Bearer é"])
def test_headers_that_are_not_one_bearer_token_are_refused(header: str | None) -> None:
    with pytest.raises(MissingCredential):
        parse_bearer(header)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_entry_lives_at_most_the_ttl_or_its_own_shorter_end() -> None:
    clock = Clock()
    cache: TtlCache[str] = TtlCache(5.0, clock=clock)
    cache.put("a", "alice")
    cache.put("b", "bob", lifetime=1.0)  # a rotated-out key ending sooner
    cache.put("c", "carol", lifetime=60.0)  # never longer than the TTL
    cache.put("d", "dave", lifetime=-1.0)  # already ended: not kept at all
    clock.now += 1.0
    assert (cache.get("a"), cache.get("b"), cache.get("c"), cache.get("d")) == ("alice", None, "carol", None)
    clock.now += 4.0
    assert (cache.get("a"), cache.get("c")) == (None, None)


def test_the_cache_is_bounded() -> None:
    cache: TtlCache[int] = TtlCache(5.0, max_entries=3, clock=Clock())
    for i in range(5):
        cache.put(str(i), i)
    assert [cache.get(str(i)) for i in range(5)] == [None, None, 2, 3, 4]
    assert CACHE_MAX_ENTRIES >= 1000


def test_an_empty_merchant_code_is_filled_with_the_callers() -> None:
    request = screening_pb.ScreenPartyRequest(name="x")
    assert bind_request(ALICE, RULES["/xborder.compliance.v1.ScreeningService/ScreenParty"], request) == {A}
    assert request.merchant_code == A


def test_another_merchants_code_in_a_request_is_not_found() -> None:
    with pytest.raises(NotFound):
        bind_request(ALICE, BY_REQUEST, ledger_pb.GetBalancesRequest(merchant_code=B))


def test_every_code_of_a_batch_is_bound() -> None:
    rule = RULES["/xborder.compliance.v1.ProductComplianceService/BatchCheckProducts"]
    batch = checks_pb.BatchCheckProductsRequest(
        checks=[checks_pb.CheckProductRequest(), checks_pb.CheckProductRequest()]
    )
    assert bind_request(ALICE, rule, batch) == {A}
    assert [c.merchant_code for c in batch.checks] == [A, A]
    batch.checks.add(merchant_code=B)
    with pytest.raises(NotFound):
        bind_request(ALICE, rule, batch)


def test_an_operator_names_any_merchant() -> None:
    assert bind_request(OPERATOR, BY_REQUEST, ledger_pb.GetBalancesRequest(merchant_code=B)) == {B}


def test_lists_keep_only_the_callers_entries_and_a_foreign_resource_is_not_found() -> None:
    listed = screening_pb.ListScreeningsResponse(
        screenings=[
            screening_pb.Screening(code="1", merchant_code=A),
            screening_pb.Screening(code="2", merchant_code=B),
        ]
    )
    screen_response(ALICE, listed)
    assert [s.code for s in listed.screenings] == ["1"]
    with pytest.raises(NotFound) as refused:
        screen_response(ALICE, screening_pb.GetScreeningResponse(screening=screening_pb.Screening(merchant_code=B)))
    assert B not in refused.value.message
    screen_response(OPERATOR, screening_pb.GetScreeningResponse(screening=screening_pb.Screening(merchant_code=B)))


def _decided(*records: tuple[str, str]) -> list[ipb.HoldDecisionRecord]:
    return [
        ipb.HoldDecisionRecord(decision=ipb.HOLD_DECISION_RELEASE, reason=reason, decided_by=by, status="ACTIVE")
        for by, reason in records
    ]


def test_who_decided_on_a_hold_is_left_out_for_the_merchant_or_partner_and_kept_for_ops() -> None:
    decisions = _decided(("cmp.officer", "a namesake"), ("ops.admin", "documents checked"))
    get_merchant = rule_for("/xborder.identity.v1.IdentityService/GetMerchant")
    get_partner = rule_for("/xborder.identity.v1.PartnerService/GetPartner")
    session = Principal("s1", None, frozenset(), kind="ops_session")
    partner = Principal("f" * 64, None, frozenset(), partner=PartnerFacts("HB1", "logistics", True, frozenset()))
    for principal, seen in (
        (ALICE, ["", ""]),
        (OPERATOR, ["cmp.officer", "ops.admin"]),
        (session, ["cmp.officer", "ops.admin"]),
    ):
        merchant = ipb.GetMerchantResponse(merchant=ipb.Merchant(merchant_code=A, hold_decisions=decisions))
        Checked(principal, get_merchant).screen(merchant)
        assert [d.decided_by for d in merchant.merchant.hold_decisions] == seen
        assert [d.reason for d in merchant.merchant.hold_decisions] == ["a namesake", "documents checked"]
    for principal, seen in ((partner, [""]), (session, ["cmp.officer"])):
        answer = ppb.GetPartnerResponse(partner=ppb.Partner(partner_code="HB1", hold_decisions=decisions[:1]))
        Checked(principal, get_partner).screen(answer)
        assert [d.decided_by for d in answer.partner.hold_decisions] == seen


def test_scope_kind_and_hold_are_checked_before_anything_else() -> None:
    with pytest.raises(PermissionDenied):
        admit(ALICE, BY_REQUEST, "bank_accounts.read")
    with pytest.raises(PermissionDenied):
        admit(ALICE, OPS, "payments.ledger.read")
    admit(OPERATOR, OPS, "payments.ledger.read")
    held = Principal("k2", A, ALICE.scopes, merchant_active=False)
    with pytest.raises(MerchantHeld):
        admit(held, BY_REQUEST, "payments.ledger.read")
    assert RULES["/xborder.identity.v1.IdentityService/VerifyApiKey"].kind is Kind.INTERNAL
    with pytest.raises(PermissionDenied):
        admit(OPERATOR, RULES["/xborder.identity.v1.IdentityService/VerifyApiKey"], "identity.internal")


def test_the_front_door_keeps_the_callers_key_to_itself() -> None:
    from gateway.front_door import forwarded_metadata

    kept = forwarded_metadata((("authorization", "Bearer xbk_live_x"), ("x-partner", "p")), "rid")
    assert dict(kept) == {"x-partner": "p", "x-request-id": "rid"}


class Identity:
    """The identity calls the guard makes, answered from a status it can change (a release), counted."""

    def __init__(self) -> None:
        self.status = ipb.MERCHANT_STATUS_REVIEW
        self.partner_status = ppb.PARTNER_STATUS_REVIEW
        self.asked: list[str] = []

    def call_sync(self, method: Any, request: Any, *, timeout: float, metadata: Any) -> Any:
        self.asked.append(method.name)
        if method.name == "VerifyApiKey":
            key = ipb.ApiKey(key_id="k1", merchant_code=A, scopes=["payments.ledger.read"])
            return ipb.VerifyApiKeyResponse(api_key=key, merchant_status=self.status, principal_kind="api_key")
        if method.name == "GetMerchant":
            return ipb.GetMerchantResponse(merchant=ipb.Merchant(merchant_code=A, country="DE", status=self.status))
        if method.name == "VerifyPartnerCertificate":
            partner = ppb.Partner(
                partner_code="HBG07KQQDYBCA31AJ7",
                kind=ppb.PARTNER_KIND_LOGISTICS,
                status=self.partner_status,
                owns=["HERMES"],
                country="DE",
            )
            scopes = ["identity.partners.read", "logistics.tracking.write"]
            return ppb.VerifyPartnerCertificateResponse(partner=partner, scopes=scopes)
        raise AssertionError(method.name)


METHODS = {m.grpc_path: m for s in discover() for m in s.methods}
BALANCES = METHODS["/xborder.payments.v1.LedgerService/GetBalances"]
TRACKING = METHODS["/xborder.logistics.v1.ShipmentService/PushTrackingEvents"]


def test_a_release_counts_at_the_next_call_although_the_key_is_cached_as_held() -> None:
    identity = Identity()
    guard = Guard(identity, METHODS)  # type: ignore[arg-type]
    request = ledger_pb.GetBalancesRequest(merchant_code=A)
    with pytest.raises(MerchantHeld):
        guard.check_sync(BALANCES, request, "Bearer xbk_live_key", ())
    with pytest.raises(MerchantHeld):
        guard.check_sync(BALANCES, request, "Bearer xbk_live_key", ())
    identity.status = ipb.MERCHANT_STATUS_ACTIVE  # a compliance officer releases it
    checked = guard.check_sync(BALANCES, request, "Bearer xbk_live_key", ())
    assert checked.principal is not None and checked.principal.merchant_active
    assert identity.asked.count("VerifyApiKey") == 1  # the key stayed cached; only its merchant was asked again
    asked = len(identity.asked)
    guard.check_sync(BALANCES, request, "Bearer xbk_live_key", ())
    assert len(identity.asked) == asked  # once active, the caches answer


def test_a_rejection_keeps_the_merchant_refused() -> None:
    identity = Identity()
    guard = Guard(identity, METHODS)  # type: ignore[arg-type]
    identity.status = ipb.MERCHANT_STATUS_REJECTED
    with pytest.raises(MerchantHeld):
        guard.check_sync(BALANCES, ledger_pb.GetBalancesRequest(merchant_code=A), "Bearer xbk_live_key", ())


def test_a_released_partner_is_served_at_its_next_call() -> None:
    identity = Identity()
    guard = Guard(identity, METHODS)  # type: ignore[arg-type]
    push = logistics_pb.PushTrackingEventsRequest(events=[logistics_pb.CarrierEvent(carrier="hermes")])
    with pytest.raises(PermissionDenied):
        guard.check_sync(TRACKING, push, None, (), certificate="ab" * 32)
    identity.partner_status = ppb.PARTNER_STATUS_ACTIVE
    checked = guard.check_sync(TRACKING, push, None, (), certificate="ab" * 32)
    assert checked.principal is not None and checked.principal.partner is not None


class PaymentProvider:
    """Identity for a payment provider's certificate (owns STRIPE); every other call is counted and refused."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def call_sync(self, method: Any, request: Any, *, timeout: float, metadata: Any) -> Any:
        self.asked.append(method.name)
        if method.name == "VerifyPartnerCertificate":
            partner = ppb.Partner(
                partner_code="HBG07KQQDYBCA31AJ7",
                kind=ppb.PARTNER_KIND_PAYMENT,
                status=ppb.PARTNER_STATUS_ACTIVE,
                owns=["STRIPE"],
                country="DE",
            )
            return ppb.VerifyPartnerCertificateResponse(partner=partner, scopes=["reconciliation.read"])
        raise AssertionError(f"{method.name} was read before the call")


RECONCILIATION = METHODS["/xborder.payments.v1.ReconciliationService/GetReconciliation"]


def test_a_partners_own_read_is_checked_on_its_answer_not_read_twice() -> None:
    identity = PaymentProvider()
    guard = Guard(identity, METHODS)  # type: ignore[arg-type]
    request = rec_pb.GetReconciliationRequest(code="RCG07KQQDYBCA31AJ7")
    checked = guard.check_sync(RECONCILIATION, request, None, (), certificate="cd" * 32)
    assert identity.asked == ["VerifyPartnerCertificate"] and checked.screens_response
    checked.screen(rec_pb.GetReconciliationResponse(reconciliation=rec_pb.Reconciliation(partner="STRIPE")))
    for foreign in (rec_pb.Reconciliation(partner="ADYEN"), rec_pb.Reconciliation()):
        with pytest.raises(NotFound):
            checked.screen(rec_pb.GetReconciliationResponse(reconciliation=foreign))
