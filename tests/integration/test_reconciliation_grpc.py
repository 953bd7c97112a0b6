"""ReconciliationService over real gRPC (port 0), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from xborder.payments.v1 import reconciliation_service_pb2 as pb
from xborder.payments.v1 import reconciliation_service_pb2_grpc as pb_grpc

from services.payments.reconciliation.adapters.tables import reconciliation_runs, settlement_lines
from services.shared import codes
from services.shared.money import from_proto
from services.shared.settings import Settings
from tests.reconciliation_fixtures import EXAMPLE, post, seed_example_ledger, unique_partner
from tests.servers import Running, rejected, running_service

R = pb.ReconciliationOutcome


@pytest.fixture(scope="module")
def service(module_any_settings: Settings) -> Iterator[Running]:
    # Shared per backend; each test reconciles a partner of its own, so they do not see each other.
    with running_service(module_any_settings, "payments", pb_grpc.ReconciliationServiceStub) as running:
        yield running


def import_file(service: Running, partner: str, content: bytes, request_id: str = "r-1", **extra: str):
    return service.stub.ImportSettlementStatement(
        pb.ImportSettlementStatementRequest(
            request_id=request_id, partner=partner, statement=content, file_name="stmt.csv", **extra
        )
    )


def outcomes(run: pb.Reconciliation) -> dict[str, str]:
    return {f"{i.reference}": R.Name(i.outcome).removeprefix("RECONCILIATION_OUTCOME_") for i in run.items}


def stored(service: Running, partner: str) -> tuple[int, int]:
    with service.context.engine.connect() as connection:
        runs = connection.execute(
            sa.select(sa.func.count()).select_from(reconciliation_runs).where(reconciliation_runs.c.partner == partner)
        ).scalar_one()
        lines = connection.execute(
            sa.select(sa.func.count()).select_from(settlement_lines).where(settlement_lines.c.partner == partner)
        ).scalar_one()
    return runs, lines


def test_example_statement_reports_matched_missing_and_mismatched(service: Running) -> None:
    partner = unique_partner()
    txns = seed_example_ledger(service.context, partner)
    answer = import_file(service, partner.lower(), EXAMPLE.read_bytes())
    run = answer.reconciliation
    assert not answer.already_imported
    assert codes.parse(run.code, entity_type="RC")
    assert (run.partner, run.period_start, run.period_end) == (partner, "2026-11-30", "2026-11-30")
    assert outcomes(run) == {
        "PSP-CH-1001": "MATCHED",  # 120.00 - 3.78 on the statement, one net posting pair in the ledger
        "PSP-CH-1002": "MISMATCHED",  # 80.00 vs 79.00 USD
        "PSP-CH-1003": "MISMATCHED",  # JPY vs CNY
        "PSP-CH-1005": "MATCHED",  # KWD, three decimals
        "PSP-RF-2001": "MISSING_IN_LEDGER",
        "PSP-CH-1004": "MISSING_IN_STATEMENT",  # PSP-CH-0500 is outside the period: not reported
    }
    s = run.summary
    assert (s.lines, s.matched, s.mismatched, s.missing_in_ledger, s.missing_in_statement, s.duplicate) == (
        6, 2, 2, 1, 1, 0,
    )  # fmt: skip
    by_ref = {i.reference: i for i in run.items}
    assert str(from_proto(by_ref["PSP-CH-1001"].ledger_amount)) == "116.22 EUR"
    assert list(by_ref["PSP-CH-1001"].transaction_codes) == [txns["PSP-CH-1001"]]
    assert "difference 1.00 USD" in by_ref["PSP-CH-1002"].detail
    assert list(by_ref["PSP-CH-1004"].transaction_codes) == [txns["PSP-CH-1004"]]
    got = service.stub.GetReconciliation(pb.GetReconciliationRequest(code=run.code)).reconciliation
    assert got == run


def test_importing_the_same_file_again_stores_nothing_and_answers_the_first_run(service: Running) -> None:
    partner = unique_partner()
    seed_example_ledger(service.context, partner)
    first = import_file(service, partner, EXAMPLE.read_bytes(), "first")
    assert stored(service, partner) == (1, 6)
    replay = import_file(service, partner, EXAMPLE.read_bytes(), "first")
    assert replay.SerializeToString() == first.SerializeToString()
    again = import_file(service, partner, EXAMPLE.read_bytes(), "second")
    assert again.already_imported and again.reconciliation == first.reconciliation
    assert stored(service, partner) == (1, 6)
    # One event for the one run, through the outbox, with the counts.
    service.context.relay.drain()
    (event,) = [
        e
        for e in service.bus.published
        if e.event_type == "settlement_statement_reconciled" and e.payload["partner"] == partner
    ]
    assert event.payload["reconciliation_code"] == first.reconciliation.code
    assert (event.payload["matched"], event.payload["missing_in_ledger"]) == (2, 1)


def test_same_request_id_with_another_file_is_refused(service: Running) -> None:
    partner = unique_partner()
    import_file(service, partner, EXAMPLE.read_bytes(), "k")
    other = EXAMPLE.read_bytes().replace(b"120.00", b"121.00")
    with pytest.raises(grpc.RpcError) as refused:
        import_file(service, partner, other, "k")
    assert rejected(refused.value)[1] == "IDEMPOTENCY_CONFLICT"


def test_an_overlapping_statement_counts_earlier_lines_as_duplicates(service: Running) -> None:
    partner = unique_partner()
    merchant = codes.generate("MC", "E")
    post(service.context, partner, merchant, "A-1", "10.00", "EUR")
    post(service.context, partner, merchant, "A-2", "20.00", "EUR")
    header = b"line_id,value_date,reference,type,currency,amount,description\n"
    day1 = header + b"L1,2026-11-30,A-1,COLLECTION,EUR,10.00,\n"
    day2 = day1 + b"L2,2026-11-30,A-2,COLLECTION,EUR,20.00,\n"  # repeats L1
    first = import_file(service, partner, day1, "d1").reconciliation
    # A-2 is in the ledger but not on the first statement.
    assert outcomes(first) == {"A-1": "MATCHED", "A-2": "MISSING_IN_STATEMENT"}
    second = import_file(service, partner, day2, "d2").reconciliation
    assert outcomes(second) == {"A-1": "DUPLICATE", "A-2": "MATCHED"}
    assert second.summary.duplicate == 1 and second.summary.matched == 1
    assert stored(service, partner) == (2, 2)  # L1 stored once


def test_concurrent_imports_of_one_file_store_one_run(service: Running) -> None:
    partner = unique_partner()
    seed_example_ledger(service.context, partner)
    answers: list[pb.ImportSettlementStatementResponse] = []
    errors: list[Exception] = []

    def call(n: int) -> None:
        try:
            answers.append(import_file(service, partner, EXAMPLE.read_bytes(), f"c-{n}"))
        except grpc.RpcError as error:
            errors.append(error)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({a.reconciliation.code for a in answers}) == 1
    assert sorted(a.already_imported for a in answers) == [False, True, True, True, True]
    assert stored(service, partner) == (1, 6)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"statement": b"line_id,value_date\nx,2026-11-30\n"}, "statement"),
        ({"statement": b""}, "statement"),
        ({"partner": "no spaces please"}, "partner"),
        ({"request_id": ""}, "request_id"),
        ({"period_start": "2026/11/01"}, "period_start"),
        ({"period_start": "2026-12-01", "period_end": "2026-11-01"}, "period_end"),
    ],
)
def test_bad_imports_name_the_field_and_store_nothing(service: Running, fields: dict, field: str) -> None:
    partner = unique_partner()
    body = {"request_id": "bad", "partner": partner, "statement": EXAMPLE.read_bytes(), **fields}
    with pytest.raises(grpc.RpcError) as invalid:
        service.stub.ImportSettlementStatement(pb.ImportSettlementStatementRequest(**body))
    status, _, violations = rejected(invalid.value)
    assert status == grpc.StatusCode.INVALID_ARGUMENT and field in violations
    assert stored(service, partner) == (0, 0)


def test_a_bad_line_refuses_the_whole_file(service: Running) -> None:
    partner = unique_partner()
    content = EXAMPLE.read_bytes() + b"STL-X,2026-11-30,PSP-CH-9,COLLECTION,JPY,1.5,\n"
    with pytest.raises(grpc.RpcError) as invalid:
        import_file(service, partner, content)
    assert "line 8, amount: JPY allows 0 decimal places" in rejected(invalid.value)[2]["statement"]
    assert stored(service, partner) == (0, 0)


def test_unknown_reconciliation_is_not_found(service: Running) -> None:
    with pytest.raises(grpc.RpcError) as missing:
        service.stub.GetReconciliation(pb.GetReconciliationRequest(code=codes.generate("RC")))
    assert rejected(missing.value)[0] == grpc.StatusCode.NOT_FOUND


def test_merchant_statement_lines_with_balances_and_pages(service: Running) -> None:
    partner = unique_partner()
    merchant = codes.generate("MC", "E")
    post(service.context, partner, merchant, "S-0", "5.00", "EUR", at=datetime(2026, 10, 31, 23, tzinfo=UTC))
    for n, day in enumerate((1, 2, 15, 30)):
        post(service.context, partner, merchant, f"S-{n + 1}", "10.00", "EUR", at=datetime(2026, 11, day, tzinfo=UTC),
             fee="0.50")  # fmt: skip
    post(service.context, partner, merchant, "S-9", "7.00", "EUR", at=datetime(2026, 12, 1, tzinfo=UTC))
    request = pb.ListStatementLinesRequest(merchant_code=merchant, from_date="2026-11-01", to_date="2026-11-30")
    page = service.stub.ListStatementLines(request)
    amounts = [str(from_proto(line.amount)) for line in page.lines]
    assert amounts == ["10.00 EUR", "-0.50 EUR"] * 4
    assert [line.external_ref for line in page.lines][::2] == ["S-1", "S-2", "S-3", "S-4"]
    assert str(from_proto(page.lines[-1].balance_after)) == "43.00 EUR"  # 5 + 4 x 9.50
    (wallet,) = page.wallets
    assert (str(from_proto(wallet.opening)), str(from_proto(wallet.closing))) == ("5.00 EUR", "43.00 EUR")
    assert wallet.wallet == "MERCHANT_PENDING" and page.next_page_token == ""

    seen: list[str] = []
    token = ""
    while True:
        part = service.stub.ListStatementLines(
            pb.ListStatementLinesRequest(
                merchant_code=merchant, from_date="2026-11-01", to_date="2026-11-30", page_size=3, page_token=token
            )
        )
        seen.extend(str(from_proto(line.balance_after)) for line in part.lines)
        token = part.next_page_token
        if not token:
            break
    assert seen == [str(from_proto(line.balance_after)) for line in page.lines]
    with pytest.raises(grpc.RpcError) as invalid:
        service.stub.ListStatementLines(
            pb.ListStatementLinesRequest(merchant_code=merchant, from_date="2026-11-30", to_date="2026-11-01")
        )
    assert "to_date" in rejected(invalid.value)[2]


def test_collections_recorded_by_the_ledger_match_by_the_partners_reference(service: Running) -> None:
    """Collections post with their own code as external_ref; the partner knows them by partner_ref."""
    from services.payments.settlement import service_layer as sh
    from services.payments.settlement.domain.collections import CollectionMethod
    from services.shared.money import Money
    from tests.ledger_support import in_uow

    partner, merchant = unique_partner(), codes.generate("MC", "E")
    at = lambda: datetime(2026, 11, 30, 9, tzinfo=UTC)  # noqa: E731

    def collect(ref: str, gross: str, fee: str):  # type: ignore[no-untyped-def]
        command = sh.RecordCollection(
            merchant, partner, ref, CollectionMethod.CARD, Money.of(gross, "EUR"), Money.of(fee, "EUR")
        )
        return in_uow(service.context, lambda uow, now: sh.record_collection(uow, command, now), clock=at)

    first = collect("CH-A", "100.00", "2.90")
    collect("CH-B", "50.00", "1.45")
    in_uow(service.context, lambda uow, now: sh.refund_collection(uow, first.code, Money.of("30.00", "EUR"), now), at)
    header = b"line_id,value_date,reference,type,currency,amount,description\n"
    statement = (
        header
        + b"1,2026-11-30,CH-A,COLLECTION,EUR,100.00,\n"
        + b"2,2026-11-30,CH-A,FEE,EUR,-2.90,\n"
        + b"3,2026-11-30,CH-A,REFUND,EUR,-30.00,\n"
        + b"4,2026-11-30,CH-B,COLLECTION,EUR,48.55,net\n"
    )
    run = import_file(service, partner, statement, "real-collections").reconciliation
    assert outcomes(run) == {"CH-A": "MATCHED", "CH-B": "MATCHED"}
    by_ref = {i.reference: i for i in run.items}
    assert str(from_proto(by_ref["CH-A"].ledger_amount)) == "67.10 EUR"  # 100 - 2.90 - 30 refunded
    assert len(by_ref["CH-A"].transaction_codes) == 2  # the collection and its refund


def list_runs(service: Running, **fields: Any) -> pb.ListReconciliationsResponse:
    return service.stub.ListReconciliations(pb.ListReconciliationsRequest(**fields))


def test_runs_are_listed_per_partner_newest_first_with_their_summary_in_pages(service: Running) -> None:
    partner, other = unique_partner(), unique_partner()
    header = b"line_id,value_date,reference,type,currency,amount,description\n"
    imported = [
        import_file(service, partner, header + f"L{n},2026-11-{n:02d},R-{n},COLLECTION,EUR,1.00,\n".encode(), f"k{n}")
        for n in range(1, 6)
    ]
    import_file(service, other, EXAMPLE.read_bytes())
    codes_imported = {answer.reconciliation.code for answer in imported}

    page = list_runs(service, partner=partner.lower())
    listed = list(page.reconciliations)
    assert {run.code for run in listed} == codes_imported and page.next_page_token == ""
    assert all(run.partner == partner and not run.items for run in listed)
    newest_first = sorted(listed, key=lambda run: (run.created_at.ToDatetime(), run.code), reverse=True)
    assert [run.code for run in listed] == [run.code for run in newest_first]
    first = next(run for run in listed if run.code == imported[0].reconciliation.code)
    assert first.summary == imported[0].reconciliation.summary  # counted without reading the items
    assert first.summary.missing_in_ledger == 1 and first.period_start == "2026-11-01"

    seen: list[str] = []
    token = ""
    while True:
        part = list_runs(service, partner=partner, page_size=2, page_token=token)
        assert len(part.reconciliations) <= 2
        seen.extend(run.code for run in part.reconciliations)
        token = part.next_page_token
        if not token:
            break
    assert seen == [run.code for run in listed]

    # The period filter keeps the runs whose period overlaps the days asked for.
    window = list_runs(service, partner=partner, from_date="2026-11-02", to_date="2026-11-03")
    assert {run.period_start for run in window.reconciliations} == {"2026-11-02", "2026-11-03"}
    # Without a partner (an operator's listing), every partner's runs.
    everyone = {run.partner for run in list_runs(service, page_size=500).reconciliations}
    assert {partner, other} <= everyone


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"partner": "no spaces"}, "partner"),
        ({"from_date": "2026/11/01"}, "from_date"),
        ({"from_date": "2026-11-30", "to_date": "2026-11-01"}, "to_date"),
        ({"page_size": 501}, "page_size"),
        ({"page_token": "t12"}, "page_token"),
    ],
)
def test_bad_run_listings_name_the_field(service: Running, fields: dict, field: str) -> None:
    with pytest.raises(grpc.RpcError) as invalid:
        list_runs(service, **fields)
    status, _, violations = rejected(invalid.value)
    assert status == grpc.StatusCode.INVALID_ARGUMENT and field in violations
