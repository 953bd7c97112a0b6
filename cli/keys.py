"""`xborder keys status`, `xborder keys rotate [--blind-index]` and `xborder keys retire-index`: where every
encrypted column and blind index stands against the newest key, and the jobs that move them there
(docs/crypto.md#key-rotation, docs/crypto.md#blind-index-key-rotation).

All run each service's context in this process on the database the settings name. `rotate` adds a KEK
version to the ring file first (unless `--resume`), so services that read the file learn it at their next
read of a re-wrapped row; it then re-wraps every declared column in batches, printing rows done and
remaining per service and column, and can be stopped and run again with `--resume` at any time.
`rotate --blind-index` does the same for the blind-index key: it adds an index-key version, waits for
running services to re-read the ring file (they then look rows up under both versions), and recomputes
every declared blind index. `retire-index` removes an old index-key version once nothing uses it.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import typer
from rich.table import Table

from cli.context import console, service_context, settings
from services.registry import SERVICE_TABLE
from services.shared.clock import utcnow
from services.shared.crypto.config import load_key_ring, ring_file
from services.shared.crypto.envelope import RING_REFRESH_S
from services.shared.crypto.fields import EncryptedColumn
from services.shared.crypto.rotation import (
    DEFAULT_BATCH,
    ColumnRotation,
    ColumnStatus,
    IndexRotation,
    RotationResult,
    checkpoint_table,
    column_status,
    fingerprint_status,
    fingerprints_under,
    index_status,
)
from services.shared.errors import ConfigurationError

app = typer.Typer(
    help="Field-encryption keys: status and rotation of every encrypted column and blind index.",
    no_args_is_help=True,
)

SETTLE_S = 2 * RING_REFRESH_S
"""How long `rotate --blind-index` waits after adding a version before re-indexing: a running service
re-reads the ring file at most every RING_REFRESH_S, and looks rows up under every version it then holds."""
FINGERPRINT_GRACE = timedelta(days=7)
"""How long a kept request fingerprint must have aged before the index key that keyed it is retired: it
cannot be re-keyed, and once its key is gone a retry with its request_id is refused as a changed payload."""


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


def keyed_fingerprints() -> dict[str, sa.Table]:
    """The idempotency tables whose kept request fingerprints are keyed (`KEYED_FINGERPRINTS`), by service."""
    found: dict[str, sa.Table] = {}
    for entry in SERVICE_TABLE:
        try:
            module = importlib.import_module(f"services.{entry.name}.sensitive_fields")
        except ModuleNotFoundError:
            continue
        table = getattr(module, "KEYED_FINGERPRINTS", None)
        if table is not None:
            found[entry.name] = table
    return found


def _statuses() -> list[ColumnStatus]:
    out: list[ColumnStatus] = []
    for service, columns in encrypted_columns().items():
        with service_context(service, publishes=False) as context:
            newest = context.field_crypto.cipher.ring.newest.version
            out.extend(column_status(context.engine, column, newest) for column in columns)
    return out


def _index_statuses() -> tuple[list[ColumnStatus], list[ColumnStatus]]:
    """Blind-index columns (recomputed by `rotate --blind-index`), and kept fingerprints (which age out)."""
    indexes: list[ColumnStatus] = []
    fingerprints: list[ColumnStatus] = []
    kept = keyed_fingerprints()
    indexed = {
        service: [c for c in columns if c.index_column is not None] for service, columns in encrypted_columns().items()
    }
    for service in [s for s in {**indexed, **kept} if indexed.get(s) or s in kept]:
        with service_context(service, publishes=False) as context:
            newest = context.field_crypto.indexes.newest_version
            indexes.extend(index_status(context.engine, column, newest) for column in indexed.get(service, []))
            if service in kept:
                fingerprints.append(fingerprint_status(context.engine, kept[service], newest, service))
    return indexes, fingerprints


def _print(statuses: list[ColumnStatus], as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        console.print_json(json.dumps({**(extra or {}), "columns": [s.as_json() for s in statuses]}))
        return
    console.print(_table(statuses, "newest KEK", "by KEK version"))


def _table(statuses: list[ColumnStatus], newest: str, versions: str) -> Table:
    table = Table("service", "column", newest, "done", "remaining", versions)
    for s in statuses:
        by = ", ".join(f"v{v}: {n}" for v, n in sorted(s.by_version.items())) or "-"
        table.add_row(s.service, s.column, f"v{s.newest_version}", str(s.done), str(s.remaining), by)
    return table


def _index_json(indexes: list[ColumnStatus], fingerprints: list[ColumnStatus]) -> dict[str, Any]:
    return {
        "indexRemaining": sum(s.remaining for s in indexes),
        "blindIndexes": [s.as_json() for s in indexes],
        "keptFingerprints": [s.as_json() for s in fingerprints],
    }


def _print_indexes(indexes: list[ColumnStatus], fingerprints: list[ColumnStatus]) -> None:
    console.print(_table(indexes + fingerprints, "newest index key", "by index-key version"))
    if not indexes:
        return
    newest = indexes[0].newest_version
    if all(s.remaining == 0 for s in indexes):
        older = sorted({v for s in fingerprints for v in s.by_version if v != newest})
        console.print(f"every blind index is under index key v{newest}", highlight=False)
        if older:
            console.print(
                f"kept request fingerprints still use v{', v'.join(map(str, older))}: they cannot be re-keyed; "
                f"`xborder keys retire-index` takes a version once its fingerprints are "
                f"{FINGERPRINT_GRACE.days} days old",
                highlight=False,
            )
    else:
        left = sum(s.remaining for s in indexes)
        console.print(f"{left} blind indexes are not under v{newest}: `xborder keys rotate --blind-index --resume`")


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Rows per service and encrypted column under the newest KEK (done) and under older ones (remaining)."""
    statuses = _statuses()
    indexes, fingerprints = _index_statuses()
    _print(statuses, as_json, {"remaining": sum(s.remaining for s in statuses), **_index_json(indexes, fingerprints)})
    if not as_json:
        _print_indexes(indexes, fingerprints)


@app.command()
def rotate(
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Finish an interrupted rotation (re-wrap, or re-index with --blind-index); add no new version.",
    ),
    batch_size: int = typer.Option(DEFAULT_BATCH, min=1, max=100_000, help="Rows per transaction."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON progress lines and a JSON summary."),
    blind_index: bool = typer.Option(
        False, "--blind-index", help="Rotate the blind-index key instead: add a version, recompute every index."
    ),
    settle: float = typer.Option(
        SETTLE_S,
        "--settle",
        min=0,
        help="With --blind-index: seconds to wait after adding the version, for running services to re-read "
        "the ring file before any row is re-indexed.",
    ),
) -> None:
    """Add a KEK version (unless --resume) and re-wrap every encrypted column's data keys under it; with
    --blind-index, add a blind-index key version and recompute every blind index under it."""
    if blind_index:
        _rotate_blind_index(resume, batch_size, as_json, settle)
        return
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

                result = ColumnRotation(context.engine, checkpoints, column, cipher, batch_size=batch_size).run(
                    _report(as_json, before)
                )
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


def _report(as_json: bool, before: ColumnStatus) -> Callable[[RotationResult], None]:
    def report(result: RotationResult) -> None:
        left = max(before.remaining - result.rewrapped - len(result.refused), 0)
        done = before.done + result.rewrapped
        line = {"service": result.service, "column": result.column, "done": done, "remaining": left}
        if as_json:
            print(json.dumps(line), flush=True)
        else:
            console.print(f"{result.service} {result.column}: {done} done, {left} remaining", highlight=False)

    return report


def _rotate_blind_index(resume: bool, batch_size: int, as_json: bool, settle: float) -> None:
    """Add an index-key version (unless resuming), let running services learn it, recompute every index."""
    current = settings()
    if not resume:
        path = ring_file(current)
        if path is None:
            console.print(
                "[red]XB_BLIND_INDEX_KEY lists keys inline:[/red] add the new version to it "
                "(`2:base64key,1:base64key`), restart the services, then run "
                "`xborder keys rotate --blind-index --resume`"
            )
            raise typer.Exit(2)
        ring = load_key_ring(current).with_new_index_key()
        ring.save(path)
        if not as_json:
            console.print(f"added blind-index key v{ring.newest_index_version} to {path}", highlight=False)
        # A running service still looking up under the old version only would miss a row re-indexed now.
        time.sleep(settle)
    refused: dict[str, list[str]] = {}
    for service, columns in encrypted_columns().items():
        indexed = [c for c in columns if c.index_column is not None]
        if not indexed:
            continue
        with service_context(service, publishes=False) as context:
            crypto = context.field_crypto
            checkpoints = checkpoint_table(sa.MetaData())
            for column in indexed:
                before = index_status(context.engine, column, crypto.indexes.newest_version)
                job = IndexRotation(context.engine, checkpoints, column, crypto, batch_size=batch_size)
                result = job.run(_report(as_json, before))
                if result.refused:
                    refused[f"{service} {job.name}"] = result.refused
    indexes, fingerprints = _index_statuses()
    if as_json:
        console.print_json(json.dumps({"refused": refused, **_index_json(indexes, fingerprints)}))
    else:
        _print_indexes(indexes, fingerprints)
    if refused:
        for where, keys in refused.items():
            console.print(f"[red]{where}: {len(keys)} rows do not decrypt and keep their index:[/red] {keys[:10]}")
        raise typer.Exit(1)


@app.command("retire-index")
def retire_index(
    version: int = typer.Argument(..., min=1, help="The blind-index key version to remove from the ring."),
) -> None:
    """Remove an old blind-index key version; refused while a blind index, or a kept request fingerprint
    younger than the grace period, still uses it."""
    current = settings()
    ring = load_key_ring(current)
    try:
        retired = ring.without_index_key(version)
    except ConfigurationError as error:
        console.print(f"[red]{error}[/red]", highlight=False)
        raise typer.Exit(2) from None
    indexes, _ = _index_statuses()
    using = {f"{s.service} {s.column}": s.by_version.get(version, 0) for s in indexes}
    unreadable = {f"{s.service} {s.column}": s.unreadable for s in indexes if s.unreadable}
    since = utcnow() - FINGERPRINT_GRACE
    young: dict[str, int] = {}
    for service, table in keyed_fingerprints().items():
        with service_context(service, publishes=False) as context:
            young[f"{service} {table.name}.fingerprint"] = fingerprints_under(context.engine, table, version, since)
    blocking = {k: n for k, n in {**using, **young}.items() if n}
    if blocking or unreadable:
        for where, n in blocking.items():
            console.print(f"[red]refused:[/red] {where}: {n} rows still use index key v{version}", highlight=False)
        for where, n in unreadable.items():
            console.print(f"[red]refused:[/red] {where}: {n} rows name no index-key version", highlight=False)
        if any(using.values()):
            console.print("finish the re-index first: `xborder keys rotate --blind-index --resume`")
        if any(young.values()):
            console.print(
                f"kept request fingerprints cannot be re-keyed: retire v{version} once they are "
                f"{FINGERPRINT_GRACE.days} days old"
            )
        raise typer.Exit(1)
    path = ring_file(current)
    if path is None:
        console.print(
            f"nothing uses index key v{version}: remove it from XB_BLIND_INDEX_KEY and restart the services",
            highlight=False,
        )
        return
    retired.save(path)
    console.print(f"retired blind-index key v{version} from {path}", highlight=False)
