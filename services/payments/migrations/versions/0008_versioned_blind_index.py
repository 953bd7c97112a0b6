"""Blind indexes name the index-key version that made them: `bank_accounts.number_index` becomes
`v1:<hex>` for every row indexed before, so a rotation of the index key (`xborder keys rotate
--blind-index`) can tell rows it re-indexed from rows it has still to do (docs/crypto.md).

Downgrading strips the prefix again; it is refused while any row is indexed under a later version (the
code before this revision would not find it).

Revision ID: payments_0008
Revises: payments_0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "payments_0008"
down_revision = "payments_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_bind().execute(
        sa.text("UPDATE bank_accounts SET number_index = 'v1:' || number_index WHERE number_index NOT LIKE 'v%:%'")
    )


def downgrade() -> None:
    connection = op.get_bind()
    later = connection.execute(
        sa.text("SELECT count(*) FROM bank_accounts WHERE number_index LIKE 'v%:%' AND number_index NOT LIKE 'v1:%'")
    ).scalar_one()
    if later:
        raise RuntimeError(
            f"{later} bank accounts are indexed under a blind-index key after v1: rotate back is not supported"
        )
    connection.execute(
        sa.text("UPDATE bank_accounts SET number_index = substr(number_index, 4) WHERE number_index LIKE 'v1:%'")
    )
