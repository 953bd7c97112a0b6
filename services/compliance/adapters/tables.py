"""Compliance tables (schema `compliance`): the HS 2022 nomenclature and other services' dataset versions."""

from __future__ import annotations

import sqlalchemy as sa

from services.shared.clock import UtcDateTime
from services.shared.idempotency import idempotency_table
from services.shared.tables import kernel_tables

metadata = sa.MetaData()
OUTBOX, PROCESSED_EVENTS, DATASET_VERSIONS = kernel_tables(metadata)
IDEMPOTENCY_KEYS = idempotency_table(metadata)

hs_sections = sa.Table(
    "hs_sections",
    metadata,
    sa.Column("numeral", sa.String(6), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),  # I..XXI as 1..21, for ordering
    sa.Column("name", sa.Text, nullable=False),
)

# `search_text` holds the description's lower-case words between spaces (domain.hs.search_text), so a word
# prefix is `LIKE '% word%'` on SQLite and PostgreSQL alike, with no per-request Python scan.
hs_codes = sa.Table(
    "hs_codes",
    metadata,
    sa.Column("code", sa.String(6), primary_key=True),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("section", sa.String(6), nullable=False),
    sa.Column("chapter", sa.String(2), nullable=False),
    sa.Column("heading", sa.String(4), nullable=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("search_text", sa.Text, nullable=False),
    sa.Index("ix_hs_codes_level_code", "level", "code"),
)

upstream_datasets = sa.Table(
    "upstream_datasets",
    metadata,
    sa.Column("service", sa.String(40), primary_key=True),
    sa.Column("dataset", sa.String(60), primary_key=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("record_count", sa.BigInteger, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("imported_at", UtcDateTime, nullable=False),
    sa.Column("event_id", sa.String(36), nullable=False),
)
