"""LogisticsPlanService over real gRPC (port 0), on SQLite and on PostgreSQL, with the sample catalogue."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format, timestamp_pb2
from xborder.logistics.v1 import plans_service_pb2 as pb
from xborder.logistics.v1 import plans_service_pb2_grpc as pb_grpc

from services.logistics.adapters.channel_datasets import DATASETS as CATALOGUE_DATASETS
from services.logistics.service_layer import plans
from services.logistics.service_layer.catalogue_cache import CatalogueCache
from services.shared.grpc_errors import status_details
from services.shared.refdata import import_dataset
from services.shared.settings import Settings
from tests.servers import Running, rejected, running_service

SPEAKER = {
    "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
    "originCountry": "CN",
    "destination": {"country": "US", "postalCode": "10001"},
    "goods": {
        "hsCode": "8518.22",
        "battery": {"unNumber": "UN3481", "packing": "BATTERY_PACKING_CONTAINED_IN_EQUIPMENT"},
    },
    "declaredValue": {"currencyCode": "USD", "units": "40"},
    "shipAt": "2026-03-02T03:00:00Z",
}
HEADER = "channel,zone,weight_from_kg,weight_to_kg,per_parcel,per_kg"
DEARER_US_LINE = "\n".join(
    [HEADER]
    + [
        f"SAMPLE-LINE-US,{zone},{low},{high},30.00,100.00"
        for zone in ("US-MAIN", "US-NONCONTIGUOUS")
        for low, high in (("0", "2"), ("2", "30"))
    ]
)


def match_request(**changes: object) -> pb.MatchPlansRequest:
    return json_format.ParseDict({**SPEAKER, **changes}, pb.MatchPlansRequest())


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


@pytest.fixture(scope="module")
def shared(module_any_settings: Settings) -> Iterator[Running]:
    """For tests that only read: one service per database for the module."""
    with running_service(module_any_settings, "logistics", pb_grpc.LogisticsPlanServiceStub) as running:
        yield running


@pytest.fixture
def own(any_settings: Settings) -> Iterator[Running]:
    """For tests that import rate sheets: a fresh database each."""
    with running_service(any_settings, "logistics", pb_grpc.LogisticsPlanServiceStub) as running:
        yield running


def test_a_speaker_to_new_york_gets_ranked_priced_plans(shared: Running) -> None:
    answer = shared.stub.MatchPlans(match_request())
    assert answer.preference == pb.PREFERENCE_CHEAPEST
    assert [p.rank for p in answer.plans] == list(range(1, len(answer.plans) + 1))
    line = next(p for p in answer.plans if p.channel_code == "SAMPLE-LINE-US")
    assert (line.cost.total.currency_code, line.cost.total.units, line.cost.total.nanos) == ("CNY", 122, 0)
    assert (line.cost.base.units, line.cost.weight.units, line.cost.fuel.units) == (26, 96, 0)
    assert line.billable_weight_kg == "1.2" and line.zone == "US-MAIN"
    assert (line.transit.p50_days, line.transit.p90_days) == (10, 12)
    assert line.transit.source.startswith("from the channel's published range 7-12 days")
    assert "no tracking history" in line.quality.source and line.quality.score == 84
    assert line.rate_sheet_version == 1 and line.rate_sheet_valid_from.ToDatetime(tzinfo=UTC).year == 2026
    assert any(p.pareto for p in answer.plans)
    assert answer.plans[0].rank_reason.startswith("cheapest of")
    excluded = {e.channel_code: list(e.reasons) for e in answer.excluded}
    assert excluded["SAMPLE-LINE-JP"] == ["does not serve US"]
    assert len(answer.plans) + len(answer.excluded) == 20


def test_matching_is_a_read_that_stores_nothing(shared: Running) -> None:
    before = len(shared.bus.published)
    shared.stub.MatchPlans(match_request())
    shared.context.relay.drain()
    assert len(shared.bus.published) == before and shared.context.relay.pending() == 0


def test_a_battery_shipped_alone_is_excluded_with_its_reason(shared: Running) -> None:
    goods = {"hsCode": "850760", "battery": {"unNumber": "UN3480", "packing": "BATTERY_PACKING_ALONE"}}
    answer = shared.stub.MatchPlans(match_request(goods=goods))
    assert [p.channel_code for p in answer.plans] == ["SAMPLE-SEA-WH-US"]
    reasons = {e.channel_code: list(e.reasons) for e in answer.excluded}
    assert "UN3480 lithium-ion batteries shipped alone are not accepted" in reasons["SAMPLE-EXP-PRIORITY"]


def test_weight_in_grams_and_the_fastest_preference(shared: Running) -> None:
    parcels = [{"weightG": "1200", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}]
    answer = shared.stub.MatchPlans(match_request(parcels=parcels, preference="PREFERENCE_FASTEST"))
    assert answer.plans[0].channel_code == "SAMPLE-EXP-PRIORITY"
    days = [p.transit.p90_days for p in answer.plans]
    assert days == sorted(days)


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"parcels": []}, "parcels", "at least one parcel"),
        (
            {"parcels": [{"weightKg": "-1", "lengthCm": "1", "widthCm": "1", "heightCm": "1"}]},
            "parcels[0].weight_kg",
            "positive",
        ),
        (
            {"parcels": [{"weightKg": "5000", "lengthCm": "1", "widthCm": "1", "heightCm": "1"}]},
            "parcels[0].weight_kg",
            "not a parcel",
        ),
        ({"parcels": [{"weightKg": "1", "lengthCm": "1", "widthCm": "1"}]}, "parcels[0].height_cm", "is required"),
        (
            {"parcels": [{"weightKg": "1", "lengthCm": "9999", "widthCm": "1", "heightCm": "1"}]},
            "parcels[0].length_cm",
            "not a parcel",
        ),
        (
            {"parcels": [{"weightKg": "1", "weightG": "1000", "lengthCm": "1", "widthCm": "1", "heightCm": "1"}]},
            "parcels[0].weight_kg",
            "not both",
        ),
        (
            {"parcels": [{"weightKg": "abc", "lengthCm": "1", "widthCm": "1", "heightCm": "1"}]},
            "parcels[0].weight_kg",
            "not a decimal",
        ),
        ({"originCountry": "XX"}, "origin_country", "not a known country"),
        ({"destination": {"country": "USA", "postalCode": "10001"}}, "destination.country", "alpha-2"),
        ({"destination": {"country": "US", "postalCode": "1000"}}, "destination.postal_code", "not a US postal code"),
        ({"destination": {"country": "GB", "postalCode": ""}}, "destination.postal_code", "is required for GB"),
        ({"goods": {"hsCode": "85"}}, "goods.hs_code", "6 to 10 digits"),
        (
            {
                "goods": {
                    "hsCode": "851822",
                    "battery": {"unNumber": "UN3480", "packing": "BATTERY_PACKING_CONTAINED_IN_EQUIPMENT"},
                }
            },
            "goods.battery.packing",
            "UN3480 describes batteries alone",
        ),
        ({"goods": {"hsCode": "851822", "battery": {"unNumber": "UN9999"}}}, "goods.battery.un_number", "not one of"),
        ({"declaredValue": {"currencyCode": "USD", "units": "0"}}, "declared_value.units", "positive"),
        ({"preference": "PREFERENCE_DELIVER_BY"}, "deliver_by", "is required"),
        ({"deliverBy": {"year": 2026, "month": 2, "day": 30}}, "deliver_by", "not a calendar date"),
    ],
)
def test_bad_input_names_the_field(shared: Running, changes: dict, field: str, says: str) -> None:
    with pytest.raises(grpc.RpcError) as error:
        shared.stub.MatchPlans(match_request(**changes))
    status, _, violations = rejected(error.value)
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert says in violations[field], violations


def test_an_unknown_declared_currency_is_its_own_reason(shared: Running) -> None:
    with pytest.raises(grpc.RpcError) as error:
        shared.stub.MatchPlans(match_request(declaredValue={"currencyCode": "XYZ", "units": "10"}))
    status, reason, violations = rejected(error.value)
    assert (status, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_CURRENCY")
    assert "declared_value.currency_code" in violations


def test_list_channels_with_their_current_versions(shared: Running) -> None:
    everything = shared.stub.ListChannels(pb.ListChannelsRequest()).channels
    assert len(everything) == 20 and all(c.rate_sheet_version == 1 for c in everything)
    to_japan = shared.stub.ListChannels(pb.ListChannelsRequest(destination_country="jp")).channels
    assert {c.code for c in to_japan} == {
        "SAMPLE-POST-REG",
        "SAMPLE-POST-EMS",
        "SAMPLE-EXP-PRIORITY",
        "SAMPLE-EXP-ECONOMY",
        "SAMPLE-LINE-JP",
        "SAMPLE-LASTMILE-JP",
    }
    line = next(c for c in to_japan if c.code == "SAMPLE-LINE-JP")
    assert line.kind == pb.CHANNEL_KIND_DEDICATED_LINE and [z.name for z in line.zones] == ["JP-MAIN", "JP-OKINAWA"]
    assert list(line.zones[1].postal_ranges) == ["900-909"]


def test_a_new_sheet_version_prices_new_quotes_and_a_past_quote_reproduces(own: Running) -> None:
    valid_from = datetime(2026, 3, 1, tzinfo=UTC)
    imported = own.stub.ImportRateSheet(
        pb.ImportRateSheetRequest(
            request_id="sheet-1", csv=DEARER_US_LINE, valid_from=timestamp(valid_from), source="us-line-2026-03.csv"
        )
    )
    assert [(v.channel_code, v.version, v.row_count) for v in imported.versions] == [("SAMPLE-LINE-US", 2, 4)]
    own.context.relay.drain()
    event = own.bus.published[-1]
    assert event.event_type == "rate_sheet_imported"
    assert (event.payload["channel_code"], event.payload["version"], event.payload["source"]) == (
        "SAMPLE-LINE-US",
        2,
        "us-line-2026-03.csv",
    )

    def line(ship_at: str) -> pb.Plan:
        answer = own.stub.MatchPlans(match_request(shipAt=ship_at))
        return next(p for p in answer.plans if p.channel_code == "SAMPLE-LINE-US")

    now, then = line("2026-03-02T03:00:00Z"), line("2026-02-01T03:00:00Z")
    assert (now.rate_sheet_version, now.cost.total.units) == (2, 150)
    assert (then.rate_sheet_version, then.cost.total.units) == (1, 122)


def test_the_same_request_id_replays_and_a_changed_payload_is_refused(own: Running) -> None:
    request = pb.ImportRateSheetRequest(
        request_id="sheet-2", csv=DEARER_US_LINE, valid_from=timestamp(datetime(2099, 1, 1, tzinfo=UTC))
    )
    first = own.stub.ImportRateSheet(request)
    again = own.stub.ImportRateSheet(request)
    assert again.SerializeToString(deterministic=True) == first.SerializeToString(deterministic=True)
    versions = own.stub.ListChannels(pb.ListChannelsRequest(destination_country="US")).channels
    own.context.relay.drain()
    assert sum(e.event_type == "rate_sheet_imported" for e in own.bus.published) == 1
    assert {c.code: c.rate_sheet_version for c in versions}[
        "SAMPLE-LINE-US"
    ] == 1  # the new one is valid from 2099 only
    changed = pb.ImportRateSheetRequest()
    changed.CopyFrom(request)
    changed.source = "another file"
    with pytest.raises(grpc.RpcError) as error:
        own.stub.ImportRateSheet(changed)
    assert rejected(error.value)[:2] == (grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_CONFLICT")


def test_a_bad_sheet_is_refused_whole_naming_rows_and_nothing_changes(own: Running) -> None:
    bad = "\n".join([HEADER, "SAMPLE-LINE-US,US-MAIN,0,2,30.00,100.00", "SAMPLE-LINE-US,US-MAIN,3,30,30.00,100.00"])
    with pytest.raises(grpc.RpcError) as error:
        own.stub.ImportRateSheet(pb.ImportRateSheetRequest(request_id="sheet-3", csv=bad))
    status, reason, _ = rejected(error.value)
    assert (status, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_FAILED")
    assert list(status_details(error.value)[1]) == [
        ("csv", "row 3, column weight_from_kg: gap in zone US-MAIN: nothing prices 2-3 kg"),
        ("csv", "row 3, column zone: channel SAMPLE-LINE-US zone US-NONCONTIGUOUS has no rate rows"),
    ]
    channels = own.stub.ListChannels(pb.ListChannelsRequest()).channels
    assert all(c.rate_sheet_version == 1 for c in channels)


def test_a_version_must_start_after_the_current_one(own: Running) -> None:
    with pytest.raises(grpc.RpcError) as error:
        own.stub.ImportRateSheet(
            pb.ImportRateSheetRequest(
                request_id="sheet-4", csv=DEARER_US_LINE, valid_from=timestamp(datetime(2025, 6, 1, tzinfo=UTC))
            )
        )
    status, _, violations = rejected(error.value)
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert violations["valid_from"].startswith("channel SAMPLE-LINE-US: must be after the current version's valid-from")


def test_an_import_needs_a_request_id_and_a_sheet(own: Running) -> None:
    with pytest.raises(grpc.RpcError) as error:
        own.stub.ImportRateSheet(pb.ImportRateSheetRequest())
    status, _, violations = rejected(error.value)
    assert status == grpc.StatusCode.INVALID_ARGUMENT and {"request_id", "csv"} <= violations.keys()


def test_a_changed_sample_file_replaces_definitions_and_keeps_imported_versions(own: Running, tmp_path: Path) -> None:
    jp = "\n".join([HEADER, "SAMPLE-LINE-JP,JP-MAIN,0,25,15.00,48.00", "SAMPLE-LINE-JP,JP-OKINAWA,0,25,18.00,60.00"])
    own.stub.ImportRateSheet(pb.ImportRateSheetRequest(request_id="sheet-5", csv=jp))
    sample = own.settings.data_dir / "logistics"
    renamed = tmp_path / "channels.yaml"
    renamed.write_text(
        (sample / "channels.yaml").read_text(encoding="utf-8").replace("Sample Japan dedicated line", "Sample JP line")
    )
    shutil.copy(sample / "rates.csv", tmp_path / "rates.csv")

    result = import_dataset(
        own.context.uow(), own.context.datasets, CATALOGUE_DATASETS[0], own.settings.data_dir, path=renamed
    )

    assert result.changed and result.record_count == 20
    listed = plans.list_channels(own.context.uow, CatalogueCache(), "JP", datetime.now(UTC))  # type: ignore[arg-type]
    line = next(x for x in listed if x.channel.code == "SAMPLE-LINE-JP")
    assert line.channel.name == "Sample JP line" and line.current_version == 2
    with own.context.uow() as uow:
        assert uow.rate_sheets.latest("SAMPLE-LINE-JP").version == 2  # type: ignore[attr-defined,union-attr]
        assert uow.rate_sheets.latest("SAMPLE-LINE-US").version == 1  # type: ignore[attr-defined,union-attr]


def test_concurrent_copies_of_one_import_store_one_version(own: Running) -> None:
    request = pb.ImportRateSheetRequest(
        request_id="sheet-6", csv=DEARER_US_LINE, valid_from=timestamp(datetime(2099, 1, 1, tzinfo=UTC))
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: own.stub.ImportRateSheet(request), range(4)))
    assert len({a.SerializeToString(deterministic=True) for a in answers}) == 1
    assert [(v.channel_code, v.version) for v in answers[0].versions] == [("SAMPLE-LINE-US", 2)]
    own.context.relay.drain()
    assert sum(e.event_type == "rate_sheet_imported" for e in own.bus.published) == 1
