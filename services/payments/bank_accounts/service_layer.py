"""Bank-account use cases. Registration is the only one that writes, and it commits here (idempotently)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import Message

from services.payments.bank_accounts.adapters.vault import BankAccountVault, MaskedBankAccount
from services.payments.bank_accounts.domain import BankAccountDetails
from services.payments.unit_of_work import PaymentsUnitOfWork
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import AlreadyExists, ConflictingWrite, found_or_raise
from services.shared.idempotency import Request, run_idempotent
from services.shared.logs import get_logger

SCOPE = "payments.register_bank_account"


def _scope(merchant_code: str) -> str:
    """Request ids are the merchant's own: two merchants may pick the same one (as Stripe scopes per account)."""
    return f"{SCOPE}:{merchant_code}"


log = get_logger(__name__)
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class BankAccountDeps:
    uow_factory: Callable[[], PaymentsUnitOfWork]
    vault: BankAccountVault


@dataclass(frozen=True)
class RegisterBankAccount:
    request_id: str
    fingerprint: str
    merchant_code: str
    details: BankAccountDetails

    def __repr__(self) -> str:
        return f"RegisterBankAccount(request_id={self.request_id!r}, merchant_code={self.merchant_code!r})"


def _refuse_duplicate(
    deps: BankAccountDeps, uow: PaymentsUnitOfWork, request: Request, command: RegisterBankAccount
) -> None:
    """AlreadyExists naming the account of this merchant that holds the number, if one does.

    A twin of this very request may have stored it after our replay check read nothing: that is a lost
    race, which the runner answers by replaying the twin's response.
    """
    details = command.details
    existing = deps.vault.find(uow.bank_accounts, command.merchant_code, details.number_field, details.number)
    if existing:
        if uow.idempotency.replay(request.scope, request.key, request.fingerprint) is not None:
            raise ConflictingWrite(f"a twin of request {request.key!r} stored the account first")
        what = "IBAN" if details.iban else "account number"
        raise AlreadyExists(
            f"merchant {command.merchant_code} already has bank account {existing[0].code} with this {what}",
            field=details.number_field,
            metadata={"bank_account_code": existing[0].code},
        )


def register_bank_account(
    deps: BankAccountDeps,
    command: RegisterBankAccount,
    respond: Callable[[MaskedBankAccount], M],
    response_type: type[M],
) -> M:
    """Store the account once; the first response for a request_id is replayed.

    A concurrent twin that committed first is found on the second attempt: the same request_id replays,
    the same number is refused.
    """

    request = Request(_scope(command.merchant_code), command.request_id, command.fingerprint)

    def work(uow: PaymentsUnitOfWork) -> M:
        _refuse_duplicate(deps, uow, request, command)
        # The master record lives where the merchant's does: the code's residency zone follows the merchant.
        code = codes.generate("BA", command.merchant_code[2])
        stored = deps.vault.add(uow.bank_accounts, code, command.merchant_code, command.details, utcnow())
        log.info(
            "bank_account_registered",
            bank_account_code=code,
            merchant_code=command.merchant_code,
            number_masked=stored.number_masked,
        )
        return respond(stored)

    return run_idempotent(deps.uow_factory, request, response_type, work, lock=False)


def get_bank_account(deps: BankAccountDeps, code: str) -> MaskedBankAccount:
    with deps.uow_factory() as uow:
        return found_or_raise(deps.vault.get(uow.bank_accounts, code), f"no bank account {code}", field="code")


def list_bank_accounts(deps: BankAccountDeps, merchant_code: str) -> list[MaskedBankAccount]:
    with deps.uow_factory() as uow:
        return deps.vault.for_merchant(uow.bank_accounts, merchant_code)


def find_bank_accounts(deps: BankAccountDeps, merchant_code: str, field: str, number: str) -> list[MaskedBankAccount]:
    with deps.uow_factory() as uow:
        return deps.vault.find(uow.bank_accounts, merchant_code, field, number)
