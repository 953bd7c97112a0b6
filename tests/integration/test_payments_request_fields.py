"""Every payments API answers the same bad field the same way (the kernel's request_fields parse them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from google.type import money_pb2
from xborder.payments.v1 import bank_accounts_service_pb2 as bank_pb
from xborder.payments.v1 import bank_accounts_service_pb2_grpc as bank_grpc
from xborder.payments.v1 import fx_service_pb2 as fx_pb
from xborder.payments.v1 import fx_service_pb2_grpc as fx_grpc
from xborder.payments.v1 import ledger_service_pb2 as ledger_pb
from xborder.payments.v1 import ledger_service_pb2_grpc as ledger_grpc

from services.shared import codes
from services.shared.settings import Settings
from tests.servers import Running, rejected, running_service

MERCHANT = codes.generate("MC", "E")


@pytest.fixture(scope="module")
def payments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    settings = Settings(var_dir=tmp_path_factory.mktemp("var"), outbox_poll_s=0.05, log_json=False)
    with running_service(settings, "payments", lambda channel: channel) as running:
        yield running


def _calls(channel: grpc.Channel) -> dict[str, Callable[[str], Any]]:
    ledger = ledger_grpc.LedgerServiceStub(channel)
    fx = fx_grpc.FxServiceStub(channel)
    bank = bank_grpc.BankAccountServiceStub(channel)
    return {
        "ledger.GetBalances": lambda c: ledger.GetBalances(
            ledger_pb.GetBalancesRequest(merchant_code=MERCHANT, currency=c)
        ),
        "ledger.RecordCollection": lambda c: ledger.RecordCollection(
            ledger_pb.RecordCollectionRequest(
                request_id="r-1",
                merchant_code=MERCHANT,
                partner="ADYEN",
                partner_ref="ref-1",
                method=ledger_pb.COLLECTION_METHOD_CARD,
                gross=money_pb2.Money(currency_code=c, units=10),
            )
        ),
        "fx.GetExecutableRate": lambda c: fx.GetExecutableRate(
            fx_pb.GetExecutableRateRequest(sell_currency=c, buy_currency="CNY", merchant_code=MERCHANT)
        ),
        "fx.CreateFinancingOffer": lambda c: fx.CreateFinancingOffer(
            fx_pb.CreateFinancingOfferRequest(request_id="r-2", merchant_code=MERCHANT, currency=c)
        ),
        "bank_accounts.RegisterBankAccount": lambda c: bank.RegisterBankAccount(
            bank_pb.RegisterBankAccountRequest(
                request_id="r-3",
                merchant_code=MERCHANT,
                holder_name="Erika Mustermann",
                currency=c,
                iban="DE89 3704 0044 0532 0130 00",
            )
        ),
    }


@pytest.mark.parametrize(
    ("currency", "reason"),
    [("XYZ", "UNKNOWN_CURRENCY"), ("EURO", "VALIDATION_FAILED"), ("E1R", "VALIDATION_FAILED")],
)
def test_a_bad_currency_gets_the_same_reason_from_ledger_fx_and_bank_accounts(
    payments: Running, currency: str, reason: str
) -> None:
    answers = {}
    for name, call in _calls(payments.stub).items():
        if name == "ledger.RecordCollection" and reason != "UNKNOWN_CURRENCY":
            continue  # a money's currency_code: the kernel's money parsing answers a malformed one by itself
        with pytest.raises(grpc.RpcError) as refused:
            call(currency)
        status, got, _ = rejected(refused.value)
        answers[name] = (status, got)
    assert set(answers.values()) == {(grpc.StatusCode.INVALID_ARGUMENT, reason)}, answers
