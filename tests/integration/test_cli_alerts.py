"""`xborder compliance alerts MERCHANT`, run as an operator would (typer's runner, real SQLite files)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner
from xborder.compliance.v1 import product_compliance_service_pb2 as cpb

from cli.main import app
from services.compliance import bootstrap
from services.compliance.adapters.reference_views import check_views
from services.compliance.entrypoints.product_checks_api import ProductComplianceServicer
from services.compliance.service_layer import risk_alerts, rule_library
from services.shared import codes
from services.shared.settings import Settings
from tests.compliance_rules import FIXTURE_PACKS
from tests.fakes import RecordingBus
from tests.unit.test_compliance_library import edit, packs_copy, published_events
from tests.unit.test_risk_alerts_recheck import BAN


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("XB_LOG_JSON", "false")
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("XB_BROKER_URL", raising=False)
    monkeypatch.delenv("XB_DATABASE_URL", raising=False)


def test_alerts_lists_a_merchants_alerts_and_filters_by_status(env: None, tmp_path: Path) -> None:
    merchant = codes.generate("MC")
    context = bootstrap.bootstrap(Settings.from_env(), RecordingBus())
    try:
        for dataset in ("hs2022", "iso3166_countries", "eu_vat_rates", "ecb_reference_rates"):
            context.import_reference_data(only=dataset)
        rule_library.stage_draft(context.uow, FIXTURE_PACKS, context.settings.data_dir)
        rule_library.publish_draft(context.uow)
        views = check_views(context)
        request = cpb.CheckProductRequest(
            request_id=str(uuid.uuid4()),
            merchant_code=merchant,
            product=cpb.Product(hs_code="851822", title="Speaker", declared_value={"currency_code": "EUR", "units": 5}),
            destinations=["DE"],
        )
        check_code = ProductComplianceServicer(context.uow, views).CheckProduct(request, None).reports[0].code  # type: ignore[arg-type]
        directory = packs_copy(tmp_path)
        edit(directory, "eu-test-safety", lambda rules: rules.append(BAN))
        rule_library.stage_draft(context.uow, directory, context.settings.data_dir)
        rule_library.publish_draft(context.uow)
        [alert] = risk_alerts.on_rules_published(context.uow, views, published_events(context)[-1])
    finally:
        context.close()

    runner = CliRunner()
    listed = runner.invoke(app, ["compliance", "alerts", merchant], terminal_width=250)
    assert listed.exit_code == 0, listed.output
    assert alert.code in listed.output and check_code in listed.output and "PROHIBITED" in listed.output
    assert "1 alert(s)" in listed.output
    none = runner.invoke(app, ["compliance", "alerts", merchant, "--status", "acknowledged"], terminal_width=250)
    assert none.exit_code == 0 and alert.code not in none.output and "0 alert(s)" in none.output
    bad = runner.invoke(app, ["compliance", "alerts", "MC123", "--status", "closed"])
    assert bad.exit_code == 2 and "MERCHANT" in bad.output and "--status" in bad.output
