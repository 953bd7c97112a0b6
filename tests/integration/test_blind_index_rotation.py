"""Blind-index key rotation on SQLite and PostgreSQL: a look-up by IBAN finds the account before, during
(half the rows re-indexed) and after the rotation, a crash mid-rotation resumes from the checkpoint, the old
key cannot be retired while a row or a recent kept fingerprint still uses it, and a look-up never misses
across any interleaving of batch steps, writes and restarts (hypothesis)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import StaticPool
from typer.testing import CliRunner

from cli.main import app
from services.compliance import bootstrap as compliance
from services.compliance.adapters.tables import IDEMPOTENCY_KEYS
from services.payments import bootstrap
from services.payments.bank_accounts.adapters.tables import bank_accounts
from services.payments.bank_accounts.adapters.vault import BankAccountRows, BankAccountVault
from services.payments.bank_accounts.domain import BankAccountDetails
from services.payments.sensitive_fields import BANK_ACCOUNT_NUMBER
from services.shared.clock import utcnow
from services.shared.context import ServiceContext
from services.shared.crypto import KeyRing
from services.shared.crypto.blind_index import stored_version
from services.shared.crypto.config import load_key_ring, ring_file
from services.shared.crypto.fields import FieldCrypto
from services.shared.crypto.rotation import IndexRotation, RotationResult, checkpoint_table, index_status
from services.shared.idempotency import IdempotencyKeyReused
from services.shared.settings import Settings
from tests.fakes import RecordingBus

MERCHANT = "MC-BIX-1"
IBANS = [f"DE89370400440532014{n:03d}" for n in range(6)]


def _add_accounts(context: ServiceContext, ibans: list[str] = IBANS, prefix: str = "BA") -> dict[str, str]:
    vault = bootstrap.bank_account_vault(context)
    codes = {}
    with bootstrap.unit_of_work(context)() as uow:
        for n, iban in enumerate(ibans):
            details = BankAccountDetails(f"Holder {n}", "DE", "EUR", iban, None, None)
            vault.add(uow.bank_accounts, f"{prefix}-{n}", MERCHANT, details, utcnow())
            codes[iban] = f"{prefix}-{n}"
        uow.commit()
    return codes


def _find(context: ServiceContext, iban: str) -> list[str]:
    with bootstrap.unit_of_work(context)() as uow:
        return [a.code for a in bootstrap.bank_account_vault(context).find(uow.bank_accounts, MERCHANT, "iban", iban)]


def _add_index_key(settings: Settings) -> int:
    path = ring_file(settings)
    assert path is not None
    ring = load_key_ring(settings).with_new_index_key()
    ring.save(path)
    return ring.newest_index_version


def _job(context: ServiceContext, batch: int = 3) -> IndexRotation:
    return IndexRotation(
        context.engine, checkpoint_table(sa.MetaData()), BANK_ACCOUNT_NUMBER, context.field_crypto, batch_size=batch
    )


def _versions(context: ServiceContext) -> dict[int, int]:
    return index_status(context.engine, BANK_ACCOUNT_NUMBER, context.field_crypto.indexes.newest_version).by_version


@pytest.fixture
def context(any_settings: Settings) -> Iterator[ServiceContext]:
    ctx = bootstrap.bootstrap(any_settings, RecordingBus())
    yield ctx
    ctx.close()


@pytest.fixture
def cli_env(any_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI on the same database and ring file as `any_settings`."""
    monkeypatch.setenv("XB_VAR_DIR", str(any_settings.var_dir))
    monkeypatch.setenv("XB_LOG_JSON", "false")
    for name in ("XB_BROKER_URL", "XB_KEK_RING", "XB_BLIND_INDEX_KEY", "XB_DATABASE_URL", "XB_DB_SCHEMA_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    if any_settings.database_url:
        monkeypatch.setenv("XB_DATABASE_URL", any_settings.database_url)
        monkeypatch.setenv("XB_DB_SCHEMA_PREFIX", any_settings.db_schema_prefix)
    return CliRunner()


def test_a_look_up_finds_the_account_before_during_and_after_the_rotation(
    context: ServiceContext, any_settings: Settings
) -> None:
    codes = _add_accounts(context)
    assert all(_find(context, iban) == [code] for iban, code in codes.items())

    assert _add_index_key(any_settings) == 2
    rotating = bootstrap.bootstrap(any_settings, RecordingBus())  # reads the ring file with v2 in it
    try:
        job = _job(rotating)
        assert job.run_batch(job_result := _result()) is True
        assert _versions(rotating) == {1: 3, 2: 3}  # half the rows re-indexed
        assert all(_find(rotating, iban) == [code] for iban, code in codes.items())
        # A new account is indexed under v2 at once, and is found as well.
        fresh = _add_accounts(rotating, ["DE89370400440532014999"], prefix="BN")
        assert _find(rotating, "DE89370400440532014999") == list(fresh.values())

        job.run()
        assert job_result.rewrapped == 3
        assert _versions(rotating) == {2: 7}
        assert all(_find(rotating, iban) == [code] for iban, code in codes.items())
        assert _find(rotating, "DE89370400440532014777") == []
    finally:
        rotating.close()


def _result() -> RotationResult:
    return RotationResult("payments", "bank_accounts.number_index")


def test_a_registration_during_the_rotation_is_still_refused_as_a_duplicate(
    context: ServiceContext, any_settings: Settings
) -> None:
    codes = _add_accounts(context)
    _add_index_key(any_settings)
    rotating = bootstrap.bootstrap(any_settings, RecordingBus())
    try:
        _job(rotating).run_batch(_result())
        with bootstrap.unit_of_work(rotating)() as uow:
            vault = bootstrap.bank_account_vault(rotating)
            # The service layer refuses a number the vault finds; it must find rows under either version.
            assert [a.code for a in vault.find(uow.bank_accounts, MERCHANT, "iban", IBANS[-1])] == [codes[IBANS[-1]]]
            assert [a.code for a in vault.find(uow.bank_accounts, MERCHANT, "iban", IBANS[0])] == [codes[IBANS[0]]]
    finally:
        rotating.close()


def test_a_crash_mid_rotation_resumes_after_the_checkpoint(context: ServiceContext, any_settings: Settings) -> None:
    codes = _add_accounts(context)
    _add_index_key(any_settings)
    rotating = bootstrap.bootstrap(any_settings, RecordingBus())
    try:
        crashing = _job(rotating, batch=2)
        seen: list[str] = []

        def fresh_then_crash(row: Any, token: str, version: int) -> str:
            seen.append(row.code)
            if len(seen) == 3:  # in the second batch: its transaction rolls back
                raise RuntimeError("process killed")
            return IndexRotation.fresh(crashing, row, token, version)

        crashing.fresh = fresh_then_crash  # type: ignore[method-assign]
        with pytest.raises(RuntimeError, match="process killed"):
            crashing.run()
        assert _versions(rotating) == {1: 4, 2: 2}
        with rotating.engine.connect() as connection:
            checkpoint = connection.execute(sa.select(checkpoint_table(sa.MetaData()))).one()
        assert (checkpoint.column_name, checkpoint.kek_version, checkpoint.rows_rewrapped) == (
            "bank_accounts.number_index",
            2,
            2,
        )
        assert all(_find(rotating, iban) == [code] for iban, code in codes.items())

        resumed = _job(rotating, batch=2).run()
        assert (resumed.rewrapped, resumed.refused) == (4, [])  # only the rows after the checkpoint
        assert _versions(rotating) == {2: 6}
        assert all(_find(rotating, iban) == [code] for iban, code in codes.items())
        with rotating.engine.connect() as connection:
            assert connection.execute(sa.select(checkpoint_table(sa.MetaData()))).first() is None
    finally:
        rotating.close()


def test_a_row_that_does_not_decrypt_keeps_its_index_is_listed_and_still_found(
    context: ServiceContext, any_settings: Settings
) -> None:
    codes = _add_accounts(context)
    moved = codes[IBANS[1]]
    with context.engine.begin() as connection:  # another row's ciphertext copied in: it fails its binding
        other = connection.execute(
            sa.select(bank_accounts.c.number_enc).where(bank_accounts.c.code == codes[IBANS[0]])
        ).scalar_one()
        connection.execute(bank_accounts.update().where(bank_accounts.c.code == moved).values(number_enc=other))
    _add_index_key(any_settings)
    rotating = bootstrap.bootstrap(any_settings, RecordingBus())
    try:
        result = _job(rotating, batch=4).run()
        assert (result.rewrapped, result.refused) == (5, [moved])
        assert _versions(rotating) == {1: 1, 2: 5}
        assert _find(rotating, IBANS[1]) == [moved]  # under v1, still in the ring
    finally:
        rotating.close()


def test_the_old_index_key_is_retired_only_once_nothing_uses_it(
    context: ServiceContext, any_settings: Settings, cli_env: CliRunner
) -> None:
    codes = _add_accounts(context)
    _add_index_key(any_settings)
    rotating = bootstrap.bootstrap(any_settings, RecordingBus())
    try:
        _job(rotating).run_batch(_result())
    finally:
        rotating.close()

    early = cli_env.invoke(app, ["keys", "retire-index", "1"], terminal_width=200)
    assert early.exit_code == 1, early.output
    assert "payments bank_accounts.number_index: 3 rows still use index key v1" in early.output
    assert list(load_key_ring(any_settings).index_keys) == [1, 2]
    newest = cli_env.invoke(app, ["keys", "retire-index", "2"], terminal_width=200)
    assert newest.exit_code == 2 and "v2 is the newest" in newest.output

    status = json.loads(cli_env.invoke(app, ["keys", "status", "--json"]).output)
    assert status["indexRemaining"] == 3
    resumed = cli_env.invoke(app, ["keys", "rotate", "--blind-index", "--resume", "--batch-size", "2"])
    assert resumed.exit_code == 0, resumed.output
    status = json.loads(cli_env.invoke(app, ["keys", "status", "--json"]).output)
    assert status["indexRemaining"] == 0
    assert [(s["column"], s["byVersion"]) for s in status["blindIndexes"]] == [("bank_accounts.number_index", {"2": 6})]

    retired = cli_env.invoke(app, ["keys", "retire-index", "1"], terminal_width=200)
    assert retired.exit_code == 0, retired.output
    assert list(load_key_ring(any_settings).index_keys) == [2]
    after = bootstrap.bootstrap(any_settings, RecordingBus())
    try:
        assert all(_find(after, iban) == [code] for iban, code in codes.items())
    finally:
        after.close()


def test_kept_fingerprints_replay_across_the_rotation_and_hold_the_old_key_until_they_age_out(
    any_settings: Settings, cli_env: CliRunner
) -> None:
    kept = compliance.bootstrap(any_settings, RecordingBus())
    try:
        with kept.uow() as uow:
            uow.idempotency.remember("compliance.screen_party:MC1", "r1", "f" * 64, b"first answer")
            uow.commit()
    finally:
        kept.close()

    rotated = cli_env.invoke(app, ["keys", "rotate", "--blind-index", "--settle", "0"], terminal_width=200)
    assert rotated.exit_code == 0, rotated.output
    assert "kept request fingerprints still use v1" in rotated.output
    after = compliance.bootstrap(any_settings, RecordingBus())
    try:
        with after.uow() as uow:
            assert uow.idempotency.replay("compliance.screen_party:MC1", "r1", "f" * 64) == b"first answer"
            uow.idempotency.remember("compliance.screen_party:MC1", "r2", "e" * 64, b"second answer")
            uow.commit()
        with after.engine.connect() as connection:
            stored = dict(connection.execute(sa.select(IDEMPOTENCY_KEYS.c.key, IDEMPOTENCY_KEYS.c.fingerprint)).all())
        assert (stored_version(stored["r1"]), stored_version(stored["r2"])) == (1, 2)

        refused = cli_env.invoke(app, ["keys", "retire-index", "1"], terminal_width=200)
        assert refused.exit_code == 1
        assert "compliance idempotency_keys.fingerprint: 1 rows still use index key v1" in refused.output

        with after.engine.begin() as connection:  # the request was answered eight days ago
            connection.execute(
                IDEMPOTENCY_KEYS.update()
                .where(IDEMPOTENCY_KEYS.c.key == "r1")
                .values(created_at=utcnow() - timedelta(days=8))
            )
        retired = cli_env.invoke(app, ["keys", "retire-index", "1"], terminal_width=200)
        assert retired.exit_code == 0, retired.output
    finally:
        after.close()
    retired_ring = compliance.bootstrap(any_settings, RecordingBus())
    try:
        with retired_ring.uow() as uow:
            assert uow.idempotency.replay("compliance.screen_party:MC1", "r2", "e" * 64) == b"second answer"
            # Its key is gone: the documented outcome is a refusal, never a replay of another payload.
            with pytest.raises(IdempotencyKeyReused):
                uow.idempotency.replay("compliance.screen_party:MC1", "r1", "f" * 64)
    finally:
        retired_ring.close()


# --- the property: no interleaving of batch steps, writes and restarts makes a look-up miss ----------

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("batch"), st.integers(1, 4)),
        st.tuples(st.just("lookup"), st.integers(0, 9)),
        st.tuples(st.just("write"), st.sampled_from(["old", "new"])),
        st.tuples(st.just("restart"), st.just(0)),
    ),
    max_size=25,
)
OLD_RING = KeyRing.generate()
NEW_RING = OLD_RING.with_new_index_key()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(initial=st.integers(0, 6), steps=STEPS)
def test_a_look_up_never_misses_whatever_the_interleaving(initial: int, steps: list[tuple[str, Any]]) -> None:
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    bank_accounts.metadata.create_all(engine, tables=[bank_accounts])
    checkpoints = checkpoint_table(sa.MetaData())
    checkpoints.create(engine)
    old, new = FieldCrypto(OLD_RING), FieldCrypto(NEW_RING)
    # A writer that has not yet read the new version (indexes under v1), and one that has.
    writers = {
        "old": BankAccountVault(old.cipher, lambda: old.indexes),
        "new": BankAccountVault(new.cipher, lambda: new.indexes),
    }
    reader = writers["new"]
    stored: dict[str, str] = {}

    def write(vault: BankAccountVault) -> None:
        n = len(stored)
        iban = f"DE8937040044053201{n:04d}"
        with engine.begin() as connection:
            details = BankAccountDetails(f"Holder {n}", "DE", "EUR", iban, None, None)
            vault.add(BankAccountRows(connection), f"BA-{n}", MERCHANT, details, utcnow())
        stored[iban] = f"BA-{n}"

    def found(iban: str) -> list[str]:
        with engine.connect() as connection:
            return [a.code for a in reader.find(BankAccountRows(connection), MERCHANT, "iban", iban)]

    for _ in range(initial):
        write(writers["old"])
    job = IndexRotation(engine, checkpoints, BANK_ACCOUNT_NUMBER, new, batch_size=2)
    result = _result()
    for step, arg in steps:
        if step == "batch":
            job.batch_size = arg
            if not job.run_batch(result):
                job._clear()  # a pass ended: the next one starts from the first row
        elif step == "write":
            write(writers[arg])
        elif step == "restart":  # a crash: a new job resumes from the checkpoint
            job = IndexRotation(engine, checkpoints, BANK_ACCOUNT_NUMBER, new, batch_size=job.batch_size)
        elif stored:
            iban = sorted(stored)[arg % len(stored)]
            assert found(iban) == [stored[iban]]
        for iban, code in stored.items():
            assert found(iban) == [code]
    job.run()
    assert index_status(engine, BANK_ACCOUNT_NUMBER, 2).remaining == 0
    assert all(found(iban) == [code] for iban, code in stored.items())
    engine.dispose()
