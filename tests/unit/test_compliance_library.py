"""The bitemporal rule library through its handlers (SQLite): stage, diff, publish, seed, reproduce."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.compliance import bootstrap
from services.compliance.adapters.reference_views import CheckViews, check_views
from services.compliance.domain.library import PackErrors
from services.compliance.domain.product import Product
from services.compliance.service_layer import product_checks, rule_library
from services.shared.context import ServiceContext
from services.shared.errors import NotFound, ValidationError
from services.shared.settings import Settings
from tests.compliance_rules import FIXTURE_PACKS, speaker_ban
from tests.fakes import RecordingBus


@pytest.fixture
def context(settings: Settings) -> Iterator[ServiceContext]:
    context = bootstrap.bootstrap(settings, RecordingBus())
    for dataset in ("hs2022", "iso3166_countries", "eu_vat_rates"):
        context.import_reference_data(only=dataset)
    yield context
    context.close()


def packs_copy(tmp_path: Path, name: str = "packs") -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURE_PACKS, target)
    return target


def edit(directory: Path, pack: str, change) -> None:  # type: ignore[no-untyped-def]
    path = directory / f"{pack}.yaml"
    document = yaml.safe_load(path.read_text("utf-8"))
    change(document["rules"])
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")


def published_events(context: ServiceContext) -> list[dict]:
    context.relay.drain()
    bus = context.relay.bus
    assert isinstance(bus, RecordingBus)
    return [e.payload for e in bus.published if e.event_type == "rules_published"]


def check(context: ServiceContext, views: CheckViews, product: Product, destination: str, **fields: Any) -> str:
    command = product_checks.CheckCommand(
        product,
        (destination,),
        fields.get("as_of"),
        int(fields.get("library_version", 0)),
        "en",  # type: ignore[arg-type]
    )
    return product_checks.evaluate(context.uow, views, command)[0].outcome.verdict


def test_publish_records_version_one_and_emits_what_changed(context: ServiceContext) -> None:
    staged = rule_library.stage_draft(context.uow, FIXTURE_PACKS, context.settings.data_dir)
    assert rule_library.describe(staged.changes)["added"][0] == "EU-TEST-CE-RED"
    version, _ = rule_library.publish_draft(context.uow)
    assert (version.version, version.rule_count, version.code[:2]) == (1, 9, "RK")
    [event] = published_events(context)
    assert event["version"] == 1 and event["library_code"] == version.code
    fcc = next(c for c in event["changes"] if c["code"] == "US-TEST-FCC")
    assert (fcc["change"], fcc["hs_scope"], fcc["destinations"]) == ("added", ["8517", "8518"], ["US"])
    with pytest.raises(NotFound):
        rule_library.diff_draft(context.uow)  # the draft was consumed


def test_invalid_packs_stage_nothing_and_publish_nothing(context: ServiceContext, tmp_path: Path) -> None:
    directory = packs_copy(tmp_path)
    edit(directory, "us-test-customs", lambda rules: rules[2].update(hs_scope=["8517", "9999"]))
    with pytest.raises(PackErrors) as error:
        rule_library.stage_draft(context.uow, directory, context.settings.data_dir)
    [problem] = error.value.problems
    assert (problem.pack_file, problem.rule_code, problem.field) == (
        "us-test-customs.yaml",
        "US-TEST-FCC",
        "hs_scope[1]",
    )
    with pytest.raises(NotFound):
        rule_library.publish_draft(context.uow)
    assert rule_library.list_versions(context.uow) == []
    assert published_events(context) == []


def test_a_new_version_supersedes_and_the_old_one_still_reproduces(
    context: ServiceContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    views = check_views(context)
    context.import_reference_data(only="ecb_reference_rates")
    first_at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    monkeypatch.setattr(rule_library, "utcnow", lambda: first_at)
    rule_library.stage_draft(context.uow, FIXTURE_PACKS, context.settings.data_dir)
    rule_library.publish_draft(context.uow)

    # Version 2: the FCC rule is withdrawn, CE becomes RESTRICTED as version 2 from 2026-03-05, one is added.
    directory = packs_copy(tmp_path)

    def us(rules: list) -> None:
        rules.pop(2)

    def eu(rules: list) -> None:
        rules[0]["effective_to"] = "2026-03-05"
        new = dict(rules[0], version=2, severity="RESTRICTED", effective_from="2026-03-05", effective_to=None)
        rules.append(new)

    edit(directory, "us-test-customs", us)
    edit(directory, "eu-test-safety", eu)
    staged = rule_library.stage_draft(context.uow, directory, context.settings.data_dir)
    assert rule_library.describe(staged.changes) == {
        "added": [],
        "changed": ["EU-TEST-CE-RED"],
        "removed": ["US-TEST-FCC"],
    }
    second_at = datetime(2026, 3, 6, 9, tzinfo=UTC)
    monkeypatch.setattr(rule_library, "utcnow", lambda: second_at)
    version, _ = rule_library.publish_draft(context.uow)
    assert version.version == 2

    radio = Product(hs_code="851762", origin_country="CN", attributes={"radio": True})
    march_4, march_10 = date(2026, 3, 4), date(2026, 3, 10)
    # Valid time: under version 2 the RESTRICTED CE rule is in force only from 03-05.
    assert check(context, views, radio, "DE", as_of=march_10) == "RESTRICTED"
    assert check(context, views, radio, "DE", as_of=march_4, library_version=2) == "ALLOWED_WITH_CONDITIONS"
    # Record time: as of 03-04 the default library is version 1 (current then), with FCC still recorded.
    assert check(context, views, radio, "US", as_of=march_4) == "RESTRICTED"
    assert check(context, views, radio, "US", as_of=march_10) == "ALLOWED"
    assert check(context, views, radio, "US", as_of=march_10, library_version=1) == "RESTRICTED"

    old = rule_library.list_rules(context.uow, 1)
    fcc = next(s for s in old.rules if s.rule.code == "US-TEST-FCC")
    assert (fcc.recorded_in, fcc.superseded_in) == (1, 2)
    assert "US-TEST-FCC" not in {s.rule.code for s in rule_library.list_rules(context.uow, 2).rules}
    unchanged = next(s for s in rule_library.list_rules(context.uow, 2).rules if s.rule.code == "EU-TEST-IOSS")
    assert (unchanged.recorded_in, unchanged.superseded_in) == (1, None)
    [_, event] = published_events(context)
    assert {c["code"]: c["change"] for c in event["changes"]} == {"EU-TEST-CE-RED": "changed", "US-TEST-FCC": "removed"}
    assert event["previous_version"] == 1


def test_publishing_the_same_packs_again_is_refused(context: ServiceContext) -> None:
    rule_library.stage_draft(context.uow, FIXTURE_PACKS, context.settings.data_dir)
    rule_library.publish_draft(context.uow)
    staged = rule_library.stage_draft(context.uow, FIXTURE_PACKS, context.settings.data_dir)
    assert staged.changes == []
    with pytest.raises(ValidationError) as error:
        rule_library.publish_draft(context.uow)
    assert error.value.violations[0].field == "draft"
    assert len(rule_library.list_versions(context.uow)) == 1


def test_changing_a_published_rule_without_a_new_version_is_refused(context: ServiceContext, tmp_path: Path) -> None:
    rule_library.stage_draft(context.uow, FIXTURE_PACKS, context.settings.data_dir)
    rule_library.publish_draft(context.uow)
    directory = packs_copy(tmp_path)
    edit(directory, "eu-test-vat", lambda rules: rules[0]["value_threshold"].update(amount="200"))
    with pytest.raises(PackErrors) as error:
        rule_library.stage_draft(context.uow, directory, context.settings.data_dir)
    assert [(p.rule_code, p.field) for p in error.value.problems] == [("EU-TEST-IOSS", "version")]


def test_recording_the_day_a_published_rule_was_read_is_a_correction(context: ServiceContext, tmp_path: Path) -> None:
    rule_library.stage_draft(context.uow, FIXTURE_PACKS, context.settings.data_dir)
    rule_library.publish_draft(context.uow)
    directory = packs_copy(tmp_path)
    edit(
        directory,
        "eu-test-vat",
        lambda rules: rules[0].update(read_on="2026-12-06", verified=False, note="Rate not re-read."),
    )
    rule_library.stage_draft(context.uow, directory, context.settings.data_dir)
    library, _ = rule_library.publish_draft(context.uow)
    listing = rule_library.list_rules(context.uow, library.version)
    corrected = next(s.rule for s in listing.rules if s.rule.code == "EU-TEST-IOSS")
    assert (library.version, corrected.read_on, corrected.verified) == (2, date(2026, 12, 6), False)


def test_seeding_publishes_the_shipped_packs_once(context: ServiceContext, tmp_path: Path) -> None:
    first = rule_library.seed_rule_library(context.uow, context.settings.data_dir)
    assert first is not None and first.version == 1
    assert first.rule_count >= 60 and {"eu-product-safety", "us-customs", "jp"} <= set(first.packs)
    assert rule_library.seed_rule_library(context.uow, context.settings.data_dir) is None
    assert len(rule_library.list_versions(context.uow)) == 1
    assert rule_library.seed_rule_library(context.uow, tmp_path / "nowhere") is None


def test_check_with_an_unknown_library_version_names_the_field(context: ServiceContext) -> None:
    rule_library.stage_draft(context.uow, FIXTURE_PACKS, context.settings.data_dir)
    rule_library.publish_draft(context.uow)
    context.import_reference_data(only="ecb_reference_rates")
    with pytest.raises(NotFound) as error:
        check(context, check_views(context), Product(hs_code="851762"), "DE", library_version=7)
    assert error.value.violations[0].field == "library_version"


def test_a_publication_rechecks_the_stored_checks_it_affects(context: ServiceContext, tmp_path: Path) -> None:
    from xborder.compliance.v1 import product_compliance_service_pb2 as pb

    from services.compliance.entrypoints.product_checks_api import ProductComplianceServicer

    context.import_reference_data(only="ecb_reference_rates")
    rule_library.stage_draft(context.uow, FIXTURE_PACKS, context.settings.data_dir)
    rule_library.publish_draft(context.uow)
    views = check_views(context)
    servicer = ProductComplianceServicer(context.uow, views)

    def stored(hs_code: str, destination: str) -> str:
        request = pb.CheckProductRequest(
            request_id=f"{hs_code}-{destination}",
            product=pb.Product(hs_code=hs_code, declared_value={"currency_code": "EUR", "units": 20}),
            destinations=[destination],
        )
        return servicer.CheckProduct(request, None).reports[0].code  # type: ignore[arg-type]

    speaker_de, shirt_de = stored("851822", "DE"), stored("610910", "DE")
    directory = packs_copy(tmp_path)
    ban = speaker_ban()
    edit(directory, "eu-test-safety", lambda rules: rules.append(ban))
    rule_library.stage_draft(context.uow, directory, context.settings.data_dir)
    rule_library.publish_draft(context.uow)
    event = published_events(context)[-1]
    rechecks = product_checks.recheck_after_publication(context.uow, views, event)
    assert [(r.check_code, r.old_verdict, r.new_verdict, r.worsened) for r in rechecks] == [
        (speaker_de, "ALLOWED_WITH_CONDITIONS", "PROHIBITED", True)
    ]
    assert shirt_de not in {r.check_code for r in rechecks}  # outside the changed rule's HS scope
