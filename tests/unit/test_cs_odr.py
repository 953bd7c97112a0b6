"""The ODR status machine, the negotiation window, the case file's contents and the delivery backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.customer_service.adapters.odr_providers import FileDropProvider, ProviderUnavailable
from services.customer_service.domain.errors import IllegalTransition
from services.customer_service.domain.odr import (
    CLOSING,
    ODR_TRANSITIONS,
    Claim,
    OdrCase,
    OdrStatus,
    OdrStatusChange,
    Party,
    Remedy,
    backoff,
    case_file,
    due_for_escalation,
)
from services.customer_service.domain.tickets import (
    Attachment,
    AuthorKind,
    Link,
    LinkKind,
    Message,
    Priority,
    Status,
    StatusChange,
    Ticket,
    TicketType,
    Visibility,
)
from services.customer_service.settings import CustomerServiceSettings
from services.shared.errors import ConfigurationError

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def a_ticket(ticket_type: TicketType = TicketType.NOT_RECEIVED, status: Status = Status.OPEN) -> Ticket:
    history: tuple[StatusChange, ...] = (StatusChange(Status.NEW, T0, T0, 1, "opened"),)
    if status is not Status.NEW:
        history += (StatusChange(status, T0 + timedelta(hours=1), T0 + timedelta(hours=1), 2),)
    return Ticket(
        code="TKG0000000000000001",
        merchant_code="MCG000000000000001",
        type=ticket_type,
        subject="Parcel lost",
        priority=Priority.NORMAL,
        created_at=T0,
        history=history,
        links=(Link(LinkKind.ORDER, "DD1"), Link(LinkKind.COLLECTION, "PY1")),
        messages=(
            Message(1, AuthorKind.CUSTOMER, "MC", Visibility.PUBLIC, "Where is it?", T0),
            Message(2, AuthorKind.AGENT, "a1", Visibility.INTERNAL, "carrier lost it", T0),
            Message(
                3,
                AuthorKind.CUSTOMER,
                "MC",
                Visibility.PUBLIC,
                "photo",
                T0,
                (Attachment("p.jpg", "image/jpeg", "ab" * 32, 1234),),
            ),
        ),
    )


def case_in(status: OdrStatus) -> OdrCase:
    return OdrCase("TK", "MC", "file", 1, T0, "r", (OdrStatusChange(status, T0, 1),))


@given(st.lists(st.sampled_from(list(OdrStatus)), max_size=12))
def test_a_case_only_moves_along_its_transitions_and_ends_for_good(reports: list[OdrStatus]) -> None:
    case = case_in(OdrStatus.SUBMITTED)
    for status in reports:
        before = case.status
        try:
            moved = case.next(status)
        except IllegalTransition as illegal:
            assert status not in ODR_TRANSITIONS[before] and status is not before
            assert (illegal.metadata["from"], illegal.metadata["to"]) == (before.value, status.value)
            continue
        if moved is None:
            assert status is before  # a repeated report changes nothing
            continue
        assert moved in ODR_TRANSITIONS[before] and before not in CLOSING
        case = OdrCase(case.ticket_code, "MC", "file", 1, T0, "r", (*case.history, OdrStatusChange(moved, T0, 0)))


def test_the_stages_go_forward_and_a_decision_needs_the_final_stage() -> None:
    with pytest.raises(IllegalTransition, match="from FACILITATION to NEGOTIATION"):
        case_in(OdrStatus.FACILITATION).next(OdrStatus.NEGOTIATION)
    with pytest.raises(IllegalTransition):
        case_in(OdrStatus.NEGOTIATION).next(OdrStatus.DECIDED)
    assert case_in(OdrStatus.FINAL_STAGE).next(OdrStatus.DECIDED) is OdrStatus.DECIDED
    assert case_in(OdrStatus.SETTLED).next(OdrStatus.SETTLED) is None


def test_the_window_counts_calendar_days_from_opening_for_disputes_only() -> None:
    window = timedelta(days=10)
    assert not due_for_escalation(a_ticket(), T0 + timedelta(days=9, hours=23), window)
    assert due_for_escalation(a_ticket(), T0 + window, window)
    assert not due_for_escalation(a_ticket(TicketType.CONSULTATION), T0 + window, window)
    assert not due_for_escalation(a_ticket(status=Status.SOLVED), T0 + window, window)
    assert due_for_escalation(a_ticket(status=Status.PENDING), T0 + window, window)


def test_the_case_file_carries_public_evidence_hashes_and_the_consent_version() -> None:
    body = case_file(
        a_ticket(),
        version=1,
        provider="file",
        parties=(Party("CLAIMANT", "DE", "de", "b@example.org"), Party("RESPONDENT", "", "", "", "MCG1")),
        claim=Claim(Remedy.REFUND),
        consent_version="odr-consent-1",
        negotiation_days=10,
        created_at=T0 + timedelta(days=12),
    )
    assert body["consent_version"] == "odr-consent-1" and body["case"]["version"] == 1
    assert body["transaction"]["orders"] == ["DD1"] and body["transaction"]["collections"] == ["PY1"]
    assert body["transaction"]["amount"] is None
    assert [m["sequence"] for m in body["evidence"]["messages"]] == [1, 3]  # no internal note
    assert body["evidence"]["messages"][1]["attachments"][0] == {
        "filename": "p.jpg",
        "content_type": "image/jpeg",
        "sha256": "ab" * 32,
        "size_bytes": 1234,
    }
    assert body["claim"]["statement"] == "Where is it?"
    assert body["negotiation"]["days_elapsed"] == 12 and body["negotiation"]["customer_messages"] == 2
    assert body["parties"][1]["merchant_code"] == "MCG1" and "merchant_code" not in body["parties"][0]


@given(st.integers(min_value=1, max_value=10_000))
def test_backoff_doubles_and_is_capped(attempts: int) -> None:
    base, ceiling = timedelta(seconds=60), timedelta(hours=1)
    wait = backoff(attempts, base, ceiling)
    assert base <= wait <= ceiling
    assert backoff(attempts + 1, base, ceiling) in (min(wait * 2, ceiling), ceiling)


def test_settings_default_to_iso_32122s_ten_days_and_check_the_provider() -> None:
    assert CustomerServiceSettings.from_env({}).odr_negotiation_days == 10
    assert CustomerServiceSettings.from_env({"XB_ODR_NEGOTIATION_DAYS": "14"}).odr_negotiation_days == 14
    with pytest.raises(ConfigurationError, match="XB_ODR_NEGOTIATION_DAYS"):
        CustomerServiceSettings.from_env({"XB_ODR_NEGOTIATION_DAYS": "0"})
    with pytest.raises(ConfigurationError, match="XB_ODR_HTTP_URL"):
        CustomerServiceSettings.from_env({"XB_ODR_PROVIDER": "http"})
    with pytest.raises(ConfigurationError, match="XB_ODR_PROVIDER"):
        CustomerServiceSettings.from_env({"XB_ODR_PROVIDER": "eu-platform"})


def test_a_drop_directory_that_cannot_be_written_is_a_provider_that_is_down(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("x")
    with pytest.raises(ProviderUnavailable):
        FileDropProvider(blocked / "odr").submit({"case": {"ticket_code": "TK1", "version": 1}})
    assert FileDropProvider(tmp_path / "odr").submit({"case": {"ticket_code": "TK1", "version": 1}}) == "TK1-v1.json"
