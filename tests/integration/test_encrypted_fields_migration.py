"""The migrations that start encrypting a column encrypt the rows already stored, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import services.compliance
import services.payments
from services.payments.sensitive_fields import PAYEE_NAME
from services.shared.crypto.config import field_crypto
from services.shared.db import create_engine, is_sqlite, schema_name
from services.shared.settings import Settings

MIGRATIONS = Path(services.payments.__file__).parent / "migrations"


def _upgrade(
    engine: sa.Engine, settings: Settings, to: str, migrations: Path = MIGRATIONS, service: str = "payments"
) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    with engine.begin() as connection:
        if not is_sqlite(engine):
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name(settings, service)}"'))
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


COMPLIANCE_MIGRATIONS = Path(services.compliance.__file__).parent / "migrations"


def test_screenings_and_kept_answers_stored_before_are_encrypted_by_the_migration(any_settings: Settings) -> None:
    from services.compliance.adapters.screening_tables import screenings
    from services.compliance.adapters.tables import IDEMPOTENCY_KEYS
    from services.compliance.sensitive_fields import KEPT_ANSWER, SCREENED_PARTY, SCREENING_ANSWER

    engine = create_engine(any_settings, "compliance")
    party: dict[str, object] = {
        "name": "Wang Fang",
        "party_type": "person",
        "country": "CN",
        "date_of_birth": "1970-01-02",
    }
    party["identifiers"] = [["passport", "E12345678"]]
    try:
        _upgrade(engine, any_settings, "compliance_0007", COMPLIANCE_MIGRATIONS, "compliance")
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO screenings (code, merchant_code, request_id, decision, screened_at, party, "
                    "hit_entries, response) VALUES ('HC1', 'MC1', 'r1', 'CLEAR', CURRENT_TIMESTAMP, :p, '[]', :r)"
                ).bindparams(sa.bindparam("p", type_=sa.JSON), sa.bindparam("r", type_=sa.LargeBinary)),
                {"p": party, "r": b"answer E12345678"},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO idempotency_keys (scope, key, fingerprint, response, created_at) "
                    "VALUES ('ScreenParty:MC1', 'r1', 'f', :r, CURRENT_TIMESTAMP)"
                ).bindparams(sa.bindparam("r", type_=sa.LargeBinary)),
                {"r": b"answer E12345678"},
            )
        _upgrade(engine, any_settings, "head", COMPLIANCE_MIGRATIONS, "compliance")
        crypto = field_crypto(any_settings)
        with engine.connect() as connection:
            row = connection.execute(sa.select(screenings)).one()
            kept = connection.execute(sa.select(IDEMPOTENCY_KEYS)).one()
        assert "E12345678" not in repr(tuple(row)) + repr(tuple(kept))
        assert row.party == {"name": "Wang Fang", "party_type": "person", "country": "CN"}
        sensitive = crypto.open_json(row.party_sensitive_enc, SCREENED_PARTY.binding(row))
        assert sensitive == {"date_of_birth": "1970-01-02", "identifiers": [["passport", "E12345678"]]}
        assert crypto.open_bytes(row.response_enc, SCREENING_ANSWER.binding(row)) == b"answer E12345678"
        assert crypto.open_bytes(bytes(kept.response).decode(), KEPT_ANSWER.binding(kept)) == b"answer E12345678"
    finally:
        engine.dispose()


def test_request_fingerprints_kept_before_are_keyed_and_their_retries_still_replay(any_settings: Settings) -> None:
    from xborder.compliance.v1 import screening_service_pb2 as pb

    from services.compliance.adapters.tables import IDEMPOTENCY_KEYS
    from services.shared.crypto.fields import KeyedFingerprints, SealedResponses
    from services.shared.idempotency import IdempotencyRepository, fingerprint

    request = pb.ScreenPartyRequest(
        request_id="r1",
        name="Wang Fang",
        date_of_birth="1970-01-02",
        identifiers=[pb.PartyIdentifier(type="passport", value="E12345678")],
    )
    plain = fingerprint(request)
    crypto = field_crypto(any_settings)
    sealed = SealedResponses(lambda: crypto).seal("compliance.screen_party", "r1", b"first answer")
    engine = create_engine(any_settings, "compliance")
    try:
        _upgrade(engine, any_settings, "compliance_0008", COMPLIANCE_MIGRATIONS, "compliance")
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO idempotency_keys (scope, key, fingerprint, response, created_at) "
                    "VALUES ('compliance.screen_party', 'r1', :f, :r, CURRENT_TIMESTAMP)"
                ).bindparams(sa.bindparam("r", type_=sa.LargeBinary)),
                {"f": plain, "r": sealed},
            )
        _upgrade(engine, any_settings, "head", COMPLIANCE_MIGRATIONS, "compliance")
        with engine.begin() as connection:
            assert connection.execute(sa.select(IDEMPOTENCY_KEYS.c.fingerprint)).scalar_one().startswith("v1:")
            kept = IdempotencyRepository(
                connection, IDEMPOTENCY_KEYS, SealedResponses(lambda: crypto), KeyedFingerprints(lambda: crypto)
            )
            assert kept.replay("compliance.screen_party", "r1", plain) == b"first answer"
    finally:
        engine.dispose()


def test_blind_indexes_stored_before_are_marked_version_1_and_still_found(any_settings: Settings) -> None:
    from services.payments.bank_accounts.adapters.vault import BankAccountRows, BankAccountVault
    from services.shared.crypto import BlindIndex

    crypto = field_crypto(any_settings)
    iban = "DE89370400440532013000"
    bare = BlindIndex(crypto.cipher.ring.index_key).compute(iban, tenant="MC1", entity="bank_account", field="iban")
    engine = create_engine(any_settings, "payments")
    try:
        _upgrade(engine, any_settings, "payments_0007")
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO bank_accounts (code, merchant_code, country, currency, bic, number_field, "
                    "number_enc, number_index, number_masked, holder_name_enc, holder_name_masked, created_at) "
                    "VALUES ('BA1', 'MC1', 'DE', 'EUR', NULL, 'iban', 'xbe1.x', :i, 'DE** 3000', 'xbe1.y', 'L** W**', "
                    "CURRENT_TIMESTAMP)"
                ),
                {"i": bare},
            )
        _upgrade(engine, any_settings, "head")
        vault = BankAccountVault(crypto.cipher, lambda: crypto.indexes)
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT number_index FROM bank_accounts")).scalar_one() == f"v1:{bare}"
            assert [a.code for a in vault.find(BankAccountRows(connection), "MC1", "iban", iban)] == ["BA1"]
    finally:
        engine.dispose()
