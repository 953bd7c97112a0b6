"""Domain errors with stable reason codes (protos/xborder/common/v1/errors.proto) and field violations.

Services raise these; they know nothing of transports. One gRPC interceptor turns them into a status with
google.rpc.ErrorInfo and BadRequest details, and the gateway turns those into RFC 9457 problem+json; both
take the status for a reason from the one table in services/shared/error_statuses.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

ERROR_DOMAIN = "xborder.io"

T = TypeVar("T")


@dataclass(frozen=True)
class FieldViolation:
    """One invalid request field: its path (proto field names, dotted) and why it is invalid."""

    field: str
    description: str


class XborderError(Exception):
    """Base of every error a caller may see. `reason` is an ErrorReason name without its prefix."""

    reason = "INTERNAL"

    def __init__(self, message: str, *, metadata: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata = dict(metadata or {})

    @property
    def violations(self) -> tuple[FieldViolation, ...]:
        return ()


class ValidationError(XborderError):
    reason = "VALIDATION_FAILED"

    def __init__(self, violations: Iterable[FieldViolation], message: str | None = None) -> None:
        self._violations = tuple(violations)
        if not self._violations:
            raise ValueError("a ValidationError needs at least one field violation")
        summary = "; ".join(f"{v.field}: {v.description}" for v in self._violations)
        super().__init__(message or f"invalid request: {summary}")

    @property
    def violations(self) -> tuple[FieldViolation, ...]:
        return self._violations

    @classmethod
    def single(cls, field: str, description: str) -> ValidationError:
        return cls([FieldViolation(field, description)])


class CodeCheckFailed(ValidationError):
    reason = "CODE_CHECK_FAILED"


class UnknownCurrency(ValidationError):
    reason = "UNKNOWN_CURRENCY"


class FieldError(XborderError):
    """An error about the record one request field names (when it names one): the message is its violation."""

    def __init__(self, message: str, *, field: str | None = None, metadata: dict[str, str] | None = None):
        super().__init__(message, metadata=metadata)
        self.field = field

    @property
    def violations(self) -> tuple[FieldViolation, ...]:
        return (FieldViolation(self.field, self.message),) if self.field else ()


class NotFound(FieldError):
    reason = "NOT_FOUND"


def found_or_raise(
    found: T | None, message: str, *, field: str | None = None, metadata: dict[str, str] | None = None
) -> T:
    """`found` when a lookup found it; NotFound (naming `field`) when it is None."""
    if found is None:
        raise NotFound(message, field=field, metadata=metadata)
    return found


class RateUnavailable(NotFound):
    reason = "RATE_UNAVAILABLE"


class ReferenceDataMissing(XborderError):
    reason = "REFERENCE_DATA_MISSING"


class IdempotencyConflict(XborderError):
    reason = "IDEMPOTENCY_CONFLICT"


class AlreadyExists(FieldError):
    """The thing a request would create exists already; names the field that makes it the same."""

    reason = "ALREADY_EXISTS"


class Unavailable(XborderError):
    reason = "UNAVAILABLE"


class PayloadTooLarge(XborderError):
    reason = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(XborderError):
    reason = "UNSUPPORTED_MEDIA_TYPE"


class PermissionDenied(XborderError):
    reason = "PERMISSION_DENIED"


class Unauthenticated(XborderError):
    """No credential, or one that is not (or no longer) valid; the gateway answers 401."""

    reason = "UNAUTHENTICATED"


class MerchantHeld(PermissionDenied):
    """The merchant is held after onboarding screening (REVIEW or BLOCK): nothing is done in its name."""

    reason = "MERCHANT_HELD"


class StepUpRequired(PermissionDenied):
    """A sensitive call from an ops session without a recent enough TOTP code (step-up authentication)."""

    reason = "STEP_UP_REQUIRED"


class TransferRefused(PermissionDenied):
    """An answer the cross-border transfer rules do not let go out; `metadata` names the rule (the gateway
    shows it as the problem's `transfer` member)."""


class TransferBlocked(TransferRefused):
    """An answer would carry a field to a destination the transfer rules (or a kill switch) block."""

    reason = "TRANSFER_BLOCKED"


class TransferBasisMissing(TransferRefused):
    """The transfer rule needs a legal basis the merchant has not got on file."""

    reason = "TRANSFER_BASIS_MISSING"


class ConflictingWrite(Exception):
    """A write lost a unique-key race to a concurrent transaction (rolled back); never shown to a caller.

    The unit of work raises it for whatever the driver raised, so use cases can retry or replay.
    """


class ConfigurationError(Exception):
    """A setting is missing or malformed; raised at start-up, before anything is served."""


class Violations:
    """Collects every field violation of one message, so a caller learns all its mistakes at once.

    A check that found a more specific problem than a malformed field (a well-formed currency code that
    ISO 4217 does not know) says so with `error`; the message is then refused with that reason.
    """

    def __init__(self) -> None:
        self._items: list[FieldViolation] = []
        self._error: type[ValidationError] = ValidationError

    def add(self, field: str, description: str, *, error: type[ValidationError] | None = None) -> None:
        self._items.append(FieldViolation(field, description))
        if error is not None and self._error is ValidationError:
            self._error = error

    def __bool__(self) -> bool:
        return bool(self._items)

    def absorb(self, error: ValidationError) -> None:
        """Keep a nested check's violations (and its reason), so the caller still reports every field."""
        self._items.extend(error.violations)
        if type(error) is not ValidationError and self._error is ValidationError:
            self._error = type(error)

    def raise_if_any(self, error: type[ValidationError] | None = None) -> None:
        items, kind = self._items, error or self._error
        declared = _declared.get()
        if declared:
            # The request's declared field rules failed: name those fields too (the servicer's own words
            # win for a field both name), so the one answer still lists every bad field.
            named = {v.field for v in items}
            items = items + [v for v in declared._items if v.field not in named]
            if kind is ValidationError:
                kind = declared._error
        if items:
            raise kind(items)


_declared: ContextVar[Violations | None] = ContextVar("declared_violations", default=None)


@contextlib.contextmanager
def declared_violations(found: Violations | None) -> Iterator[None]:
    """Run a servicer on a request whose declared field rules (services/shared/field_rules.py) failed:
    its first `raise_if_any` refuses the request naming those fields beside its own. None: no rule failed."""
    token = _declared.set(found)
    try:
        yield
    finally:
        _declared.reset(token)
