"""Screening tables (schema `compliance`): the loaded sanctions lists and every screening given."""

from __future__ import annotations

import sqlalchemy as sa

from services.compliance.adapters.tables import metadata
from services.shared.clock import UtcDateTime

# One row per list entry of the current version of each list; `record` holds the whole entry (names,
# aliases, programs, countries, dates of birth, identifiers) as the matcher needs it, `content_hash` what
# a new version is compared with to tell changed entries.
sanctions_entries = sa.Table(
    "sanctions_entries",
    metadata,
    sa.Column("list_name", sa.String(40), primary_key=True),
    sa.Column("entry_id", sa.String(80), primary_key=True),
    sa.Column("party_type", sa.String(16), nullable=False),
    sa.Column("primary_name", sa.Text, nullable=False),
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
)

sanctions_lists = sa.Table(
    "sanctions_lists",
    metadata,
    sa.Column("list_name", sa.String(40), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("published_on", sa.String(10), nullable=False),  # "" when the file states no date
    sa.Column("date_basis", sa.Text, nullable=False),
    sa.Column("entry_count", sa.Integer, nullable=False),
)

# `response` is the serialised Screening proto as first answered (a replay and GetScreening return it
# byte for byte); `party` the screened party and `hit_entries` the "list:entry" ids hit, for re-screening.
screenings = sa.Table(
    "screenings",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("request_id", sa.String(255), nullable=False),
    sa.Column("decision", sa.String(10), nullable=False),
    sa.Column("screened_at", UtcDateTime, nullable=False),
    sa.Column("party", sa.JSON, nullable=False),  # name, type, country (PERSONAL)
    sa.Column("party_sensitive_enc", sa.Text, nullable=False),  # envelope: date of birth, identifiers
    sa.Column("hit_entries", sa.JSON, nullable=False),
    sa.Column("response_enc", sa.Text, nullable=False),  # envelope: the answer, which echoes them
    sa.Index("ix_screenings_merchant_time", "merchant_code", "screened_at", "code"),
)

# The screening configuration in force: one row per config dataset (`screening_thresholds`, `name_variants`)
# holding the parsed document of its current version, so every process screens with what ops imported,
# whichever directory it came from.
screening_config = sa.Table(
    "screening_config",
    metadata,
    sa.Column("dataset", sa.String(40), primary_key=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
)
