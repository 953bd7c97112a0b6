"""Alembic helpers shared by every service's migrations.

`run_env` is each service's whole env.py. `create_kernel_tables` is frozen at its first shape: later
changes to the kernel tables get migrations of their own, never an edit here.

A revision is frozen too: it spells out the tables it creates and never imports the live table definitions
(adapters/tables.py), which change with later revisions and would rewrite what an applied revision did. So a
revision and the table module that mirrors its schema look alike by design, and neither is factored out.

Migration files are numbered in chain order (`0001_...`, `0002_...`, following `down_revision`); a revision
id is what a database records as applied, so an id keeps its first name even where it no longer matches
its file's number (tests/unit/test_migrations.py checks that every chain is linear and its files follow it).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def run_env(context: Any) -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run through services.shared.db.migrate(), which passes a connection")
    context.configure(connection=connection, target_metadata=None, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def field_crypto(context: Any) -> Any:
    """The key ring's field helper for a revision that encrypts rows already stored (docs/crypto.md)."""
    from services.shared.crypto.config import field_crypto as load

    return load(context.config.attributes["settings"])


def create_key_rotation_checkpoints(op: Any) -> None:
    """Frozen shape of services.shared.crypto.rotation.checkpoint_table."""
    op.create_table(
        "key_rotation_checkpoints",
        sa.Column("column_name", sa.String(120), primary_key=True),
        sa.Column("kek_version", sa.Integer, nullable=False),
        sa.Column("last_key", sa.String(255), nullable=False),
        sa.Column("rows_rewrapped", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def create_kernel_tables(op: Any) -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(80), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("occurred_at", tz, nullable=False),
        sa.Column("published_at", tz, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["published_at", "id"])
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(120), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("processed_at", tz, nullable=False),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("dataset", sa.String(60), primary_key=True),
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", tz, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
    )


def add_dataset_provenance(op: Any) -> None:
    """dataset_versions records who imported a version and from where, and the file version a start skipped
    (services/shared/refdata.py)."""
    with op.batch_alter_table("dataset_versions") as batch:
        batch.add_column(sa.Column("imported_by", sa.String(20), nullable=True))
        batch.add_column(sa.Column("imported_from", sa.Text, nullable=True))
        batch.add_column(sa.Column("skipped_version", sa.String(64), nullable=True))


def drop_dataset_provenance(op: Any) -> None:
    with op.batch_alter_table("dataset_versions") as batch:
        batch.drop_column("skipped_version")
        batch.drop_column("imported_from")
        batch.drop_column("imported_by")
