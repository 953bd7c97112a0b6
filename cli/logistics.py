"""`xborder logistics ...`: list the channel catalogue, import a rate sheet, match plans, show a tracking timeline,
import a carrier's tracking file, list the overseas warehouses and a merchant's stock in them;
`xborder logistics returns ...` (cli/returns.py) runs returns.

They talk to the running logistics service over gRPC (XB_LOGISTICS_HOST / XB_LOGISTICS_PORT), as any client.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from cli.context import rpc_failure, service_channel
from cli.returns import app as returns_app

app = typer.Typer(
    help="Logistics: channel catalogue, rate sheets, plan matching, tracking, warehouse stock, returns.",
    no_args_is_help=True,
)
app.add_typer(returns_app, name="returns")
console = Console()

_DIMENSIONS = re.compile(r"^\s*([0-9.]+)\s*[xX*]\s*([0-9.]+)\s*[xX*]\s*([0-9.]+)\s*$")
_WEIGHT = re.compile(r"^\s*([0-9.]+)\s*(kg|g)?\s*$", re.IGNORECASE)


def _stub() -> tuple[Any, Any]:
    from xborder.logistics.v1 import plans_service_pb2_grpc as pb_grpc

    channel = service_channel("logistics")
    return pb_grpc.LogisticsPlanServiceStub(channel), channel


def _fail(error: Any) -> typer.Exit:
    return rpc_failure(error, "logistics")


def _money(message: Any) -> str:
    from services.shared.money import from_proto

    return str(from_proto(message)) if message.currency_code else "-"


def _usage(what: str) -> typer.Exit:
    console.print(f"[red]{what}[/red]", highlight=False)
    return typer.Exit(2)


@app.command("channels")
def channels(
    to: str = typer.Option("", "--to", help="Only channels serving this destination country, e.g. JP."),
    carrier: str = typer.Option("", "--carrier", help="Only this carrier's channels (a carrier id, e.g. hermes)."),
) -> None:
    """List the channel catalogue with each channel's current rate-sheet version."""
    import grpc
    from xborder.logistics.v1 import plans_service_pb2 as pb

    stub, channel = _stub()
    try:
        request = pb.ListChannelsRequest(destination_country=to, carrier=carrier)
        found = stub.ListChannels(request, timeout=10).channels
    except grpc.RpcError as error:
        raise _fail(error) from None
    finally:
        channel.close()
    table = Table(title=f"{len(found)} channels" + (f" to {to.upper()}" if to else ""))
    for column in ("code", "kind", "carrier", "currency", "from", "destinations", "sheet"):
        table.add_column(column)
    for c in found:
        destinations = sorted({country for zone in c.zones for country in zone.countries})
        table.add_row(
            c.code,
            pb.ChannelKind.Name(c.kind).removeprefix("CHANNEL_KIND_").lower(),
            f"{c.carrier} ({c.carrier_id})" if c.carrier_id else c.carrier,
            c.currency,
            ", ".join(c.origin_countries),
            ", ".join(destinations),
            f"v{c.rate_sheet_version}" if c.rate_sheet_version else "none",
        )
    console.print(table)


@app.command("import-rates")
def import_rates(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The rate sheet CSV."),
    valid_from: str = typer.Option("", help="When the new versions become valid, ISO 8601 (default: now)."),
    request_id: str = typer.Option("", help="Idempotency key, to retry one import safely (default: new)."),
    carrier: str = typer.Option(
        "", "--carrier", help="The carrier id whose channels the sheet prices (a row of another's refuses it)."
    ),
) -> None:
    """Import a CSV rate sheet as a new version of each channel it prices (refused whole on any bad row)."""
    import grpc
    from xborder.logistics.v1 import plans_service_pb2 as pb

    request = pb.ImportRateSheetRequest(
        request_id=request_id or str(uuid.uuid4()),
        csv=file.read_text(encoding="utf-8-sig"),
        source=file.name,
        carrier=carrier,
    )
    if valid_from:
        try:
            when = datetime.fromisoformat(valid_from)
        except ValueError:
            raise _usage(f"--valid-from: {valid_from!r} is not an ISO 8601 time") from None
        request.valid_from.FromDatetime(when if when.tzinfo else when.replace(tzinfo=UTC))
    stub, channel = _stub()
    try:
        answer = stub.ImportRateSheet(request, timeout=60)
    except grpc.RpcError as error:
        raise _fail(error) from None
    finally:
        channel.close()
    table = Table(title=f"rate sheet {file.name} imported")
    for column in ("channel", "version", "valid from", "rows"):
        table.add_column(column)
    for v in answer.versions:
        table.add_row(v.channel_code, str(v.version), v.valid_from.ToDatetime(tzinfo=UTC).isoformat(), str(v.row_count))
    console.print(table)


def _parcel(weight: str, dimensions: str) -> Any:
    from xborder.logistics.v1 import plans_service_pb2 as pb

    measured = _WEIGHT.match(weight)
    sides = _DIMENSIONS.match(dimensions)
    if measured is None:
        raise _usage(f"--weight: {weight!r} is not a weight such as 1.2kg or 850g")
    if sides is None:
        raise _usage(f"--dims: {dimensions!r} is not LxWxH in cm such as 30x20x10")
    value, unit = measured.group(1), (measured.group(2) or "kg").lower()
    parcel = pb.Parcel(length_cm=sides.group(1), width_cm=sides.group(2), height_cm=sides.group(3))
    if unit == "g":
        parcel.weight_g = value
    else:
        parcel.weight_kg = value
    return parcel


@app.command("match")
def match(
    weight: list[str] = typer.Option(..., "--weight", help="Parcel weight, e.g. 1.2kg or 850g; once per parcel."),
    dims: list[str] = typer.Option(..., "--dims", help="Parcel L x W x H in cm, e.g. 30x20x10; once per parcel."),
    origin: str = typer.Option("CN", "--from", help="Origin country."),
    to: str = typer.Option(..., "--to", help="Destination country, e.g. US."),
    postal_code: str = typer.Option("", "--postal-code", help="Destination postal code."),
    hs_code: str = typer.Option(..., "--hs", help="HS code of the goods, e.g. 851822."),
    battery: str = typer.Option("", help="Lithium batteries as UN number:packing, e.g. UN3481:contained_in_equipment."),
    liquid: bool = typer.Option(False, help="The goods hold liquids."),
    magnet: bool = typer.Option(False, help="The goods hold magnets."),
    powder: bool = typer.Option(False, help="The goods hold powders."),
    value: str = typer.Option(..., "--value", help="Declared value, e.g. '40 USD'."),
    prefer: str = typer.Option("cheapest", help="cheapest, fastest, best_value or deliver_by."),
    deliver_by: str = typer.Option("", help="Latest delivery date YYYY-MM-DD (with --prefer deliver_by)."),
    show_excluded: bool = typer.Option(True, help="List the channels that cannot take the parcels, and why."),
) -> None:
    """Rank shipping plans for parcels and say why each other channel cannot take them."""
    from datetime import date
    from decimal import Decimal, InvalidOperation

    import grpc
    from google.type import date_pb2
    from xborder.logistics.v1 import plans_service_pb2 as pb

    from services.shared.errors import ValidationError
    from services.shared.money import Money, to_proto

    if len(weight) != len(dims):
        raise _usage("give one --dims per --weight")
    amount, _, currency = value.strip().partition(" ")
    try:
        declared = to_proto(Money.of(Decimal(amount), currency.strip().upper(), field="--value"))
    except (InvalidOperation, ValidationError) as problem:
        raise _usage(f"--value: {value!r} is not an amount and currency such as '40 USD' ({problem})") from None
    preference = getattr(pb, f"PREFERENCE_{prefer.upper()}", None)
    if preference is None:
        raise _usage(f"--prefer: {prefer!r} is not cheapest, fastest, best_value or deliver_by")
    request = pb.MatchPlansRequest(
        parcels=[_parcel(w, d) for w, d in zip(weight, dims, strict=True)],
        origin_country=origin,
        destination=pb.Destination(country=to, postal_code=postal_code),
        goods=pb.Goods(hs_code=hs_code, liquid=liquid, magnet=magnet, powder=powder),
        declared_value=declared,
        preference=preference,
    )
    if battery:
        un, _, packing = battery.partition(":")
        request.goods.battery.un_number = un
        request.goods.battery.packing = getattr(
            pb, f"BATTERY_PACKING_{packing.upper()}", pb.BATTERY_PACKING_UNSPECIFIED
        )
    if deliver_by:
        try:
            day = date.fromisoformat(deliver_by)
        except ValueError:
            raise _usage(f"--deliver-by: {deliver_by!r} is not YYYY-MM-DD") from None
        request.deliver_by.CopyFrom(date_pb2.Date(year=day.year, month=day.month, day=day.day))
    stub, channel = _stub()
    try:
        answer = stub.MatchPlans(request, timeout=10)
    except grpc.RpcError as error:
        raise _fail(error) from None
    finally:
        channel.close()
    _print_plans(answer, show_excluded)


def _print_plans(answer: Any, show_excluded: bool) -> None:
    table = Table(title=f"{len(answer.plans)} plans")
    for column in (
        "#",
        "channel",
        "zone",
        "total",
        "base",
        "per kg",
        "fuel",
        "remote",
        "billable",
        "p50/p90",
        "quality",
        "why",
    ):
        table.add_column(column)
    for p in answer.plans:
        table.add_row(
            f"{p.rank}{' *' if p.pareto else ''}",
            p.channel_code,
            p.zone,
            _money(p.cost.total),
            _money(p.cost.base),
            _money(p.cost.weight),
            _money(p.cost.fuel),
            _money(p.cost.remote_area),
            f"{p.billable_weight_kg} kg",
            f"{p.transit.p50_days}/{p.transit.p90_days} d",
            str(p.quality.score),
            p.rank_reason,
        )
    console.print(table)
    console.print("* Pareto: no other plan is as cheap, as fast at p90 and as well rated, and better in one")
    if show_excluded and answer.excluded:
        console.print(f"[bold]{len(answer.excluded)} channels excluded[/bold]")
        for e in answer.excluded:
            console.print(f"  {e.channel_code}: {'; '.join(e.reasons)}", markup=False, highlight=False)


@app.command("track")
def track(code: str = typer.Argument(..., help="The shipment's unified code (YD...).")) -> None:
    """Print a shipment's current tracking status and its timeline, raw carrier codes included."""
    import grpc
    from xborder.logistics.v1 import shipments_service_pb2 as pb
    from xborder.logistics.v1 import shipments_service_pb2_grpc as pb_grpc

    channel = service_channel("logistics")
    try:
        answer = pb_grpc.ShipmentServiceStub(channel).GetTracking(pb.GetTrackingRequest(code=code), timeout=10)
    except grpc.RpcError as error:
        raise _fail(error) from None
    finally:
        channel.close()
    status = pb.TrackingStatus.Name(answer.status).removeprefix("TRACKING_STATUS_")
    console.print(
        f"{answer.shipment.code}  waybill {answer.shipment.waybill_number}  {answer.shipment.channel_code}  "
        f"{status} / {answer.sub_status} (Rec. 24 {answer.rec24_code})",
        highlight=False,
    )
    table = Table("time (UTC)", "carrier", "code", "status", "sub-status", "Rec. 24", "location", "description")
    for e in answer.events:
        mapped = "unmapped" if e.unmapped else pb.TrackingStatus.Name(e.status).removeprefix("TRACKING_STATUS_")
        when = e.occurred_at.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M")
        table.add_row(when, e.carrier, e.raw_code, mapped, e.sub_status, e.rec24_code, e.location, e.description)
    console.print(table)


def _warehouse_stub() -> tuple[Any, Any]:
    from xborder.logistics.v1 import warehouses_service_pb2_grpc as pb_grpc

    channel = service_channel("logistics")
    return pb_grpc.WarehouseServiceStub(channel), channel


@app.command("warehouses")
def warehouses(
    country: str = typer.Option("", "--country", help="Only warehouses in this country, e.g. US."),
) -> None:
    """List the overseas warehouses: code, operator, country, time zone, address."""
    import grpc
    from xborder.logistics.v1 import warehouses_service_pb2 as pb

    stub, channel = _warehouse_stub()
    try:
        found = stub.ListWarehouses(pb.ListWarehousesRequest(country=country), timeout=10).warehouses
    except grpc.RpcError as error:
        raise _fail(error) from None
    finally:
        channel.close()
    table = Table("code", "operator", "country", "time zone", "address", title=f"{len(found)} warehouses")
    for w in found:
        table.add_row(w.code, w.operator, w.country, w.time_zone, w.address)
    console.print(table)


@app.command("warehouse-register")
def warehouse_register(
    code: str = typer.Argument(..., help="The new warehouse's code, e.g. PARTNER-WH-US-ATL."),
    name: str = typer.Option(..., "--name"),
    operator: str = typer.Option(..., "--operator", help="The partner that operates it."),
    country: str = typer.Option(..., "--country", help="ISO 3166-1 alpha-2, e.g. US."),
    address: str = typer.Option(..., "--address"),
    time_zone: str = typer.Option(..., "--time-zone", help="IANA time zone, e.g. America/New_York."),
    request_id: str = typer.Option("", "--request-id", help="Idempotency key; default: a new one."),
) -> None:
    """Register an overseas warehouse (operators)."""
    import grpc
    from xborder.logistics.v1 import warehouses_service_pb2 as pb

    warehouse = pb.Warehouse(
        code=code, name=name, operator=operator, country=country, address=address, time_zone=time_zone
    )
    request = pb.RegisterWarehouseRequest(request_id=request_id or str(uuid.uuid4()), warehouse=warehouse)
    stub, channel = _warehouse_stub()
    try:
        w = stub.RegisterWarehouse(request, timeout=10).warehouse
    except grpc.RpcError as error:
        raise _fail(error) from None
    finally:
        channel.close()
    console.print(f"registered {w.code} ({w.country}, {w.time_zone}): {w.name}", highlight=False)


@app.command("warehouse-update")
def warehouse_update(
    code: str = typer.Argument(..., help="The warehouse's code."),
    name: str = typer.Option("", "--name"),
    operator: str = typer.Option("", "--operator"),
    country: str = typer.Option("", "--country"),
    address: str = typer.Option("", "--address"),
    time_zone: str = typer.Option("", "--time-zone"),
    request_id: str = typer.Option("", "--request-id", help="Idempotency key; default: a new one."),
) -> None:
    """Change a warehouse's name, operator, country, address or time zone; options left out keep their value."""
    import grpc
    from xborder.logistics.v1 import warehouses_service_pb2 as pb

    request = pb.UpdateWarehouseRequest(
        request_id=request_id or str(uuid.uuid4()),
        code=code,
        name=name,
        operator=operator,
        country=country,
        address=address,
        time_zone=time_zone,
    )
    stub, channel = _warehouse_stub()
    try:
        w = stub.UpdateWarehouse(request, timeout=10).warehouse
    except grpc.RpcError as error:
        raise _fail(error) from None
    finally:
        channel.close()
    console.print(f"updated {w.code}: {w.name}, {w.operator}, {w.country}, {w.time_zone}, {w.address}", highlight=False)


@app.command("stock")
def stock(
    merchant: str = typer.Option(..., "--merchant", help="The merchant's unified code (MC...)."),
    sku: str = typer.Option("", "--sku", help="One SKU across the merchant's warehouses, with totals."),
    warehouse: str = typer.Option("", "--warehouse", help="Only this warehouse (without --sku)."),
) -> None:
    """A merchant's stock per warehouse and SKU: on hand, reserved, available, in transit inbound."""
    import grpc
    from xborder.logistics.v1 import warehouses_service_pb2 as pb

    stub, channel = _warehouse_stub()
    try:
        if sku:
            answer = stub.GetStock(pb.GetStockRequest(merchant_code=merchant, sku=sku), timeout=10)
            levels = list(answer.warehouses)
        else:
            request = pb.ListStockRequest(merchant_code=merchant, warehouse_code=warehouse)
            levels = list(stub.ListStock(request, timeout=10).levels)
    except grpc.RpcError as error:
        raise _fail(error) from None
    finally:
        channel.close()
    table = Table("warehouse", "country", "SKU", "on hand", "reserved", "available", "in transit", title=merchant)
    for x in levels:
        table.add_row(
            x.warehouse_code,
            x.country,
            x.sku,
            str(x.on_hand),
            str(x.reserved),
            str(x.available),
            str(x.in_transit_inbound),
        )
    if sku:
        table.add_row(
            "total",
            "",
            sku,
            str(answer.on_hand),
            str(answer.reserved),
            str(answer.available),
            str(answer.in_transit_inbound),
        )
    console.print(table)


@app.command("import-tracking")
def import_tracking(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV or JSON lines."),
    carrier: str = typer.Option(..., help="The carrier's code table: fedex, hermes, dhl_express."),
    file_format: str = typer.Option("auto", "--format", help="csv, jsonl, or auto (told from the content)."),
) -> None:
    """Import a carrier's tracking file; prints each row's outcome and exits 1 if any row was rejected."""
    import grpc
    from xborder.logistics.v1 import shipments_service_pb2 as pb
    from xborder.logistics.v1 import shipments_service_pb2_grpc as pb_grpc

    formats = {
        "auto": pb.TRACKING_FILE_FORMAT_UNSPECIFIED,
        "csv": pb.TRACKING_FILE_FORMAT_CSV,
        "jsonl": pb.TRACKING_FILE_FORMAT_JSON_LINES,
    }
    if file_format not in formats:
        raise _usage(f"--format: {file_format!r} is not one of {', '.join(formats)}")
    request = pb.ImportTrackingFileRequest(
        carrier=carrier, content=file.read_text(encoding="utf-8-sig"), format=formats[file_format], source=file.name
    )
    channel = service_channel("logistics")
    try:
        answer = pb_grpc.ShipmentServiceStub(channel).ImportTrackingFile(request, timeout=300)
    except grpc.RpcError as error:
        raise _fail(error) from None
    finally:
        channel.close()
    table = Table("row", "waybill", "outcome", "status", "detail")
    for r in answer.rows:
        outcome = pb.TrackingOutcome.Name(r.outcome).removeprefix("TRACKING_OUTCOME_").lower()
        status = pb.TrackingStatus.Name(r.status).removeprefix("TRACKING_STATUS_") if r.status else ""
        detail = f"column {r.column}: {r.detail}" if r.column else r.detail
        table.add_row(str(r.row), r.waybill_number, outcome + (" (moved)" if r.status_changed else ""), status, detail)
    console.print(table)
    console.print(
        f"{file.name}: {answer.applied} applied, {answer.duplicates} duplicate, {answer.unmapped} unmapped, "
        f"{answer.unknown_waybills} unknown waybill, {answer.rejected} rejected",
        highlight=False,
    )
    if answer.rejected:
        raise typer.Exit(1)
