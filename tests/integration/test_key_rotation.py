"""Key rotation over the payments vault's encrypted columns, and tampered or moved ciphertexts, on SQLite
and PostgreSQL: every row ends under the newest KEK, a crash resumes from the checkpoint, a concurrent
reader never fails, and a row moved to another record, field or tenant is refused on read."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from services.payments import bootstrap
from services.payments.bank_accounts.adapters.tables import bank_accounts
from services.payments.bank_accounts.domain import BankAccountDetails
from services.payments.sensitive_fields import BANK_ACCOUNT_HOLDER, BANK_ACCOUNT_NUMBER
from services.shared.clock import utcnow
from services.shared.context import ServiceContext
from services.shared.crypto import DecryptionFailed, Envelope
from services.shared.crypto.config import load_key_ring, ring_file
from services.shared.crypto.rotation import ColumnRotation, checkpoint_table, column_status
from services.shared.settings import Settings
from tests.fakes import RecordingBus

IBANS = [f"DE89370400440532013{n:03d}" for n in range(7)]


def _add_accounts(context: ServiceContext, merchant: str = "MC-ROT-1", prefix: str = "BA") -> list[str]:
    vault = bootstrap.bank_account_vault(context)
    codes = []
    with bootstrap.unit_of_work(context)() as uow:
        for n, iban in enumerate(IBANS):
            code = f"{prefix}-{n}"
            details = BankAccountDetails(f"Holder {n}", "DE", "EUR", iban, None, None)
            vault.add(uow.bank_accounts, code, merchant, details, utcnow())
            codes.append(code)
        uow.commit()
    return codes


def _reveal(context: ServiceContext, code: str) -> str:
    with bootstrap.unit_of_work(context)() as uow:
        return bootstrap.bank_account_vault(context).reveal(uow.bank_accounts, code, purpose="test").details.number


def _new_kek(settings: Settings) -> int:
    path = ring_file(settings)
    assert path is not None
    ring = load_key_ring(settings).with_new_version()
    ring.save(path)
    return ring.newest.version


@pytest.fixture
def context(any_settings: Settings):  # type: ignore[no-untyped-def]
    ctx = bootstrap.bootstrap(any_settings, RecordingBus())
    yield ctx
    ctx.close()


def _rotation(context: ServiceContext, column=BANK_ACCOUNT_NUMBER, batch: int = 3) -> ColumnRotation:  # type: ignore[no-untyped-def]
    return ColumnRotation(
        context.engine, checkpoint_table(sa.MetaData()), column, context.field_crypto.cipher, batch_size=batch
    )


def test_rotation_rewraps_every_row_without_changing_a_value(context: ServiceContext, any_settings: Settings) -> None:
    codes = _add_accounts(context)
    before = {c: _reveal(context, c) for c in codes}
    with context.engine.connect() as connection:
        old_bodies = {
            r.code: Envelope.from_text(r.number_enc).ciphertext for r in connection.execute(sa.select(bank_accounts))
        }
    newest = _new_kek(any_settings)
    # A fresh context of the same process reads the ring file with the new version in it.
    rotated = bootstrap.bootstrap(any_settings, RecordingBus())
    try:
        assert column_status(rotated.engine, BANK_ACCOUNT_NUMBER, newest).remaining == len(codes)
        result = _rotation(rotated).run()
        assert (result.rewrapped, result.refused) == (len(codes), [])
        status = column_status(rotated.engine, BANK_ACCOUNT_NUMBER, newest)
        assert (status.done, status.remaining, status.by_version) == (len(codes), 0, {newest: len(codes)})
        with rotated.engine.connect() as connection:
            for row in connection.execute(sa.select(bank_accounts)):
                envelope = Envelope.from_text(row.number_enc)
                assert envelope.kek_version == newest
                assert envelope.ciphertext == old_bodies[row.code]  # only the data key was re-wrapped
        assert {c: _reveal(rotated, c) for c in codes} == before
        # The context started before the rotation learns the new KEK from the file on first need.
        assert {c: _reveal(context, c) for c in codes} == before
    finally:
        rotated.close()


def test_a_crashed_rotation_resumes_after_its_checkpoint(context: ServiceContext, any_settings: Settings) -> None:
    codes = _add_accounts(context)
    newest = _new_kek(any_settings)
    rotated = bootstrap.bootstrap(any_settings, RecordingBus())
    try:
        first = _rotation(rotated, BANK_ACCOUNT_HOLDER).run(max_batches=1)  # then the process "dies"
        assert first.rewrapped == 3
        with rotated.engine.connect() as connection:
            checkpoint = connection.execute(sa.select(checkpoint_table(sa.MetaData()))).one()
        assert (checkpoint.kek_version, checkpoint.last_key, checkpoint.rows_rewrapped) == (newest, '["BA-2"]', 3)
        second = _rotation(rotated, BANK_ACCOUNT_HOLDER).run()
        assert second.rewrapped == len(codes) - 3
        assert column_status(rotated.engine, BANK_ACCOUNT_HOLDER, newest).remaining == 0
    finally:
        rotated.close()


def test_a_concurrent_reader_never_fails_during_rotation(context: ServiceContext, any_settings: Settings) -> None:
    codes = _add_accounts(context)
    _new_kek(any_settings)
    failures: list[BaseException] = []
    reads = 0
    stop = threading.Event()

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            for code in codes:
                try:
                    _reveal(context, code)  # the context started before the new KEK existed
                    reads += 1
                except Exception as error:
                    failures.append(error)

    thread = threading.Thread(target=reader)
    thread.start()
    rotated = bootstrap.bootstrap(any_settings, RecordingBus())
    try:
        for _ in range(3):
            _rotation(rotated, BANK_ACCOUNT_NUMBER, batch=1).run()
            _rotation(rotated, BANK_ACCOUNT_HOLDER, batch=1).run()
            _new_kek(any_settings)
            rotated.close()
            rotated = bootstrap.bootstrap(any_settings, RecordingBus())
    finally:
        stop.set()
        thread.join()
        rotated.close()
    assert failures == []
    assert reads > 0


def _swap(context: ServiceContext, column: str, a: str, b: str) -> None:
    with context.engine.begin() as connection:
        rows = {r.code: getattr(r, column) for r in connection.execute(sa.select(bank_accounts))}
        connection.execute(bank_accounts.update().where(bank_accounts.c.code == a).values({column: rows[b]}))


def test_a_ciphertext_moved_to_another_row_field_or_tenant_is_refused(context: ServiceContext) -> None:
    _add_accounts(context, "MC-ROT-1", "BA")
    _add_accounts(context, "MC-ROT-2", "BB")
    _swap(context, "number_enc", "BA-0", "BA-1")  # another row of the same merchant
    with pytest.raises(DecryptionFailed, match=r"bank_account BA-0 field iban .*does not authenticate"):
        _reveal(context, "BA-0")
    _swap(context, "number_enc", "BA-2", "BB-2")  # the same place at another merchant
    with pytest.raises(DecryptionFailed, match="tenant MC-ROT-1"):
        _reveal(context, "BA-2")
    with context.engine.begin() as connection:  # the holder name's envelope put in the number's place
        holder = connection.execute(sa.select(bank_accounts.c.holder_name_enc).where(bank_accounts.c.code == "BA-3"))
        connection.execute(
            bank_accounts.update().where(bank_accounts.c.code == "BA-3").values(number_enc=holder.scalar_one())
        )
    with pytest.raises(DecryptionFailed):
        _reveal(context, "BA-3")
    assert _reveal(context, "BA-4") == IBANS[4]


def test_a_changed_ciphertext_is_refused_and_rotation_leaves_it_refused(
    context: ServiceContext, any_settings: Settings
) -> None:
    _add_accounts(context)
    with context.engine.begin() as connection:
        token = connection.execute(
            sa.select(bank_accounts.c.number_enc).where(bank_accounts.c.code == "BA-5")
        ).scalar_one()
        flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
        connection.execute(bank_accounts.update().where(bank_accounts.c.code == "BA-5").values(number_enc=flipped))
    with pytest.raises(DecryptionFailed, match="does not authenticate"):
        _reveal(context, "BA-5")
    _new_kek(any_settings)
    rotated = bootstrap.bootstrap(any_settings, RecordingBus())
    try:
        result = _rotation(rotated).run()
        assert result.rewrapped == len(IBANS)  # its data key still unwraps: the value is never opened
        with pytest.raises(DecryptionFailed):
            _reveal(rotated, "BA-5")
        assert _reveal(rotated, "BA-6") == IBANS[6]
    finally:
        rotated.close()


def test_a_row_whose_data_key_does_not_unwrap_is_listed_once_and_the_rest_rotate(
    context: ServiceContext, any_settings: Settings
) -> None:
    _add_accounts(context)
    with context.engine.begin() as connection:
        token = connection.execute(
            sa.select(bank_accounts.c.number_enc).where(bank_accounts.c.code == "BA-1")
        ).scalar_one()
        envelope = Envelope.from_text(token)
        broken = envelope.with_wrapped_key(envelope.kek_id, envelope.kek_version, bytes(40))
        connection.execute(
            bank_accounts.update().where(bank_accounts.c.code == "BA-1").values(number_enc=broken.to_text())
        )
    newest = _new_kek(any_settings)
    rotated = bootstrap.bootstrap(any_settings, RecordingBus())
    try:
        result = _rotation(rotated).run()
        assert result.refused == ["BA-1"] and result.rewrapped == len(IBANS) - 1
        status = column_status(rotated.engine, BANK_ACCOUNT_NUMBER, newest)
        assert (status.done, status.remaining) == (len(IBANS) - 1, 1)
    finally:
        rotated.close()
