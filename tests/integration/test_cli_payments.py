"""`xborder payments reconcile`, `reconciliations` and `statement` against a real payments server (port 0)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner
from xborder.payments.v1 import reconciliation_service_pb2_grpc as pb_grpc

from cli.main import app
from services.shared import codes
from services.shared.settings import Settings
from tests.reconciliation_fixtures import EXAMPLE, post, seed_example_ledger, unique_partner
from tests.servers import Running, running_service


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    settings = Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False)
    with running_service(settings, "payments", pb_grpc.ReconciliationServiceStub) as running:
        yield running


@pytest.fixture
def cli(service: Running, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("XB_PAYMENTS_PORT", str(service.port))
    monkeypatch.setenv("XB_VAR_DIR", str(service.settings.var_dir))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables at a readable width
    return CliRunner()


def test_reconcile_prints_the_summary_and_what_to_look_at(cli: CliRunner, service: Running) -> None:
    partner = unique_partner()
    seed_example_ledger(service.context, partner)
    first = cli.invoke(app, ["payments", "reconcile", str(EXAMPLE), "--partner", partner])
    assert first.exit_code == 0, first.output
    assert "reconciliation RC" in first.output and "2026-11-30" in first.output
    for label, count in (("matched", 2), ("mismatched", 2), ("missing in ledger", 1), ("missing in statement", 1)):
        assert any(label in row and row.rstrip(" │").endswith(str(count)) for row in first.output.splitlines())
    assert "PSP-RF-2001" in first.output and "difference 1.00 USD" in first.output
    assert "PSP-CH-1001" not in first.output  # matched items are not listed

    again = cli.invoke(app, ["payments", "reconcile", str(EXAMPLE), "--partner", partner, "--strict"])
    assert again.exit_code == 3, again.output  # discrepancies with --strict
    assert "imported before: nothing stored" in again.output


def test_reconciliations_lists_a_partners_runs(cli: CliRunner, service: Running) -> None:
    partner = unique_partner()
    seed_example_ledger(service.context, partner)
    imported = cli.invoke(app, ["payments", "reconcile", str(EXAMPLE), "--partner", partner])
    assert imported.exit_code == 0, imported.output
    (code,) = {word for word in imported.output.split() if word.startswith("RC")}
    listed = cli.invoke(app, ["payments", "reconciliations", "--partner", partner.lower()])
    assert listed.exit_code == 0, listed.output
    (row,) = [line for line in listed.output.splitlines() if code.rstrip(":") in line]
    assert partner in row and "2026-11-30 to 2026-11-30" in row
    assert "1 run(s)" in listed.output
    elsewhere = cli.invoke(app, ["payments", "reconciliations", "--partner", partner, "--from", "2026-12-01"])
    assert elsewhere.exit_code == 0 and "0 run(s)" in elsewhere.output
    bad = cli.invoke(app, ["payments", "reconciliations", "--from", "2026/12/01"])
    assert bad.exit_code == 1 and "from_date" in bad.output


def test_reconcile_names_the_bad_line(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "line_id,value_date,reference,type,currency,amount,description\nx,2026-11-30,R,COLLECTION,JPY,1.5,\n"
    )
    result = cli.invoke(app, ["payments", "reconcile", str(bad), "--partner", "P1"])
    assert result.exit_code == 1
    assert "VALIDATION_FAILED" in result.output and "line 2, amount: JPY allows 0 decimal places" in result.output


def test_reconcile_without_a_server_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XB_PAYMENTS_PORT", "1")
    monkeypatch.setenv("XB_VAR_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["payments", "reconcile", str(EXAMPLE), "--partner", "P1"])
    assert result.exit_code == 2 and "not reachable" in result.output


def test_statement_export_writes_every_line_with_balances(cli: CliRunner, service: Running, tmp_path: Path) -> None:
    partner, merchant = unique_partner(), codes.generate("MC", "E")
    for day in range(1, 4):
        post(service.context, partner, merchant, f"S-{day}", "10.00", "EUR", at=datetime(2026, 11, day, tzinfo=UTC))
    post(service.context, partner, merchant, "S-JPY", "1500", "JPY", at=datetime(2026, 11, 2, tzinfo=UTC))
    out = tmp_path / "statement.csv"
    result = cli.invoke(
        app, ["payments", "statement", merchant, "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "4 line(s) written" in result.output and "30.00 EUR" in result.output and "1500 JPY" in result.output
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["external_ref"], r["currency"], r["amount"], r["balance_after"]) for r in rows] == [
        ("S-1", "EUR", "10.00", "10.00"),
        ("S-2", "EUR", "10.00", "20.00"),
        ("S-JPY", "JPY", "1500", "1500"),
        ("S-3", "EUR", "10.00", "30.00"),
    ]
    assert rows[0]["posted_at"] == "2026-11-01T00:00:00Z"


def test_statement_with_bad_dates_leaves_no_file(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "statement.csv"
    merchant = codes.generate("MC", "E")
    result = cli.invoke(
        app, ["payments", "statement", merchant, "--from", "2026-11-30", "--to", "2026-11-01", "--out", str(out)]
    )
    assert result.exit_code == 1 and "to_date" in result.output
    assert list(tmp_path.iterdir()) == []
