"""Screenings keep dates of birth and identifiers encrypted (the party, the stored answer and the answer
kept for replays), refuse a ciphertext moved from another merchant's screening, and survive key rotation;
over real gRPC on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import pytest
import sqlalchemy as sa
from xborder.compliance.v1 import screening_service_pb2 as pb
from xborder.compliance.v1 import screening_service_pb2_grpc as pb_grpc

from services.compliance.adapters.screening_tables import screenings
from services.compliance.adapters.tables import IDEMPOTENCY_KEYS
from services.compliance.sensitive_fields import SCREENING_ANSWER, SENSITIVE_STORAGE
from services.shared import codes
from services.shared.crypto import Envelope
from services.shared.crypto.config import load_key_ring, ring_file
from services.shared.crypto.fields import EncryptedColumn
from services.shared.crypto.rotation import ColumnRotation, checkpoint_table, column_status
from services.shared.settings import Settings
from tests.servers import Running, rejected, running_service

MERCHANT_A, MERCHANT_B = codes.generate("MC"), codes.generate("MC")
DOB_A, PASSPORT_A = "1971-03-09", "P9876543"
DOB_B, PASSPORT_B = "1985-11-30", "X1234567"


@pytest.fixture(scope="module")
def screening(module_any_settings: Settings) -> Iterator[Running]:
    with running_service(module_any_settings, "compliance", pb_grpc.ScreeningServiceStub) as running:
        yield running


def _screen(running: Running, merchant: str, name: str, dob: str, passport: str) -> pb.ScreenPartyResponse:
    request = pb.ScreenPartyRequest(
        request_id=str(uuid.uuid4()),
        merchant_code=merchant,
        name=name,
        party_type=pb.PARTY_TYPE_PERSON,
        date_of_birth=dob,
        identifiers=[pb.PartyIdentifier(type="passport", value=passport)],
    )
    return running.stub.ScreenParty(request)


def _raw_rows(running: Running) -> str:
    with running.context.engine.connect() as connection:
        rows = [*connection.execute(sa.select(screenings)), *connection.execute(sa.select(IDEMPOTENCY_KEYS))]
    return "\n".join(repr(tuple(row)) for row in rows)


def test_dates_of_birth_and_identifiers_are_stored_only_encrypted(screening: Running) -> None:
    answer = _screen(screening, MERCHANT_A, "Wang Xiaoming", DOB_A, PASSPORT_A)
    stored = _raw_rows(screening)
    assert DOB_A not in stored and PASSPORT_A not in stored and "9876543" not in stored
    again = screening.stub.GetScreening(pb.GetScreeningRequest(code=answer.screening.code))
    assert again.screening.SerializeToString() == answer.screening.SerializeToString()
    # The answer shows only the year of birth and the last four characters of the passport.
    assert DOB_A not in str(answer.screening) and PASSPORT_A not in str(answer.screening)
    assert answer.screening.party.date_of_birth == "1971-**-**"
    assert [i.value for i in answer.screening.party.identifiers] == ["**** 6543"]


def test_an_answer_stored_in_clear_before_answers_were_masked_is_read_masked(screening: Running) -> None:
    merchant = codes.generate("MC")
    code = _screen(screening, merchant, "Sun Mei", DOB_B, PASSPORT_B).screening.code
    crypto = screening.context.field_crypto
    with screening.context.engine.begin() as connection:
        row = connection.execute(sa.select(screenings).where(screenings.c.code == code)).one()
        stored = pb.ScreenPartyResponse.FromString(crypto.open_bytes(row.response_enc, SCREENING_ANSWER.binding(row)))
        stored.screening.party.date_of_birth = DOB_B
        stored.screening.party.identifiers[0].value = PASSPORT_B
        clear = crypto.seal_bytes(stored.SerializeToString(deterministic=True), SCREENING_ANSWER.binding(row))
        connection.execute(screenings.update().where(screenings.c.code == code).values(response_enc=clear))
    read = screening.stub.GetScreening(pb.GetScreeningRequest(code=code)).screening
    listed = screening.stub.ListScreenings(pb.ListScreeningsRequest(merchant_code=merchant)).screenings
    for answer in (read, *listed):
        assert (answer.party.date_of_birth, answer.party.identifiers[0].value) == ("1985-**-**", "**** 4567")


def test_a_ciphertext_moved_from_another_merchants_screening_is_refused(screening: Running) -> None:
    mine = _screen(screening, MERCHANT_A, "Li Na", DOB_A, PASSPORT_A).screening.code
    theirs = _screen(screening, MERCHANT_B, "Chen Jie", DOB_B, PASSPORT_B).screening.code
    engine = screening.context.engine
    with engine.begin() as connection:
        original = connection.execute(sa.select(screenings).where(screenings.c.code == mine)).one()
        other = connection.execute(sa.select(screenings).where(screenings.c.code == theirs)).one()
        connection.execute(
            screenings.update()
            .where(screenings.c.code == mine)
            .values(response_enc=other.response_enc, party_sensitive_enc=other.party_sensitive_enc)
        )
    try:
        with pytest.raises(grpc.RpcError) as refused:
            screening.stub.GetScreening(pb.GetScreeningRequest(code=mine))
        status, reason, _ = rejected(refused.value)
        assert (status, reason) == (grpc.StatusCode.DATA_LOSS, "DECRYPTION_FAILED")
        details = refused.value.details() or ""
        assert mine in details and "does not authenticate" in details
        assert "Chen" not in details and DOB_B not in details and PASSPORT_B not in details
        # The other merchant's own screening still reads.
        assert screening.stub.GetScreening(pb.GetScreeningRequest(code=theirs)).screening.code == theirs
    finally:
        with engine.begin() as connection:
            connection.execute(
                screenings.update()
                .where(screenings.c.code == mine)
                .values(response_enc=original.response_enc, party_sensitive_enc=original.party_sensitive_enc)
            )


def test_rotation_rewraps_every_compliance_column_and_replays_still_answer(screening: Running) -> None:
    request = pb.ScreenPartyRequest(
        request_id=str(uuid.uuid4()),
        merchant_code=MERCHANT_A,
        name="Zhao Lei",
        party_type=pb.PARTY_TYPE_PERSON,
        date_of_birth=DOB_A,
    )
    first = screening.stub.ScreenParty(request)
    path = ring_file(screening.settings)
    assert path is not None
    ring = load_key_ring(screening.settings).with_new_version()
    ring.save(path)
    cipher = screening.context.field_crypto.cipher
    cipher.ring = ring  # this process wrote the file; a service elsewhere reloads it on first need
    columns = [d for d in SENSITIVE_STORAGE if isinstance(d, EncryptedColumn)]
    for column in columns:
        result = ColumnRotation(
            screening.context.engine, checkpoint_table(sa.MetaData()), column, cipher, batch_size=2
        ).run()
        assert result.refused == []
        assert column_status(screening.context.engine, column, ring.newest.version).remaining == 0
    with screening.context.engine.connect() as connection:
        kept = connection.execute(sa.select(IDEMPOTENCY_KEYS.c.response)).scalars().all()
    assert {Envelope.from_text(bytes(k).decode()).kek_version for k in kept} == {ring.newest.version}
    assert screening.stub.ScreenParty(request).SerializeToString() == first.SerializeToString()
    code = first.screening.code
    assert screening.stub.GetScreening(pb.GetScreeningRequest(code=code)).screening == first.screening
