"""ReconciliationService servicer: validate once, call the handler, map to proto."""

from __future__ import annotations

import re
from datetime import date

import grpc
from xborder.payments.v1 import reconciliation_service_pb2 as pb
from xborder.payments.v1 import reconciliation_service_pb2_grpc as pb_grpc

from services.payments.reconciliation import service_layer as handlers
from services.payments.reconciliation.adapters.repository import MerchantLine, Run, WalletTotals
from services.shared import request_fields as fields
from services.shared.errors import Violations
from services.shared.idempotency import fingerprint
from services.shared.money import to_proto

PARTNER = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,63}$")
DEFAULT_PAGE, MAX_PAGE = 1000, 5000
DEFAULT_RUNS, MAX_RUNS = 100, 500


def parse_day(value: str, field: str, violations: Violations, *, required: bool) -> date | None:
    if not value:
        if required:
            violations.add(field, "is required: a date YYYY-MM-DD")
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        violations.add(field, f"must be a calendar date YYYY-MM-DD, got {value!r}")
        return None


def run_to_proto(run: Run) -> pb.Reconciliation:
    message = pb.Reconciliation(
        code=run.code,
        partner=run.partner,
        content_hash=run.content_hash,
        file_name=run.file_name,
        period_start=run.period_start.isoformat(),
        period_end=run.period_end.isoformat(),
        summary=pb.ReconciliationSummary(lines=run.line_count, **run.outcome_counts()),
    )
    message.created_at.FromDatetime(run.created_at)
    for item in run.items:
        entry = message.items.add(
            outcome=pb.ReconciliationOutcome.Value(f"RECONCILIATION_OUTCOME_{item.outcome.value}"),
            reference=item.reference,
            line_ids=item.line_ids,
            transaction_codes=item.transaction_codes,
            detail=item.detail,
        )
        if item.statement_amount is not None:
            entry.statement_amount.CopyFrom(to_proto(item.statement_amount))
        if item.ledger_amount is not None:
            entry.ledger_amount.CopyFrom(to_proto(item.ledger_amount))
    return message


def line_to_proto(line: MerchantLine) -> pb.StatementLine:
    message = pb.StatementLine(
        transaction_code=line.transaction_code,
        kind=line.kind,
        external_ref=line.external_ref,
        wallet=line.wallet,
        account_code=line.account_code,
        amount=to_proto(line.amount),
        balance_after=to_proto(line.balance_after),
    )
    message.posted_at.FromDatetime(line.posted_at)
    return message


def wallet_to_proto(totals: WalletTotals) -> pb.WalletBalances:
    return pb.WalletBalances(
        wallet=totals.wallet,
        account_code=totals.account_code,
        opening=to_proto(totals.opening),
        closing=to_proto(totals.closing),
    )


class ReconciliationServicer(pb_grpc.ReconciliationServiceServicer):
    def __init__(self, deps: handlers.ReconciliationDeps) -> None:
        self.deps = deps

    def ImportSettlementStatement(
        self, request: pb.ImportSettlementStatementRequest, context: grpc.ServicerContext
    ) -> pb.ImportSettlementStatementResponse:
        violations = Violations()
        fields.request_id(request.request_id, violations)
        partner = request.partner.strip().upper()
        if not PARTNER.match(partner):
            violations.add(
                "partner", "must be 1-64 letters, digits, '_', '.' or '-' (the ledger owner of its CLEARING)"
            )
        if not request.statement:
            violations.add("statement", "is required: the CSV file's bytes")
        if len(request.file_name) > 255:
            violations.add("file_name", "at most 255 characters")
        start = parse_day(request.period_start, "period_start", violations, required=False)
        end = parse_day(request.period_end, "period_end", violations, required=False)
        violations.raise_if_any()
        command = handlers.ImportStatement(
            request.request_id, fingerprint(request), partner, request.statement, request.file_name, start, end
        )
        return handlers.import_statement(
            self.deps,
            command,
            lambda run, again: pb.ImportSettlementStatementResponse(
                reconciliation=run_to_proto(run), already_imported=again
            ),
            pb.ImportSettlementStatementResponse,
        )

    def GetReconciliation(
        self, request: pb.GetReconciliationRequest, context: grpc.ServicerContext
    ) -> pb.GetReconciliationResponse:
        code = fields.one_code(request.code, "code", "RC")
        return pb.GetReconciliationResponse(reconciliation=run_to_proto(handlers.get_reconciliation(self.deps, code)))

    def ListReconciliations(
        self, request: pb.ListReconciliationsRequest, context: grpc.ServicerContext
    ) -> pb.ListReconciliationsResponse:
        violations = Violations()
        partner = request.partner.strip().upper()
        if partner and not PARTNER.match(partner):
            violations.add(
                "partner", "must be 1-64 letters, digits, '_', '.' or '-' (the ledger owner of its CLEARING)"
            )
        first = parse_day(request.from_date, "from_date", violations, required=False)
        last = parse_day(request.to_date, "to_date", violations, required=False)
        if first and last and first > last:
            violations.add("to_date", f"must be on or after from_date {first.isoformat()}")
        size, cursor = fields.page(
            request.page_size, request.page_token, violations, default=DEFAULT_RUNS, maximum=MAX_RUNS
        )
        violations.raise_if_any()
        page = handlers.list_reconciliations(self.deps, partner or None, first, last, size, cursor or 0)
        return pb.ListReconciliationsResponse(
            reconciliations=[run_to_proto(run) for run in page.runs],
            next_page_token=str(page.next_offset) if page.next_offset is not None else "",
        )

    def ListStatementLines(
        self, request: pb.ListStatementLinesRequest, context: grpc.ServicerContext
    ) -> pb.ListStatementLinesResponse:
        violations = Violations()
        merchant = fields.merchant_code(request.merchant_code, violations)
        first = parse_day(request.from_date, "from_date", violations, required=True)
        last = parse_day(request.to_date, "to_date", violations, required=True)
        if first and last and first > last:
            violations.add("to_date", f"must be on or after from_date {first.isoformat()}")
        currency = fields.currency(request.currency, violations) if request.currency else ""
        # Tokens this service issued are "t" and a transfer id.
        token = request.page_token
        if token and not token.startswith("t"):
            violations.add("page_token", "is not a token this service issued")
            token = ""
        size, cursor = fields.page(request.page_size, token[1:], violations, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        after = cursor or 0
        violations.raise_if_any()
        assert first is not None and last is not None
        page = handlers.list_statement_lines(self.deps, merchant, first, last, currency or None, size, after)
        return pb.ListStatementLinesResponse(
            lines=[line_to_proto(line) for line in page.lines],
            wallets=[wallet_to_proto(w) for w in page.wallets],
            next_page_token=f"t{page.next_after}" if page.next_after is not None else "",
        )
