"""Decide on a held merchant or partner: release it or reject it, recorded and announced. Commits here only.

The decider is the ops session the gateway names (the caller's own; `xborder merchants release` names the
session whose token it was given). Its role must be one that decides (domain/holds.py `DECIDERS`) and its
last second factor within the step-up window, checked here as well as at the gateway, so no door (the
gateway, the CLI, a service calling identity directly) decides without both. The new status, the decision
row and the `hold_decided` event commit together; a replay of the request answers the first decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message
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
R = TypeVar("R", bound=Message)


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


@dataclass(frozen=True)
class Held(Generic[R]):
    """What a decision on one kind of entity's hold reads, writes and answers."""

    entity: Entity
    scope: str
    """The idempotency scope's prefix (the entity's code follows it)."""
    registrations: Callable[[IdentityUnitOfWork], Any]
    """The repository of the entity: `lock(code)` and `save_status(entity)`."""
    response: type[R]
    answer: Callable[[IdentityUnitOfWork, Any, list[HoldDecision]], R]
    """The response carrying the entity after the decision, with every decision on its hold."""


MERCHANT: Held[pb.DecideMerchantHoldResponse] = Held(
    Entity.MERCHANT,
    "identity.hold",
    lambda uow: uow.merchants,
    pb.DecideMerchantHoldResponse,
    lambda uow, merchant, decisions: pb.DecideMerchantHoldResponse(merchant=merchant_to_proto(merchant, decisions)),
)
PARTNER: Held[ppb.DecidePartnerHoldResponse] = Held(
    Entity.PARTNER,
    "identity.partner-hold",
    lambda uow: uow.partners,
    ppb.DecidePartnerHoldResponse,
    lambda uow, partner, decisions: ppb.DecidePartnerHoldResponse(
        partner=partner_to_proto(partner, uow.partners.certificates(partner.partner_code), decisions)
    ),
)


def decide_hold(
    uow_factory: UowFactory,
    held: Held[R],
    request: pb.DecideMerchantHoldRequest | ppb.DecidePartnerHoldRequest,
    code: str,
    decision: Decision,
    reason: str,
    window: timedelta,
) -> R:
    """Release or reject the held merchant or partner `code` (`held` says which), from the request's session."""
    ask = Request(f"{held.scope}:{code}", request.request_id, fingerprint(request))
    noun = held.entity.value

    def work(uow: IdentityUnitOfWork) -> R:
        now = utcnow()
        by = decider(uow, request.session_id, window, now)
        registrations = held.registrations(uow)
        found = registrations.lock(code)
        if found is None:
            raise NotFound(f"no {noun} {code}", field=f"{noun}_code")
        decided = holds.decide(held.entity, code, found.status, decision, reason, by, now)
        changed = found.with_status(decided.status)
        registrations.save_status(changed)
        return held.answer(uow, changed, _record(uow, decided))

    return run_idempotent(uow_factory, ask, held.response, work)
