"""`xborder payments ...`: reconcile a partner's settlement statement, list the runs, export a merchant's
statement.

All talk to the running payments service over gRPC (XB_PAYMENTS_HOST / XB_PAYMENTS_PORT), as any client.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

payments_app = typer.Typer(help="Payments: settlement reconciliation and merchant statements.", no_args_is_help=True)
console = Console()

STATEMENT_COLUMNS = (
    "posted_at",
    "transaction_code",
    "kind",
    "external_ref",
    "wallet",
    "account_code",
    "currency",
    "amount",
    "balance_after",
)


def _stub(service_stub: Any) -> tuple[Any, Any]:
    import grpc

    from services.shared.errors import ConfigurationError
    from services.shared.settings import Settings

    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        console.print(f"[red]configuration error:[/red] {error}")
        raise typer.Exit(2) from None
    channel = grpc.insecure_channel(settings.service_address("payments"))
    return service_stub(channel), channel


def _fail(error: Any) -> typer.Exit:
    """Print a failed call the way a person can act on it: the reason and each field at fault."""
    import grpc

    from services.shared.grpc_errors import status_details

    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        console.print(f"[red]payments service not reachable:[/red] {error.details()}")
        return typer.Exit(2)
    reason, violations, _ = status_details(error)
    console.print(f"[red]{reason or error.code().name}:[/red] {error.details()}")
    for field, description in violations:
        console.print(f"  [bold]{field}[/bold]: {description}")
    return typer.Exit(1)


def _money(message: Any) -> str:
    from services.shared.money import from_proto

    return str(from_proto(message)) if message.currency_code else "-"


@payments_app.command("reconcile")
def reconcile(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The statement CSV."),
    partner: str = typer.Option(..., "--partner", help="The partner whose statement it is, e.g. STRIPE."),
    period_start: str = typer.Option("", "--from", help="First day covered (default: earliest value_date)."),
    period_end: str = typer.Option("", "--to", help="Last day covered (default: latest value_date)."),
    request_id: str = typer.Option("", help="Idempotency key, to retry one import safely (default: new)."),
    strict: bool = typer.Option(False, help="Exit 3 when anything is mismatched or missing."),
) -> None:
    """Reconcile a settlement statement with the ledger and show what matched, what is missing, what differs."""
    import grpc
    from xborder.payments.v1 import reconciliation_service_pb2 as pb
    from xborder.payments.v1 import reconciliation_service_pb2_grpc as pb_grpc

    stub, channel = _stub(pb_grpc.ReconciliationServiceStub)
    try:
        answer = stub.ImportSettlementStatement(
            pb.ImportSettlementStatementRequest(
                request_id=request_id or uuid.uuid4().hex,
                partner=partner,
                statement=file.read_bytes(),
                file_name=file.name,
                period_start=period_start,
                period_end=period_end,
            ),
            timeout=60,
        )
    except grpc.RpcError as error:
        raise _fail(error) from None
    finally:
        channel.close()
    run = answer.reconciliation
    s = run.summary
    if answer.already_imported:
        console.print(f"[yellow]{file.name} was imported before: nothing stored; this is run {run.code}[/yellow]")
    summary = Table(title=f"reconciliation {run.code}: {run.partner}, {run.period_start} to {run.period_end}")
    summary.add_column("outcome")
    summary.add_column("items", justify="right")
    for label, count, colour in (
        ("matched", s.matched, "green"),
        ("mismatched", s.mismatched, "red"),
        ("missing in ledger", s.missing_in_ledger, "red"),
        ("missing in statement", s.missing_in_statement, "red"),
        ("duplicate (imported before)", s.duplicate, "yellow"),
    ):
        summary.add_row(label, f"[{colour}]{count}[/{colour}]" if count else "0")
    summary.add_row("statement lines", str(s.lines))
    console.print(summary)
    open_items = [i for i in run.items if i.outcome != pb.RECONCILIATION_OUTCOME_MATCHED]
    if open_items:
        detail = Table(title="to look at")
        for column in ("outcome", "reference", "statement", "ledger", "detail"):
            detail.add_column(column)
        for item in open_items:
            detail.add_row(
                pb.ReconciliationOutcome.Name(item.outcome).removeprefix("RECONCILIATION_OUTCOME_"),
                item.reference,
                _money(item.statement_amount),
                _money(item.ledger_amount),
                item.detail,
            )
        console.print(detail)
    if strict and (s.mismatched or s.missing_in_ledger or s.missing_in_statement):
        raise typer.Exit(3)


@payments_app.command("reconciliations")
def reconciliations(
    partner: str = typer.Option("", "--partner", help="Only this partner's runs, e.g. STRIPE (default: all)."),
    from_date: str = typer.Option("", "--from", help="Only runs whose period ends on or after this day."),
    to_date: str = typer.Option("", "--to", help="Only runs whose period starts on or before this day."),
) -> None:
    """List stored reconciliation runs, newest first, with their counts by outcome."""
    import grpc
    from xborder.payments.v1 import reconciliation_service_pb2 as pb
    from xborder.payments.v1 import reconciliation_service_pb2_grpc as pb_grpc

    stub, channel = _stub(pb_grpc.ReconciliationServiceStub)
    runs: list[Any] = []
    try:
        token = ""
        while True:
            page = stub.ListReconciliations(
                pb.ListReconciliationsRequest(partner=partner, from_date=from_date, to_date=to_date, page_token=token),
                timeout=60,
            )
            runs.extend(page.reconciliations)
            token = page.next_page_token
            if not token:
                break
    except grpc.RpcError as error:
        raise _fail(error) from None
    finally:
        channel.close()
    table = Table(title="reconciliation runs, newest first")
    for column in ("code", "partner", "period", "imported at", "lines", "matched", "not matched", "duplicate"):
        table.add_column(column)
    for run in runs:
        s = run.summary
        table.add_row(
            run.code,
            run.partner,
            f"{run.period_start} to {run.period_end}",
            run.created_at.ToDatetime().isoformat(timespec="seconds") + "Z",
            str(s.lines),
            str(s.matched),
            str(s.mismatched + s.missing_in_ledger + s.missing_in_statement),
            str(s.duplicate),
        )
    console.print(table)
    console.print(f"{len(runs)} run(s)")


@payments_app.command("statement")
def statement(
    merchant: str = typer.Argument(..., help="The merchant code (MC...)."),
    from_date: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD (UTC)."),
    to_date: str = typer.Option(..., "--to", help="Last day, YYYY-MM-DD (UTC), inclusive."),
    out: Path = typer.Option(..., "--out", help="Write the lines to this CSV file."),
    currency: str = typer.Option("", help="Only this currency."),
) -> None:
    """Export a merchant's posted wallet movements in a period to CSV, with opening and closing balances."""
    import grpc
    from xborder.payments.v1 import reconciliation_service_pb2 as pb
    from xborder.payments.v1 import reconciliation_service_pb2_grpc as pb_grpc

    from services.shared.money import from_proto

    stub, channel = _stub(pb_grpc.ReconciliationServiceStub)
    written = 0
    wallets: list[Any] = []
    tmp = out.with_name(f".{out.name}.part")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(STATEMENT_COLUMNS)
            token = ""
            while True:
                page = stub.ListStatementLines(
                    pb.ListStatementLinesRequest(
                        merchant_code=merchant, from_date=from_date, to_date=to_date, currency=currency,
                        page_token=token,
                    ),
                    timeout=60,
                )  # fmt: skip
                wallets = list(page.wallets)
                for line in page.lines:
                    amount, after = from_proto(line.amount), from_proto(line.balance_after)
                    writer.writerow(
                        (
                            line.posted_at.ToDatetime().isoformat() + "Z",
                            line.transaction_code,
                            line.kind,
                            line.external_ref,
                            line.wallet,
                            line.account_code,
                            amount.currency,
                            format(amount.amount, "f"),
                            format(after.amount, "f"),
                        )
                    )
                    written += 1
                token = page.next_page_token
                if not token:
                    break
    except grpc.RpcError as error:
        tmp.unlink(missing_ok=True)
        raise _fail(error) from None
    finally:
        channel.close()
    tmp.replace(out)  # a half-written export never sits under the requested name
    table = Table(title=f"statement {merchant}, {from_date} to {to_date}")
    for column in ("wallet", "account", "opening", "closing"):
        table.add_column(column)
    for wallet in wallets:
        table.add_row(wallet.wallet, wallet.account_code, _money(wallet.opening), _money(wallet.closing))
    console.print(table)
    console.print(f"{written} line(s) written to {out}")
