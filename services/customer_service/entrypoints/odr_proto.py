"""ODR cases to and from proto: the case view, parties and outcomes."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from xborder.customer_service.v1 import customer_service_pb2 as pb

from services.customer_service.domain.odr import OdrStatus, Outcome, Party, Remedy
from services.customer_service.service_layer.odr import OdrView
from services.shared import request_fields
from services.shared.errors import Violations
from services.shared.money import Money, to_proto

ODR_STATUSES = {s: getattr(pb, f"ODR_STATUS_{s.value}") for s in OdrStatus}
REMEDIES = {r: getattr(pb, f"ODR_REMEDY_{r.value}") for r in Remedy}
ROLES = ("CLAIMANT",)
CONTACT_MAX = 200


def _stamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def case_to_proto(view: OdrView) -> pb.OdrCase:
    case = view.case
    message = pb.OdrCase(
        ticket_code=case.ticket_code,
        merchant_code=case.merchant_code,
        provider=case.provider,
        status=ODR_STATUSES[case.status],
        history=[
            pb.OdrStatusEntry(
                status=ODR_STATUSES[c.status],
                recorded_at=_stamp(c.recorded_at),
                note=c.note,
                provider_reference=c.provider_reference,
            )
            for c in case.history
        ],
        escalated_at=_stamp(case.escalated_at),
        reason=case.reason,
        case_file_json=view.case_file_json,
        case_file_sha256=view.case_file_sha256,
    )
    if case.outcome is not None:
        outcome = pb.OdrOutcome(summary=case.outcome.summary, refund_collection_code=case.outcome.refund_collection)
        if case.outcome.refund_amount is not None:
            outcome.refund.CopyFrom(to_proto(Money.of(case.outcome.refund_amount, case.outcome.refund_currency)))
        message.outcome.CopyFrom(outcome)
    delivery = view.delivery
    if delivery is not None:
        message.delivery.CopyFrom(
            pb.OdrDelivery(
                version=delivery.version,
                attempts=delivery.attempts,
                last_error=delivery.last_error,
                provider_reference=delivery.provider_reference,
            )
        )
        if delivery.delivered_at is not None:
            message.delivery.delivered_at.CopyFrom(_stamp(delivery.delivered_at))
        else:
            message.delivery.next_attempt_at.CopyFrom(_stamp(delivery.next_attempt_at))
    return message


def party(message: pb.OdrParty, field: str, violations: Violations) -> Party:
    """The claimant as sent: country ISO 3166-1 alpha-2, language a BCP 47 tag, contact an address or number."""
    role = message.role.strip().upper() or "CLAIMANT"
    if role not in ROLES:
        violations.add(f"{field}.role", f"must be CLAIMANT (the merchant is always the respondent), got {role!r}")
    country = message.country.strip().upper()
    if country and not (len(country) == 2 and country.isalpha() and country.isascii()):
        violations.add(f"{field}.country", f"an ISO 3166-1 alpha-2 code, got {message.country!r}")
    language = message.language.strip()
    if language and not all(part.isalnum() and part.isascii() and 1 <= len(part) <= 8 for part in language.split("-")):
        violations.add(f"{field}.language", f"a BCP 47 tag like zh-CN, got {message.language!r}")
    contact = message.contact.strip()
    if len(contact) > CONTACT_MAX:
        violations.add(f"{field}.contact", f"at most {CONTACT_MAX} characters")
    return Party(role, country, language, contact)


def outcome(message: pb.OdrOutcome, field: str, violations: Violations) -> Outcome:
    summary = message.summary.strip()
    if not summary:
        violations.add(f"{field}.summary", "is required")
    amount = None
    collection = ""
    if message.HasField("refund"):
        amount = request_fields.money(message.refund, violations, f"{field}.refund", positive=True)
        collection = request_fields.unified_code(
            message.refund_collection_code, f"{field}.refund_collection_code", violations, "PY"
        )
    elif message.refund_collection_code:
        violations.add(f"{field}.refund_collection_code", "only with a refund")
    return Outcome(
        summary,
        None if amount is None else amount.amount,
        "" if amount is None else amount.currency,
        collection,
    )
