"""`xborder logistics returns ...`: authorise a return (RMA) and show its cost comparison, move it through its
lifecycle, ask for the refund. Each mutating command sends a fresh request id unless --request-id is given
(the same id replays the first answer). They call the running logistics service over gRPC."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from cli.context import rpc_failure, service_channel

app = typer.Typer(help="Returns (RMA) of booked shipments.", no_args_is_help=True)
console = Console()
REQUEST_ID = typer.Option("", "--request-id", help="Idempotency key; default: a new one.")


def _call(method: str, request: Any) -> Any:
    import grpc
    from xborder.logistics.v1 import returns_service_pb2_grpc as pb_grpc

    channel = service_channel("logistics")
    try:
        return getattr(pb_grpc.ReturnServiceStub(channel), method)(request, timeout=10).rma
    except grpc.RpcError as error:
        raise rpc_failure(error, "logistics") from None
    finally:
        channel.close()


def _key(request_id: str) -> str:
    return request_id or str(uuid.uuid4())


def _money(message: Any) -> str:
    from services.shared.money import from_proto

    return str(from_proto(message)) if message.currency_code else "-"


def _enum(enum: Any, prefix: str, value: str, option: str) -> int:
    name = f"{prefix}{value.strip().upper().replace('-', '_')}"
    if name not in list(enum.keys()) or name.endswith("UNSPECIFIED"):
        known = ", ".join(k.removeprefix(prefix).lower() for k in enum.keys()[1:])
        console.print(f"[red]{option}: {value!r} is not one of {known}[/red]", highlight=False)
        raise typer.Exit(2)
    return int(enum.Value(name))


def _show(rma: Any) -> None:
    from xborder.logistics.v1 import returns_service_pb2 as pb

    def name(enum: Any, value: int, prefix: str) -> str:
        return "-" if value == 0 else enum.Name(value).removeprefix(prefix).lower()

    console.print(
        f"{rma.code}  {name(pb.ReturnStatus, rma.status, 'RETURN_STATUS_')}  shipment {rma.shipment_code}  "
        f"{rma.destination_country} -> restock or {rma.origin_country}",
        highlight=False,
    )
    lines = Table("line", "sku", "quantity", "reason", "condition")
    for line in rma.lines:
        lines.add_row(
            str(line.line_no),
            line.sku,
            str(line.quantity),
            name(pb.ReturnReason, line.reason, "RETURN_REASON_"),
            name(pb.ItemCondition, line.condition, "ITEM_CONDITION_"),
        )
    console.print(lines)
    c = rma.cost_comparison
    for option in (c.restock, c.return_to_origin):
        label = name(pb.ReturnRoute, option.route, "RETURN_ROUTE_")
        if option.available:
            parts = ", ".join(f"{i.name} {_money(i.amount)}" for i in option.breakdown)
            console.print(f"  {label}: {_money(option.total)} ({parts}); {option.basis}", highlight=False)
        else:
            console.print(f"  {label}: not priced: {option.missing}", highlight=False)
    console.print(f"  recommended: {name(pb.ReturnRoute, c.recommended, 'RETURN_ROUTE_')}: {c.reason}", highlight=False)
    if rma.return_waybill:
        console.print(f"  label {rma.label_reference}, return waybill {rma.return_waybill}", highlight=False)
    if rma.disposition:
        where = f" at {rma.warehouse_code}" if rma.warehouse_code else ""
        console.print(f"  disposition: {name(pb.ReturnDisposition, rma.disposition, 'RETURN_DISPOSITION_')}{where}")
    if rma.refund_collection_code:
        console.print(f"  refund {_money(rma.refund_amount)} from {rma.refund_collection_code}", highlight=False)
    if rma.note:
        console.print(f"  note: {rma.note}", highlight=False)


@app.command("authorise")
def authorise(
    shipment: str = typer.Argument(..., help="The delivered shipment's code (YD...)."),
    line: list[str] = typer.Option(..., "--line", help="SKU:QUANTITY:REASON, e.g. MUG-1:2:damaged; repeat per line."),
    order: str = typer.Option("", "--order", help="The merchant's order number."),
    reason: str = typer.Option("", "--reason", help="Free text."),
    origin: str = typer.Option("", "--origin", help="Where a return to origin goes (default CN)."),
    request_id: str = REQUEST_ID,
) -> None:
    """Authorise a return and print the cost of restocking abroad against returning to origin."""
    from xborder.logistics.v1 import returns_service_pb2 as pb

    lines = []
    for text in line:
        sku, _, rest = text.partition(":")
        quantity, _, why = rest.partition(":")
        if not quantity.isdigit():
            console.print(f"[red]--line: {text!r} is not SKU:QUANTITY:REASON[/red]", highlight=False)
            raise typer.Exit(2)
        code = _enum(pb.ReturnReason, "RETURN_REASON_", why or "other", "--line")
        lines.append(pb.ReturnLineInput(sku=sku, quantity=int(quantity), reason=code))  # type: ignore[arg-type]
    request = pb.AuthoriseReturnRequest(
        request_id=_key(request_id),
        shipment_code=shipment,
        lines=lines,
        order_reference=order,
        reason=reason,
        origin_country=origin,
    )
    _show(_call("AuthoriseReturn", request))


@app.command("show")
def show(code: str = typer.Argument(..., help="The return's code (TH...).")) -> None:
    """Print a return, its lines and the cost comparison made at authorisation."""
    from xborder.logistics.v1 import returns_service_pb2 as pb

    _show(_call("GetReturn", pb.GetReturnRequest(code=code)))


@app.command("label")
def label(
    code: str = typer.Argument(..., help="The return's code (TH...)."),
    route: str = typer.Option("", "--route", help="restock or return_to_origin (default: the recommended one)."),
    request_id: str = REQUEST_ID,
) -> None:
    """Issue the return label."""
    from xborder.logistics.v1 import returns_service_pb2 as pb

    chosen = _enum(pb.ReturnRoute, "RETURN_ROUTE_", route, "--route") if route else 0
    request = pb.IssueReturnLabelRequest(request_id=_key(request_id), code=code, route=chosen)  # type: ignore[arg-type]
    _show(_call("IssueReturnLabel", request))


def _step(method: str, request_type: Callable[..., Any]) -> Callable[[str, str], None]:
    def command(
        code: str = typer.Argument(..., help="The return's code (TH...)."), request_id: str = REQUEST_ID
    ) -> None:
        _show(_call(method, request_type(request_id=_key(request_id), code=code)))

    return command


def _register_steps() -> None:
    from xborder.logistics.v1 import returns_service_pb2 as pb

    step = _step("RecordReturnInTransit", pb.RecordReturnInTransitRequest)
    step.__doc__ = "Record that the carrier has the returned parcel (operators)."
    app.command("in-transit")(step)
    received = _step("ReceiveReturn", pb.ReceiveReturnRequest)
    received.__doc__ = "Record that the returned parcel arrived (operators)."
    app.command("receive")(received)


_register_steps()


@app.command("inspect")
def inspect(
    code: str = typer.Argument(..., help="The return's code (TH...)."),
    line: list[str] = typer.Option(..., "--line", help="LINE:CONDITION, e.g. 1:resaleable; one per line."),
    request_id: str = REQUEST_ID,
) -> None:
    """Record each line's condition (operators)."""
    from xborder.logistics.v1 import returns_service_pb2 as pb

    conditions = []
    for text in line:
        number, _, condition = text.partition(":")
        if not number.isdigit():
            console.print(f"[red]--line: {text!r} is not LINE:CONDITION[/red]", highlight=False)
            raise typer.Exit(2)
        value = _enum(pb.ItemCondition, "ITEM_CONDITION_", condition, "--line")
        conditions.append(pb.LineCondition(line_no=int(number), condition=value))  # type: ignore[arg-type]
    _show(_call("InspectReturn", pb.InspectReturnRequest(request_id=_key(request_id), code=code, lines=conditions)))


@app.command("decide")
def decide(
    code: str = typer.Argument(..., help="The return's code (TH...)."),
    disposition: str = typer.Option(..., "--disposition", help="restock, return_to_origin or dispose."),
    warehouse: str = typer.Option("", "--warehouse", help="For a restock; default: the market's warehouse."),
    request_id: str = REQUEST_ID,
) -> None:
    """Decide what becomes of the goods."""
    from xborder.logistics.v1 import returns_service_pb2 as pb

    value = _enum(pb.ReturnDisposition, "RETURN_DISPOSITION_", disposition, "--disposition")
    request = pb.DecideReturnDispositionRequest(
        request_id=_key(request_id),
        code=code,
        disposition=value,  # type: ignore[arg-type]
        warehouse_code=warehouse,
    )
    _show(_call("DecideReturnDisposition", request))


@app.command("refund")
def refund(
    code: str = typer.Argument(..., help="The return's code (TH...)."),
    collection: str = typer.Option(..., "--collection", help="The collection to refund (PY...)."),
    amount: str = typer.Option(..., "--amount", help='The refund, e.g. "19.00 GBP".'),
    request_id: str = REQUEST_ID,
) -> None:
    """Ask payments to refund the collection for this return (once)."""
    from xborder.logistics.v1 import returns_service_pb2 as pb

    from services.shared.errors import ValidationError
    from services.shared.money import Money, to_proto

    value, _, currency = amount.strip().partition(" ")
    try:
        money = Money.of(value, currency.strip().upper())
    except ValidationError as invalid:
        console.print(f"[red]--amount: {invalid}[/red]", highlight=False)
        raise typer.Exit(2) from None
    request = pb.RequestReturnRefundRequest(
        request_id=_key(request_id), code=code, collection_code=collection, amount=to_proto(money)
    )
    _show(_call("RequestReturnRefund", request))


@app.command("reject")
def reject(
    code: str = typer.Argument(..., help="The return's code (TH...)."),
    reason: str = typer.Option(..., "--reason", help="Why."),
    request_id: str = REQUEST_ID,
) -> None:
    """Refuse an inspected return (no refund)."""
    from xborder.logistics.v1 import returns_service_pb2 as pb

    _show(_call("RejectReturn", pb.RejectReturnRequest(request_id=_key(request_id), code=code, reason=reason)))


@app.command("cancel")
def cancel(
    code: str = typer.Argument(..., help="The return's code (TH...)."),
    reason: str = typer.Option(..., "--reason", help="Why."),
    request_id: str = REQUEST_ID,
) -> None:
    """Cancel a return whose parcel has not left the buyer."""
    from xborder.logistics.v1 import returns_service_pb2 as pb

    _show(_call("CancelReturn", pb.CancelReturnRequest(request_id=_key(request_id), code=code, reason=reason)))
