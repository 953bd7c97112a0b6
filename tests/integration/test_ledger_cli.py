"""`xborder ledger balances` and `xborder ledger verify`, run as an operator would (real SQLite files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from services.payments.ledger.adapters.tables import ledger_accounts
from services.shared.settings import Settings
from tests.ledger_support import fund, payments_context, wallets


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("XB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("XB_LOG_JSON", "false")
    monkeypatch.delenv("XB_DATABASE_URL", raising=False)
    monkeypatch.delenv("XB_BROKER_URL", raising=False)
    return Settings(var_dir=tmp_path / "var", log_json=False)


def test_balances_and_verify_then_a_tampered_ledger_fails_verify(settings_env: Settings) -> None:
    with payments_context(settings_env) as context:
        w = wallets(context, "JPY")
        fund(context, w, "1500")
    runner = CliRunner()
    shown = runner.invoke(app, ["ledger", "balances", w.merchant])
    assert shown.exit_code == 0, shown.output
    assert "JPY" in shown.output and "1500" in shown.output
    ok = runner.invoke(app, ["ledger", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "ok" in ok.output and "JPY" in ok.output

    with payments_context(settings_env) as context, context.engine.begin() as connection:
        connection.execute(
            ledger_accounts.update().where(ledger_accounts.c.code == w.available.code).values(credits_posted=1)
        )
    broken = runner.invoke(app, ["ledger", "verify"])
    assert broken.exit_code == 1
    assert "problem" in broken.output and w.available.code in broken.output.replace("\n", "")


def test_balances_refuses_a_bad_merchant_code(settings_env: Settings) -> None:
    result = CliRunner().invoke(app, ["ledger", "balances", "NOT-A-CODE"])
    assert result.exit_code == 2
    assert "MERCHANT" in result.output
