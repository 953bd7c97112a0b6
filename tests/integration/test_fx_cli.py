"""`xborder rates ...` as ops run it (typer's runner, real SQLite files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from services.shared import codes


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("XB_LOG_JSON", "false")
    monkeypatch.setenv("XB_FX_REFRESH_PAIRS", "USD/CNY,CNY/USD,EUR/JPY")
    monkeypatch.delenv("XB_BROKER_URL", raising=False)
    monkeypatch.delenv("XB_DATABASE_URL", raising=False)
    monkeypatch.delenv("XB_FX_PROVIDERS", raising=False)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.output


def test_an_ops_rate_is_entered_then_used_by_the_chain_and_its_inverse(env: None) -> None:
    code, out = run("rates", "set", "usd", "CNY", "7.1234", "--valid-minutes", "60", "--entered-by", "alice")
    assert code == 0, out
    assert "USD/CNY = 7.1234" in out and "valid until" in out
    code, out = run("rates", "show", "CNY", "USD")
    assert code == 0, out
    assert "CNY/USD = 0.1403824017 from ops (inverse of USD/CNY)" in out
    code, out = run("rates", "refresh")
    # EUR/JPY has no fresh rate (no ops entry; the ECB file in data/ is not imported here): reported, and the
    # chain did what it is configured to do, so the command succeeds unless asked to require every pair.
    assert code == 0, out
    assert "USD/CNY" in out and "CNY/USD" in out and "EUR/JPY: no fresh EUR/JPY rate" in out
    assert "2 of 3 pairs refreshed" in out
    code, out = run("rates", "refresh", "--require-all")
    assert code == 1
    assert "EUR/JPY: no fresh EUR/JPY rate" in out


def test_a_pair_without_a_rate_says_why(env: None) -> None:
    code, out = run("rates", "show", "USD", "JPY")
    assert code == 1
    assert "RATE_UNAVAILABLE" in out and "USD/JPY" in out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("rates", "set", "USD", "QQQ", "7"), "QUOTE"),
        (("rates", "set", "USD", "USD", "7"), "QUOTE"),
        (("rates", "set", "USD", "CNY", "0"), "RATE"),
        (("rates", "set", "USD", "CNY", "seven"), "RATE"),
        (("rates", "set", "USD", "CNY", "7", "--valid-minutes", "0"), "--valid-minutes"),
        (("rates", "spread", "USD", "CNY", "GOLD", "50"), "TIER"),
        (("rates", "spread", "USD", "CNY", "STANDARD", "3000"), "BPS"),
        (("rates", "tier", "MC123", "PLUS"), "MERCHANT_CODE"),
    ],
)
def test_bad_input_names_the_argument(env: None, args: tuple[str, ...], named: str) -> None:
    code, out = run(*args)
    assert code == 2, out
    assert named in out


def test_spreads_and_tiers_are_editable(env: None) -> None:
    code, out = run("rates", "spreads")
    assert code == 0 and "ENTERPRISE" in out and "lock premium" in out
    code, out = run("rates", "spread", "USD", "JPY", "plus", "55")
    assert code == 0, out
    code, out = run("rates", "spreads")
    assert "PLUS" in out and "55" in out
    merchant = codes.generate("MC")
    code, out = run("rates", "tier", merchant.lower(), "enterprise")
    assert code == 0 and f"{merchant}: tier ENTERPRISE" in out


class UnreachableLiveSource:
    """forex-python's client without a network: every call fails as `requests` does offline."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def get_rate(self, base_cur: str, dest_cur: str, date_obj: object = None) -> object:
        self.calls.append((base_cur, dest_cur))
        raise ConnectionError("Failed to establish a new connection: network is unreachable")


@pytest.fixture
def live_offline(env: None, monkeypatch: pytest.MonkeyPatch) -> UnreachableLiveSource:
    from services.payments import bootstrap

    source = UnreachableLiveSource()
    monkeypatch.setattr(bootstrap, "forex_python_client", lambda: source)
    monkeypatch.setenv("XB_FX_REFRESH_PAIRS", "USD/CNY,EUR/USD")
    # The shipped ECB file is months old; the fallback is judged fresh here so that it can serve.
    monkeypatch.setenv("XB_FX_ECB_MAX_STALENESS_S", str(10 * 365 * 86_400))
    code, out = run("import", "--service", "payments")
    assert code == 0, out
    return source


def test_refresh_with_the_live_source_unreachable_falls_back_to_ecb_and_succeeds(
    live_offline: UnreachableLiveSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XB_FX_PROVIDERS", "live,ecb")
    code, out = run("rates", "refresh")
    assert code == 0, out
    assert live_offline.calls == [("USD", "CNY"), ("EUR", "USD")]
    assert "2 of 2 pairs refreshed" in out
    for pair in ("USD/CNY", "EUR/USD"):
        row = next(line for line in out.splitlines() if line.startswith(f"│ {pair}"))
        assert "│ ecb " in row and "live: live source failed: ConnectionError" in row


def test_refresh_fails_when_an_outage_leaves_pairs_without_a_rate(
    live_offline: UnreachableLiveSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XB_FX_PROVIDERS", "live")
    code, out = run("rates", "refresh")
    assert code == 1
    assert "0 of 2 pairs refreshed" in out
    assert "USD/CNY: no fresh USD/CNY rate: live: live source failed: ConnectionError" in out
    assert "outage" in out
