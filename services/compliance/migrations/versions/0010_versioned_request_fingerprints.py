"""Kept request fingerprints name the index-key version that keyed them: a keyed fingerprint written
before (32 hex characters) becomes `v1:<hex>`, so the replay check compares it under version 1 after the
index key is rotated (docs/crypto.md#blind-index-key-rotation). Plain SHA-256 fingerprints (64 hex
characters, kept by a process that did not key yet) stay as they are.

Downgrading strips the prefix of version 1 fingerprints; ones keyed under a later version are left and
a retry of their request is refused as a changed payload by the code before this revision.

Revision ID: compliance_0010
Revises: compliance_0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "compliance_0010"
down_revision = "compliance_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().execute(
        sa.text(
            "UPDATE idempotency_keys SET fingerprint = 'v1:' || fingerprint "
            "WHERE length(fingerprint) = 32 AND fingerprint NOT LIKE 'v%:%'"
        )
    )


def downgrade() -> None:
    op.get_bind().execute(
        sa.text("UPDATE idempotency_keys SET fingerprint = substr(fingerprint, 4) WHERE fingerprint LIKE 'v1:%'")
    )
