"""Run a mutating RPC's work exactly once per request_id (services/shared/idempotency.py's pattern).

The first request stores its serialised response with the state change, in one transaction; a replay
with the same payload gets those bytes back, a different payload is refused (IDEMPOTENCY_CONFLICT). A
concurrent duplicate loses on the store's primary key at insert or commit, rolls back, and replays.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message
from sqlalchemy.exc import IntegrityError

from services.payments.ledger.adapters.repository import LedgerRepository
from services.shared.idempotency import IdempotencyStore
from services.shared.uow import UnitOfWork

T = TypeVar("T")
M = TypeVar("M", bound=Message)


def replayed(
    uow_factory: Callable[[], UnitOfWork],
    store: IdempotencyStore,
    scope: str,
    request_id: str,
    fingerprint: str,
    response_type: type[M],
) -> M | None:
    """The stored response of an earlier identical request, without doing anything else."""
    store.check_key(request_id)
    with uow_factory() as uow:
        hit = store.replay(uow.connection, scope, request_id, fingerprint)
    return None if hit is None else response_type.FromString(hit)


def run_idempotent(
    uow_factory: Callable[[], UnitOfWork],
    store: IdempotencyStore,
    clock: Callable[[], datetime],
    scope: str,
    request_id: str,
    fingerprint: str,
    work: Callable[[UnitOfWork, datetime], T],
    render: Callable[[T], M],
    response_type: type[M],
) -> M:
    """Do `work` and store `render(result)` under (scope, request_id), or replay what was stored."""
    store.check_key(request_id)
    for attempt in range(2):
        try:
            with uow_factory() as uow:
                LedgerRepository(uow.connection).begin_write()  # SQLite: one writer, current reads
                hit = store.replay(uow.connection, scope, request_id, fingerprint)
                if hit is not None:
                    return response_type.FromString(hit)
                response = render(work(uow, clock()))
                store.remember(
                    uow.connection, scope, request_id, fingerprint, response.SerializeToString(deterministic=True)
                )
                uow.commit()
                return response
        except IntegrityError:
            if attempt:
                raise
            # A concurrent duplicate committed first: the second attempt replays its response.
    raise AssertionError("unreachable")
