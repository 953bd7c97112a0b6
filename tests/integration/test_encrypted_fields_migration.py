"""The migrations that start encrypting a column encrypt the rows already stored, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import services.payments
from services.payments.sensitive_fields import PAYEE_NAME
from services.shared.crypto.config import field_crypto
from services.shared.db import create_engine, is_sqlite, schema_name
from services.shared.settings import Settings

MIGRATIONS = Path(services.payments.__file__).parent / "migrations"


def _upgrade(engine: sa.Engine, settings: Settings, to: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if not is_sqlite(engine):
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name(settings, "payments")}"'))
        config.attributes["connection"] = connection
        config.attributes["settings"] = settings
        command.upgrade(config, to)


def test_payee_names_stored_before_are_encrypted_by_the_migration(any_settings: Settings) -> None:
    engine = create_engine(any_settings, "payments")
    try:
        _upgrade(engine, any_settings, "payments_0006")
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO payouts (code, merchant, currency, amount_minor, bank_account_id, partner, "
                    "payee_name, payee_country, status, hold_reason, screening_decision, timeout_s, created_at, "
                    "updated_at) VALUES ('PO1', 'MC1', 'EUR', 100, 'BA1', 'p', 'Zhang Wei', 'CN', 'PENDING', '', "
                    "'', 60, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        _upgrade(engine, any_settings, "head")
        with engine.connect() as connection:
            row = connection.execute(sa.select(PAYEE_NAME.table).where(PAYEE_NAME.table.c.code == "PO1")).one()
            columns = [c["name"] for c in sa.inspect(connection).get_columns("payouts")]
        assert "payee_name" not in columns
        assert row.payee_name_enc.startswith("xbe1.") and "Zhang" not in row.payee_name_enc
        assert field_crypto(any_settings).open(row.payee_name_enc, PAYEE_NAME.binding(row)) == "Zhang Wei"
    finally:
        engine.dispose()
