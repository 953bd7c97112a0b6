"""`xborder`: the operations tool (typer + rich)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli import audit, compliance, keys, logistics, rules, transfer_rules
from cli.alerts import alerts
from cli.context import settings as _settings
from cli.ledger import ledger_app
from cli.merchants import demo_credentials_when_ready, merchants_app
from cli.odr import odr_app
from cli.operators import operators_app
from cli.partners import partners_app
from cli.payments import payments_app
from cli.rates import app as rates_app
from cli.screen import screen
from cli.tickets import tickets_app
from services.registry import SERVICES
from services.shared.errors import Unavailable

app = typer.Typer(help="Operate the xborder platform.", no_args_is_help=True, add_completion=False)
console = Console()


def _import_with_progress(contexts: dict, only_dataset: str | None, *, at_start: bool = False) -> list:
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
                result = context.import_reference_data(
                    lambda n, t=task: progress.advance(t, n), only=spec.name, at_start=at_start
                )
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

    from services.embedded import Platform, PortInUse, check_ports_free
    from services.shared.logs import configure

    settings = _settings()
    if http_port is not None:
        settings = replace(settings, gateway_http_port=http_port)
    try:
        check_ports_free(settings)  # before any data is migrated or seeded
    except PortInUse as taken:
        console.print(f"[red]cannot start:[/red] {taken}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    configure(settings.log_level, json=settings.log_json)
    platform = Platform(settings)
    console.print(f"[bold]xborder[/bold] embedded platform, data in {settings.var_dir}")
    platform.boot()
    if settings.seed_reference_data:
        for result in _import_with_progress(platform.contexts, None, at_start=True):
            console.print(f"  {result.service}: {result.describe()}")
        from services.embedded import seed_content

        seed_content(platform.contexts)
    platform.serve()
    platform.start_gateway()
    try:
        credentials, written = demo_credentials_when_ready(platform.contexts["identity"], settings.var_dir)
    except RuntimeError as lost:  # the file was deleted after the keys were issued: start anyway
        console.print(f"[yellow]demo credentials:[/yellow] {lost}", highlight=False)
        credentials, written = settings.var_dir / "demo-credentials.json", None
    except Unavailable as busy:  # serve anyway: the next start onboards the demo merchant
        console.print(f"[yellow]demo merchant not onboarded yet:[/yellow] {busy}; the next start tries again")
        credentials, written = settings.var_dir / "demo-credentials.json", None
    if written is not None:
        console.print(f"demo merchant {written['merchantCode']}, API key {written['apiKey']}", highlight=False)
        console.print(f"  (and an operator key) written to {credentials}", highlight=False)
    else:
        console.print(f"demo merchant and keys: {credentials}", highlight=False)
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


def _print_uncut(table: Table) -> None:
    """Print at the table's natural width even on a narrower terminal: addresses are copied into other
    commands, so the terminal may wrap a line but no cell is cut or wrapped by us."""
    width = Measurement.get(console, console.options.update(width=10_000), table).maximum
    if width <= console.width:
        console.print(table)
    else:
        Console(width=width, force_terminal=console.is_terminal, no_color=console.no_color).print(table)


@app.command()
def status() -> None:
    """Show each service: address, health, database, datasets, events waiting to publish; and the broker."""
    from cli.status import broker_status, database_status, dataset_lines, grpc_health

    settings = _settings()
    gateway = f"{settings.host}:{settings.gateway_grpc_port}"
    addresses = {name: settings.service_address(name) for name in SERVICES}
    addresses["gateway"] = f"{gateway}, http :{settings.gateway_http_port}"
    table = Table(title="xborder status")
    for column in ("service", "address", "health", "outbox"):
        table.add_column(column, no_wrap=True)
    unhealthy = 0
    databases: dict[str, str] = {}
    datasets: dict[str, list[str]] = {}
    for name in SERVICES:
        health = grpc_health(addresses[name])
        unhealthy += health != "SERVING"
        databases[name], versions, waiting = database_status(settings, name)
        datasets[name] = dataset_lines(versions) if versions is not None else ["-"]
        colour = "green" if health == "SERVING" else "red"
        table.add_row(name, addresses[name], f"[{colour}]{health}[/{colour}]", waiting)
    health = grpc_health(gateway)
    unhealthy += health != "SERVING"
    colour = "green" if health == "SERVING" else "red"
    table.add_row("gateway", addresses["gateway"], f"[{colour}]{health}[/{colour}]", "-")
    _print_uncut(table)
    # Database URLs and dataset notes are long: one line each below the table rather than squeezed cells.
    console.print("databases:")
    for name, where in databases.items():
        console.print(f"  {name}: {where}", highlight=False, overflow="fold")
    console.print("datasets:")
    for name, lines in datasets.items():
        for line in lines:
            console.print(f"  {name}: {line}", highlight=False)
    console.print(f"compliance: {_screening_thresholds_source()}", highlight=False)
    console.print(f"broker: {broker_status(settings)}")
    if unhealthy:
        raise typer.Exit(1)


def _screening_thresholds_source() -> str:
    """Whether the imported thresholds apply or XB_SCREENING_* override them (docs/screening.md)."""
    from services.compliance.settings import ScreeningSettings
    from services.shared.errors import ConfigurationError

    try:
        return ScreeningSettings.from_env().describe()
    except ConfigurationError as error:
        return f"screening thresholds: configuration error: {error}"


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


app.add_typer(rules.app, name="rules")
app.add_typer(compliance.app, name="compliance")
app.add_typer(ledger_app, name="ledger")
app.add_typer(payments_app, name="payments")
app.add_typer(rates_app, name="rates")
app.add_typer(logistics.app, name="logistics")
app.add_typer(tickets_app, name="tickets")
app.add_typer(odr_app, name="odr")
app.add_typer(merchants_app, name="merchants")
app.add_typer(partners_app, name="partners")
app.add_typer(operators_app, name="operators")
app.add_typer(audit.app, name="audit")
app.add_typer(keys.app, name="keys")
app.add_typer(transfer_rules.app, name="transfer-rules")
app.command("screen")(screen)
compliance.app.command("alerts")(alerts)

if __name__ == "__main__":
    app()
