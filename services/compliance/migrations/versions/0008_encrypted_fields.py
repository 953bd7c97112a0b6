"""Screenings keep the party's date of birth and identifiers, and the answer that echoes them, encrypted
(party_sensitive_enc, response_enc), as are the answers kept for idempotent replays; key_rotation_checkpoints
records how far a key rotation got.

Existing rows are encrypted here with the process's key ring, then the clear forms are removed.

Revision ID: compliance_0008
Revises: compliance_0007
Create Date: 2026-12-06
"""

import json

import sqlalchemy as sa
from alembic import context, op

from services.shared.crypto import Binding
from services.shared.migration_ops import create_key_rotation_checkpoints, field_crypto

revision = "compliance_0008"
down_revision = "compliance_0007"
branch_labels = None
depends_on = None

SENSITIVE = "PERSONAL_SENSITIVE"


def _json(value: object) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value)  # type: ignore[call-overload]


def upgrade() -> None:
    create_key_rotation_checkpoints(op)
    with op.batch_alter_table("screenings") as batch:
        batch.add_column(sa.Column("party_sensitive_enc", sa.Text, nullable=True))
        batch.add_column(sa.Column("response_enc", sa.Text, nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT code, merchant_code, party, response FROM screenings")).all()
    crypto = field_crypto(context) if rows else None
    for code, merchant, party_raw, response in rows:
        party = _json(party_raw)
        sensitive = {"date_of_birth": party.pop("date_of_birth", ""), "identifiers": party.pop("identifiers", [])}
        connection.execute(
            sa.text("UPDATE screenings SET party = :p, party_sensitive_enc = :s, response_enc = :r WHERE code = :c"),
            {
                "p": json.dumps(party),
                "s": crypto.seal_json(sensitive, Binding(merchant, "screening", code, "party", SENSITIVE)),
                "r": crypto.seal_bytes(bytes(response), Binding(merchant, "screening", code, "response", SENSITIVE)),
                "c": code,
            },
        )
    with op.batch_alter_table("screenings") as batch:
        batch.alter_column("party_sensitive_enc", existing_type=sa.Text, nullable=False)
        batch.alter_column("response_enc", existing_type=sa.Text, nullable=False)
        batch.drop_column("response")
    kept = connection.execute(sa.text("SELECT scope, key, response FROM idempotency_keys")).all()
    crypto = crypto or (field_crypto(context) if kept else None)
    for scope, key, response in kept:
        token = crypto.seal_bytes(bytes(response), Binding(scope, "idempotent_response", key, "response", SENSITIVE))
        connection.execute(
            sa.text("UPDATE idempotency_keys SET response = :r WHERE scope = :s AND key = :k"),
            {"r": token.encode("ascii"), "s": scope, "k": key},
        )


def downgrade() -> None:
    with op.batch_alter_table("screenings") as batch:
        batch.add_column(sa.Column("response", sa.LargeBinary, nullable=True))
    connection = op.get_bind()
    kept = connection.execute(sa.text("SELECT scope, key, response FROM idempotency_keys")).all()
    if kept:
        sealer = field_crypto(context)
        for scope, key, stored in kept:
            clear = sealer.open_bytes(
                bytes(stored).decode("ascii"), Binding(scope, "idempotent_response", key, "response", SENSITIVE)
            )
            connection.execute(
                sa.text("UPDATE idempotency_keys SET response = :r WHERE scope = :s AND key = :k"),
                {"r": clear, "s": scope, "k": key},
            )
    rows = connection.execute(
        sa.text("SELECT code, merchant_code, party, party_sensitive_enc, response_enc FROM screenings")
    ).all()
    crypto = field_crypto(context) if rows else None
    for code, merchant, party_raw, sensitive_enc, response_enc in rows:
        party = _json(party_raw)
        party.update(crypto.open_json(sensitive_enc, Binding(merchant, "screening", code, "party", SENSITIVE)))
        response = crypto.open_bytes(response_enc, Binding(merchant, "screening", code, "response", SENSITIVE))
        connection.execute(
            sa.text("UPDATE screenings SET party = :p, response = :r WHERE code = :c"),
            {"p": json.dumps(party), "r": response, "c": code},
        )
    with op.batch_alter_table("screenings") as batch:
        batch.alter_column("response", existing_type=sa.LargeBinary, nullable=False)
        batch.drop_column("party_sensitive_enc")
        batch.drop_column("response_enc")
    op.drop_table("key_rotation_checkpoints")
