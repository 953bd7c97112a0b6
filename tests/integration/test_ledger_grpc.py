"""LedgerService over real gRPC (port 0) on SQLite and PostgreSQL, with fake screening and vault ports."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from google.type import money_pb2
from xborder.payments.v1 import ledger_service_pb2 as pb
from xborder.payments.v1 import ledger_service_pb2_grpc as pb_grpc

from services.payments import bootstrap
from services.shared import codes
from services.shared.context import ServiceContext
from services.shared.grpc_errors import status_details
from services.shared.grpc_server import serve
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.ledger_support import FakePayees, FakeScreeningGate, key, merchant
from tests.servers import rejected


@dataclass
class Ledger:
    stub: pb_grpc.LedgerServiceStub
    context: ServiceContext
    gate: FakeScreeningGate
    payees: FakePayees
    bus: RecordingBus


@pytest.fixture(scope="module")
def ledger(module_any_settings: Settings) -> Iterator[Ledger]:
    bus = RecordingBus()
    context = bootstrap.bootstrap(module_any_settings, bus)
    gate, payees = FakeScreeningGate("CLEAR"), FakePayees()
    servicer = bootstrap.ledger_servicer(context, gate, payees)
    server = serve(
        module_any_settings,
        [lambda s: pb_grpc.add_LedgerServiceServicer_to_server(servicer, s)],
        bootstrap.GRPC_SERVICES,
        port=0,
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield Ledger(pb_grpc.LedgerServiceStub(channel), context, gate, payees, bus)
    finally:
        channel.close()
        server.stop(0)
        context.close()


def money(units: int, nanos: int = 0, currency: str = "USD") -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


def collect(ledger: Ledger, m: str, units: int, ref: str | None = None) -> pb.Collection:
    return ledger.stub.RecordCollection(
        pb.RecordCollectionRequest(
            request_id=key("rc"),
            merchant_code=m,
            partner="ADYEN",
            partner_ref=ref or key("ref"),
            method=pb.COLLECTION_METHOD_CARD,
            gross=money(units),
            partner_fee=money(0, 500_000_000),
        )
    ).collection


def test_collect_settle_pay_out_and_verify(ledger: Ledger) -> None:
    m = merchant()
    request = pb.RecordCollectionRequest(
        request_id=key("rc"),
        merchant_code=m,
        partner="ADYEN",
        partner_ref="psp-123",
        method=pb.COLLECTION_METHOD_WALLET,
        gross=money(100),
        partner_fee=money(1, 200_000_000),
    )
    first = ledger.stub.RecordCollection(request)
    again = ledger.stub.RecordCollection(request)
    assert again.SerializeToString(deterministic=True) == first.SerializeToString(deterministic=True)
    code = first.collection.code
    assert first.collection.pending == money(98, 800_000_000)
    settled = ledger.stub.ConfirmSettlement(pb.ConfirmSettlementRequest(request_id=key("cs"), collection_code=code))
    assert settled.collection.status == "SETTLED" and settled.collection.platform_fee == money(3, 200_000_000)
    balances = ledger.stub.GetBalances(pb.GetBalancesRequest(merchant_code=m)).balances
    assert [(b.currency, b.available, b.pending) for b in balances] == [("USD", money(95, 600_000_000), money(0))]

    ledger.payees.add(m, "BA-1", "Acme Trading Ltd", "HK", "USD")
    payout = ledger.stub.CreatePayout(
        pb.CreatePayoutRequest(
            request_id=key("po"), merchant_code=m, bank_account_code="BA-1", amount=money(50), partner="HSBC"
        )
    ).payout
    assert payout.status == pb.PAYOUT_STATUS_PENDING and payout.timeout_seconds == 86400
    reserved = ledger.stub.GetBalances(pb.GetBalancesRequest(merchant_code=m, currency="USD")).balances[0]
    assert (reserved.available, reserved.reserved) == (money(45, 600_000_000), money(50))
    posted = ledger.stub.PostPayout(pb.PostPayoutRequest(request_id=key("pp"), payout_code=payout.code)).payout
    assert posted.status == pb.PAYOUT_STATUS_POSTED and posted.posted == money(50)

    history = ledger.stub.ListTransactions(pb.ListTransactionsRequest(owner=m)).transactions
    assert [t.kind for t in history] == ["post_pending", "payout", "settlement", "collection"]
    report = ledger.stub.VerifyLedger(pb.VerifyLedgerRequest())
    assert report.ok and not report.problems and report.transfers > 0


def test_insufficient_funds_is_failed_precondition_naming_the_account(ledger: Ledger) -> None:
    m = merchant()
    ledger.payees.add(m, "BA-2", "Acme", "HK", "USD")
    with pytest.raises(grpc.RpcError) as error:
        ledger.stub.CreatePayout(
            pb.CreatePayoutRequest(
                request_id=key("po"), merchant_code=m, bank_account_code="BA-2", amount=money(1), partner="HSBC"
            )
        )
    code, reason, fields = rejected(error.value)
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_FUNDS")
    assert list(fields) == ["amount"] and "insufficient funds" in fields["amount"]
    _, _, metadata = status_details(error.value)
    assert metadata["account"].startswith("AC") and metadata["account"] in (error.value.details() or "")
    # the wallet the failed payout opened rolled back with it: the ledger is untouched
    assert list(ledger.stub.ListAccounts(pb.ListAccountsRequest(owner=m)).accounts) == []


@pytest.mark.parametrize(
    ("gross", "field", "reason"),
    [
        (money(1, 0, "XYZ"), "gross.currency_code", "UNKNOWN_CURRENCY"),
        (money(10, 500_000_000, "JPY"), "gross", "VALIDATION_FAILED"),
        (money(1, 500_000, "KWD"), "gross", "VALIDATION_FAILED"),  # 1.0005 KWD: 4 decimals
        (money(-5, 0, "USD"), "gross", "VALIDATION_FAILED"),
        (money(0, 0, "USD"), "gross", "VALIDATION_FAILED"),
    ],
)
def test_bad_amounts_are_invalid_argument_naming_the_field(
    ledger: Ledger, gross: money_pb2.Money, field: str, reason: str
) -> None:
    with pytest.raises(grpc.RpcError) as error:
        ledger.stub.RecordCollection(
            pb.RecordCollectionRequest(
                request_id=key("bad"),
                merchant_code=merchant(),
                partner="ADYEN",
                partner_ref=key("ref"),
                method=pb.COLLECTION_METHOD_CARD,
                gross=gross,
            )
        )
    code, got_reason, fields = rejected(error.value)
    assert (code, got_reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
    assert field in fields


def test_reused_request_id_with_another_payload_is_refused(ledger: Ledger) -> None:
    m = merchant()
    request_id = key("same")
    ledger.stub.OpenAccount(
        pb.OpenAccountRequest(request_id=request_id, owner=m, kind=pb.ACCOUNT_KIND_MERCHANT_PENDING, currency="EUR")
    )
    with pytest.raises(grpc.RpcError) as error:
        ledger.stub.OpenAccount(
            pb.OpenAccountRequest(request_id=request_id, owner=m, kind=pb.ACCOUNT_KIND_MERCHANT_PENDING, currency="GBP")
        )
    code, reason, fields = rejected(error.value)
    assert (code, reason, list(fields)) == (grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_CONFLICT", ["request_id"])


def test_concurrent_refunds_never_exceed_the_collection(ledger: Ledger) -> None:
    m = merchant()
    collection = collect(ledger, m, 100)
    ledger.stub.ConfirmSettlement(pb.ConfirmSettlementRequest(request_id=key("cs"), collection_code=collection.code))
    for units in (500, 500):  # other collections fund AVAILABLE, so only the refund limit can stop refunds
        other = collect(ledger, m, units)
        ledger.stub.ConfirmSettlement(pb.ConfirmSettlementRequest(request_id=key("cs"), collection_code=other.code))
    outcomes: list[str] = []
    lock = threading.Lock()

    def refund(n: int) -> None:
        for _ in range(3):
            try:
                ledger.stub.RefundCollection(
                    pb.RefundCollectionRequest(
                        request_id=key(f"rf{n}"), collection_code=collection.code, amount=money(15)
                    )
                )
                result = "ok"
            except grpc.RpcError as error:
                result = rejected(error)[1] or "?"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=refund, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes.count("ok") == 6  # 6 x 15 = 90 <= 100 < 7 x 15
    assert set(outcomes) == {"ok", "REFUND_EXCEEDS_COLLECTED"}
    got = ledger.stub.GetCollection(pb.GetCollectionRequest(collection_code=collection.code)).collection
    assert got.refunded == money(90)
    assert ledger.stub.VerifyLedger(pb.VerifyLedgerRequest()).ok


def test_held_payout_then_void_returns_the_funds(ledger: Ledger) -> None:
    m = merchant()
    collection = collect(ledger, m, 20)
    ledger.stub.ConfirmSettlement(pb.ConfirmSettlementRequest(request_id=key("cs"), collection_code=collection.code))
    ledger.payees.add(m, "BA-3", "Blocked Corp", "IR", "USD")
    ledger.gate.decision = type(ledger.gate.decision)("BLOCK")  # type: ignore[misc]
    try:
        payout = ledger.stub.CreatePayout(
            pb.CreatePayoutRequest(
                request_id=key("po"), merchant_code=m, bank_account_code="BA-3", amount=money(10), partner="HSBC"
            )
        ).payout
    finally:
        ledger.gate.decision = type(ledger.gate.decision)("CLEAR")  # type: ignore[misc]
    assert payout.status == pb.PAYOUT_STATUS_ON_HOLD and payout.screening_decision == "BLOCK"
    with pytest.raises(grpc.RpcError) as error:
        ledger.stub.PostPayout(pb.PostPayoutRequest(request_id=key("pp"), payout_code=payout.code))
    assert rejected(error.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "INVALID_STATE")
    voided = ledger.stub.VoidPayout(pb.VoidPayoutRequest(request_id=key("vp"), payout_code=payout.code)).payout
    assert voided.status == pb.PAYOUT_STATUS_VOIDED
    (wallet,) = ledger.stub.GetBalances(pb.GetBalancesRequest(merchant_code=m)).balances
    assert (wallet.available, wallet.reserved) == (
        money(18, 620_000_000),
        money(0),
    )  # 20 - 0.50 partner - (0.58 + 0.30) fee


def test_record_owners_name_the_merchant_alone(ledger: Ledger) -> None:
    m = merchant()
    collection = collect(ledger, m, 20)
    ledger.stub.ConfirmSettlement(pb.ConfirmSettlementRequest(request_id=key("cs"), collection_code=collection.code))
    ledger.payees.add(m, "BA-4", "Acme Trading Ltd", "HK", "USD")
    payout = ledger.stub.CreatePayout(
        pb.CreatePayoutRequest(
            request_id=key("po"), merchant_code=m, bank_account_code="BA-4", amount=money(5), partner="HSBC"
        )
    ).payout

    def owner(kind: pb.RecordKind, code: str) -> pb.GetRecordOwnerResponse:
        return ledger.stub.GetRecordOwner(pb.GetRecordOwnerRequest(kind=kind, code=code))

    assert owner(pb.RECORD_KIND_COLLECTION, collection.code) == pb.GetRecordOwnerResponse(found=True, merchant_code=m)
    assert owner(pb.RECORD_KIND_PAYOUT, payout.code.lower()) == pb.GetRecordOwnerResponse(found=True, merchant_code=m)
    # Collections and payouts share the code type: a collection's code names no payout, and no record at all
    # is an answer, not an error.
    assert owner(pb.RECORD_KIND_PAYOUT, collection.code) == pb.GetRecordOwnerResponse(found=False)
    assert owner(pb.RECORD_KIND_COLLECTION, codes.generate("PY")) == pb.GetRecordOwnerResponse(found=False)
    for request, field in (
        (pb.GetRecordOwnerRequest(code=collection.code), "kind"),
        (pb.GetRecordOwnerRequest(kind=pb.RECORD_KIND_PAYOUT, code="PY123"), "code"),
        (pb.GetRecordOwnerRequest(kind=pb.RECORD_KIND_PAYOUT, code=codes.generate("MC")), "code"),
    ):
        with pytest.raises(grpc.RpcError) as error:
            ledger.stub.GetRecordOwner(request)
        code, _, violations = rejected(error.value)
        assert code == grpc.StatusCode.INVALID_ARGUMENT and list(violations) == [field], violations
