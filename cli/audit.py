"""`xborder audit verify` and `xborder audit query`: the gateway's audit log, read from its file, or from
PostgreSQL when the platform runs on it (the one chain every gateway replica extends).

Both only read. `verify` walks the hash chain from the first entry; `query` counts, per data class and
destination country, the calls whose answers carried that class in a period (from the transfer decisions
each entry records: sent in clear, masked or refused, with the rules and legal bases that decided).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from cli.context import console, settings
from gateway.audit_chain import verify as verify_chain
from gateway.audit_store import AuditStore, ChainStore, open_store, shared_database
from gateway.edge_settings import EdgeSettings
from gateway.transfer_policy import Recorded
from services.shared.errors import ConfigurationError

app = typer.Typer(help="The gateway's audit log: check its hash chain, count what went where.", no_args_is_help=True)
UNKNOWN_COUNTRY = "unknown"
_FILE_HELP = "An audit file (default: XB_AUDIT_PATH, or PostgreSQL when XB_DATABASE_URL names it)."
_COLUMN = {"ALLOW": "calls", "MASK": "masked", "BLOCK": "blocked"}


def _store(path: Path | None) -> ChainStore:
    if path is None:
        try:
            edge, platform = EdgeSettings.from_env(), settings()
        except ConfigurationError as error:
            console.print(f"[red]configuration error:[/red] {error}")
            raise typer.Exit(2) from None
        if edge.audit_path is None and shared_database(platform):
            return open_store(edge, platform)
        path = edge.audit_file(platform)
    if not path.exists():
        console.print(f"[red]no audit log at {path}[/red]")
        raise typer.Exit(2)
    return AuditStore(path)


def _instant(value: str, option: str) -> str:
    """An ISO 8601 date or time as the UTC text the log stores (a time without a zone is UTC)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        console.print(f"[red]{option}: not an ISO 8601 date or time: {value!r}[/red]")
        raise typer.Exit(2) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="microseconds")


@app.command()
def verify(
    path: Path | None = typer.Option(None, "--file", help=_FILE_HELP),
) -> None:
    """Check every entry against its digest and its predecessor; exit 1 at the first break."""
    store = _store(path)
    try:
        checked, broken = verify_chain(store.entries())
        last = store.last()
    finally:
        store.close()
    if broken is not None:
        console.print(f"[red]audit chain broken at entry {broken.seq}:[/red] {broken.problem}", highlight=False)
        raise typer.Exit(1)
    head = last.digest if last is not None else "-"
    # The head digest is what to keep elsewhere: a chain cut after it would not match it any more.
    console.print(f"[green]audit chain holds:[/green] {checked} entries, head {head}", highlight=False)


@app.command()
def query(
    start: str = typer.Option(..., "--from", help="Start (ISO 8601, inclusive; UTC unless a zone is given)."),
    end: str = typer.Option(..., "--to", help="End (ISO 8601, exclusive)."),
    merchant: str | None = typer.Option(None, help="Only this merchant's calls."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    path: Path | None = typer.Option(None, "--file", help=_FILE_HELP),
) -> None:
    """Which data classes went to which country in [--from, --to): per class and destination, the calls
    that carried it out in clear (`calls`), masked (`masked`) or were refused for it (`blocked`), with the
    transfer rules and legal bases that decided."""
    since, until = _instant(start, "--from"), _instant(end, "--to")
    store = _store(path)
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def row(data_class: str, destination: str) -> dict[str, Any]:
        return rows.setdefault(
            (data_class, destination),
            {"calls": 0, "masked": 0, "blocked": 0, "rules": set(), "legalBases": set()},
        )

    try:
        for entry in store.entries(since, until, merchant):
            if entry.call.transfers:
                for text in entry.call.transfers:
                    decided = Recorded.parse(text)
                    found = row(decided.data_class, decided.destination or UNKNOWN_COUNTRY)
                    found[_COLUMN.get(decided.action, "calls")] += 1
                    found["rules"].add(decided.rule)
                    found["legalBases"].update(decided.basis_ids)
                continue
            # Entries written before transfer decisions were audited: the caller's country.
            destination = entry.call.caller_country or UNKNOWN_COUNTRY
            for data_class in entry.call.response_classes:
                row(data_class, destination)["calls"] += 1
    finally:
        store.close()
    ordered = sorted(rows.items())
    if as_json:
        out = [
            {
                "dataClass": c,
                "destination": d,
                "calls": r["calls"],
                "masked": r["masked"],
                "blocked": r["blocked"],
                "rules": sorted(r["rules"]),
                "legalBases": sorted(r["legalBases"]),
            }
            for (c, d), r in ordered
        ]
        print(json.dumps({"from": since, "to": until, "merchant": merchant, "transfers": out}))
        return
    table = Table(title=f"data classes sent, {since} to {until}" + (f", merchant {merchant}" if merchant else ""))
    for column in ("data class", "destination", "calls", "masked", "blocked", "rules"):
        table.add_column(column)
    for (data_class, destination), r in ordered:
        table.add_row(
            data_class,
            destination,
            str(r["calls"]),
            str(r["masked"]),
            str(r["blocked"]),
            ", ".join(sorted(r["rules"])),
        )
    console.print(table)
