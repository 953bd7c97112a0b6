"""Bank-account use cases. Registration is the only one that writes, and it commits here (idempotently)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from google.protobuf.message import Message

from services.payments.bank_accounts.adapters.vault import BankAccountVault, MaskedBankAccount
from services.payments.bank_accounts.domain import BankAccountDetails
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import AlreadyExists, NotFound
from services.shared.idempotency import IdempotencyStore
from services.shared.logs import get_logger
from services.shared.uow import UnitOfWork

SCOPE = "payments.register_bank_account"


def _scope(merchant_code: str) -> str:
    """Request ids are the merchant's own: two merchants may pick the same one (as Stripe scopes per account)."""
    return f"{SCOPE}:{merchant_code}"


log = get_logger(__name__)


@dataclass(frozen=True)
class BankAccountDeps:
    uow_factory: Callable[[], UnitOfWork]
    vault: BankAccountVault
    idempotency: IdempotencyStore


@dataclass(frozen=True)
class RegisterBankAccount:
    request_id: str
    fingerprint: str
    merchant_code: str
    details: BankAccountDetails

    def __repr__(self) -> str:
        return f"RegisterBankAccount(request_id={self.request_id!r}, merchant_code={self.merchant_code!r})"


def _refuse_duplicate(deps: BankAccountDeps, uow: UnitOfWork, command: RegisterBankAccount) -> bytes | None:
    """None when the number is new; the first response when a twin of this very request stored it meanwhile
    (it committed between our replay check and now); else AlreadyExists naming the account that holds it."""
    details = command.details
    existing = deps.vault.find(uow.connection, command.merchant_code, details.number_field, details.number)
    if existing:
        hit = deps.idempotency.replay(
            uow.connection, _scope(command.merchant_code), command.request_id, command.fingerprint
        )
        if hit is not None:
            return hit
        what = "IBAN" if details.iban else "account number"
        raise AlreadyExists(
            f"merchant {command.merchant_code} already has bank account {existing[0].code} with this {what}",
            field=details.number_field,
            metadata={"bank_account_code": existing[0].code},
        )
    return None


def register_bank_account(
    deps: BankAccountDeps, command: RegisterBankAccount, respond: Callable[[MaskedBankAccount], Message]
) -> bytes:
    """Store the account once; the serialised response of the first request for a request_id is replayed."""
    with deps.uow_factory() as uow:
        hit = deps.idempotency.replay(
            uow.connection, _scope(command.merchant_code), command.request_id, command.fingerprint
        )
        if hit is not None:
            return hit
        if (twin := _refuse_duplicate(deps, uow, command)) is not None:
            return twin
        # The master record lives where the merchant's does: the code's residency zone follows the merchant.
        code = codes.generate("BA", command.merchant_code[2])
        try:
            stored = deps.vault.add(uow.connection, code, command.merchant_code, command.details, utcnow())
            response = respond(stored).SerializeToString()
            deps.idempotency.remember(
                uow.connection, _scope(command.merchant_code), command.request_id, command.fingerprint, response
            )
            uow.commit()
        except sa.exc.IntegrityError:
            uow.rollback()
        else:
            log.info(
                "bank_account_registered",
                bank_account_code=code,
                merchant_code=command.merchant_code,
                number_masked=stored.number_masked,
            )
            return response
    # A concurrent twin committed first: the same request_id (replay it) or the same number (refuse).
    with deps.uow_factory() as uow:
        hit = deps.idempotency.replay(
            uow.connection, _scope(command.merchant_code), command.request_id, command.fingerprint
        )
        if hit is not None:
            return hit
        if (twin := _refuse_duplicate(deps, uow, command)) is not None:
            return twin
    raise RuntimeError("bank account insert conflicted but neither the key nor the number is stored")


def get_bank_account(deps: BankAccountDeps, code: str) -> MaskedBankAccount:
    with deps.uow_factory() as uow:
        found = deps.vault.get(uow.connection, code)
    if found is None:
        raise NotFound(f"no bank account {code}", field="code")
    return found


def list_bank_accounts(deps: BankAccountDeps, merchant_code: str) -> list[MaskedBankAccount]:
    with deps.uow_factory() as uow:
        return deps.vault.for_merchant(uow.connection, merchant_code)


def find_bank_accounts(deps: BankAccountDeps, merchant_code: str, field: str, number: str) -> list[MaskedBankAccount]:
    with deps.uow_factory() as uow:
        return deps.vault.find(uow.connection, merchant_code, field, number)
