"""Parsing of the request fields many servicers share: idempotency keys, unified codes, merchant codes,
currencies, money and paging. The same bad input gets the same answer from every service.

They add to a `Violations` instead of raising, so one answer names every bad field of a request; `one_code`,
`keyed_code` and `parsed` raise at once, for requests whose only checked fields they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from google.type import money_pb2

from services.shared import codes
from services.shared.errors import UnknownCurrency, ValidationError, Violations
from services.shared.idempotency import check_key
from services.shared.money import Money, from_proto, minor_unit

T = TypeVar("T")

_ALPHA = re.compile(r"^[A-Z]{3}$")


def request_id(value: str, violations: Violations, field: str = "request_id") -> str:
    """The client's idempotency key: required, at most 255 characters."""
    try:
        check_key(value, field)
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


def merchant_code(value: str, violations: Violations, field: str = "merchant_code") -> str:
    """A check-valid merchant code (MC...), normalised; "" when it is not one."""
    return unified_code(value, field, violations, "MC")


def currency(value: str, violations: Violations, field: str = "currency") -> str:
    """An ISO 4217 alphabetic code with a minor unit, upper-cased.

    Malformed is VALIDATION_FAILED; three letters ISO 4217 does not list (or lists without a minor unit,
    such as XAU) is UNKNOWN_CURRENCY, in every service.
    """
    code = value.strip().upper()
    if not code:
        violations.add(field, "is required")
    elif not _ALPHA.match(code):
        violations.add(field, f"must be three letters (ISO 4217 alphabetic), got {value!r}")
    else:
        try:
            minor_unit(code, field=field)
        except UnknownCurrency as unknown:
            violations.absorb(unknown)
    return code


def money(
    message: money_pb2.Money | None, violations: Violations, field: str, *, positive: bool = False
) -> Money | None:
    """Wire money as `Money` in the currency's minor units; None (and a violation) when it is not usable.

    `message` None means the caller left the field out. `positive` refuses zero and negative amounts.
    """
    if message is None:
        violations.add(field, "is required")
        return None
    try:
        parsed = from_proto(message, field=field)
    except ValidationError as invalid:
        violations.absorb(invalid)
        return None
    if positive and parsed.amount <= 0:
        violations.add(f"{field}.units", f"must be positive, got {parsed.amount}")
        return None
    return parsed


def page(size: int, token: str, violations: Violations, *, default: int, maximum: int) -> tuple[int, int | None]:
    """(page size, cursor) from `page_size` and a `page_token` this service issued (an opaque offset)."""
    if size < 0 or size > maximum:
        violations.add("page_size", f"must be between 1 and {maximum} (0 for {default})")
    cursor = None
    if token:
        if not token.isdigit():
            violations.add("page_token", "is not a token this service issued")
        else:
            cursor = int(token)
    return size or default, cursor


def one_code(value: str, field: str, entity_type: str | None = None) -> str:
    """The unified code a read of one record names; a bad one raises its violation at once."""
    violations = Violations()
    code = unified_code(value, field, violations, entity_type)
    violations.raise_if_any()
    return code


def keyed_code(request_id_value: str, value: str, field: str, entity_type: str | None = None) -> str:
    """The unified code a write names, checked with the write's request id; both violations raise together."""
    violations = Violations()
    request_id(request_id_value, violations)
    code = unified_code(value, field, violations, entity_type)
    violations.raise_if_any()
    return code


def parsed(parse: Callable[[str, Violations], T], value: str) -> T:
    """`parse(value, violations)` for a request with that one field; its violations raise at once."""
    violations = Violations()
    result = parse(value, violations)
    violations.raise_if_any()
    return result
