"""LogisticsService over real gRPC (port 0), on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from xborder.logistics.v1 import logistics_service_pb2 as pb
from xborder.logistics.v1 import logistics_service_pb2_grpc as pb_grpc

from services.logistics.adapters.datasets import DATASETS
from services.shared.refdata import import_dataset
from services.shared.settings import Settings
from tests.servers import Running, rejected, running_service


@pytest.fixture
def logistics(any_settings: Settings) -> Iterator[Running]:
    with running_service(any_settings, "logistics", pb_grpc.LogisticsServiceStub) as running:
        yield running


def test_china_by_every_kind_of_code(logistics: Running) -> None:
    for code in ("CN", "cn", "CHN", "chn", "156"):
        country = logistics.stub.GetCountry(pb.GetCountryRequest(code=code)).country
        assert (country.alpha2, country.alpha3, country.numeric) == ("CN", "CHN", "156"), code
    assert (country.name_en, country.name_zh, country.currency_code) == ("China", "中国", "CNY")
    assert (country.formal_name_en, country.formal_name_zh) == ("the People's Republic of China", "中华人民共和国")
    assert (country.capital, country.region, country.sub_region, country.tld) == (
        "Beijing",
        "Asia",
        "Eastern Asia",
        ".cn",
    )
    assert country.languages[0] == "zh-CN"


def test_numeric_codes_are_zero_padded(logistics: Running) -> None:
    assert logistics.stub.GetCountry(pb.GetCountryRequest(code="4")).country.alpha2 == "AF"
    assert logistics.stub.GetCountry(pb.GetCountryRequest(code="004")).country.alpha2 == "AF"


@pytest.mark.parametrize(
    ("code", "status", "says"),
    [
        ("", grpc.StatusCode.INVALID_ARGUMENT, "is required"),
        ("CHINA", grpc.StatusCode.INVALID_ARGUMENT, "alpha-2"),
        ("C1", grpc.StatusCode.INVALID_ARGUMENT, "alpha-2"),
        ("1560", grpc.StatusCode.INVALID_ARGUMENT, "numeric"),
        ("XX", grpc.StatusCode.NOT_FOUND, "'XX'"),
        ("XXX", grpc.StatusCode.NOT_FOUND, "alpha3"),
        ("999", grpc.StatusCode.NOT_FOUND, "'999'"),
    ],
)
def test_bad_or_unknown_country_codes_name_the_field(
    logistics: Running, code: str, status: grpc.StatusCode, says: str
) -> None:
    with pytest.raises(grpc.RpcError) as error:
        logistics.stub.GetCountry(pb.GetCountryRequest(code=code))
    got, _, violations = rejected(error.value)
    assert got == status
    assert says in violations["code"]


def test_list_countries_by_alpha2_with_region_filter(logistics: Running) -> None:
    everything = logistics.stub.ListCountries(pb.ListCountriesRequest()).countries
    assert len(everything) == 249
    assert [c.alpha2 for c in everything] == sorted(c.alpha2 for c in everything)
    europe = logistics.stub.ListCountries(pb.ListCountriesRequest(region="europe")).countries
    assert {c.region for c in europe} == {"Europe"} and {"DE", "FR", "GB"} <= {c.alpha2 for c in europe}
    assert len(europe) == 51


def test_unknown_region_lists_the_valid_ones(logistics: Running) -> None:
    with pytest.raises(grpc.RpcError) as error:
        logistics.stub.ListCountries(pb.ListCountriesRequest(region="Atlantis"))
    got, _, violations = rejected(error.value)
    assert got == grpc.StatusCode.INVALID_ARGUMENT
    assert "Africa, Americas, Asia, Europe, Oceania" in violations["region"]


def test_status_code_lookup(logistics: Running) -> None:
    found = logistics.stub.GetStatusCode(pb.GetStatusCodeRequest(code="21")).status_code
    assert (found.code, found.name) == ("21", "Delivery, completed")
    assert found.description == "The goods/consignment/equipment has been delivered."


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("", grpc.StatusCode.INVALID_ARGUMENT),
        ("2100", grpc.StatusCode.INVALID_ARGUMENT),
        ("2-1", grpc.StatusCode.INVALID_ARGUMENT),
        ("999", grpc.StatusCode.NOT_FOUND),
    ],
)
def test_bad_or_unknown_status_codes_name_the_field(logistics: Running, code: str, status: grpc.StatusCode) -> None:
    with pytest.raises(grpc.RpcError) as error:
        logistics.stub.GetStatusCode(pb.GetStatusCodeRequest(code=code))
    got, _, violations = rejected(error.value)
    assert got == status and "code" in violations


def test_list_status_codes_in_list_order_filtered_by_words(logistics: Running) -> None:
    everything = logistics.stub.ListStatusCodes(pb.ListStatusCodesRequest()).status_codes
    assert len(everything) == 345 and [c.code for c in everything[:3]] == ["1", "2", "3"]
    delivered = logistics.stub.ListStatusCodes(pb.ListStatusCodesRequest(query="DELIVERY completed")).status_codes
    assert "21" in [c.code for c in delivered]
    for code in delivered:
        text = f"{code.name} {code.description}".lower()
        assert "deliver" in text and "complete" in text
    customs = logistics.stub.ListStatusCodes(pb.ListStatusCodesRequest(query="customs")).status_codes
    assert customs and all("customs" in f"{c.name} {c.description}".lower() for c in customs)


def test_a_query_without_words_is_refused(logistics: Running) -> None:
    with pytest.raises(grpc.RpcError) as error:
        logistics.stub.ListStatusCodes(pb.ListStatusCodesRequest(query="?!"))
    got, _, violations = rejected(error.value)
    assert got == grpc.StatusCode.INVALID_ARGUMENT and "query" in violations


def test_the_same_files_again_change_nothing(logistics: Running) -> None:
    assert sorted(e.payload["dataset"] for e in logistics.bus.published) == [
        "iso3166_countries",
        "logistics_sample_channels",
        "logistics_sample_warehouses",
        "unece_rec24_status_codes",
    ]
    assert not any(r.changed for r in logistics.context.import_reference_data())
    logistics.context.relay.drain()
    assert len(logistics.bus.published) == 4


def test_a_changed_country_file_is_a_new_version_and_announced(logistics: Running, tmp_path: Path) -> None:
    text = (logistics.settings.data_dir / "countries/country-codes.csv").read_text(encoding="utf-8-sig")
    assert ",Beijing," in text
    changed = tmp_path / "country-codes.csv"
    changed.write_text(text.replace(",Beijing,", ",Peking,"), encoding="utf-8")
    first = next(e.payload["version"] for e in logistics.bus.published if e.payload["dataset"] == "iso3166_countries")

    result = import_dataset(
        logistics.context.uow(), logistics.context.datasets, DATASETS[0], logistics.settings.data_dir, path=changed
    )
    logistics.context.relay.drain()

    assert result.changed and result.previous_version == first and result.record_count == 249
    announced = logistics.bus.published[-1]
    assert announced.event_type == "reference_data_imported"
    assert (announced.payload["dataset"], announced.payload["version"], announced.payload["previous_version"]) == (
        "iso3166_countries",
        result.version,
        first,
    )
    assert logistics.stub.GetCountry(pb.GetCountryRequest(code="CN")).country.capital == "Peking"
