"""The `xborder` operations command, run as a user would (typer's runner, real SQLite files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.cli_env import offline_cli_env


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    return offline_cli_env(tmp_path, monkeypatch)


def test_import_twice_reports_unchanged(env: dict[str, str]) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["import", "--service", "payments", "--dataset", "iso4217_currencies"])
    assert first.exit_code == 0, first.output
    assert "imported" in first.output and "iso4217_currencies" in first.output
    second = runner.invoke(app, ["import", "--service", "payments", "--dataset", "iso4217_currencies"])
    assert second.exit_code == 0, second.output
    assert "unchanged" in second.output


def test_import_names_a_bad_option(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["import", "--service", "billing"])
    assert result.exit_code == 2
    assert "--service" in result.output and "billing" in result.output
    result = CliRunner().invoke(app, ["import", "--service", "payments", "--dataset", "nope"])
    assert result.exit_code == 2
    assert "--dataset" in result.output and "ecb_reference_rates" in result.output


def test_import_of_a_missing_file_changes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["import", "--service", "payments", "--data-dir", str(tmp_path / "empty")])
    assert result.exit_code == 1
    assert "nothing changed" in result.output


def test_status_reports_unreachable_services_and_fails(env: dict[str, str]) -> None:
    CliRunner().invoke(app, ["import", "--service", "payments", "--dataset", "iso4217_currencies"])
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert "UNREACHABLE" in result.output
    assert "iso4217_currencies@" in result.output  # the database is read even when the server is down
    assert "in-process bus" in result.output
    # The import's event waits in the payments outbox: no platform is running to publish it.
    payments_row = next(line for line in result.output.splitlines() if line.startswith("│ payments"))
    assert payments_row.rstrip(" │").endswith("1")


def test_status_shows_whole_addresses_on_an_80_column_terminal(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hosts = {
        "compliance": "compliance.xborder.svc.cluster.local",
        "payments": "payments.xborder.svc.cluster.local",
        "logistics": "logistics-primary.eu-west-1.xborder.svc.cluster.local",
    }
    for service, host in hosts.items():
        monkeypatch.setenv(f"XB_{service.upper()}_HOST", host)
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "80"})
    assert result.exit_code == 1  # nothing listens there
    lines = result.output.splitlines()
    for service, host in hosts.items():
        address = f"{host}:{env[f'XB_{service.upper()}_PORT']}"
        row = next(line for line in lines if line.startswith(f"│ {service}"))
        assert f"│ {address} " in row and "UNREACHABLE" in row
    assert any("127.0.0.1:4, http :8080" in line for line in lines)


def test_bad_configuration_is_named(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XB_GRPC_WORKERS", "lots")
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 2
    assert "XB_GRPC_WORKERS" in result.output


def test_import_applies_a_changed_thresholds_file_and_status_says_which_thresholds_apply(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    shipped = Path(__file__).resolve().parents[2] / "data" / "screening"
    ops = tmp_path / "ops"
    shutil.copytree(shipped, ops / "screening")
    path = ops / "screening" / "thresholds.yaml"
    path.write_text(path.read_text("utf-8").replace("block: 0.92", "block: 0.90"), "utf-8")
    runner = CliRunner()
    args = ["import", "--service", "compliance", "--dataset", "screening_thresholds", "--data-dir", str(ops)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "screening_thresholds" in first.output and "imported" in first.output
    assert "unchanged" in runner.invoke(app, args).output

    status = runner.invoke(app, ["status"], env={"COLUMNS": "250"})
    assert "screening_thresholds@" in status.output
    assert "screening thresholds: the imported screening_thresholds dataset" in status.output
    monkeypatch.setenv("XB_SCREENING_BLOCK_THRESHOLD", "0.95")
    status = runner.invoke(app, ["status"], env={"COLUMNS": "250"})
    assert "screening thresholds: overridden by XB_SCREENING_BLOCK_THRESHOLD=0.95" in status.output
