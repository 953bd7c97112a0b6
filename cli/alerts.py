"""`xborder compliance alerts MERCHANT`: a merchant's risk alerts, newest first, from this installation's database.

It reads the compliance database directly (as `xborder screen` does) and changes nothing.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from cli.context import service_context
from services.compliance.domain.alerts import AlertStatus
from services.shared import codes
from services.shared.errors import ValidationError

console = Console()
STATUSES = {"open": AlertStatus.OPEN, "acknowledged": AlertStatus.ACKNOWLEDGED, "all": None}


def alerts(
    merchant: str = typer.Argument(..., help="The merchant's unified code (MC...)."),
    status: str = typer.Option("all", help="open, acknowledged or all."),
    limit: int = typer.Option(50, min=1, max=1000, help="At most this many alerts."),
) -> None:
    """List a merchant's risk alerts (worsened check verdicts and screening decisions)."""
    from services.compliance.service_layer.risk_alerts import list_alerts

    problems: list[str] = []
    try:
        merchant = codes.parse(merchant, field="MERCHANT", entity_type="MC").value
    except ValidationError as error:
        problems.extend(f"{v.field}: {v.description}" for v in error.violations)
    if status not in STATUSES:
        problems.append(f"--status: must be one of {', '.join(STATUSES)}, got {status!r}")
    if problems:
        for problem in problems:
            console.print(f"[red]{problem}[/red]")
        raise typer.Exit(2)
    with service_context("compliance", publishes=False) as context:
        page, more = list_alerts(context.uow, merchant, STATUSES[status], 0, limit)
    table = Table(title=f"risk alerts of {merchant}")
    for column in ("alert", "raised (UTC)", "status", "subject", "code", "market / party", "was", "now", "cause"):
        table.add_column(column, no_wrap=column in ("alert", "code"))
    for alert in page:
        colour = "red" if alert.status is AlertStatus.OPEN else "dim"
        table.add_row(
            alert.code,
            alert.raised_at.strftime("%Y-%m-%d %H:%M"),
            f"[{colour}]{alert.status.value}[/{colour}]",
            alert.subject_kind.value,
            alert.subject_code,
            alert.destination or alert.party_name,
            alert.old_verdict,
            f"[bold]{alert.new_verdict}[/bold]",
            alert.cause if len(alert.cause) <= 40 else alert.cause[:37] + "...",
        )
    console.print(table)
    console.print(f"{len(page)} alert(s)" + (f"; more than {limit}, raise --limit" if more else ""))
