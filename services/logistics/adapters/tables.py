"""Logistics tables (schema `logistics`): ISO 3166-1 countries and UN/CEFACT Rec. 24 status codes."""

from __future__ import annotations

import sqlalchemy as sa

from services.shared.idempotency import idempotency_table
from services.shared.tables import kernel_tables

metadata = sa.MetaData()
OUTBOX, PROCESSED_EVENTS, DATASET_VERSIONS = kernel_tables(metadata)
IDEMPOTENCY_KEYS = idempotency_table(metadata)

countries = sa.Table(
    "countries",
    metadata,
    sa.Column("alpha2", sa.String(2), primary_key=True),
    sa.Column("alpha3", sa.String(3), nullable=False, unique=True),
    sa.Column("numeric", sa.String(3), nullable=False, unique=True),
    sa.Column("name_en", sa.Text, nullable=False),
    sa.Column("name_zh", sa.Text, nullable=False),
    sa.Column("formal_name_en", sa.Text, nullable=False),
    sa.Column("formal_name_zh", sa.Text, nullable=False),
    sa.Column("currency_code", sa.String(3), nullable=False),
    sa.Column("capital", sa.Text, nullable=False),
    sa.Column("region", sa.Text, nullable=False),
    sa.Column("sub_region", sa.Text, nullable=False),
    sa.Column("languages", sa.Text, nullable=False),  # JSON list of BCP 47 tags
    sa.Column("tld", sa.Text, nullable=False),
)

# `position` keeps the code list's own order; `search_text` is name + description as lower-case words
# between spaces (domain.status_codes.search_text), for word-prefix matching with LIKE.
status_codes = sa.Table(
    "status_codes",
    metadata,
    sa.Column("code", sa.String(3), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("search_text", sa.Text, nullable=False),
)
