"""`xborder screen`, run as an operator would (typer's runner, real SQLite files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("XB_LOG_JSON", "false")
    monkeypatch.delenv("XB_BROKER_URL", raising=False)
    monkeypatch.delenv("XB_DATABASE_URL", raising=False)


def test_screen_before_and_after_the_lists_are_imported(env: None) -> None:
    runner = CliRunner()
    before = runner.invoke(app, ["screen", "Eric Badege"])
    assert before.exit_code == 1
    assert "not screened" in before.output and "ofac_sdn" in before.output
    imported = runner.invoke(app, ["import", "--service", "compliance"])
    assert imported.exit_code == 0, imported.output
    hit = runner.invoke(app, ["screen", "Eric Badege", "--type", "person", "--country", "CD"], terminal_width=200)
    assert hit.exit_code == 0, hit.output
    assert "CDi.001" in hit.output and "decision: BLOCK" in hit.output
    assert "un_consolidated:CDi.001 name parts: eric~eric (exact), badege~badege (exact)" in hit.output
    assert "un_consolidated: 1003 entries, 2026-02-27" in hit.output
    clear = runner.invoke(app, ["screen", "Shenzhen Huaxin Trading Co., Ltd.", "--type", "company"], terminal_width=200)
    assert clear.exit_code == 0 and "decision: CLEAR" in clear.output


def test_screen_names_bad_options(env: None) -> None:
    result = CliRunner().invoke(app, ["screen", "X", "--country", "USA", "--dob", "1990-13-01", "--type", "ship"])
    assert result.exit_code == 2
    assert "--country" in result.output and "--dob" in result.output and "--type" in result.output
