"""`xborder keys status` and `xborder keys rotate`: where every encrypted column stands against the newest
KEK, and the re-wrap that moves it there (docs/crypto.md#key-rotation).

Both run each service's context in this process on the database the settings name. `rotate` adds a KEK
version to the ring file first (unless `--resume`), so services that read the file learn it at their next
read of a re-wrapped row; it then re-wraps every declared column in batches, printing rows done and
remaining per service and column, and can be stopped and run again with `--resume` at any time.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import sqlalchemy as sa
import typer
from rich.table import Table

from cli.context import console, service_context, settings
from services.registry import SERVICE_TABLE
from services.shared.crypto.config import load_key_ring, ring_file
from services.shared.crypto.fields import EncryptedColumn
from services.shared.crypto.rotation import (
    DEFAULT_BATCH,
    ColumnRotation,
    ColumnStatus,
    RotationResult,
    checkpoint_table,
    column_status,
)

app = typer.Typer(help="Field-encryption keys: status and rotation of every encrypted column.", no_args_is_help=True)


def encrypted_columns() -> dict[str, list[EncryptedColumn]]:
    """Each service's declared encrypted columns (services/<name>/sensitive_fields.py), by service."""
    found: dict[str, list[EncryptedColumn]] = {}
    for entry in SERVICE_TABLE:
        try:
            module = importlib.import_module(f"services.{entry.name}.sensitive_fields")
        except ModuleNotFoundError:
            continue
        columns = [d for d in module.SENSITIVE_STORAGE if isinstance(d, EncryptedColumn)]
        if columns:
            found[entry.name] = columns
    return found


def _statuses() -> list[ColumnStatus]:
    out: list[ColumnStatus] = []
    for service, columns in encrypted_columns().items():
        with service_context(service, publishes=False) as context:
            newest = context.field_crypto.cipher.ring.newest.version
            out.extend(column_status(context.engine, column, newest) for column in columns)
    return out


def _print(statuses: list[ColumnStatus], as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        console.print_json(json.dumps({**(extra or {}), "columns": [s.as_json() for s in statuses]}))
        return
    table = Table("service", "column", "newest KEK", "done", "remaining", "by KEK version")
    for s in statuses:
        versions = ", ".join(f"v{v}: {n}" for v, n in sorted(s.by_version.items())) or "-"
        table.add_row(s.service, s.column, f"v{s.newest_version}", str(s.done), str(s.remaining), versions)
    console.print(table)


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Rows per service and encrypted column under the newest KEK (done) and under older ones (remaining)."""
    statuses = _statuses()
    _print(statuses, as_json, {"remaining": sum(s.remaining for s in statuses)})


@app.command()
def rotate(
    resume: bool = typer.Option(False, "--resume", help="Finish re-wrapping to the newest KEK; add no new one."),
    batch_size: int = typer.Option(DEFAULT_BATCH, min=1, max=100_000, help="Rows per transaction."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON progress lines and a JSON summary."),
) -> None:
    """Add a KEK version (unless --resume) and re-wrap every encrypted column's data keys under it."""
    current = settings()
    if not resume:
        path = ring_file(current)
        if path is None:
            console.print(
                "[red]XB_KEK_RING lists keys inline:[/red] add the new version to it, restart the services, "
                "then run `xborder keys rotate --resume`"
            )
            raise typer.Exit(2)
        ring = load_key_ring(current).with_new_version()
        ring.save(path)
        if not as_json:
            console.print(f"added KEK {ring.newest.kek_id} v{ring.newest.version} to {path}", highlight=False)
    refused: dict[str, list[str]] = {}
    for service, columns in encrypted_columns().items():
        with service_context(service, publishes=False) as context:
            cipher = context.field_crypto.cipher
            checkpoints = checkpoint_table(sa.MetaData())
            for column in columns:
                before = column_status(context.engine, column, cipher.ring.newest.version)

                def report(result: RotationResult, before: ColumnStatus = before) -> None:
                    left = max(before.remaining - result.rewrapped - len(result.refused), 0)
                    line = {
                        "service": result.service,
                        "column": result.column,
                        "done": before.done + result.rewrapped,
                        "remaining": left,
                    }
                    if as_json:
                        print(json.dumps(line), flush=True)
                    else:
                        console.print(
                            f"{result.service} {result.column}: {line['done']} done, {left} remaining",
                            highlight=False,
                        )

                result = ColumnRotation(context.engine, checkpoints, column, cipher, batch_size=batch_size).run(report)
                if result.refused:
                    refused[f"{service} {column.name}"] = result.refused
    statuses = _statuses()
    _print(statuses, as_json, {"refused": refused})
    if refused:
        for where, keys in refused.items():
            console.print(f"[red]{where}: {len(keys)} rows do not open and were left as they are:[/red] {keys[:10]}")
        raise typer.Exit(1)
    if not as_json and statuses and all(s.remaining == 0 for s in statuses):
        newest = statuses[0].newest_version
        console.print(f"every encrypted column is under v{newest}; XB_KEK_MIN_VERSION={newest} retires older KEKs")
