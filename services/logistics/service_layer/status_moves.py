"""A status move of one stored record: the use-case shape reservations, outbound orders, inbound shipments
and returns share.

`move_status` runs it once per request id (`run_idempotent`): the record is read for update, or NOT_FOUND
names `code`; `change` (the domain's check of the move, and whatever the move does besides) gives the
record after it, or refuses, naming the field and the moves the record's status allows; the record is
saved and its status change emitted in the same transaction; the answer is rendered from the record as
moved. A replay answers the first answer byte for byte and changes and emits nothing; a refused move
commits nothing.

What differs between kinds of record is data, a `Record` each: its noun, how it is read and saved, the
event its moves emit, and whether its moves change stock levels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, Protocol, TypeVar

from google.protobuf.message import Message

from services.shared.errors import found_or_raise
from services.shared.idempotency import IdempotentUnitOfWork, Request, run_idempotent
from services.shared.logs import get_logger

log = get_logger(__name__)


class MovingUnitOfWork(IdempotentUnitOfWork, Protocol):
    """What a status move needs of the unit of work: LogisticsUnitOfWork, or a test's in-memory fake."""

    def lock_stock_for_write(self) -> None: ...

    def emit(self, message: Message) -> object: ...


class Stated(Protocol):
    @property
    def status(self) -> Enum: ...


U = TypeVar("U", bound=MovingUnitOfWork)
T = TypeVar("T", bound=Stated)
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Move:
    """A status move of an existing record, once per request id."""

    request_id: str
    fingerprint: str
    code: str


@dataclass(frozen=True)
class Record(Generic[U, T]):
    """How status moves find, keep and announce one kind of record."""

    noun: str  # what the NOT_FOUND names: "no outbound order CK..."
    load: Callable[[U, str, bool], T | None]  # by code; read for update when the flag says so
    save: Callable[[U, T], None]
    event: Callable[[T, T], Message]  # the status-change event, from the record before and after the move
    stock: bool = False  # its moves change stock levels: they take the stock write lock, as every stock change
    logged: str = ""  # the log line of each move (code, previous and new status); none when empty


def move_status(
    uow_factory: Callable[[], U],
    record: Record[U, T],
    scope: str,
    move: Move,
    change: Callable[[U, T], T],
    response_type: type[M],
    respond: Callable[[T], M],
) -> M:
    """Move `move.code` once per `move.request_id` in `scope` (one key space per record and action).

    `change` gets the record as read and answers it as moved, with its new status; it raises to refuse (the
    domain's error, naming the field and the legal moves) and may change other records or emit further
    events in the same unit of work, which then go out before the status change.
    """

    def work(uow: U) -> M:
        if record.stock:
            uow.lock_stock_for_write()
        before = found_or_raise(record.load(uow, move.code, True), f"no {record.noun} {move.code}", field="code")
        after = change(uow, before)
        record.save(uow, after)
        uow.emit(record.event(before, after))
        if record.logged:
            log.info(record.logged, code=move.code, previous=before.status.value, status=after.status.value)
        return respond(after)

    # Stock moves lock stock after the replay read (rows, on PostgreSQL), the others the service's write lock
    # before it, as every other use case of their records does.
    request = Request(f"{scope}:{move.code}", move.request_id, move.fingerprint)
    return run_idempotent(uow_factory, request, response_type, work, lock=not record.stock)


def get(uow_factory: Callable[[], U], record: Record[U, T], code: str) -> T:
    """The record as it stands, or NOT_FOUND naming `code`."""
    with uow_factory() as uow:
        found = record.load(uow, code, False)
    return found_or_raise(found, f"no {record.noun} {code}", field="code")
