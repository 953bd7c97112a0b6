"""BankAccountService over real gRPC (port 0) on SQLite and PostgreSQL: the vault stores no clear value."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import grpc
import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs
from xborder.payments.v1 import bank_accounts_service_pb2 as pb
from xborder.payments.v1 import bank_accounts_service_pb2_grpc as pb_grpc

from services.payments import bootstrap as payments
from services.payments.bank_accounts.adapters.tables import bank_accounts
from services.shared import codes
from services.shared.crypto import DecryptionFailed, Envelope
from services.shared.settings import Settings
from tests.servers import Running, rejected, running_service

IBAN = "DE89370400440532013000"
HOLDER = "Erika Mustermann"


@pytest.fixture(scope="module")
def service(module_any_settings: Settings) -> Iterator[Running]:
    # One server per backend for the module (seeding the reference data is the slow part); every test
    # uses merchants of its own, so the tests do not see each other's accounts.
    with running_service(module_any_settings, "payments", pb_grpc.BankAccountServiceStub) as running:
        yield running


def register(service: Running, merchant: str, request_id: str = "r-1", **fields: str) -> pb.BankAccount:
    body = {"holder_name": HOLDER, "currency": "EUR", "iban": "de89 3704 0044 0532 0130 00", **fields}
    request = pb.RegisterBankAccountRequest(request_id=request_id, merchant_code=merchant, **body)
    return service.stub.RegisterBankAccount(request).bank_account


def rows(service: Running, *merchants: str) -> list[sa.Row]:
    with service.context.engine.connect() as connection:
        return list(connection.execute(sa.select(bank_accounts).where(bank_accounts.c.merchant_code.in_(merchants))))


def test_register_answers_masked_and_stores_only_envelopes(service: Running) -> None:
    merchant = codes.generate("MC", "E")
    account = register(service, merchant)
    assert codes.parse(account.code, entity_type="BA").zone == "E"  # the merchant's residency zone
    assert (account.iban_masked, account.holder_name_masked) == ("DE89 **** **** **** 3000", "E**** M*********")
    assert (account.country, account.currency, account.merchant_code) == ("DE", "EUR", merchant)
    assert account.created_at.seconds > 0
    (row,) = rows(service, merchant)
    dump = json.dumps([str(v) for v in row])
    assert IBAN not in dump and "Mustermann" not in dump and "0532013000" not in dump
    number = Envelope.from_text(row.number_enc)
    assert (number.kek_id, number.kek_version) == ("local-dev", 1)  # the stored format names its key


def test_get_and_list_are_masked(service: Running) -> None:
    merchant = codes.generate("MC", "E")
    first = register(service, merchant, "r-a")
    second = register(
        service, merchant, "r-b", iban="", account_number="000123456789", bic="CHASUS33", country="US", currency="USD"
    )
    got = service.stub.GetBankAccount(pb.GetBankAccountRequest(code=first.code)).bank_account
    assert got == first
    listed = service.stub.ListBankAccounts(pb.ListBankAccountsRequest(merchant_code=merchant)).bank_accounts
    assert [a.code for a in listed] == [first.code, second.code]
    assert (listed[1].account_number_masked, listed[1].iban_masked, listed[1].bic) == ("**** 6789", "", "CHASUS33")
    other = codes.generate("MC", "E")
    assert list(service.stub.ListBankAccounts(pb.ListBankAccountsRequest(merchant_code=other)).bank_accounts) == []


def test_replay_returns_the_first_answer_and_a_changed_payload_is_refused(service: Running) -> None:
    merchant = codes.generate("MC", "E")
    request = pb.RegisterBankAccountRequest(
        request_id="same", merchant_code=merchant, holder_name=HOLDER, currency="EUR", iban=IBAN
    )
    first = service.stub.RegisterBankAccount(request)
    assert service.stub.RegisterBankAccount(request).SerializeToString() == first.SerializeToString()
    assert len(rows(service, merchant)) == 1
    changed = pb.RegisterBankAccountRequest()
    changed.CopyFrom(request)
    changed.holder_name = "Someone Else"
    with pytest.raises(grpc.RpcError) as refused:
        service.stub.RegisterBankAccount(changed)
    assert rejected(refused.value)[:2] == (grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_CONFLICT")
    assert "request_id" in rejected(refused.value)[2]


def test_concurrent_retries_store_one_account(service: Running) -> None:
    merchant = codes.generate("MC", "E")
    request = pb.RegisterBankAccountRequest(
        request_id="race", merchant_code=merchant, holder_name=HOLDER, currency="EUR", iban=IBAN
    )
    answers: list[bytes] = []
    errors: list[Exception] = []

    def call() -> None:
        try:
            answers.append(service.stub.RegisterBankAccount(request).SerializeToString())
        except grpc.RpcError as error:
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(answers)) == 1 and len(answers) == 6
    assert len(rows(service, merchant)) == 1


def test_same_number_for_the_same_merchant_is_refused_but_another_merchant_may_hold_it(service: Running) -> None:
    merchant, other = codes.generate("MC", "E"), codes.generate("MC", "E")
    first = register(service, merchant, "r-1")
    with pytest.raises(grpc.RpcError) as duplicate:
        register(service, merchant, "r-2", iban=IBAN)  # same number, other formatting, new request id
    status, reason, fields = rejected(duplicate.value)
    assert (status, reason) == (grpc.StatusCode.ALREADY_EXISTS, "ALREADY_EXISTS")
    assert first.code in fields["iban"] and IBAN not in fields["iban"]
    register(service, other, "r-3")
    found = service.stub.FindBankAccounts(
        pb.FindBankAccountsRequest(merchant_code=merchant, iban=" de89370400440532013000")
    )
    assert [a.code for a in found.bank_accounts] == [first.code]
    # The blind index is per merchant: the same IBAN indexes differently for the other one.
    assert len({r.number_index for r in rows(service, merchant, other)}) == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"merchant_code": "MC123"}, "merchant_code"),
        ({"request_id": ""}, "request_id"),
        ({"iban": "DE89370400440532013001"}, "iban"),
        ({"currency": "QQQ"}, "currency"),
        ({"holder_name": ""}, "holder_name"),
        ({"iban": "", "account_number": "12345678", "country": "US"}, "bic"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(service: Running, fields: dict[str, str], field: str) -> None:
    merchant = codes.generate("MC", "E")
    body = {
        "request_id": "r-bad",
        "merchant_code": merchant,
        "holder_name": HOLDER,
        "currency": "EUR",
        "iban": IBAN,
        **fields,
    }
    with pytest.raises(grpc.RpcError) as invalid:
        service.stub.RegisterBankAccount(pb.RegisterBankAccountRequest(**body))
    status, _, violations = rejected(invalid.value)
    assert status == grpc.StatusCode.INVALID_ARGUMENT and field in violations
    assert rows(service, merchant, body["merchant_code"]) == []


def test_unknown_account_is_not_found(service: Running) -> None:
    with pytest.raises(grpc.RpcError) as missing:
        service.stub.GetBankAccount(pb.GetBankAccountRequest(code=codes.generate("BA", "E")))
    assert rejected(missing.value)[0] == grpc.StatusCode.NOT_FOUND


def test_reveal_for_payout_decrypts_and_a_moved_ciphertext_does_not(service: Running) -> None:
    merchant = codes.generate("MC", "E")
    a = register(service, merchant, "r-a")
    b = register(service, merchant, "r-b", iban="GB82 WEST 1234 5698 7654 32", holder_name="John Smith", currency="GBP")
    vault = payments.bank_account_vault(service.context)
    with service.context.uow() as uow:
        revealed = vault.reveal_for_payout(uow, a.code)
    assert (revealed.details.iban, revealed.details.holder_name, revealed.details.currency) == (IBAN, HOLDER, "EUR")
    # Copy a's encrypted IBAN onto b's row (an insider swapping payout destinations): it must not open.
    with service.context.engine.begin() as connection:
        stolen = connection.execute(
            sa.select(bank_accounts.c.number_enc).where(bank_accounts.c.code == a.code)
        ).scalar_one()
        connection.execute(bank_accounts.update().where(bank_accounts.c.code == b.code).values(number_enc=stolen))
    with service.context.uow() as uow, pytest.raises(DecryptionFailed) as moved:
        vault.reveal_for_payout(uow, b.code)
    assert b.code in moved.value.message and IBAN not in moved.value.message


def test_no_clear_value_reaches_the_logs(service: Running) -> None:
    merchant = codes.generate("MC", "E")
    with capture_logs() as logs:
        account = register(service, merchant, "r-log")
        with pytest.raises(grpc.RpcError):
            register(service, merchant, "r-log-2")  # duplicate: logged as rpc_rejected
        with pytest.raises(grpc.RpcError):
            register(service, merchant, "r-log-3", iban="DE89370400440532013001")  # invalid: logged too
        with service.context.uow() as uow:
            payments.bank_account_vault(service.context).reveal_for_payout(uow, account.code)
    events = {entry["event"] for entry in logs}
    assert {"bank_account_registered", "bank_account_revealed", "rpc_rejected"} <= events
    text = json.dumps(logs, default=str)
    for secret in (IBAN, "DE89370400440532013001", "0532013000", "Mustermann"):
        assert secret not in text


def test_payouts_see_the_vault_through_the_payee_directory(service: Running) -> None:
    merchant, other = codes.generate("MC", "E"), codes.generate("MC", "E")
    account = register(service, merchant, "r-payee", currency="EUR")
    directory = payments.payee_directory(service.context)
    with capture_logs() as logs:
        payee = directory.payee(merchant, account.code)
    assert payee is not None
    assert (payee.bank_account_code, payee.holder_name, payee.country, payee.currency) == (
        account.code,
        HOLDER,
        "DE",
        "EUR",
    )
    assert [e["purpose"] for e in logs if e["event"] == "bank_account_revealed"] == ["payout_screening"]
    # Another merchant's account, or none at all, is not found (and nothing is decrypted for it).
    with capture_logs() as logs:
        assert directory.payee(other, account.code) is None
        assert directory.payee(merchant, codes.generate("BA", "E")) is None
    assert [e for e in logs if e["event"] == "bank_account_revealed"] == []
