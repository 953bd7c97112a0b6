"""Risk alerts: re-check on change, and the merchant's view of the alerts raised.

`rules_published` and `list_updated` (a sanctions list's or the screening configuration's new version) are
each handled in ONE transaction: the event's claim, the updated verdicts of the re-checked subjects, the
alert rows and their `risk_alert_raised` events in the outbox.
A crash anywhere rolls all of it back and the redelivered event does the whole work again, so an alert is
never lost nor raised twice; the unique (cause, subject) key of the alert table backs this up if the same
change arrives under another event id. One transaction per event is the batch: a rule change touching
10% of 100k stored checks commits ~10k alert rows at once (benchmarks/bench_recheck.py measures it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message
from xborder.compliance.v1 import events_pb2

from services.compliance.adapters.reference_views import CheckViews
from services.compliance.adapters.sanctions_index import SanctionsIndex
from services.compliance.adapters.sanctions_store import list_change
from services.compliance.adapters.screening_config import CONFIG_NAMES
from services.compliance.adapters.unit_of_work import ComplianceUnitOfWork
from services.compliance.domain import alerts as domain
from services.compliance.domain.alerts import AlertStatus, RiskAlert, SubjectKind
from services.compliance.service_layer.product_checks import affected_by, recheck_in
from services.compliance.service_layer.screening import rescreen_all, rescreen_parties
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import NotFound, found_or_raise
from services.shared.events import parse_payload
from services.shared.idempotency import Request, run_idempotent
from services.shared.logs import get_logger

UowFactory = Callable[[], ComplianceUnitOfWork]
RECHECK_ON_RULES = "compliance.recheck_on_rules_published"
RESCREEN_ON_LIST = "compliance.rescreen_on_list_updated"
ACKNOWLEDGE_SCOPE = "compliance.acknowledge_risk_alert"

M = TypeVar("M", bound=Message)
E = TypeVar("E", bound=Message)  # an incoming event's message type

log = get_logger(__name__)


def _zone(merchant_code: str) -> str:
    # The alert lives where its merchant's master record lives (third character of the unified code).
    return merchant_code[2] if len(merchant_code) == codes.CODE_LENGTH else "G"


def alert_event(
    alert: RiskAlert, *, library_version: int = 0, list_name: str = "", list_version: str = ""
) -> events_pb2.RiskAlertRaised:
    message = events_pb2.RiskAlertRaised(
        alert_code=alert.code,
        merchant_code=alert.merchant_code,
        subject_kind=alert.subject_kind.value,
        subject_code=alert.subject_code,
        party_name=alert.party_name,
        destination=alert.destination,
        old_verdict=alert.old_verdict,
        new_verdict=alert.new_verdict,
        cause=alert.cause,
        library_version=library_version,
        list_name=list_name,
        list_version=list_version,
        reason=alert.reason,
    )
    message.occurred_at.FromDatetime(alert.raised_at)
    return message


def _raise(uow: ComplianceUnitOfWork, alerts: list[RiskAlert], **event_fields: Any) -> list[RiskAlert]:
    """Store the alerts not yet raised for their cause and put one event per alert in the outbox."""
    if not alerts:
        return []
    already = uow.alerts.raised_for(alerts[0].cause, [a.subject_code for a in alerts])
    fresh = [a for a in alerts if a.subject_code not in already]
    uow.alerts.add_all(fresh)
    for alert in fresh:
        uow.emit(alert_event(alert, **event_fields))
    return fresh


def _readable(payload: dict[str, Any], message_type: type[E], consumer: str) -> E | None:
    """The event as the message it is, or None (logged) when it cannot be one."""
    try:
        message = parse_payload(payload, message_type)
    except (json_format.ParseError, ValueError) as error:
        # Retrying cannot repair it, and raising would hold back every later event of the producer.
        log.error("event_unreadable", consumer=consumer, error=str(error))
        return None
    if not getattr(message, "event_id", ""):
        log.error("event_unreadable", consumer=consumer, error="no event_id")
        return None
    return message


def on_rules_published(
    uow_factory: UowFactory, views: CheckViews, payload: dict[str, Any], *, now: Callable[[], datetime] = utcnow
) -> list[RiskAlert]:
    """Re-check the stored checks a new library version affects; alert on each verdict that got worse."""
    message = _readable(payload, events_pb2.RulesPublished, RECHECK_ON_RULES)
    if message is None:
        return []
    destinations, prefixes = affected_by(message.changes)
    with uow_factory() as uow:
        if not uow.claim_event(RECHECK_ON_RULES, message.event_id):
            return []
        raised: list[RiskAlert] = []
        if destinations:
            at = now()
            cause = domain.rules_cause(message.version)
            candidates = [
                RiskAlert(
                    code=codes.generate(domain.CODE_TYPE, _zone(r.merchant_code), at=at),
                    merchant_code=r.merchant_code,
                    subject_kind=SubjectKind.PRODUCT_CHECK,
                    subject_code=r.check_code,
                    party_name="",
                    destination=r.destination,
                    old_verdict=r.old_verdict,
                    new_verdict=r.new_verdict,
                    cause=cause,
                    reason=domain.check_reason(r.destination, r.old_verdict, r.new_verdict, message.version),
                    raised_at=at,
                )
                for r in recheck_in(uow, views, message.version, destinations, prefixes)
                if domain.verdict_worsened(r.old_verdict, r.new_verdict)
            ]
            raised = _raise(uow, candidates, library_version=message.version)
        uow.commit()
    log.info("rules_rechecked", library_version=message.version, alerts=len(raised))
    return raised


def on_list_updated(
    uow_factory: UowFactory,
    index: SanctionsIndex,
    payload: dict[str, Any],
    *,
    now: Callable[[], datetime] = utcnow,
) -> list[RiskAlert]:
    """Re-screen the stored parties a list change affects; alert on each decision that got worse.

    The screening configuration's datasets (thresholds, variant table) announce a new version with the
    same event and no entry ids: every stored party is re-screened then, since any may be affected.
    """
    message = _readable(payload, events_pb2.ListUpdated, RESCREEN_ON_LIST)
    if message is None:
        return []
    if not message.old_version:
        # A list's first import: no stored screening can predate it (screening refuses until every list is
        # loaded), so there is nothing to re-screen, and the lists may not all be loaded yet.
        with uow_factory() as uow:
            uow.claim_event(RESCREEN_ON_LIST, message.event_id)
            uow.commit()
        return []
    with uow_factory() as uow:  # a peek, rolled back: a redelivered event skips the costly re-screen
        if not uow.claim_event(RESCREEN_ON_LIST, message.event_id):
            return []
    # The index of this process may predate the import that emitted the event: make it reload.
    if index.get().versions.get(message.list_name) != message.new_version:
        index.invalidate()
    if message.list_name in CONFIG_NAMES:
        rescreened = rescreen_all(uow_factory, index)
    else:
        rescreened = rescreen_parties(uow_factory, index, list_change(message))
    at = now()
    cause = domain.list_cause(message.list_name, message.new_version)
    with uow_factory() as uow:
        if not uow.claim_event(RESCREEN_ON_LIST, message.event_id):
            return []  # a concurrent copy of this event committed while we screened
        screenings = uow.screenings
        candidates = []
        for r in rescreened:
            if r.new_decision != r.old_decision:
                hit_ids = [f"{h.entry.list_name}:{h.entry.entry_id}" for h in r.hits]
                screenings.update_decision(r.code, r.new_decision, hit_ids)
            if not domain.decision_worsened(r.old_decision, r.new_decision):
                continue
            stored = screenings.get(r.code)
            name = stored.query.name if stored is not None else ""
            candidates.append(
                RiskAlert(
                    code=codes.generate(domain.CODE_TYPE, _zone(r.merchant_code), at=at),
                    merchant_code=r.merchant_code,
                    subject_kind=SubjectKind.SCREENING,
                    subject_code=r.code,
                    party_name=name,
                    destination="",
                    old_verdict=r.old_decision.name,
                    new_verdict=r.new_decision.name,
                    cause=cause,
                    reason=domain.screening_reason(name, r.old_decision, r.new_decision, message.list_name),
                    raised_at=at,
                )
            )
        raised = _raise(uow, candidates, list_name=message.list_name, list_version=message.new_version)
        uow.commit()
    log.info("parties_rescreened", list_name=message.list_name, rescreened=len(rescreened), alerts=len(raised))
    return raised


def get_alert(uow_factory: UowFactory, code: str) -> RiskAlert:
    with uow_factory() as uow:
        return found_or_raise(uow.alerts.get(code), f"no risk alert {code}", field="code")


def list_alerts(
    uow_factory: UowFactory, merchant_code: str, status: AlertStatus | None, offset: int, size: int
) -> tuple[list[RiskAlert], bool]:
    """One page of a merchant's alerts, newest first, and whether more follow."""
    with uow_factory() as uow:
        page = uow.alerts.for_merchant(merchant_code, status, offset, size + 1)
    return page[:size], len(page) > size


@dataclass(frozen=True)
class Acknowledge:
    request_id: str
    code: str
    fingerprint: str


def acknowledge_alert(
    uow_factory: UowFactory,
    command: Acknowledge,
    render: Callable[[RiskAlert], M],
    response_type: type[M],
    *,
    now: Callable[[], datetime] = utcnow,
) -> M:
    """ACKNOWLEDGED (idempotent on request_id: a retry replays the first answer byte for byte).

    `render` maps the acknowledged alert to the response that is remembered and returned.
    """
    at = now()

    def work(uow: ComplianceUnitOfWork) -> M:
        alert = uow.alerts.get(command.code)
        if alert is None:
            raise NotFound(f"no risk alert {command.code}", field="code")
        acknowledged = alert.acknowledged(at)
        if acknowledged is not alert:
            uow.alerts.save_status(acknowledged)
        return render(acknowledged)

    request = Request(ACKNOWLEDGE_SCOPE, command.request_id, command.fingerprint)
    return run_idempotent(uow_factory, request, response_type, work)
