"""BankAccountService servicer: validate once, call the handler, answer masked. No clear value leaves here."""

from __future__ import annotations

import grpc
from xborder.payments.v1 import bank_accounts_service_pb2 as pb
from xborder.payments.v1 import bank_accounts_service_pb2_grpc as pb_grpc

from services.payments.bank_accounts import service_layer as handlers
from services.payments.bank_accounts.adapters.vault import MaskedBankAccount
from services.payments.bank_accounts.domain import (
    iban_problem,
    normalise_account_number,
    normalise_iban,
    validate_bank_account,
)
from services.shared import request_fields as fields
from services.shared.errors import Violations
from services.shared.idempotency import fingerprint


def bank_account_to_proto(account: MaskedBankAccount) -> pb.BankAccount:
    message = pb.BankAccount(
        code=account.code,
        merchant_code=account.merchant_code,
        holder_name_masked=account.holder_name_masked,
        country=account.country,
        currency=account.currency,
        bic=account.bic or "",
        iban_masked=account.number_masked if account.number_field == "iban" else "",
        account_number_masked=account.number_masked if account.number_field == "account_number" else "",
    )
    message.created_at.FromDatetime(account.created_at)
    return message


class BankAccountServicer(pb_grpc.BankAccountServiceServicer):
    def __init__(self, deps: handlers.BankAccountDeps) -> None:
        self.deps = deps

    def RegisterBankAccount(
        self, request: pb.RegisterBankAccountRequest, context: grpc.ServicerContext
    ) -> pb.RegisterBankAccountResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        merchant = fields.merchant_code(request.merchant_code, violations)
        currency_checks = Violations()
        fields.currency(request.currency, currency_checks)
        details = validate_bank_account(
            holder_name=request.holder_name,
            country=request.country,
            currency=request.currency,
            iban=request.iban,
            account_number=request.account_number,
            bic=request.bic,
            violations=violations,
            known_currency=not currency_checks,
        )
        violations.raise_if_any()
        assert details is not None
        command = handlers.RegisterBankAccount(request.request_id, fingerprint(request), merchant, details)
        return handlers.register_bank_account(
            self.deps,
            command,
            lambda stored: pb.RegisterBankAccountResponse(bank_account=bank_account_to_proto(stored)),
            pb.RegisterBankAccountResponse,
        )

    def GetBankAccount(
        self, request: pb.GetBankAccountRequest, context: grpc.ServicerContext
    ) -> pb.GetBankAccountResponse:
        code = fields.one_code(request.code, "code", "BA")
        return pb.GetBankAccountResponse(bank_account=bank_account_to_proto(handlers.get_bank_account(self.deps, code)))

    def ListBankAccounts(
        self, request: pb.ListBankAccountsRequest, context: grpc.ServicerContext
    ) -> pb.ListBankAccountsResponse:
        violations = Violations()
        merchant = fields.merchant_code(request.merchant_code, violations)
        violations.raise_if_any()
        found = handlers.list_bank_accounts(self.deps, merchant)
        return pb.ListBankAccountsResponse(bank_accounts=[bank_account_to_proto(a) for a in found])

    def FindBankAccounts(
        self, request: pb.FindBankAccountsRequest, context: grpc.ServicerContext
    ) -> pb.FindBankAccountsResponse:
        violations = Violations()
        merchant = fields.merchant_code(request.merchant_code, violations)
        iban, number = normalise_iban(request.iban), normalise_account_number(request.account_number)
        if bool(iban) == bool(number):
            violations.add("iban", "give exactly one of iban or account_number")
        elif iban and (problem := iban_problem(iban)):
            violations.add("iban", problem)
        violations.raise_if_any()
        field, value = ("iban", iban) if iban else ("account_number", number)
        found = handlers.find_bank_accounts(self.deps, merchant, field, value)
        return pb.FindBankAccountsResponse(bank_accounts=[bank_account_to_proto(a) for a in found])
