"""Risk alerts over the embedded bus, wired from the topology as the nameko workers are: a new library
version with a stricter rule, and a sanctions list version that lists a party screened CLEAR, each raise an
alert, and payments holds that merchant's pending payout."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
from xborder.compliance.v1 import product_compliance_service_pb2 as cpb
from xborder.compliance.v1 import screening_service_pb2 as spb

from services.compliance import bootstrap as compliance_bootstrap
from services.compliance.adapters.reference_views import check_views
from services.compliance.domain.alerts import SubjectKind
from services.compliance.entrypoints.product_checks_api import ProductComplianceServicer
from services.compliance.entrypoints.screening_api import ScreeningServicer
from services.compliance.service_layer import risk_alerts, rule_library
from services.embedded import subscribe_all
from services.payments import bootstrap as payments_bootstrap
from services.payments.payouts import service_layer as ph
from services.payments.payouts.domain import PayoutStatus
from services.shared.bus import InProcessBus
from services.shared.context import ServiceContext
from services.shared.money import Money
from services.shared.settings import Settings
from tests.compliance_rules import FIXTURE_PACKS
from tests.ledger_support import FakePayees, FakeScreeningGate, Wallets, fund, in_uow, key, wallets
from tests.unit.test_compliance_library import edit, packs_copy
from tests.unit.test_risk_alerts_recheck import BAN

DATA = Path(__file__).resolve().parents[2] / "data"


@dataclass
class Wired:
    compliance: ServiceContext
    payments: ServiceContext
    data: Path

    def settle(self) -> None:
        """Relay every outbox until none has anything left (events cause events: rules -> alert -> hold)."""
        for _ in range(10):
            assert self.compliance.relay.drain() and self.payments.relay.drain()
            if not (self.compliance.relay.pending() or self.payments.relay.pending()):
                return
        raise AssertionError("outboxes did not empty")


@pytest.fixture
def wired(settings: Settings, tmp_path: Path) -> Iterator[Wired]:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    settings = replace(settings, data_dir=data)
    bus = InProcessBus()
    compliance = compliance_bootstrap.bootstrap(settings, bus)
    payments = payments_bootstrap.bootstrap(settings, bus)
    subscribe_all(bus, {"compliance": compliance, "payments": payments})
    try:
        for dataset in ("hs2022", "iso3166_countries", "eu_vat_rates", "ecb_reference_rates"):
            compliance.import_reference_data(only=dataset)
        rule_library.stage_draft(compliance.uow, FIXTURE_PACKS, settings.data_dir)
        rule_library.publish_draft(compliance.uow)
        running = Wired(compliance, payments, data)
        running.settle()
        yield running
    finally:
        compliance.close()
        payments.close()


def pending_payout(payments: ServiceContext) -> tuple[Wallets, str]:
    w = wallets(payments)
    fund(payments, w, "100.00")
    payees = FakePayees()
    payees.add(w.merchant, "BA1", "Acme Trading Ltd", "HK", "USD")
    command = ph.CreatePayout(key("po"), w.merchant, "BA1", Money.of("20.00", "USD"), "HSBC", timedelta(hours=1))
    screened = ph.screen_payee(payees, FakeScreeningGate("CLEAR"), command)
    payout = in_uow(payments, lambda uow, now: ph.create_payout(uow, command, screened, now))
    assert payout.status is PayoutStatus.PENDING
    return w, payout.code


def payout_status(payments: ServiceContext, code: str) -> tuple[PayoutStatus, str]:
    with payments.uow() as uow:
        payout = ph.get_payout(uow, code)
    return payout.status, payout.hold_reason


def test_a_stricter_rule_raises_an_alert_and_holds_the_merchants_payout(wired: Wired, tmp_path: Path) -> None:
    w, payout = pending_payout(wired.payments)
    other, other_payout = pending_payout(wired.payments)
    request = cpb.CheckProductRequest(
        request_id=key("chk"),
        merchant_code=w.merchant,
        product=cpb.Product(hs_code="851822", title="Speaker", declared_value={"currency_code": "EUR", "units": 20}),
        destinations=["DE"],
    )
    servicer = ProductComplianceServicer(wired.compliance.uow, check_views(wired.compliance))
    check_code = servicer.CheckProduct(request, None).reports[0].code  # type: ignore[arg-type]

    directory = packs_copy(tmp_path)
    edit(directory, "eu-test-safety", lambda rules: rules.append(BAN))
    rule_library.stage_draft(wired.compliance.uow, directory, wired.data)
    rule_library.publish_draft(wired.compliance.uow)
    wired.settle()

    [alert], more = risk_alerts.list_alerts(wired.compliance.uow, w.merchant, None, 0, 10)
    assert not more
    assert (alert.subject_kind, alert.subject_code, alert.new_verdict) == (
        SubjectKind.PRODUCT_CHECK,
        check_code,
        "PROHIBITED",
    )
    status, reason = payout_status(wired.payments, payout)
    assert status is PayoutStatus.ON_HOLD and alert.code in reason
    assert payout_status(wired.payments, other_payout)[0] is PayoutStatus.PENDING  # another merchant's
    assert risk_alerts.list_alerts(wired.compliance.uow, other.merchant, None, 0, 10) == ([], False)


def test_a_list_version_that_lists_a_cleared_party_raises_an_alert(wired: Wired) -> None:
    wired.compliance.import_reference_data()  # every list, first versions
    wired.settle()
    w, payout = pending_payout(wired.payments)
    index = compliance_bootstrap.screening_index(wired.compliance)
    screening = (
        ScreeningServicer(wired.compliance.uow, index)
        .ScreenParty(
            spb.ScreenPartyRequest(request_id=key("scr"), merchant_code=w.merchant, name="Zebulon Quartermaine"),
            None,  # type: ignore[arg-type]
        )
        .screening
    )
    assert screening.decision == spb.SCREENING_DECISION_CLEAR

    path = wired.data / "sanctions" / "bis_dpl.txt"
    header, first, *rows = path.read_text().splitlines()
    listed = first.replace(first.split("\t")[0], '"ZEBULON QUARTERMAINE"', 1)
    path.write_text("\n".join([header, first, listed, *rows]) + "\n")
    assert wired.compliance.import_reference_data(only="bis_dpl")[0].changed
    wired.settle()

    [alert], _ = risk_alerts.list_alerts(wired.compliance.uow, w.merchant, None, 0, 10)
    assert (alert.subject_kind, alert.subject_code, alert.party_name) == (
        SubjectKind.SCREENING,
        screening.code,
        "Zebulon Quartermaine",
    )
    assert (alert.old_verdict, alert.new_verdict) == ("CLEAR", "BLOCK") and alert.cause.startswith("list:bis_dpl:")
    assert payout_status(wired.payments, payout)[0] is PayoutStatus.ON_HOLD
    # The stored decision follows the re-screening: the next list change compares against BLOCK.

    with wired.compliance.uow() as uow:
        stored = uow.screenings.get(screening.code)
    assert stored is not None and stored.decision.name == "BLOCK"
