"""Releasing and rejecting held merchants and partners in the identity service, on real gRPC and its
database (SQLite, and PostgreSQL when reachable). Screening is a fake (the legal name's last word is the
decision); the deciding sessions are real logins (password + TOTP), their ids passed as the gateway does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import grpc
import pytest
import sqlalchemy as sa
from xborder.identity.v1 import access_service_pb2 as apb
from xborder.identity.v1 import access_service_pb2_grpc as apb_grpc
from xborder.identity.v1 import identity_service_pb2 as pb
from xborder.identity.v1 import identity_service_pb2_grpc as pb_grpc
from xborder.identity.v1 import partner_service_pb2 as ppb
from xborder.identity.v1 import partner_service_pb2_grpc as ppb_grpc

from services.identity import bootstrap
from services.identity.adapters.hashing import Argon2Hasher
from services.identity.entrypoints.grpc_api import IdentityServicer
from services.identity.entrypoints.partners_api import PartnerServicer
from services.identity.settings import IdentitySettings
from services.shared.grpc_server import serve
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.integration.test_identity_access_grpc import PASSWORD, code_at
from tests.integration.test_identity_grpc import FakeScreener
from tests.integration.test_identity_partners_grpc import FakePartnerScreener
from tests.servers import rejected


@dataclass
class Running:
    identity: pb_grpc.IdentityServiceStub
    partners: ppb_grpc.PartnerServiceStub
    access: apb_grpc.AccessServiceStub
    stale: pb_grpc.IdentityServiceStub
    """The same service with a step-up window of zero: every session's second factor is too old."""
    engine: sa.engine.Engine


@pytest.fixture
def running(any_settings: Settings) -> Iterator[Running]:
    context = bootstrap.bootstrap(any_settings, RecordingBus())
    hasher = Argon2Hasher()
    identity = IdentityServicer(context.uow, FakeScreener(), hasher)  # type: ignore[arg-type]
    stale = IdentityServicer(context.uow, FakeScreener(), hasher, step_up_window=timedelta(0))  # type: ignore[arg-type]
    partners = PartnerServicer(context.uow, FakePartnerScreener())  # type: ignore[arg-type]
    access_api = bootstrap.access_servicer(context, IdentitySettings.from_env({}))

    def add(server: grpc.Server) -> None:
        pb_grpc.add_IdentityServiceServicer_to_server(identity, server)
        ppb_grpc.add_PartnerServiceServicer_to_server(partners, server)
        apb_grpc.add_AccessServiceServicer_to_server(access_api, server)

    def add_stale(server: grpc.Server) -> None:
        pb_grpc.add_IdentityServiceServicer_to_server(stale, server)

    server = serve(any_settings, [add], bootstrap.GRPC_SERVICES, port=0)
    stale_server = serve(any_settings, [add_stale], bootstrap.GRPC_SERVICES, port=0)
    with (
        grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel,
        grpc.insecure_channel(f"127.0.0.1:{stale_server.port}") as stale_channel,
    ):
        yield Running(
            pb_grpc.IdentityServiceStub(channel),
            ppb_grpc.PartnerServiceStub(channel),
            apb_grpc.AccessServiceStub(channel),
            pb_grpc.IdentityServiceStub(stale_channel),
            context.engine,
        )
    server.stop(0)
    stale_server.stop(0)
    context.close()


def session_of(running: Running, login: str, role: apb.OperatorRole) -> str:
    """A fresh login's session id (what the gateway fills into the request)."""
    added = running.access.AddOperator(
        apb.AddOperatorRequest(
            request_id=str(uuid.uuid4()), login=login, display_name=login, role=role, password=PASSWORD
        ),
        timeout=10,
    )
    secret = added.totp_uri.split("secret=")[1].split("&")[0]
    session = running.access.Login(
        apb.LoginRequest(login=login, password=PASSWORD, totp_code=code_at(secret)), timeout=10
    )
    return str(session.session_token.removeprefix("xbo_sess_").split("_", 1)[0])


def held_merchant(running: Running, screening: str = "REVIEW") -> pb.Merchant:
    """A merchant its screening (REVIEW or BLOCK, the fake's last word of the name) held."""
    answer = running.identity.OnboardMerchant(
        pb.OnboardMerchantRequest(request_id=str(uuid.uuid4()), legal_name=f"Doubtful Ltd {screening}", country="DE"),
        timeout=10,
    )
    assert answer.merchant.status in (pb.MERCHANT_STATUS_REVIEW, pb.MERCHANT_STATUS_BLOCKED)
    return answer.merchant


def decide(
    stub: pb_grpc.IdentityServiceStub, code: str, session: str, decision: pb.HoldDecision, request_id: str = ""
) -> pb.DecideMerchantHoldResponse:
    return stub.DecideMerchantHold(
        pb.DecideMerchantHoldRequest(
            request_id=request_id or str(uuid.uuid4()),
            merchant_code=code,
            decision=decision,
            reason="the match is a namesake: other country, other registration",
            session_id=session,
        ),
        timeout=10,
    )


def refusal(call: object, *args: object) -> tuple[grpc.StatusCode, str | None, dict[str, str]]:
    with pytest.raises(grpc.RpcError) as failed:
        call(*args)  # type: ignore[operator]
    return rejected(failed.value)  # type: ignore[arg-type]


def events(running: Running) -> list[dict[str, object]]:
    with running.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT event_type, payload FROM outbox ORDER BY id")).all()
    return [json.loads(row.payload) for row in rows if row.event_type == "hold_decided"]


def test_a_compliance_officer_releases_a_merchant_on_review_once(running: Running) -> None:
    officer = session_of(running, "cmp.officer", apb.OPERATOR_ROLE_COMPLIANCE_OFFICER)
    merchant = held_merchant(running)
    released = decide(running.identity, merchant.merchant_code, officer, pb.HOLD_DECISION_RELEASE, "release-1")
    assert released.merchant.status == pb.MERCHANT_STATUS_ACTIVE
    [record] = released.merchant.hold_decisions
    assert (record.decision, record.previous_status, record.status) == (pb.HOLD_DECISION_RELEASE, "REVIEW", "ACTIVE")
    assert record.decided_by == "cmp.officer" and record.reason.startswith("the match is a namesake")
    assert record.decided_at.seconds > 0

    shown = running.identity.GetMerchant(pb.GetMerchantRequest(merchant_code=merchant.merchant_code), timeout=10)
    assert shown.merchant == released.merchant
    # The same request again changes nothing and answers the same; another request is refused.
    again = decide(running.identity, merchant.merchant_code, officer, pb.HOLD_DECISION_RELEASE, "release-1")
    assert again == released
    code, reason, fields = refusal(decide, running.identity, merchant.merchant_code, officer, pb.HOLD_DECISION_REJECT)
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "FAILED_PRECONDITION")
    assert "merchant_code" in fields
    assert len(events(running)) == 1
    [event] = events(running)
    assert event["merchant_code"] == merchant.merchant_code
    assert (event["decision"], event["previous_status"], event["status"], event["decided_by"]) == (
        "HOLD_DECISION_RELEASE",
        "REVIEW",
        "ACTIVE",
        "cmp.officer",
    )


def test_an_admin_rejects_a_blocked_merchant_for_good(running: Running) -> None:
    admin = session_of(running, "ops.admin", apb.OPERATOR_ROLE_ADMIN)
    merchant = held_merchant(running, "BLOCK")
    assert merchant.status == pb.MERCHANT_STATUS_BLOCKED
    rejected_ = decide(running.identity, merchant.merchant_code, admin, pb.HOLD_DECISION_REJECT)
    assert rejected_.merchant.status == pb.MERCHANT_STATUS_REJECTED
    code, _, _ = refusal(decide, running.identity, merchant.merchant_code, admin, pb.HOLD_DECISION_RELEASE)
    assert code == grpc.StatusCode.FAILED_PRECONDITION


def test_an_active_merchant_is_not_decided_on(running: Running) -> None:
    admin = session_of(running, "ops.admin", apb.OPERATOR_ROLE_ADMIN)
    active = running.identity.OnboardMerchant(
        pb.OnboardMerchantRequest(request_id=str(uuid.uuid4()), legal_name="Clear GmbH", country="DE"), timeout=10
    ).merchant
    code, _, fields = refusal(decide, running.identity, active.merchant_code, admin, pb.HOLD_DECISION_RELEASE)
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "merchant_code" in fields
    assert events(running) == []


def test_only_a_stepped_up_session_of_a_deciding_role_decides(running: Running) -> None:
    merchant = held_merchant(running)
    viewer = session_of(running, "ops.viewer", apb.OPERATOR_ROLE_VIEWER)
    code, reason, _ = refusal(decide, running.identity, merchant.merchant_code, viewer, pb.HOLD_DECISION_RELEASE)
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED")
    officer = session_of(running, "cmp.officer", apb.OPERATOR_ROLE_COMPLIANCE_OFFICER)
    code, reason, _ = refusal(decide, running.stale, merchant.merchant_code, officer, pb.HOLD_DECISION_RELEASE)
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "STEP_UP_REQUIRED")
    code, reason, _ = refusal(decide, running.identity, merchant.merchant_code, "0123456789abcdef", 1)
    assert code == grpc.StatusCode.PERMISSION_DENIED
    shown = running.identity.GetMerchant(pb.GetMerchantRequest(merchant_code=merchant.merchant_code), timeout=10)
    assert shown.merchant.status == pb.MERCHANT_STATUS_REVIEW and not shown.merchant.hold_decisions


def test_bad_decisions_name_their_fields(running: Running) -> None:
    code, _, fields = refusal(
        running.identity.DecideMerchantHold,
        pb.DecideMerchantHoldRequest(merchant_code="nope", reason="", session_id=""),
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert {"request_id", "merchant_code", "decision", "reason", "session_id"} <= set(fields)


def test_an_unknown_merchant_is_not_found(running: Running) -> None:
    from services.shared import codes

    admin = session_of(running, "ops.admin", apb.OPERATOR_ROLE_ADMIN)
    code, _, _ = refusal(decide, running.identity, codes.generate("MC"), admin, pb.HOLD_DECISION_RELEASE)
    assert code == grpc.StatusCode.NOT_FOUND


def test_a_held_partner_is_released_and_its_history_shown(running: Running) -> None:
    officer = session_of(running, "cmp.officer", apb.OPERATOR_ROLE_COMPLIANCE_OFFICER)
    partner = running.partners.OnboardPartner(
        ppb.OnboardPartnerRequest(
            request_id=str(uuid.uuid4()),
            legal_name="Parcel Express REVIEW",
            kind=ppb.PARTNER_KIND_LOGISTICS,
            country="DE",
            owns=["hermes"],
        ),
        timeout=10,
    ).partner
    assert partner.status == ppb.PARTNER_STATUS_REVIEW
    request = ppb.DecidePartnerHoldRequest(
        request_id="partner-release",
        partner_code=partner.partner_code,
        decision=pb.HOLD_DECISION_RELEASE,
        reason="confirmed with the carrier's registry",
        session_id=officer,
    )
    released = running.partners.DecidePartnerHold(request, timeout=10).partner
    assert released.status == ppb.PARTNER_STATUS_ACTIVE
    shown = running.partners.GetPartner(ppb.GetPartnerRequest(partner_code=partner.partner_code), timeout=10).partner
    assert [(d.previous_status, d.status, d.decided_by) for d in shown.hold_decisions] == [
        ("REVIEW", "ACTIVE", "cmp.officer")
    ]
    assert running.partners.DecidePartnerHold(request, timeout=10).partner == released
    code, _, fields = refusal(
        running.partners.DecidePartnerHold,
        ppb.DecidePartnerHoldRequest(
            request_id="another",
            partner_code=partner.partner_code,
            decision=pb.HOLD_DECISION_REJECT,
            reason="changed my mind",
            session_id=officer,
        ),
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "partner_code" in fields
    [event] = events(running)
    assert event["partner_code"] == partner.partner_code and "merchant_code" not in event
