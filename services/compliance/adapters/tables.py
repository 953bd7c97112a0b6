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

# --- rule library and product checks (migration compliance_0002) ---

# Reference copies compliance keeps for checks (ADR 0009): ISO 3166-1 countries, ECB rates, EU VAT rates.
ref_countries = sa.Table(
    "ref_countries",
    metadata,
    sa.Column("alpha2", sa.String(2), primary_key=True),
    sa.Column("name_en", sa.Text, nullable=False),
    sa.Column("name_zh", sa.Text, nullable=False),
)

# One row per TARGET day, the day's rates as JSON {currency: "units per EUR"} (decimal text, exact): about
# 7,000 rows instead of 217,000, so every start and test imports it in well under a second. Compliance only
# ever reads the whole table into memory (adapters/reference_views.py), never one rate by SQL.
ref_ecb_rates = sa.Table(
    "ref_ecb_rates",
    metadata,
    sa.Column("rate_date", sa.Date, primary_key=True),
    sa.Column("rates", sa.Text, nullable=False),
)

ref_vat_rates = sa.Table(
    "ref_vat_rates",
    metadata,
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("effective_from", sa.Date, primary_key=True),
    sa.Column("standard_percent", sa.String(12), nullable=False),
    sa.Column("rates", sa.Text, nullable=False),  # JSON of every rate of that period, as the source gives
)

rule_library_versions = sa.Table(
    "rule_library_versions",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", sa.String(18), nullable=False, unique=True),
    sa.Column("published_at", UtcDateTime, nullable=False),
    sa.Column("packs_digest", sa.String(64), nullable=False),
    sa.Column("packs", sa.Text, nullable=False),  # JSON list of pack ids
    sa.Column("rule_count", sa.Integer, nullable=False),
)

# Bitemporal: effective_from/to is valid time (from the pack); recorded_in/superseded_in is record time
# (library versions). Version N holds rows with recorded_in <= N and (superseded_in is null or > N).
library_rules = sa.Table(
    "library_rules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(80), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("pack", sa.String(80), nullable=False),
    sa.Column("document", sa.Text, nullable=False),  # the rule as JSON (domain.rules.rule_to_document)
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("effective_to", sa.Date, nullable=True),
    sa.Column("recorded_in", sa.Integer, nullable=False),
    sa.Column("superseded_in", sa.Integer, nullable=True),
    sa.UniqueConstraint("code", "version", "recorded_in", name="uq_library_rules_code_version_recorded"),
    sa.Index("ix_library_rules_recorded", "recorded_in", "superseded_in"),
)

# One staged draft at a time (id 1): `xborder rules import` replaces it, `publish` consumes it.
rule_drafts = sa.Table(
    "rule_drafts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("staged_at", UtcDateTime, nullable=False),
    sa.Column("source_dir", sa.Text, nullable=False),
    sa.Column("packs_digest", sa.String(64), nullable=False),
    sa.Column("packs", sa.Text, nullable=False),
    sa.Column("rules", sa.Text, nullable=False),  # JSON list of [pack, rule document]
)

product_checks = sa.Table(
    "product_checks",
    metadata,
    sa.Column("code", sa.String(18), primary_key=True),
    sa.Column("merchant_code", sa.String(18), nullable=False),
    sa.Column("destination", sa.String(2), nullable=False),
    sa.Column("hs_code", sa.String(6), nullable=False),
    sa.Column("verdict", sa.String(32), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("library_version", sa.Integer, nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("product", sa.Text, nullable=False),  # JSON (domain.product.Product.to_document)
    sa.Column("report", sa.LargeBinary, nullable=False),  # the ComplianceReport as sent
    sa.Column("checked_at", UtcDateTime, nullable=False),
    sa.Index("ix_product_checks_destination_hs", "destination", "hs_code"),
    sa.Index("ix_product_checks_merchant", "merchant_code", "checked_at"),
)
