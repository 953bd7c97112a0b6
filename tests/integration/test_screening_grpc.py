"""ScreeningService over real gRPC (port 0) on SQLite and PostgreSQL; list imports and readiness."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from xborder.compliance.v1 import events_pb2
from xborder.compliance.v1 import screening_service_pb2 as pb
from xborder.compliance.v1 import screening_service_pb2_grpc as pb_grpc

from services.compliance import bootstrap
from services.compliance.adapters.sanctions_store import list_change
from services.compliance.domain.screening import Decision
from services.compliance.service_layer.screening import rescreen_parties
from services.shared import codes
from services.shared.events import parse_payload
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.servers import Running, rejected, running_service

DATA = Path(__file__).resolve().parents[2] / "data"
SERVICE = "xborder.compliance.v1.ScreeningService"
MERCHANT = codes.generate("MC")


@pytest.fixture(scope="module")
def screening(module_any_settings: Settings) -> Iterator[Running]:
    with running_service(module_any_settings, "compliance", pb_grpc.ScreeningServiceStub) as running:
        yield running


def screen(running: Running, name: str, **fields: object) -> pb.Screening:
    request = pb.ScreenPartyRequest(request_id=str(uuid.uuid4()), merchant_code=MERCHANT, name=name, **fields)  # type: ignore[arg-type]
    return running.stub.ScreenParty(request).screening


def health(running: Running) -> int:
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=SERVICE)).status


def test_a_listed_person_is_blocked_with_the_lists_and_thresholds_used(screening: Running) -> None:
    result = screen(screening, "Saddam Hussein al-Tikriti", country="IQ", date_of_birth="1937-04-28")
    assert result.decision == pb.SCREENING_DECISION_BLOCK
    hits = {(h.list_name, h.entry_id): h for h in result.hits}
    un = hits[("un_consolidated", "IQi.001")]
    assert un.score == 1.0 and {"name", "date_of_birth", "country"} <= set(un.matched_fields)
    assert list(un.dates_of_birth) == ["1937-04-28"] and list(un.countries) == ["IQ"]
    assert ("ofac_sdn", "7843") in hits
    lists = {entry.list_name: entry for entry in result.lists}
    assert set(lists) == {"ofac_sdn", "un_consolidated", "bis_dpl"}
    assert lists["un_consolidated"].publication_date == "2026-02-27"
    assert lists["ofac_sdn"].publication_date == "" and "not stated" in lists["ofac_sdn"].publication_date_basis
    assert all(len(entry.dataset_version) == 64 and entry.entry_count > 500 for entry in lists.values())
    assert (result.thresholds.block, result.thresholds.review) == (0.92, 0.80)
    # Both parts of the screening configuration are named by their dataset versions (SHA-256 of the files).
    assert len(result.thresholds.version) == 64 and len(result.name_variants_version) == 64
    assert codes.parse(result.code, entity_type="HC") and result.screened_at.seconds > 0


def test_an_alias_match_names_the_alias(screening: Running) -> None:
    result = screen(screening, "National Bank of Cuba", party_type=pb.PARTY_TYPE_COMPANY)
    hit = next(h for h in result.hits if h.entry_id == "306")
    assert (hit.matched_name, hit.matched_alias, hit.entry_name) == (
        "NATIONAL BANK OF CUBA",
        True,
        "BANCO NACIONAL DE CUBA",
    )


def test_an_unlisted_trading_company_is_clear(screening: Running) -> None:
    result = screen(screening, "Shenzhen Huaxin Trading Co., Ltd.", party_type=pb.PARTY_TYPE_COMPANY, country="CN")
    assert result.decision == pb.SCREENING_DECISION_CLEAR and list(result.hits) == []


def test_an_identical_identifier_blocks(screening: Running) -> None:
    result = screen(
        screening,
        "Unrelated Vessel",
        party_type=pb.PARTY_TYPE_VESSEL,
        identifiers=[pb.PartyIdentifier(type="imo", value="9187629")],
    )
    assert result.decision == pb.SCREENING_DECISION_BLOCK
    assert next((h.entry_id, list(h.matched_fields)) for h in result.hits) == ("15036", ["identifier"])
    assert list(next(h for h in result.hits if h.entry_id == "15036").name_parts) == []


def test_a_hit_explains_which_name_parts_matched_how(screening: Running) -> None:
    result = screen(screening, "Sheikh Saddam Husayn al-Tikriti", party_type=pb.PARTY_TYPE_PERSON)
    hit = next(h for h in result.hits if h.entry_id == "IQi.001")
    assert [(p.query_part, p.entry_part, p.how) for p in hit.name_parts] == [
        ("saddam", "saddam", "exact"),
        ("husayn", "hussein", "variant"),
        ("tikriti", "tikriti", "exact"),
    ]
    stored = screening.stub.GetScreening(pb.GetScreeningRequest(code=result.code)).screening
    assert stored.hits[0].name_parts == result.hits[0].name_parts


def test_replay_returns_the_first_screening_and_a_changed_payload_is_refused(screening: Running) -> None:
    request = pb.ScreenPartyRequest(
        request_id="replay-1-" + uuid.uuid4().hex, merchant_code=MERCHANT, name="Eric Badege"
    )
    first = screening.stub.ScreenParty(request)
    again = screening.stub.ScreenParty(request)
    assert again.SerializeToString() == first.SerializeToString()
    changed = pb.ScreenPartyRequest()
    changed.CopyFrom(request)
    changed.name = "Someone Else"
    with pytest.raises(grpc.RpcError) as refused:
        screening.stub.ScreenParty(changed)
    status, reason, fields = rejected(refused.value)
    assert (status, reason) == (grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_CONFLICT") and "request_id" in fields


def test_bad_input_names_every_field(screening: Running) -> None:
    request = pb.ScreenPartyRequest(
        merchant_code="MC123",
        name="   ",
        country="CHN",
        date_of_birth="1990-02-30",
        identifiers=[pb.PartyIdentifier(type="passport", value="--")],
    )
    with pytest.raises(grpc.RpcError) as refused:
        screening.stub.ScreenParty(request)
    status, reason, fields = rejected(refused.value)
    assert (status, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert set(fields) == {"request_id", "merchant_code", "name", "country", "date_of_birth", "identifiers[0].value"}
    assert "alpha-2" in fields["country"] and "YYYY-MM-DD" in fields["date_of_birth"]


def test_get_and_list_screenings_per_merchant(screening: Running) -> None:
    merchant = codes.generate("MC")
    made = [
        screening.stub.ScreenParty(
            pb.ScreenPartyRequest(request_id=uuid.uuid4().hex, merchant_code=merchant, name=name)
        ).screening
        for name in ("Eric Badege", "John Smith", "Banco Nacional de Cuba")
    ]
    fetched = screening.stub.GetScreening(pb.GetScreeningRequest(code=made[1].code)).screening
    assert fetched.SerializeToString() == made[1].SerializeToString()
    page = screening.stub.ListScreenings(pb.ListScreeningsRequest(merchant_code=merchant, page_size=2))
    rest = screening.stub.ListScreenings(
        pb.ListScreeningsRequest(merchant_code=merchant, page_size=2, page_token=page.next_page_token)
    )
    listed = [s.code for s in [*page.screenings, *rest.screenings]]
    assert sorted(listed) == sorted(s.code for s in made) and len(set(listed)) == 3
    assert rest.next_page_token == ""
    other = screening.stub.ListScreenings(pb.ListScreeningsRequest(merchant_code=codes.generate("MC")))
    assert list(other.screenings) == []
    with pytest.raises(grpc.RpcError) as missing:
        screening.stub.GetScreening(pb.GetScreeningRequest(code=codes.generate("HC")))
    assert rejected(missing.value)[0] == grpc.StatusCode.NOT_FOUND


def test_ready_when_every_list_is_loaded(screening: Running) -> None:
    assert health(screening) == health_pb2.HealthCheckResponse.SERVING


def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def wait_for(predicate, timeout: float = 8.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_list_that_fails_to_load_makes_screening_not_ready(settings: Settings, tmp_path: Path) -> None:
    data = data_copy(tmp_path)
    (data / "sanctions" / "bis_dpl.txt").write_text('"Name"\t"City"\n"SOMEONE"\t"X"\n')
    settings = replace(settings, data_dir=data)
    with running_service(settings, "compliance", pb_grpc.ScreeningServiceStub, seed=False) as running:
        for dataset in ("hs2022", "ofac_sdn", "un_consolidated", "name_variants", "screening_thresholds"):
            running.context.import_reference_data(only=dataset)
        with pytest.raises(ValueError, match="missing column"):
            running.context.import_reference_data(only="bis_dpl")
        assert wait_for(lambda: health(running) == health_pb2.HealthCheckResponse.NOT_SERVING)
        with pytest.raises(grpc.RpcError) as refused:
            screen(running, "Eric Badege")
        status, reason, _ = rejected(refused.value)
        assert (status, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "REFERENCE_DATA_MISSING")
        assert "bis_dpl" in (refused.value.details() or "")
        # Repaired and imported: ready again, without a restart.
        shutil.copy(DATA / "sanctions" / "bis_dpl.txt", data / "sanctions" / "bis_dpl.txt")
        running.context.import_reference_data(only="bis_dpl")
        bootstrap.screening_index(running.context).invalidate()
        assert wait_for(lambda: health(running) == health_pb2.HealthCheckResponse.SERVING)
        assert screen(running, "Eric Badege").decision == pb.SCREENING_DECISION_BLOCK


def list_updates(bus: RecordingBus) -> list[events_pb2.ListUpdated]:
    return [
        parse_payload(e.payload, events_pb2.ListUpdated)  # type: ignore[misc]
        for e in bus.published
        if e.event_type == "list_updated"
    ]


def test_a_new_list_version_emits_list_updated_and_rescreens_affected_parties(
    any_settings: Settings, tmp_path: Path
) -> None:
    data = data_copy(tmp_path)
    settings = replace(any_settings, data_dir=data)
    bus = RecordingBus()
    context = bootstrap.bootstrap(settings, bus)
    try:
        context.import_reference_data()
        context.relay.drain()
        first = {u.list_name: u for u in list_updates(bus)}
        assert set(first) == {"ofac_sdn", "un_consolidated", "bis_dpl", "name_variants", "screening_thresholds"}
        assert len(first["bis_dpl"].added_entry_ids) == 579 and first["bis_dpl"].old_version == ""

        # Unchanged files: nothing imported, nothing emitted.
        assert not any(r.changed for r in context.import_reference_data())
        context.relay.drain()
        assert len(list_updates(bus)) == 5

        index = bootstrap.screening_index(context)
        from services.compliance.entrypoints.screening_api import ScreeningServicer

        servicer = ScreeningServicer(context.uow, index)
        newcomer = servicer.ScreenParty(
            pb.ScreenPartyRequest(request_id="n1", merchant_code=MERCHANT, name="Zebulon Quartermaine"),
            None,  # type: ignore[arg-type]
        ).screening
        assert newcomer.decision == pb.SCREENING_DECISION_CLEAR

        # A new BIS version: one row removed, one renamed, one added.
        path = data / "sanctions" / "bis_dpl.txt"
        lines = path.read_text().splitlines()
        header, rows = lines[0], lines[1:]
        removed, renamed = rows[0], rows[1]
        added = renamed.replace(renamed.split("\t")[0], '"ZEBULON QUARTERMAINE"', 1)
        renamed_new = renamed.replace(renamed.split("\t")[0], '"SOMEBODY RENAMED"', 1)
        path.write_text("\n".join([header, renamed_new, added, *rows[2:]]) + "\n")
        results = context.import_reference_data(only="bis_dpl")
        assert results[0].changed
        context.relay.drain()
        update = list_updates(bus)[-1]
        assert update.list_name == "bis_dpl" and update.old_version == first["bis_dpl"].new_version
        assert update.new_version == results[0].version and update.entry_count == 579
        # BIS has no ids of its own: a renamed row is a removal and an addition.
        assert len(update.removed_entry_ids) == 2 and len(update.added_entry_ids) == 2
        assert update.changed_entry_ids == []

        index.invalidate()
        worse = rescreen_parties(context.uow, index, list_change(update))
        assert [(r.code, r.old_decision, r.new_decision) for r in worse] == [
            (newcomer.code, Decision.CLEAR, Decision.BLOCK)
        ]
        assert removed  # the first row's party is gone from the list
    finally:
        context.close()


def test_concurrent_duplicates_store_one_screening(screening: Running) -> None:
    from concurrent.futures import ThreadPoolExecutor

    merchant = codes.generate("MC")
    request = pb.ScreenPartyRequest(request_id="dup-" + uuid.uuid4().hex, merchant_code=merchant, name="Eric Badege")
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: screening.stub.ScreenParty(request).SerializeToString(), range(4)))
    assert len(set(answers)) == 1
    listed = screening.stub.ListScreenings(pb.ListScreeningsRequest(merchant_code=merchant))
    assert len(listed.screenings) == 1


class MissingLists:
    """A sanctions index whose lists went missing (a fake of SanctionsIndex.get)."""

    def get(self) -> None:
        from services.compliance.adapters.sanctions_index import ListsNotReady

        raise ListsNotReady("sanctions screening is not ready: list(s) not loaded: bis_dpl")


def test_an_answered_request_replays_even_when_the_lists_go_missing(screening: Running) -> None:
    from services.compliance.adapters.sanctions_index import ListsNotReady
    from services.compliance.entrypoints.screening_api import ScreeningServicer

    request = pb.ScreenPartyRequest(request_id="gone-" + uuid.uuid4().hex, merchant_code=MERCHANT, name="Eric Badege")
    first = screening.stub.ScreenParty(request)
    servicer = ScreeningServicer(screening.context.uow, MissingLists())  # type: ignore[arg-type]
    assert servicer.ScreenParty(request, None).SerializeToString() == first.SerializeToString()  # type: ignore[arg-type]
    fresh = pb.ScreenPartyRequest(request_id="gone-" + uuid.uuid4().hex, merchant_code=MERCHANT, name="Eric Badege")
    with pytest.raises(ListsNotReady):
        servicer.ScreenParty(fresh, None)  # type: ignore[arg-type]
