"""`xborder ledger ...`: ops commands on the payments ledger, run against the payments database directly.

`balances MERCHANT` prints a merchant's wallets per currency; `verify` runs the invariant check over the
whole ledger (double entry per currency, totals = sums of transfers, balance limits) and exits 1 on a
problem, so it can gate a deploy or page someone from cron.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.table import Table

from services.shared.context import ServiceContext
from services.shared.errors import ConfigurationError, XborderError
from services.shared.settings import Settings

ledger_app = typer.Typer(help="Inspect and check the payments ledger.", no_args_is_help=True)
console = Console()


@contextmanager
def _payments() -> Iterator[ServiceContext]:
    from services.payments import bootstrap
    from services.shared.bus import InProcessBus

    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        console.print(f"[red]configuration error:[/red] {error}")
        raise typer.Exit(2) from None
    # Reads only: the relay is never started, so nothing is published from here.
    context = bootstrap.bootstrap(settings, InProcessBus())
    try:
        yield context
    finally:
        context.close()


@ledger_app.command()
def balances(
    merchant: str = typer.Argument(..., help="Merchant code (MC...)."),
    currency: str = typer.Option(None, help="Only this ISO 4217 currency."),
) -> None:
    """A merchant's wallets per currency: pending, available, reserved by payouts."""
    from services.payments import bootstrap
    from services.payments.ledger import service_layer as lh
    from services.payments.settlement.service_layer import check_merchant
    from services.shared.errors import Violations

    violations = Violations()
    check_merchant(merchant.strip().upper(), "MERCHANT", violations)
    try:
        violations.raise_if_any()
    except XborderError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(2) from None
    with _payments() as context:
        wallets = lh.get_balances(
            bootstrap.unit_of_work(context), merchant.strip().upper(), currency.upper() if currency else None
        )
    if not wallets:
        console.print(f"{merchant}: no wallets")
        return
    table = Table(title=f"balances of {merchant}")
    for column in ("currency", "pending", "available", "reserved", "total"):
        table.add_column(column, justify="right" if column != "currency" else "left")
    for w in wallets:
        table.add_row(
            w.currency, str(w.pending.amount), str(w.available.amount), str(w.reserved.amount), str(w.total.amount)
        )
    console.print(table)


@ledger_app.command()
def verify() -> None:
    """Check every ledger invariant over one snapshot; exit 1 if any is broken."""
    from services.payments import bootstrap
    from services.payments.ledger import service_layer as lh
    from services.shared.money import Money

    with _payments() as context:
        report = lh.verify_ledger(bootstrap.unit_of_work(context))
    table = Table(title=f"ledger: {report.accounts} accounts, {report.transfers} transfers")
    for column in ("currency", "posted debits", "posted credits", "pending debits", "pending credits"):
        table.add_column(column, justify="right" if column != "currency" else "left")
    for code, s in sorted(report.currencies.items()):
        cells = [
            str(Money.from_minor(v, code).amount)
            for v in (s.debits_posted, s.credits_posted, s.debits_pending, s.credits_pending)
        ]
        table.add_row(code, *cells)
    console.print(table)
    if report.ok:
        console.print("[green]ok[/green]: every currency balances, totals match their transfers, no limit broken")
        return
    for problem in report.problems:
        console.print(f"[red]problem[/red] {problem}")
    raise typer.Exit(1)
