"""`xborder tickets list|show|open|ask`: customer-service tickets, over gRPC to the running customer-service
service (XB_CUSTOMER_SERVICE_HOST / XB_CUSTOMER_SERVICE_PORT), as any client."""

from __future__ import annotations

import uuid
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from cli.context import rpc_failure, service_channel

tickets_app = typer.Typer(help="Customer-service tickets: list, show, open.", no_args_is_help=True)
console = Console()

TYPES = ("consultation", "complaint", "not_received", "not_as_described", "damaged", "return")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("all", "new", "open", "pending", "on_hold", "solved", "closed", "merged")


def _stub() -> tuple[Any, Any]:
    from xborder.customer_service.v1 import customer_service_pb2_grpc as pb_grpc

    channel = service_channel("customer_service")
    return pb_grpc.CustomerServiceStub(channel), channel


def _fail(error: Any) -> typer.Exit:
    return rpc_failure(error, "customer-service")


def _name(enum_value: int, enum: Any, prefix: str) -> str:
    return str(enum.Name(enum_value)).removeprefix(prefix)


def _call(method: Any, request: Any) -> Any:
    import grpc

    try:
        return method(request, timeout=10)
    except grpc.RpcError as error:
        raise _fail(error) from None


def _sla_summary(ticket: Any, pb: Any) -> str:
    parts = []
    for clock in ticket.sla:
        target = _name(clock.target, pb.SlaTarget, "SLA_TARGET_").lower()
        state = _name(clock.state, pb.SlaState, "SLA_STATE_").lower()
        due = f" due {clock.due_at.ToDatetime().strftime('%m-%d %H:%M')}" if clock.HasField("due_at") else ""
        parts.append(f"{target}: {state}{due}")
    return "; ".join(parts)


@tickets_app.command("list")
def list_(
    merchant: str = typer.Argument(..., help="The merchant's unified code (MC...)."),
    status: str = typer.Option("all", help=f"One of {', '.join(STATUSES)}."),
    limit: int = typer.Option(20, min=1, max=100, help="At most this many tickets."),
) -> None:
    """List a merchant's tickets, newest first, with their SLA clocks (due times in UTC)."""
    from xborder.customer_service.v1 import customer_service_pb2 as pb

    if status not in STATUSES:
        console.print(f"[red]--status:[/red] must be one of {', '.join(STATUSES)}, got {status!r}")
        raise typer.Exit(2)
    stub, channel = _stub()
    with channel:
        wanted = "TICKET_STATUS_UNSPECIFIED" if status == "all" else f"TICKET_STATUS_{status.upper()}"
        reply = _call(stub.ListTickets, pb.ListTicketsRequest(merchant_code=merchant, status=wanted, page_size=limit))
    table = Table(title=f"tickets of {merchant}")
    for column in ("ticket", "opened (UTC)", "type", "status", "priority", "subject", "SLA"):
        table.add_column(column, no_wrap=column == "ticket")
    for ticket in reply.tickets:
        table.add_row(
            ticket.code,
            ticket.created_at.ToDatetime().strftime("%Y-%m-%d %H:%M"),
            _name(ticket.type, pb.TicketType, "TICKET_TYPE_"),
            _name(ticket.status, pb.TicketStatus, "TICKET_STATUS_"),
            _name(ticket.priority, pb.TicketPriority, "TICKET_PRIORITY_"),
            ticket.subject,
            _sla_summary(ticket, pb),
        )
    console.print(table)
    console.print(f"{len(reply.tickets)} ticket(s)" + ("; more: raise --limit" if reply.next_page_token else ""))


@tickets_app.command("show")
def show(code: str = typer.Argument(..., help="The ticket's unified code (TK...).")) -> None:
    """One ticket: its history, messages and SLA clocks."""
    from xborder.customer_service.v1 import customer_service_pb2 as pb

    stub, channel = _stub()
    with channel:
        ticket = _call(stub.GetTicket, pb.GetTicketRequest(code=code)).ticket
    console.print(
        f"[bold]{ticket.code}[/bold] {ticket.subject}\n"
        f"merchant {ticket.merchant_code}, {_name(ticket.type, pb.TicketType, 'TICKET_TYPE_')}, "
        f"{_name(ticket.status, pb.TicketStatus, 'TICKET_STATUS_')}, "
        f"priority {_name(ticket.priority, pb.TicketPriority, 'TICKET_PRIORITY_')}"
        + (f", tags {', '.join(ticket.tags)}" if ticket.tags else "")
        + (f", links {', '.join(link.code for link in ticket.links)}" if ticket.links else "")
    )
    console.print(f"SLA: {_sla_summary(ticket, pb)}")
    history = Table(title="history")
    for column in ("effective (UTC)", "recorded (UTC)", "status", "reason"):
        history.add_column(column)
    for change in ticket.history:
        history.add_row(
            change.effective_at.ToDatetime().strftime("%Y-%m-%d %H:%M:%S"),
            change.recorded_at.ToDatetime().strftime("%Y-%m-%d %H:%M:%S"),
            _name(change.to_status, pb.TicketStatus, "TICKET_STATUS_"),
            change.reason,
        )
    console.print(history)
    for message in ticket.messages:
        who = _name(message.author_kind, pb.AuthorKind, "AUTHOR_KIND_").lower()
        note = " (internal)" if message.visibility == pb.VISIBILITY_INTERNAL else ""
        console.print(f"[dim]#{message.sequence} {who} {message.author}{note}:[/dim] {message.body}")
        for attachment in message.attachments:
            console.print(f"    {attachment.filename} {attachment.size_bytes} bytes sha256 {attachment.sha256}")


@tickets_app.command("open")
def open_(
    merchant: str = typer.Argument(..., help="The merchant's unified code (MC...)."),
    subject: str = typer.Option(..., help="One line, up to 200 characters."),
    type_: str = typer.Option("consultation", "--type", help=f"One of {', '.join(TYPES)}."),
    priority: str = typer.Option("normal", help=f"One of {', '.join(PRIORITIES)}."),
    description: str = typer.Option("", help="The customer's first message."),
    order: list[str] = typer.Option([], help="Link an order code (DD...); repeatable."),
    shipment: list[str] = typer.Option([], help="Link a shipment code (YD...); repeatable."),
    collection: list[str] = typer.Option([], help="Link a collection code (PY...); repeatable."),
    bot: bool = typer.Option(False, "--bot", help="A bot conversation: the bot answers until it hands off."),
    request_id: str = typer.Option("", help="Idempotency key (default: a new UUID)."),
) -> None:
    """Open a ticket for a merchant; prints its code and first due times."""
    from xborder.customer_service.v1 import customer_service_pb2 as pb

    problems = []
    if type_ not in TYPES:
        problems.append(f"--type: must be one of {', '.join(TYPES)}, got {type_!r}")
    if priority not in PRIORITIES:
        problems.append(f"--priority: must be one of {', '.join(PRIORITIES)}, got {priority!r}")
    if problems:
        for problem in problems:
            console.print(f"[red]{problem}[/red]")
        raise typer.Exit(2)
    links = [pb.LinkedCode(kind=pb.LINK_KIND_ORDER, code=c) for c in order]
    links += [pb.LinkedCode(kind=pb.LINK_KIND_SHIPMENT, code=c) for c in shipment]
    links += [pb.LinkedCode(kind=pb.LINK_KIND_COLLECTION, code=c) for c in collection]
    request = pb.OpenTicketRequest(
        request_id=request_id or str(uuid.uuid4()),
        merchant_code=merchant,
        type=f"TICKET_TYPE_{type_.upper()}",
        subject=subject,
        description=description,
        priority=f"TICKET_PRIORITY_{priority.upper()}",
        links=links,
        bot=bot,
    )
    stub, channel = _stub()
    with channel:
        ticket = _call(stub.OpenTicket, request).ticket
    console.print(f"opened [bold]{ticket.code}[/bold]; SLA: {_sla_summary(ticket, pb)}")


@tickets_app.command("ask")
def ask(
    code: str = typer.Argument(..., help="The bot conversation's ticket code (TK..., opened with --bot)."),
    question: str = typer.Argument(..., help="The customer's question, in zh-CN or en."),
    language: str = typer.Option("", help="Answer in this language (zh-CN, en); default: the question's."),
    request_id: str = typer.Option("", help="Idempotency key (default: a new UUID)."),
) -> None:
    """Ask the bot on a bot conversation; prints its answer, the intent and confidence, and any hand-off."""
    from xborder.customer_service.v1 import customer_service_pb2 as pb

    request = pb.AskBotRequest(
        request_id=request_id or str(uuid.uuid4()), code=code, question=question, language=language
    )
    stub, channel = _stub()
    with channel:
        reply = _call(stub.AskBot, request)
    turn = reply.turn
    console.print(turn.answer, markup=False)
    console.print(f"[dim]intent {turn.intent or '(none)'}, confidence {turn.confidence:.2f}, {turn.language}[/dim]")
    if turn.handed_off:
        console.print(f"handed off to a human; SLA: {_sla_summary(reply.ticket, pb)}")
