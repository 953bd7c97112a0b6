"""Single sign-on of ops staff: linked identity-provider identities, used ID tokens, sessions without MFA.

Revision ID: identity_0007
Revises: identity_0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0007"
down_revision = "identity_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("sso_email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("sso_subject", sa.String(255), nullable=True))
        batch.create_unique_constraint("uq_operators_sso_email", ["sso_email"])
        batch.create_unique_constraint("uq_operators_sso_subject", ["sso_subject"])
    with op.batch_alter_table("ops_sessions") as batch:
        batch.alter_column("second_factor_at", existing_type=sa.DateTime(timezone=True), nullable=True)
    op.create_table(
        "sso_token_uses",
        sa.Column("replay_key", sa.String(64), primary_key=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("usable_until", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sso_token_uses_usable_until", "sso_token_uses", ["usable_until"])


def downgrade() -> None:
    op.drop_table("sso_token_uses")
    op.execute("DELETE FROM ops_sessions WHERE second_factor_at IS NULL")
    with op.batch_alter_table("ops_sessions") as batch:
        batch.alter_column("second_factor_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    with op.batch_alter_table("operators") as batch:
        batch.drop_constraint("uq_operators_sso_subject", type_="unique")
        batch.drop_constraint("uq_operators_sso_email", type_="unique")
        batch.drop_column("sso_subject")
        batch.drop_column("sso_email")
