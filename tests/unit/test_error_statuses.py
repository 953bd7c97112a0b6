"""The reason -> status table covers every error a caller can see, and answers as the classes did."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import grpc
import pytest

import services
from services.shared.error_statuses import ERROR_STATUSES, http_status, status_of
from services.shared.errors import (
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationError,
    XborderError,
)

ERRORS_PROTO = Path(__file__).resolve().parents[2] / "protos/xborder/common/v1/errors.proto"
# Reasons a process raises that errors.proto does not list: none today. A new one goes in errors.proto first.
NOT_IN_PROTO: frozenset[str] = frozenset()


def _import_every_service_module() -> None:
    for module in pkgutil.walk_packages(services.__path__, "services."):
        # Migrations run alembic at import; __main__ modules start processes; the worker patches eventlet.
        if (
            ".migrations" in module.name
            or module.name.endswith("__main__")
            or module.name.startswith("services.worker")
        ):
            continue
        importlib.import_module(module.name)


def _every_error_class() -> list[type[XborderError]]:
    _import_every_service_module()
    found: list[type[XborderError]] = []
    pending = [XborderError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_error_class_reason_has_a_table_entry() -> None:
    classes = _every_error_class()
    assert len(classes) > 20  # the walk found the services' errors, not just the kernel's
    missing = sorted(
        {f"{c.__module__}.{c.__qualname__}: {c.reason}" for c in classes if c.reason not in ERROR_STATUSES}
    )
    assert not missing


def test_every_reason_in_errors_proto_has_a_table_entry_and_back() -> None:
    in_proto = set(re.findall(r"ERROR_REASON_(\w+) = \d+;", ERRORS_PROTO.read_text())) - {"UNSPECIFIED"}
    assert in_proto - ERROR_STATUSES.keys() == set()
    assert ERROR_STATUSES.keys() - in_proto == NOT_IN_PROTO


# The statuses callers rely on, written out so that a table edit that changes one fails here first.
C = grpc.StatusCode
ANSWERED = {
    "INTERNAL": (C.INTERNAL, 500),
    "VALIDATION_FAILED": (C.INVALID_ARGUMENT, 400),
    "CODE_CHECK_FAILED": (C.INVALID_ARGUMENT, 400),
    "UNKNOWN_CURRENCY": (C.INVALID_ARGUMENT, 400),
    "CURRENCY_MISMATCH": (C.INVALID_ARGUMENT, 400),
    "NOT_FOUND": (C.NOT_FOUND, 404),
    "RATE_UNAVAILABLE": (C.NOT_FOUND, 404),
    "REFERENCE_DATA_MISSING": (C.FAILED_PRECONDITION, 400),
    "IDEMPOTENCY_CONFLICT": (C.ALREADY_EXISTS, 409),
    "ALREADY_EXISTS": (C.ALREADY_EXISTS, 409),
    "DUPLICATE_PARTNER_REFERENCE": (C.ALREADY_EXISTS, 409),
    "UNAVAILABLE": (C.UNAVAILABLE, 503),
    "RATE_STALE": (C.UNAVAILABLE, 503),
    "PAYLOAD_TOO_LARGE": (C.RESOURCE_EXHAUSTED, 413),
    "UNSUPPORTED_MEDIA_TYPE": (C.INVALID_ARGUMENT, 415),
    "PERMISSION_DENIED": (C.PERMISSION_DENIED, 403),
    "QUOTE_EXPIRED": (C.FAILED_PRECONDITION, 400),
    "QUOTE_USED": (C.FAILED_PRECONDITION, 400),
    "DECRYPTION_FAILED": (C.DATA_LOSS, 500),
    "KEY_UNAVAILABLE": (C.FAILED_PRECONDITION, 400),
    "KEY_RETIRED": (C.FAILED_PRECONDITION, 400),
    "FAILED_PRECONDITION": (C.FAILED_PRECONDITION, 400),
    "INSUFFICIENT_FUNDS": (C.FAILED_PRECONDITION, 400),
    "PENDING_TRANSFER_RESOLVED": (C.FAILED_PRECONDITION, 400),
    "PENDING_TRANSFER_EXPIRED": (C.FAILED_PRECONDITION, 400),
    "REFUND_EXCEEDS_COLLECTED": (C.FAILED_PRECONDITION, 400),
    "INVALID_STATE": (C.FAILED_PRECONDITION, 400),
}


@pytest.mark.parametrize("reason", sorted(ANSWERED))
def test_each_reason_answers_as_before(reason: str) -> None:
    entry = ERROR_STATUSES[reason]
    assert (entry.grpc, entry.http) == ANSWERED[reason]
    assert http_status(reason, entry.grpc) == entry.http


def test_an_error_is_answered_by_its_reason() -> None:
    assert status_of(ValidationError.single("x", "bad")).grpc is C.INVALID_ARGUMENT
    assert status_of(NotFound("gone")).http == 404
    assert status_of(PayloadTooLarge("big")).http == 413
    assert status_of(UnsupportedMediaType("text/plain")).http == 415


def test_a_subclass_without_an_entry_answers_like_its_base_class() -> None:
    class Unlisted(NotFound):
        reason = "SOMETHING_NEW"

    assert status_of(Unlisted("gone")).grpc is C.NOT_FOUND


def test_a_status_without_a_known_reason_keeps_its_code_mapping() -> None:
    assert http_status(None, C.UNIMPLEMENTED) == 501
    assert http_status("INTERNAL", C.NOT_FOUND) == 404  # passed through from another service
    assert http_status("SOMETHING_NEW", C.DEADLINE_EXCEEDED) == 504
