"""Ledger errors with stable reasons (protos/xborder/common/v1/errors.proto, the payments block from 40).

A caller learns which account or record is at fault from the message, the field violation and the
ErrorInfo metadata; the ledger is untouched whenever one of these is raised.
"""

from __future__ import annotations

from services.shared.errors import FieldError, ValidationError, XborderError


class CurrencyMismatch(ValidationError):
    """A transfer names an account that holds another currency (no posting crosses currencies)."""

    reason = "CURRENCY_MISMATCH"


class LedgerPreconditionFailed(FieldError):
    """The request is well formed but the ledger's state does not allow it."""

    reason = "FAILED_PRECONDITION"


class InsufficientFunds(LedgerPreconditionFailed):
    reason = "INSUFFICIENT_FUNDS"

    def __init__(self, account: str, limit: str, *, field: str | None = None):
        super().__init__(
            f"account {account} would break {limit}: insufficient funds",
            field=field,
            metadata={"account": account, "limit": limit},
        )
        self.account = account


class PendingTransferResolved(LedgerPreconditionFailed):
    """The pending transfer was already posted, voided or expired."""

    reason = "PENDING_TRANSFER_RESOLVED"


class PendingTransferExpired(LedgerPreconditionFailed):
    reason = "PENDING_TRANSFER_EXPIRED"


class RefundExceedsCollected(LedgerPreconditionFailed):
    reason = "REFUND_EXCEEDS_COLLECTED"


class InvalidState(LedgerPreconditionFailed):
    """A collection or payout is not in a state that allows the operation (e.g. settling twice)."""

    reason = "INVALID_STATE"


class DuplicatePartnerReference(XborderError):
    """A partner reference is unique per partner; a different request already recorded this one."""

    reason = "DUPLICATE_PARTNER_REFERENCE"
