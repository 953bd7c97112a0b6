"""The screening thresholds and the name-variant table are versioned datasets: a new version re-screens every
stored party through the `list_updated` consumer, raises an alert where a decision got worse (and payments
holds that merchant's payout), and the same file imported again changes nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from xborder.compliance.v1 import screening_service_pb2 as spb

from services.compliance import bootstrap as compliance_bootstrap
from services.compliance.adapters.name_variants_file import VariantTableError
from services.compliance.adapters.screening_config import NAME_VARIANTS, THRESHOLDS, ThresholdsFileError
from services.compliance.domain.alerts import SubjectKind
from services.compliance.domain.screening import OVERRIDDEN
from services.compliance.entrypoints.screening_api import ScreeningServicer
from services.compliance.service_layer import risk_alerts
from services.embedded import subscribe_all
from services.payments import bootstrap as payments_bootstrap
from services.payments.payouts.domain import PayoutStatus
from services.shared import codes
from services.shared.bus import InProcessBus
from services.shared.refdata import OPS
from services.shared.settings import Settings
from tests.integration.test_risk_alerts_bus import Wired, payout_status, pending_payout
from tests.ledger_support import key

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def wired(any_settings: Settings, tmp_path: Path) -> Iterator[Wired]:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    settings = replace(any_settings, data_dir=data)
    bus = InProcessBus()
    compliance = compliance_bootstrap.bootstrap(settings, bus)
    payments = payments_bootstrap.bootstrap(settings, bus)
    subscribe_all(bus, {"compliance": compliance, "payments": payments})
    try:
        compliance.import_reference_data()
        running = Wired(compliance, payments, data)
        running.settle()
        yield running
    finally:
        compliance.close()
        payments.close()


def screen(wired: Wired, merchant: str, name: str) -> spb.Screening:
    servicer = ScreeningServicer(wired.compliance.uow, compliance_bootstrap.screening_index(wired.compliance))
    request = spb.ScreenPartyRequest(request_id=key("scr"), merchant_code=merchant, name=name)
    return servicer.ScreenParty(request, None).screening  # type: ignore[arg-type]


def stored_decision(wired: Wired, code: str) -> str:
    with wired.compliance.uow() as uow:
        stored = uow.screenings.get(code)
    assert stored is not None
    return stored.decision.name


def edit_yaml(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    document = yaml.safe_load(path.read_text("utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")


def test_a_lower_block_threshold_alerts_only_on_the_screenings_that_got_worse(wired: Wired) -> None:
    w, payout = pending_payout(wired.payments)
    other, other_payout = pending_payout(wired.payments)
    worse = screen(wired, w.merchant, "Sergei Ivanof")  # scores 0.88 against IVANOV, Sergei
    still_review = screen(wired, other.merchant, "Saddam Tikriti")  # 0.80
    blocked = screen(wired, other.merchant, "Eric Badege")  # 1.0
    clear = screen(wired, other.merchant, "Viktor Bout")  # 0.77
    assert [s.decision for s in (worse, still_review, blocked, clear)] == [
        spb.SCREENING_DECISION_REVIEW,
        spb.SCREENING_DECISION_REVIEW,
        spb.SCREENING_DECISION_BLOCK,
        spb.SCREENING_DECISION_CLEAR,
    ]
    first_version = worse.thresholds.version

    edit_yaml(wired.data / "screening" / "thresholds.yaml", lambda d: d.update(version="lowered", block=0.85))
    [result] = wired.compliance.import_reference_data(only=THRESHOLDS)
    assert result.changed and result.previous_version == first_version
    wired.settle()

    [alert], _ = risk_alerts.list_alerts(wired.compliance.uow, w.merchant, None, 0, 10)
    assert (alert.subject_kind, alert.subject_code, alert.old_verdict, alert.new_verdict) == (
        SubjectKind.SCREENING,
        worse.code,
        "REVIEW",
        "BLOCK",
    )
    assert alert.cause == f"list:{THRESHOLDS}:{result.version}"
    assert risk_alerts.list_alerts(wired.compliance.uow, other.merchant, None, 0, 10) == ([], False)
    assert [stored_decision(wired, s.code) for s in (worse, still_review, blocked, clear)] == [
        "BLOCK",
        "REVIEW",
        "BLOCK",
        "CLEAR",
    ]
    assert payout_status(wired.payments, payout)[0] is PayoutStatus.ON_HOLD
    assert payout_status(wired.payments, other_payout)[0] is PayoutStatus.PENDING

    # A new screening uses, and names, the new version; the stored answer keeps the version it used.
    again = screen(wired, w.merchant, "Sergei Ivanof")
    assert again.decision == spb.SCREENING_DECISION_BLOCK
    assert (again.thresholds.block, again.thresholds.version) == (0.85, result.version)

    # The same file again: nothing imported, nothing emitted, no further alert.
    waiting = wired.compliance.relay.pending()
    assert not any(r.changed for r in wired.compliance.import_reference_data())
    assert wired.compliance.relay.pending() == waiting
    wired.settle()
    assert len(risk_alerts.list_alerts(wired.compliance.uow, w.merchant, None, 0, 10)[0]) == 1


def test_a_variant_group_that_makes_a_stored_name_match_raises_an_alert(wired: Wired) -> None:
    w, payout = pending_payout(wired.payments)
    party = screen(wired, w.merchant, "Qwerty Badege")  # only the family name matches ERIC BADEGE
    assert party.decision == spb.SCREENING_DECISION_CLEAR
    first_table = party.name_variants_version

    def add_group(document: dict) -> None:
        document["version"] = "with-qwerty"
        document["sources"]["test"] = "a spelling added to show that a new table re-screens stored parties"
        document["groups"].append({"source": "test", "name": "Eric", "spellings": ["eric", "qwerty"]})

    edit_yaml(wired.data / "screening" / "name_variants.yaml", add_group)
    [result] = wired.compliance.import_reference_data(only=NAME_VARIANTS)
    assert result.changed and result.previous_version == first_table
    # The consumer would rebuild the index itself; building it first keeps that out of the relay's drain,
    # which the in-process bus runs the consumer in and which gives up after 10 s on a loaded machine.
    index = compliance_bootstrap.screening_index(wired.compliance)
    index.invalidate()
    assert index.get().variants_version == result.version
    wired.settle()

    [alert], _ = risk_alerts.list_alerts(wired.compliance.uow, w.merchant, None, 0, 10)
    assert (alert.subject_code, alert.old_verdict, alert.new_verdict) == (party.code, "CLEAR", "BLOCK")
    assert alert.cause == f"list:{NAME_VARIANTS}:{result.version}"
    assert payout_status(wired.payments, payout)[0] is PayoutStatus.ON_HOLD
    again = screen(wired, w.merchant, "Qwerty Badege")
    assert again.name_variants_version == result.version
    assert ("qwerty", "eric", "variant") in {(p.query_part, p.entry_part, p.how) for p in again.hits[0].name_parts}


def test_a_broken_thresholds_file_or_variant_table_changes_nothing(settings: Settings, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    context = compliance_bootstrap.bootstrap(replace(settings, data_dir=data), InProcessBus())
    try:
        [first] = context.import_reference_data(only=THRESHOLDS)
        edit_yaml(data / "screening" / "thresholds.yaml", lambda d: d.update(review=0.95))  # above block
        with pytest.raises(ThresholdsFileError, match=r"thresholds.yaml: need 0 < review \(0.95\) <= block"):
            context.import_reference_data(only=THRESHOLDS)
        # A variant table with one spelling in two groups is refused the same way, naming the spelling.
        [table] = context.import_reference_data(only=NAME_VARIANTS)
        edit_yaml(
            data / "screening" / "name_variants.yaml",
            lambda d: d["groups"].append({"source": "arabic", "name": "x", "spellings": ["said", "zaid"]}),
        )
        with pytest.raises(VariantTableError, match="'said' is in two groups"):
            context.import_reference_data(only=NAME_VARIANTS)
        current = {v.dataset: v.version for v in context.dataset_versions()}
        assert (current[THRESHOLDS], current[NAME_VARIANTS]) == (first.version, table.version)
    finally:
        context.close()


def test_a_start_keeps_the_thresholds_ops_imported_and_an_override_applies(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops_dir = tmp_path / "ops"
    shutil.copytree(DATA, ops_dir)
    edit_yaml(ops_dir / "screening" / "thresholds.yaml", lambda d: d.update(version="ops", block=0.85))
    shipped = compliance_bootstrap.bootstrap(replace(settings, data_dir=DATA), InProcessBus())
    try:
        shipped.import_reference_data(at_start=True)
    finally:
        shipped.close()
    ops = compliance_bootstrap.bootstrap(replace(settings, data_dir=ops_dir), InProcessBus())  # xborder import
    try:
        [applied] = ops.import_reference_data(only=THRESHOLDS)
        assert applied.changed
    finally:
        ops.close()

    restarted = compliance_bootstrap.bootstrap(replace(settings, data_dir=DATA), InProcessBus())
    try:
        [kept] = restarted.import_reference_data(only=THRESHOLDS, at_start=True)
        assert kept.kept is not None and kept.version == applied.version and not kept.changed
        assert kept.kept.imported_by == OPS
        wired = Wired(restarted, restarted, DATA)
        result = screen(wired, codes.generate("MC"), "Sergei Ivanof")
        assert (result.decision, result.thresholds.block) == (spb.SCREENING_DECISION_BLOCK, 0.85)
        assert result.thresholds.version == applied.version
    finally:
        restarted.close()

    monkeypatch.setenv("XB_SCREENING_BLOCK_THRESHOLD", "0.95")
    overridden = compliance_bootstrap.bootstrap(replace(settings, data_dir=DATA), InProcessBus())
    try:
        result = screen(Wired(overridden, overridden, DATA), codes.generate("MC"), "Sergei Ivanof")
        assert (result.decision, result.thresholds.block, result.thresholds.review) == (
            spb.SCREENING_DECISION_REVIEW,
            0.95,
            0.80,
        )
        assert result.thresholds.version == OVERRIDDEN
    finally:
        overridden.close()


def test_screening_is_not_ready_without_its_configuration(settings: Settings) -> None:
    from services.compliance.adapters.sanctions_index import ListsNotReady
    from services.compliance.adapters.sanctions_store import LIST_NAMES

    context = compliance_bootstrap.bootstrap(replace(settings, data_dir=DATA), InProcessBus())
    try:
        for dataset in (*LIST_NAMES, NAME_VARIANTS):
            context.import_reference_data(only=dataset)
        index = compliance_bootstrap.screening_index(context)
        assert not index.ready()
        with pytest.raises(ListsNotReady, match="screening configuration not loaded: screening_thresholds"):
            index.get()
        context.import_reference_data(only=THRESHOLDS)
        index.invalidate()
        current = {v.dataset: v.version for v in context.dataset_versions()}
        assert index.get().thresholds.version == current[THRESHOLDS]
    finally:
        context.close()
