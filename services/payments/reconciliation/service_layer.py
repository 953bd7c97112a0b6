"""Reconciliation use cases: import a settlement statement (commits here, once), read runs and statements."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from google.protobuf.message import Message
from xborder.payments.v1 import reconciliation_events_pb2 as events_pb2

from services.payments.reconciliation.adapters.repository import (
    MerchantLine,
    ReconciliationRepository,
    Run,
    WalletTotals,
    day_start,
)
from services.payments.reconciliation.domain import (
    Item,
    Outcome,
    parse_statement,
    reconcile,
    statement_period,
)
from services.payments.unit_of_work import PaymentsUnitOfWork
from services.shared import codes
from services.shared.clock import utcnow
from services.shared.errors import ConflictingWrite, ValidationError, found_or_raise
from services.shared.idempotency import Request, run_idempotent
from services.shared.logs import get_logger

SCOPE = "payments.import_settlement_statement"
log = get_logger(__name__)
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class ReconciliationDeps:
    uow_factory: Callable[[], PaymentsUnitOfWork]


@dataclass(frozen=True)
class ImportStatement:
    request_id: str
    fingerprint: str
    partner: str
    content: bytes
    file_name: str
    period_start: date | None
    period_end: date | None


def _scope(partner: str) -> str:
    return f"{SCOPE}:{partner}"


def import_statement(
    deps: ReconciliationDeps, command: ImportStatement, respond: Callable[[Run, bool], M], response_type: type[M]
) -> M:
    """Reconcile and store the run; the same file again answers the first run and stores nothing.

    A bad file is refused before anything is read or written. Concurrent imports of one file (or of
    overlapping files) collide on the unique (partner, content hash) / (partner, line_id) keys: the loser
    rolls back and tries again, then finds the winner's run or its lines as duplicates.
    """
    lines = parse_statement(command.content)
    first, last = statement_period(lines)
    period = (command.period_start or first, command.period_end or last)
    if period[0] > period[1]:
        raise ValidationError.single("period_end", f"must be on or after period_start {period[0].isoformat()}")
    content_hash = hashlib.sha256(command.content).hexdigest()

    request = Request(_scope(command.partner), command.request_id, command.fingerprint)

    def work(uow: PaymentsUnitOfWork) -> M:
        repo = uow.reconciliation
        existing = repo.run_code_for(command.partner, content_hash)
        if existing is not None and uow.idempotency.replay(request.scope, request.key, request.fingerprint):
            # A twin of this request stored the run after our replay check read nothing: replay its answer.
            raise ConflictingWrite(f"a twin of request {request.key!r} imported the statement first")
        if existing is not None:
            run = repo.get_run(existing)
            assert run is not None
            response = respond(run, True)
        else:
            run = _reconcile_and_store(repo, command, lines, period, content_hash)
            uow.emit(_event(run))
            response = respond(run, False)
        log.info(
            "settlement_statement_imported",
            partner=command.partner,
            reconciliation_code=run.code,
            lines=len(lines),
            already_imported=existing is not None,
        )
        return response

    return run_idempotent(deps.uow_factory, request, response_type, work, lock=False)


def _reconcile_and_store(
    repo: ReconciliationRepository,
    command: ImportStatement,
    lines: list,
    period: tuple[date, date],
    content_hash: str,
) -> Run:
    earlier = repo.imported_line_ids(command.partner, [line.line_id for line in lines])
    fresh = [line for line in lines if line.line_id not in earlier]
    duplicates = [
        Item(
            Outcome.DUPLICATE,
            line.reference,
            line.amount.currency,
            line.amount,
            None,
            (line.line_id,),
            (),
            f"line_id already imported by reconciliation {earlier[line.line_id]}",
        )
        for line in lines
        if line.line_id in earlier
    ]
    movements = repo.clearing_movements(command.partner, [line.reference for line in fresh], period)
    fresh_refs = {line.reference for line in fresh}
    seen_before = repo.references_seen(command.partner, {m.reference for m in movements} - fresh_refs)
    items = reconcile(fresh, movements, period, references_seen_before=seen_before)
    # The run code's zone: "G" (rest of world). A partner is no merchant; its residency is not modelled yet.
    run = Run(
        codes.generate("RC", "G"),
        command.partner,
        content_hash,
        command.file_name,
        period[0],
        period[1],
        len(lines),
        utcnow(),
        tuple(items + duplicates),
    )
    repo.insert_run(run, fresh)
    return run


def _event(run: Run) -> events_pb2.SettlementStatementReconciled:
    message = events_pb2.SettlementStatementReconciled(
        reconciliation_code=run.code,
        partner=run.partner,
        period_start=run.period_start.isoformat(),
        period_end=run.period_end.isoformat(),
        **run.outcome_counts(),
    )
    message.occurred_at.FromDatetime(run.created_at)
    return message


def get_reconciliation(deps: ReconciliationDeps, code: str) -> Run:
    with deps.uow_factory() as uow:
        return found_or_raise(uow.reconciliation.get_run(code), f"no reconciliation {code}", field="code")


@dataclass(frozen=True)
class RunPage:
    runs: list[Run]
    next_offset: int | None


def list_reconciliations(
    deps: ReconciliationDeps,
    partner: str | None,
    from_day: date | None,
    to_day: date | None,
    page_size: int,
    offset: int,
) -> RunPage:
    with deps.uow_factory() as uow:
        runs, more = uow.reconciliation.list_runs(partner, from_day, to_day, offset, page_size)
    return RunPage(runs, offset + len(runs) if more else None)


@dataclass(frozen=True)
class StatementPage:
    lines: list[MerchantLine]
    wallets: list[WalletTotals]
    next_after: int | None


def list_statement_lines(
    deps: ReconciliationDeps,
    merchant: str,
    first_day: date,
    last_day: date,
    currency: str | None,
    page_size: int,
    after_transfer: int,
) -> StatementPage:
    start, end = day_start(first_day), day_start(last_day + timedelta(days=1))
    with deps.uow_factory() as uow:
        repo = uow.merchant_statements
        wallets = repo.wallets(merchant, currency)
        lines, more = repo.lines(wallets, start, end, after_transfer, page_size)
        totals = repo.totals(wallets, start, end)
    return StatementPage(lines, totals, lines[-1].transfer_id if more and lines else None)
