"""`xborder odr list|show|escalate|status|retry`: ODR cases for operations staff, over gRPC to the running
customer-service service (XB_CUSTOMER_SERVICE_HOST / XB_CUSTOMER_SERVICE_PORT), as any client."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from cli.context import rpc_failure, service_channel

odr_app = typer.Typer(
    help="ODR cases: list, show, escalate, record a provider status, retry a delivery.", no_args_is_help=True
)
console = Console()

STATUSES = (
    "received",
    "accepted",
    "rejected",
    "negotiation",
    "facilitation",
    "final_stage",
    "settled",
    "decided",
    "withdrawn",
)
LIST_STATUSES = ("all", "submitted", *STATUSES)
REMEDIES = ("by-type", "refund", "replacement", "repair", "other")


def _stub() -> tuple[Any, Any]:
    from xborder.customer_service.v1 import customer_service_pb2_grpc as pb_grpc

    channel = service_channel("customer_service")
    return pb_grpc.CustomerServiceStub(channel), channel


def _call(method: Any, request: Any) -> Any:
    import grpc

    try:
        return method(request, timeout=10)
    except grpc.RpcError as error:
        raise rpc_failure(error, "customer-service") from None


def _status(case: Any, pb: Any) -> str:
    return str(pb.OdrStatus.Name(case.status)).removeprefix("ODR_STATUS_")


def _when(stamp: Any) -> str:
    return str(stamp.ToDatetime().strftime("%Y-%m-%d %H:%M"))


def _delivery(case: Any) -> str:
    delivery = case.delivery
    if delivery.HasField("delivered_at"):
        reference = f" ({delivery.provider_reference})" if delivery.provider_reference else ""
        return f"delivered {_when(delivery.delivered_at)}{reference}"
    failed = f", last error: {delivery.last_error}" if delivery.last_error else ""
    return f"pending, {delivery.attempts} attempt(s), next {_when(delivery.next_attempt_at)}{failed}"


def _bad(problem: str) -> typer.Exit:
    console.print(f"[red]{problem}[/red]")
    return typer.Exit(2)


def _summary(case: Any, pb: Any) -> None:
    console.print(
        f"[bold]{case.ticket_code}[/bold] merchant {case.merchant_code}, provider {case.provider}, "
        f"{_status(case, pb)}; delivery: {_delivery(case)}"
    )


@odr_app.command("list")
def list_(
    status: str = typer.Option("all", help=f"One of {', '.join(LIST_STATUSES)}."),
    merchant: str = typer.Option("", help="Only this merchant's cases (MC...)."),
    undelivered: bool = typer.Option(False, "--undelivered", help="Only cases whose case file is not delivered."),
    limit: int = typer.Option(20, min=1, max=100, help="At most this many cases."),
) -> None:
    """List ODR cases, newest escalation first (times in UTC)."""
    from xborder.customer_service.v1 import customer_service_pb2 as pb

    if status not in LIST_STATUSES:
        raise _bad(f"--status: must be one of {', '.join(LIST_STATUSES)}, got {status!r}")
    wanted = "ODR_STATUS_UNSPECIFIED" if status == "all" else f"ODR_STATUS_{status.upper()}"
    request = pb.ListOdrCasesRequest(
        status=wanted, merchant_code=merchant, undelivered_only=undelivered, page_size=limit
    )
    stub, channel = _stub()
    with channel:
        reply = _call(stub.ListOdrCases, request)
    table = Table(title="ODR cases")
    for column in ("ticket", "merchant", "escalated (UTC)", "provider", "status", "delivery", "reason"):
        table.add_column(column, no_wrap=column in ("ticket", "merchant"))
    for case in reply.cases:
        table.add_row(
            case.ticket_code,
            case.merchant_code,
            _when(case.escalated_at),
            case.provider,
            _status(case, pb),
            _delivery(case),
            case.reason,
        )
    console.print(table)
    console.print(f"{len(reply.cases)} case(s)" + ("; more: raise --limit" if reply.next_page_token else ""))


@odr_app.command("show")
def show(
    ticket: str = typer.Argument(..., help="The ticket's unified code (TK...)."),
    case_file: bool = typer.Option(False, "--case-file", help="Print the case file as sent (JSON)."),
) -> None:
    """One case: its status history, outcome, delivery and (optionally) its case file."""
    from xborder.customer_service.v1 import customer_service_pb2 as pb

    stub, channel = _stub()
    with channel:
        case = _call(stub.GetOdrCase, pb.GetOdrCaseRequest(ticket_code=ticket)).case
    _summary(case, pb)
    console.print(f"escalated {_when(case.escalated_at)}: {case.reason}; case file sha256 {case.case_file_sha256}")
    history = Table(title="statuses")
    for column in ("recorded (UTC)", "status", "note", "provider reference"):
        history.add_column(column)
    for entry in case.history:
        history.add_row(
            _when(entry.recorded_at),
            str(pb.OdrStatus.Name(entry.status)).removeprefix("ODR_STATUS_"),
            entry.note,
            entry.provider_reference,
        )
    console.print(history)
    if case.HasField("outcome"):
        console.print(f"outcome: {case.outcome.summary}")
    if case_file:
        console.print_json(json.dumps(json.loads(case.case_file_json)))


@odr_app.command("escalate")
def escalate(
    ticket: str = typer.Argument(..., help="The ticket's unified code (TK...)."),
    reason: str = typer.Option("escalated by an operator", help="Why now (shown in the ticket's history)."),
    remedy: str = typer.Option("by-type", help=f"One of {', '.join(REMEDIES)}."),
    amount: str = typer.Option("", help="Amount in dispute, e.g. 40.00 (with --currency)."),
    currency: str = typer.Option("", help="ISO 4217 currency of --amount."),
    request_id: str = typer.Option("", help="Idempotency key (default: a new UUID)."),
) -> None:
    """Hand a complaint to the configured ODR provider before its negotiation window ends."""
    from xborder.customer_service.v1 import customer_service_pb2 as pb

    if remedy not in REMEDIES:
        raise _bad(f"--remedy: must be one of {', '.join(REMEDIES)}, got {remedy!r}")
    request = pb.EscalateToOdrRequest(
        request_id=request_id or str(uuid.uuid4()),
        ticket_code=ticket,
        reason=reason,
        remedy="ODR_REMEDY_UNSPECIFIED" if remedy == "by-type" else f"ODR_REMEDY_{remedy.upper()}",
    )
    if amount or currency:
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise _bad(f"--amount: a decimal number, got {amount!r}") from None
        units = int(value)
        request.amount.currency_code = currency
        request.amount.units = units
        request.amount.nanos = int((value - units) * 1_000_000_000)
    stub, channel = _stub()
    with channel:
        case = _call(stub.EscalateToOdr, request).case
    _summary(case, pb)


@odr_app.command("status")
def status(
    ticket: str = typer.Argument(..., help="The ticket's unified code (TK...)."),
    new_status: str = typer.Argument(..., metavar="STATUS", help=f"One of {', '.join(STATUSES)}."),
    note: str = typer.Option("", help="The provider's note."),
    reference: str = typer.Option("", help="The provider's reference for the case."),
    outcome: str = typer.Option("", help="Outcome summary (required with settled and decided)."),
    refund: str = typer.Option("", help="Refund with the outcome, e.g. 40.00 (with --currency and --collection)."),
    currency: str = typer.Option("", help="ISO 4217 currency of --refund."),
    collection: str = typer.Option("", help="The linked collection the refund comes from (PY...)."),
    request_id: str = typer.Option("", help="Idempotency key (default: a new UUID)."),
) -> None:
    """Record a status the provider reported (the ticket follows: solved, reopened or on hold)."""
    from xborder.customer_service.v1 import customer_service_pb2 as pb

    if new_status not in STATUSES:
        raise _bad(f"STATUS: must be one of {', '.join(STATUSES)}, got {new_status!r}")
    request = pb.RecordOdrStatusRequest(
        request_id=request_id or str(uuid.uuid4()),
        ticket_code=ticket,
        status=f"ODR_STATUS_{new_status.upper()}",
        note=note,
        provider_reference=reference,
    )
    if outcome or refund:
        request.outcome.summary = outcome
        if refund:
            try:
                value = Decimal(refund)
            except InvalidOperation:
                raise _bad(f"--refund: a decimal number, got {refund!r}") from None
            units = int(value)
            request.outcome.refund.currency_code = currency
            request.outcome.refund.units = units
            request.outcome.refund.nanos = int((value - units) * 1_000_000_000)
            request.outcome.refund_collection_code = collection
    stub, channel = _stub()
    with channel:
        case = _call(stub.RecordOdrStatus, request).case
    _summary(case, pb)


@odr_app.command("retry")
def retry(
    ticket: str = typer.Argument(..., help="The ticket's unified code (TK...)."),
    request_id: str = typer.Option("", help="Idempotency key (default: a new UUID)."),
) -> None:
    """Try an undelivered case file now, whatever its backoff; prints the attempt's outcome."""
    from xborder.customer_service.v1 import customer_service_pb2 as pb

    request = pb.RetryOdrDeliveryRequest(request_id=request_id or str(uuid.uuid4()), ticket_code=ticket)
    stub, channel = _stub()
    with channel:
        case = _call(stub.RetryOdrDelivery, request).case
    _summary(case, pb)
