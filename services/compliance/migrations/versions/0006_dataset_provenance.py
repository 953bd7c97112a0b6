"""dataset_versions records who imported each version (a start or ops), from which directory, and the file
version a start skipped to keep a version ops imported.

Revision ID: compliance_0006
Revises: compliance_0004
Create Date: 2026-12-06
"""

from alembic import op

from services.shared.migration_ops import add_dataset_provenance, drop_dataset_provenance

revision = "compliance_0006"
down_revision = "compliance_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dataset_provenance(op)


def downgrade() -> None:
    drop_dataset_provenance(op)
