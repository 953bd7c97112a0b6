"""Decide on a held merchant or partner: release it or reject it, recorded and announced. Commits here only.

The decider is the ops session the gateway names (the caller's own; `xborder merchants release` names the
session whose token it was given). Its role must be one that decides (domain/holds.py `DECIDERS`) and its
last second factor within the step-up window, checked here as well as at the gateway, so no door (the
gateway, the CLI, a service calling identity directly) decides without both. The new status, the decision
row and the `hold_decided` event commit together; a replay of the request answers the first decision.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from xborder.identity.v1 import events_pb2
from xborder.identity.v1 import identity_service_pb2 as pb
from xborder.identity.v1 import partner_service_pb2 as ppb

from services.identity.domain import holds
from services.identity.domain.holds import Decision, Entity, HoldDecision
from services.identity.service_layer.mapping import DECISION_TO_PROTO, merchant_to_proto
from services.identity.service_layer.partners import partner_to_proto
from services.identity.service_layer.uow import IdentityUnitOfWork
from services.shared.clock import utcnow
from services.shared.errors import NotFound, PermissionDenied, StepUpRequired
from services.shared.idempotency import Request, fingerprint, run_idempotent

UowFactory = Callable[[], IdentityUnitOfWork]


def decider(uow: IdentityUnitOfWork, session_id: str, window: timedelta, now: datetime) -> str:
    """The login deciding through `session_id`: a current session of a role that decides, stepped up."""
    session = uow.sessions.get(session_id) if session_id else None
    operator = uow.operators.get(session.login) if session is not None else None
    if session is None or operator is None or operator.disabled_at is not None or not session.valid_at(now):
        raise PermissionDenied("a decision on a hold is made from a current ops session (xborder operators login)")
    if session.role not in holds.DECIDERS:
        raise PermissionDenied("only a compliance officer or an admin decides on a hold")
    until = session.step_up_until(window)  # None: a single sign-on session that has no second factor yet
    if until is None or now >= until:
        raise StepUpRequired(
            "this call needs a recent second factor: POST /v1/operators/sessions:step-up with a fresh TOTP code"
        )
    return session.login


def _event(decided: HoldDecision) -> events_pb2.HoldDecided:
    merchant = decided.code if decided.entity is Entity.MERCHANT else ""
    partner = decided.code if decided.entity is Entity.PARTNER else ""
    return events_pb2.HoldDecided(
        merchant_code=merchant,
        partner_code=partner,
        decision=DECISION_TO_PROTO[decided.decision],
        previous_status=decided.previous_status.value,
        status=decided.status.value,
        decided_by=decided.decided_by,
    )


def _record(uow: IdentityUnitOfWork, decided: HoldDecision) -> list[HoldDecision]:
    uow.holds.add(decided)
    uow.emit(_event(decided))
    return uow.holds.of(decided.entity, decided.code)


def decide_merchant_hold(
    uow_factory: UowFactory,
    request: pb.DecideMerchantHoldRequest,
    merchant_code: str,
    decision: Decision,
    reason: str,
    window: timedelta,
) -> pb.DecideMerchantHoldResponse:
    ask = Request(f"identity.hold:{merchant_code}", request.request_id, fingerprint(request))

    def work(uow: IdentityUnitOfWork) -> pb.DecideMerchantHoldResponse:
        now = utcnow()
        by = decider(uow, request.session_id, window, now)
        merchant = uow.merchants.lock(merchant_code)
        if merchant is None:
            raise NotFound(f"no merchant {merchant_code}", field="merchant_code")
        decided = holds.decide(Entity.MERCHANT, merchant_code, merchant.status, decision, reason, by, now)
        merchant = merchant.with_status(decided.status)
        uow.merchants.save_status(merchant)
        return pb.DecideMerchantHoldResponse(merchant=merchant_to_proto(merchant, _record(uow, decided)))

    return run_idempotent(uow_factory, ask, pb.DecideMerchantHoldResponse, work)


def decide_partner_hold(
    uow_factory: UowFactory,
    request: ppb.DecidePartnerHoldRequest,
    partner_code: str,
    decision: Decision,
    reason: str,
    window: timedelta,
) -> ppb.DecidePartnerHoldResponse:
    ask = Request(f"identity.partner-hold:{partner_code}", request.request_id, fingerprint(request))

    def work(uow: IdentityUnitOfWork) -> ppb.DecidePartnerHoldResponse:
        now = utcnow()
        by = decider(uow, request.session_id, window, now)
        partner = uow.partners.lock(partner_code)
        if partner is None:
            raise NotFound(f"no partner {partner_code}", field="partner_code")
        decided = holds.decide(Entity.PARTNER, partner_code, partner.status, decision, reason, by, now)
        partner = partner.with_status(decided.status)
        uow.partners.save_status(partner)
        certificates = uow.partners.certificates(partner_code)
        return ppb.DecidePartnerHoldResponse(partner=partner_to_proto(partner, certificates, _record(uow, decided)))

    return run_idempotent(uow_factory, ask, ppb.DecidePartnerHoldResponse, work)
