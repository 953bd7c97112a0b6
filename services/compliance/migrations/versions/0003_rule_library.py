"""Rule library (bitemporal), staged drafts, product checks, and the reference copies checks need.

Revision ID: compliance_0002
Revises: compliance_0001b
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "compliance_0002"
down_revision = "compliance_0001b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ref_countries",
        sa.Column("alpha2", sa.String(2), primary_key=True),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("name_zh", sa.Text, nullable=False),
    )
    op.create_table(
        "ref_ecb_rates",
        sa.Column("rate_date", sa.Date, primary_key=True),
        sa.Column("rates", sa.Text, nullable=False),
    )
    op.create_table(
        "ref_vat_rates",
        sa.Column("country", sa.String(2), primary_key=True),
        sa.Column("effective_from", sa.Date, primary_key=True),
        sa.Column("standard_percent", sa.String(12), nullable=False),
        sa.Column("rates", sa.Text, nullable=False),
    )
    op.create_table(
        "rule_library_versions",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("code", sa.String(18), nullable=False, unique=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("packs_digest", sa.String(64), nullable=False),
        sa.Column("packs", sa.Text, nullable=False),
        sa.Column("rule_count", sa.Integer, nullable=False),
    )
    op.create_table(
        "library_rules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("pack", sa.String(80), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("effective_to", sa.Date, nullable=True),
        sa.Column("recorded_in", sa.Integer, nullable=False),
        sa.Column("superseded_in", sa.Integer, nullable=True),
        sa.UniqueConstraint("code", "version", "recorded_in", name="uq_library_rules_code_version_recorded"),
    )
    op.create_index("ix_library_rules_recorded", "library_rules", ["recorded_in", "superseded_in"])
    op.create_table(
        "rule_drafts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("staged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_dir", sa.Text, nullable=False),
        sa.Column("packs_digest", sa.String(64), nullable=False),
        sa.Column("packs", sa.Text, nullable=False),
        sa.Column("rules", sa.Text, nullable=False),
    )
    op.create_table(
        "product_checks",
        sa.Column("code", sa.String(18), primary_key=True),
        sa.Column("merchant_code", sa.String(18), nullable=False),
        sa.Column("destination", sa.String(2), nullable=False),
        sa.Column("hs_code", sa.String(6), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("library_version", sa.Integer, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("product", sa.Text, nullable=False),
        sa.Column("report", sa.LargeBinary, nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_product_checks_destination_hs", "product_checks", ["destination", "hs_code"])
    op.create_index("ix_product_checks_merchant", "product_checks", ["merchant_code", "checked_at"])


def downgrade() -> None:
    op.drop_table("product_checks")
    op.drop_table("rule_drafts")
    op.drop_table("library_rules")
    op.drop_table("rule_library_versions")
    op.drop_table("ref_vat_rates")
    op.drop_table("ref_ecb_rates")
    op.drop_table("ref_countries")
