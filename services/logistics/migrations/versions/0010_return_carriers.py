"""Return carriers: returns labelled back to origin before `returns.carrier` existed get their carrier.

The reverse-lane channel such a return was labelled on is the return-to-origin option of the cost
comparison stored at authorisation; its carrier is that channel's `carrier_id` (or, when the column is still
empty because the catalogue was not reloaded since logistics_0009, the `carrier_id` of the channel's stored
definition). A return whose channel has neither keeps an empty carrier. Restock labels name no carrier (their
warehouse reports the parcel), so they are left alone.

Revision ID: logistics_0010
Revises: logistics_0009
Create Date: 2026-12-06
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "logistics_0010"
down_revision = "logistics_0009"
branch_labels = None
depends_on = None

_returns = sa.table(
    "returns",
    sa.column("code", sa.String),
    sa.column("route", sa.String),
    sa.column("return_waybill", sa.String),
    sa.column("carrier", sa.String),
    sa.column("comparison", sa.Text),
)
_channels = sa.table(
    "channels", sa.column("code", sa.String), sa.column("carrier_id", sa.String), sa.column("definition", sa.Text)
)


def _channel_carriers(connection: sa.Connection) -> dict[str, str]:
    carriers: dict[str, str] = {}
    for row in connection.execute(sa.select(_channels.c.code, _channels.c.carrier_id, _channels.c.definition)):
        carrier = row.carrier_id
        if not carrier:
            try:
                definition = json.loads(row.definition)
            except ValueError:
                definition = None
            if isinstance(definition, dict):
                carrier = str(definition.get("carrier_id") or "").strip().lower()
        if carrier:
            carriers[row.code] = carrier
    return carriers


def _labelled_channel(comparison: str) -> str:
    try:
        option = (json.loads(comparison) or {}).get("return_to_origin") or {}
    except (ValueError, AttributeError):
        return ""
    return str(option.get("channel_code") or "") if isinstance(option, dict) else ""


def upgrade() -> None:
    connection = op.get_bind()
    carriers = _channel_carriers(connection)
    unassigned = connection.execute(
        sa.select(_returns.c.code, _returns.c.comparison).where(
            _returns.c.route == "return_to_origin",
            _returns.c.return_waybill.is_not(None),
            _returns.c.carrier == "",
        )
    ).all()
    for row in unassigned:
        carrier = carriers.get(_labelled_channel(row.comparison), "")
        if carrier:
            connection.execute(_returns.update().where(_returns.c.code == row.code).values(carrier=carrier))


def downgrade() -> None:
    # The carriers filled here cannot be told from those set with the label: they are kept.
    pass
