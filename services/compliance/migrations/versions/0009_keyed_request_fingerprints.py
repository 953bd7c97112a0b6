"""The fingerprints of requests kept for idempotent replays are stored keyed (a blind index of the SHA-256
fingerprint under the key ring's index key, per scope), as the unit of work now writes them.

A stored fingerprint is itself the SHA-256 the keyed form is computed from, so every kept request is keyed
here without its payload, and a retry of a request answered before the upgrade still replays. Downgrading
cannot recover the plain hashes: it leaves the keyed ones, which the unit of work also reads, and a
retry of such a request after a downgrade is refused as a changed payload (send a new request_id).

Revision ID: compliance_0009
Revises: compliance_0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import context, op

from services.shared.crypto.fields import IDEMPOTENT_REQUEST
from services.shared.idempotency import UNKEYED_LENGTH
from services.shared.migration_ops import field_crypto

revision = "compliance_0009"
down_revision = "compliance_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    kept = connection.execute(sa.text("SELECT scope, key, fingerprint FROM idempotency_keys")).all()
    plain = [row for row in kept if len(row.fingerprint) == UNKEYED_LENGTH]
    if not plain:
        return
    index = field_crypto(context).indexes
    for scope, key, fingerprint in plain:
        keyed = index.compute(fingerprint, tenant=scope, entity=IDEMPOTENT_REQUEST, field="fingerprint")
        connection.execute(
            sa.text("UPDATE idempotency_keys SET fingerprint = :f WHERE scope = :s AND key = :k"),
            {"f": keyed, "s": scope, "k": key},
        )


def downgrade() -> None:
    pass
