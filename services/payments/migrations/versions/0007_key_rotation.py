"""Payout payee names are stored envelope-encrypted (payee_name_enc); key_rotation_checkpoints records how
far a key rotation has re-wrapped each encrypted column.

Existing rows are encrypted here with the process's key ring (binding: merchant, "payout", payout code,
"payee_name"), then the clear column is dropped.

Revision ID: payments_0007
Revises: payments_0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import context, op

from services.shared.crypto import Binding
from services.shared.migration_ops import create_key_rotation_checkpoints, field_crypto

revision = "payments_0007"
down_revision = "payments_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_key_rotation_checkpoints(op)
    with op.batch_alter_table("payouts") as batch:
        batch.add_column(sa.Column("payee_name_enc", sa.Text, nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT code, merchant, payee_name FROM payouts")).all()
    if rows:
        crypto = field_crypto(context)
        for code, merchant, name in rows:
            token = crypto.seal(name, Binding(merchant, "payout", code, "payee_name", "PERSONAL_SENSITIVE"))
            connection.execute(
                sa.text("UPDATE payouts SET payee_name_enc = :t WHERE code = :c"), {"t": token, "c": code}
            )
    with op.batch_alter_table("payouts") as batch:
        batch.alter_column("payee_name_enc", existing_type=sa.Text, nullable=False)
        batch.drop_column("payee_name")


def downgrade() -> None:
    with op.batch_alter_table("payouts") as batch:
        batch.add_column(sa.Column("payee_name", sa.String(200), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT code, merchant, payee_name_enc FROM payouts")).all()
    if rows:
        crypto = field_crypto(context)
        for code, merchant, token in rows:
            name = crypto.open(token, Binding(merchant, "payout", code, "payee_name", "PERSONAL_SENSITIVE"))
            connection.execute(sa.text("UPDATE payouts SET payee_name = :n WHERE code = :c"), {"n": name, "c": code})
    with op.batch_alter_table("payouts") as batch:
        batch.alter_column("payee_name", existing_type=sa.String(200), nullable=False)
        batch.drop_column("payee_name_enc")
    op.drop_table("key_rotation_checkpoints")
