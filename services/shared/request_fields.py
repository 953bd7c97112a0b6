"""Checks of request fields every servicer has: the idempotency key and xborder unified codes.

They add to a `Violations` instead of raising, so one answer names every bad field of a request.
"""

from __future__ import annotations

from services.shared import codes
from services.shared.errors import ValidationError, Violations
from services.shared.idempotency import IdempotencyStore


def request_id(value: str, violations: Violations, field: str = "request_id") -> str:
    """The client's idempotency key: required, at most 255 characters."""
    try:
        IdempotencyStore.check_key(value, field)
    except ValidationError as invalid:
        violations.absorb(invalid)
    return value


def unified_code(value: str, field: str, violations: Violations, entity_type: str | None = None) -> str:
    """A check-valid xborder code (of `entity_type` when given), normalised; "" when it is not one."""
    if not value.strip():
        violations.add(field, "is required")
        return ""
    try:
        return codes.parse(value, field=field, entity_type=entity_type).value
    except ValidationError as invalid:
        violations.absorb(invalid)
        return ""
