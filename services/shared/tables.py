"""Tables every service has beside its own: the outbox, the processed-event inbox, dataset versions."""

from __future__ import annotations

import sqlalchemy as sa

from services.shared.clock import UtcDateTime


def kernel_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table, sa.Table]:
    """Define (once per metadata) and return the outbox, processed_events and dataset_versions tables."""
    if "outbox" in metadata.tables:
        return metadata.tables["outbox"], metadata.tables["processed_events"], metadata.tables["dataset_versions"]
    outbox = sa.Table(
        "outbox",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(80), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("occurred_at", UtcDateTime, nullable=False),
        sa.Column("published_at", UtcDateTime, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Index("ix_outbox_unpublished", "published_at", "id"),
    )
    processed = sa.Table(
        "processed_events",
        metadata,
        sa.Column("consumer", sa.String(120), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("processed_at", UtcDateTime, nullable=False),
    )
    datasets = sa.Table(
        "dataset_versions",
        metadata,
        sa.Column("dataset", sa.String(60), primary_key=True),
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", UtcDateTime, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        # Who asked for the version ("start": a start seeding the shipped files, "ops": `xborder import`) and the
        # directory it came from; NULL for versions imported before this was recorded.
        sa.Column("imported_by", sa.String(20), nullable=True),
        sa.Column("imported_from", sa.Text, nullable=True),
        # On the current version that a start kept: the version of the file that start was given and did not
        # apply (`xborder status` reports it; the next version made current clears it).
        sa.Column("skipped_version", sa.String(64), nullable=True),
    )
    return outbox, processed, datasets
