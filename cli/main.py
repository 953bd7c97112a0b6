"""`xborder`: the operations tool (typer + rich)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.registry import SERVICES
from services.shared.errors import ConfigurationError
from services.shared.settings import Settings

app = typer.Typer(help="Operate the xborder platform.", no_args_is_help=True, add_completion=False)
console = Console()


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigurationError as error:
        console.print(f"[red]configuration error:[/red] {error}")
        raise typer.Exit(2) from None


def _import_with_progress(contexts: dict, only_dataset: str | None) -> list:
    results = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        for name, context in contexts.items():
            for spec in context.dataset_specs:
                if only_dataset not in (None, spec.name):
                    continue
                task = progress.add_task(f"{name}/{spec.name}", total=spec.expected_records)
                result = context.import_reference_data(lambda n, t=task: progress.advance(t, n), only=spec.name)
                done = result[0].record_count if result else 0
                progress.update(task, total=max(done, 1), completed=max(done, 1))
                results.extend(result)
    return results


@app.command()
def up(
    http_port: int = typer.Option(None, help="Gateway HTTP port (default XB_GATEWAY_HTTP_PORT or 8080)."),
) -> None:
    """Run every service and the gateway in one process on SQLite and an in-process bus."""
    from dataclasses import replace

    from services.embedded import Platform
    from services.shared.logs import configure

    settings = _settings()
    if http_port is not None:
        settings = replace(settings, gateway_http_port=http_port)
    configure(settings.log_level, json=settings.log_json)
    platform = Platform(settings)
    console.print(f"[bold]xborder[/bold] embedded platform, data in {settings.var_dir}")
    platform.boot()
    if settings.seed_reference_data:
        for result in _import_with_progress(platform.contexts, None):
            console.print(f"  {result.service}: {result.describe()}")
        from services.embedded import seed_content

        seed_content(platform.contexts)
    platform.serve()
    platform.start_gateway()
    s = platform.settings
    table = Table(title="listening", show_header=True)
    table.add_column("component")
    table.add_column("address")
    table.add_row("gateway REST", f"http://{s.host}:{s.gateway_http_port}  (try /v1/currencies/JPY, /openapi.json)")
    table.add_row("gateway gRPC", f"{s.host}:{s.gateway_grpc_port}")
    for name in SERVICES:
        table.add_row(f"{name} gRPC", s.service_address(name))
    console.print(table)
    try:
        platform.run_http()
    finally:
        console.print("stopping...")
        platform.stop()


@app.command()
def status() -> None:
    """Show each service: address, health, database, datasets, events waiting to publish; and the broker."""
    from cli.status import broker_status, database_status, grpc_health

    settings = _settings()
    table = Table(title="xborder status")
    for column in ("service", "address", "health", "database", "datasets", "outbox"):
        table.add_column(column)
    unhealthy = 0
    for name in SERVICES:
        address = settings.service_address(name)
        health = grpc_health(address)
        unhealthy += health != "SERVING"
        where, datasets, waiting = database_status(settings, name)
        colour = "green" if health == "SERVING" else "red"
        table.add_row(name, address, f"[{colour}]{health}[/{colour}]", where, datasets, waiting)
    gateway = f"{settings.host}:{settings.gateway_grpc_port}"
    health = grpc_health(gateway)
    unhealthy += health != "SERVING"
    colour = "green" if health == "SERVING" else "red"
    table.add_row(
        "gateway", f"{gateway}, http :{settings.gateway_http_port}", f"[{colour}]{health}[/{colour}]", "-", "-", "-"
    )
    console.print(table)
    console.print(f"broker: {broker_status(settings)}")
    if unhealthy:
        raise typer.Exit(1)


@app.command("import")
def import_(
    service: str = typer.Option(None, help=f"Only this service ({', '.join(SERVICES)})."),
    dataset: str = typer.Option(None, help="Only this dataset, e.g. ecb_reference_rates."),
    data_dir: Path = typer.Option(None, help="Read files from here instead of XB_DATA_DIR."),
) -> None:
    """Import reference data; an unchanged file is reported and changes nothing."""
    from dataclasses import replace

    from services.registry import bootstrap_module
    from services.shared.bus import InProcessBus
    from services.shared.process import make_bus

    settings = _settings()
    if data_dir is not None:
        settings = replace(settings, data_dir=data_dir.resolve())
    names = [service] if service else list(SERVICES)
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        console.print(f"[red]--service:[/red] unknown service {unknown[0]!r}; known: {', '.join(SERVICES)}")
        raise typer.Exit(2)
    # Without a broker the events stay in each service's outbox; a running platform's relay publishes them.
    bus = make_bus(settings) if settings.broker_url else InProcessBus()
    contexts = {name: bootstrap_module(name).bootstrap(settings, bus) for name in names}
    try:
        if dataset and not any(spec.name == dataset for c in contexts.values() for spec in c.dataset_specs):
            known = sorted(spec.name for c in contexts.values() for spec in c.dataset_specs)
            console.print(f"[red]--dataset:[/red] unknown dataset {dataset!r}; known: {', '.join(known)}")
            raise typer.Exit(2)
        try:
            results = _import_with_progress(contexts, dataset)
        except (FileNotFoundError, ValueError) as error:
            console.print(f"[red]import failed, nothing changed:[/red] {error}")
            raise typer.Exit(1) from None
        table = Table(title="reference data")
        for column in ("service", "dataset", "records", "version", "result"):
            table.add_column(column)
        for r in results:
            table.add_row(
                r.service, r.dataset, str(r.record_count), r.version[:12], "imported" if r.changed else "unchanged"
            )
        console.print(table)
        if settings.broker_url:
            for context in contexts.values():
                if not context.relay.drain(timeout=10):
                    console.print(f"[yellow]{context.name}: events wait in the outbox (broker not confirming)")
    finally:
        for context in contexts.values():
            context.close()
        bus.close()


def _add_subcommands() -> None:
    # Imported here: the sub-command modules import this one for its helpers.
    from cli import compliance, rules
    from cli.ledger import ledger_app
    from cli.payments import payments_app
    from cli.rates import app as rates_app
    from cli.tickets import tickets_app

    app.add_typer(rules.app, name="rules")
    app.add_typer(compliance.app, name="compliance")
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(payments_app, name="payments")
    app.add_typer(rates_app, name="rates")
    app.add_typer(tickets_app, name="tickets")

    from cli.screen import screen  # sanctions screening (branch compliance-screening)

    app.command("screen")(screen)

    from cli.alerts import alerts  # risk alerts (branch compliance-alerts)

    compliance.app.command("alerts")(alerts)


_add_subcommands()

if __name__ == "__main__":
    app()
