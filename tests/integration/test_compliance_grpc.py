"""ComplianceService over real gRPC (port 0), on SQLite and on PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from xborder.compliance.v1 import compliance_service_pb2 as pb
from xborder.compliance.v1 import compliance_service_pb2_grpc as pb_grpc

from services.compliance.adapters.datasets import DATASETS
from services.shared.refdata import import_dataset
from services.shared.settings import Settings
from tests.servers import Running, rejected, running_service


@pytest.fixture
def compliance(any_settings: Settings) -> Iterator[Running]:
    with running_service(any_settings, "compliance", pb_grpc.ComplianceServiceStub) as running:
        yield running


def search(running: Running, **fields: object) -> pb.SearchHsCodesResponse:
    return running.stub.SearchHsCodes(pb.SearchHsCodesRequest(**fields))  # type: ignore[arg-type]


def test_subheading_with_its_parents(compliance: Running) -> None:
    entry = compliance.stub.GetHsCode(pb.GetHsCodeRequest(code="8507.60")).hs_code
    assert (entry.code, entry.level, entry.edition) == ("850760", 6, "HS2022")
    assert "lithium-ion" in entry.description
    assert (entry.chapter.code, entry.heading.code) == ("85", "8507")
    assert entry.heading.description.startswith("Electric accumulators")
    assert entry.section == "XVI" and entry.section_name.startswith("Machinery and mechanical appliances")


def test_chapter_is_its_own_chapter_and_has_no_heading(compliance: Running) -> None:
    entry = compliance.stub.GetHsCode(pb.GetHsCodeRequest(code="01")).hs_code
    assert (entry.level, entry.chapter.code, entry.HasField("heading")) == (2, "01", False)
    assert (entry.section, entry.section_name) == ("I", "Live animals; animal products")


@pytest.mark.parametrize(
    ("code", "status", "says"),
    [
        ("85076", grpc.StatusCode.INVALID_ARGUMENT, "must be 2, 4 or 6 digits"),
        ("ABCDEF", grpc.StatusCode.INVALID_ARGUMENT, "must contain only digits"),
        ("", grpc.StatusCode.INVALID_ARGUMENT, "is required"),
        ("8507600010", grpc.StatusCode.INVALID_ARGUMENT, "850760"),
        ("850799", grpc.StatusCode.NOT_FOUND, "850799"),
        ("77", grpc.StatusCode.NOT_FOUND, "reserved"),
        ("9903", grpc.StatusCode.NOT_FOUND, "reserved for national use"),
    ],
)
def test_bad_or_unknown_codes_name_the_field(
    compliance: Running, code: str, status: grpc.StatusCode, says: str
) -> None:
    with pytest.raises(grpc.RpcError) as error:
        compliance.stub.GetHsCode(pb.GetHsCodeRequest(code=code))
    got, _, violations = rejected(error.value)
    assert got == status
    assert says in violations["code"]


def test_lithium_finds_lithium_ion_accumulators(compliance: Running) -> None:
    found = search(compliance, query="lithium", page_size=100)
    codes = [e.code for e in found.hs_codes]
    assert "850760" in codes and "850650" in codes
    assert found.total_size == len(codes) and not found.next_page_token
    assert "lithium" in compliance.stub.GetHsCode(pb.GetHsCodeRequest(code="282520")).hs_code.description.lower()


def test_every_word_must_start_a_word_of_the_description(compliance: Running) -> None:
    codes = [e.code for e in search(compliance, query="Accumulators LITH").hs_codes]
    assert codes == ["850760", "850780"]  # 850780 is "other than ... lithium-ion": words, not meaning
    assert search(compliance, query="thium").total_size == 0  # the middle of a word is no match


def test_subheadings_come_first_then_headings_then_chapters(compliance: Running) -> None:
    found = search(compliance, query="electrical machinery", page_size=100).hs_codes
    keys = [(-e.level, e.code) for e in found]
    assert keys == sorted(keys) and {e.level for e in found} >= {4, 2}


def test_digits_search_by_code_prefix_and_level_filters(compliance: Running) -> None:
    found = search(compliance, query="8507", page_size=100)
    assert [e.code for e in found.hs_codes][-1] == "8507"
    assert all(e.code.startswith("8507") for e in found.hs_codes) and found.total_size == 8
    headings = search(compliance, query="85", level=4, page_size=100)
    assert headings.total_size == 48 and {e.level for e in headings.hs_codes} == {4}


def test_pages_cover_every_match_once(compliance: Running) -> None:
    seen: list[str] = []
    token = ""
    while True:
        page = search(compliance, query="lithium", page_size=2, page_token=token)
        assert page.total_size == 9
        seen += [e.code for e in page.hs_codes]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) == 9


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"query": ""}, "query"),
        ({"query": "85076000"}, "query"),
        ({"query": "lithium", "level": 3}, "level"),
        ({"query": "lithium", "page_size": 101}, "page_size"),
        ({"query": "lithium", "page_size": -1}, "page_size"),
        ({"query": "lithium", "page_token": "garbage"}, "page_token"),
    ],
)
def test_bad_searches_name_the_field(compliance: Running, fields: dict[str, object], field: str) -> None:
    with pytest.raises(grpc.RpcError) as error:
        search(compliance, **fields)
    status, _, violations = rejected(error.value)
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert field in violations


def test_a_page_token_only_continues_its_own_search(compliance: Running) -> None:
    token = search(compliance, query="lithium", page_size=2).next_page_token
    assert token
    with pytest.raises(grpc.RpcError) as error:
        search(compliance, query="copper", page_size=2, page_token=token)
    status, _, violations = rejected(error.value)
    assert (status, violations) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        {"page_token": "belongs to a different search (query or level changed); start again without it"},
    )


def hs_announcements(running: Running) -> list[dict]:
    # compliance also imports the sanctions lists (and announces them): only the HS ones matter here
    return [
        e.payload
        for e in running.bus.published
        if e.event_type == "reference_data_imported" and e.payload["dataset"] == "hs2022"
    ]


def test_the_same_file_again_changes_nothing(compliance: Running) -> None:
    assert len(hs_announcements(compliance)) == 1
    published = len(compliance.bus.published)
    assert not any(r.changed for r in compliance.context.import_reference_data())
    compliance.context.relay.drain()
    assert len(compliance.bus.published) == published


def test_a_changed_file_is_a_new_version_and_announced(compliance: Running, tmp_path: Path) -> None:
    source = compliance.settings.data_dir / "hs"
    shutil.copy(source / "sections.csv", tmp_path / "sections.csv")
    text = (source / "harmonized-system.csv").read_text(encoding="utf-8")
    old = "Electric accumulators; lithium-ion, including separators"
    assert old in text
    changed = tmp_path / "harmonized-system.csv"
    changed.write_text(text.replace(old, "Electric accumulators; lithium-ion (revised)"), encoding="utf-8")
    first = hs_announcements(compliance)[0]["version"]

    result = import_dataset(
        compliance.context.uow(), compliance.context.datasets, DATASETS[0], compliance.settings.data_dir, path=changed
    )
    compliance.context.relay.drain()

    assert result.changed and result.previous_version == first and result.version != first
    announced = compliance.bus.published[-1].payload
    assert (announced["dataset"], announced["version"], announced["previous_version"]) == (
        "hs2022",
        result.version,
        first,
    )
    entry = compliance.stub.GetHsCode(pb.GetHsCodeRequest(code="850760")).hs_code
    assert (
        entry.description == "Electric accumulators; lithium-ion (revised), whether or not rectangular "
        "(including square)"
    )
