"""Value-added offer pricing (insurance premium table, financing limit) and the XB_FX_* settings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.payments.fx.settings import FxSettings
from services.payments.ledger.settings import LedgerSettings
from services.payments.vas import domain as vas
from services.shared.errors import ConfigurationError

SHANGHAI = vas.Place("CN", "Asia", "Eastern Asia")
TOKYO = vas.Place("JP", "Asia", "Eastern Asia")
SINGAPORE = vas.Place("SG", "Asia", "South-eastern Asia")
HAMBURG = vas.Place("DE", "Europe", "Western Europe")
ODESA = vas.Place("UA", "Europe", "Eastern Europe")


def test_premium_is_declared_value_times_class_rate_with_the_route_loading() -> None:
    # 10,000 USD of electronics CN -> DE: 10000 * 0.0045 * 1.25 = 56.25.
    offer = vas.insurance_premium(Decimal("10000.00"), 2, "ELECTRONICS", SHANGHAI, HAMBURG, Decimal("5.00"))
    assert offer.amount == Decimal("56.25")
    assert ("route loading (intercontinental)", Decimal("0.25")) in [(c.name, c.value) for c in offer.components]
    same_subregion = vas.insurance_premium(Decimal("10000.00"), 2, "ELECTRONICS", SHANGHAI, TOKYO, Decimal("5.00"))
    same_region = vas.insurance_premium(Decimal("10000.00"), 2, "ELECTRONICS", SHANGHAI, SINGAPORE, Decimal("5.00"))
    risky = vas.insurance_premium(Decimal("10000.00"), 2, "ELECTRONICS", HAMBURG, ODESA, Decimal("5.00"))
    assert same_subregion.amount < same_region.amount < offer.amount < risky.amount
    assert risky.amount == Decimal("90.00")


def test_batteries_cost_more_than_general_goods() -> None:
    general = vas.insurance_premium(Decimal("5000"), 0, "GENERAL", SHANGHAI, HAMBURG, Decimal("700"))
    batteries = vas.insurance_premium(Decimal("5000000"), 0, "BATTERIES", SHANGHAI, HAMBURG, Decimal("700"))
    assert general.amount == Decimal("700")  # 5000 JPY * 0.003 * 1.25 = 18.75 JPY: the minimum applies
    assert batteries.amount == Decimal("50000")  # 5,000,000 * 0.008 * 1.25, no decimals in JPY


def test_premium_rounds_to_the_minor_unit_half_even() -> None:
    # KWD has 3 decimals: 1234.567 * 0.003 (same sub-region, no loading) = 3.703701 -> 3.704.
    europe = vas.Place("FR", "Europe", "Western Europe")
    kuwait = vas.Place("KW", "Asia", "Western Asia")
    offer = vas.insurance_premium(
        Decimal("1234.567"), 3, "GENERAL", kuwait, vas.Place("SA", "Asia", "Western Asia"), Decimal("1.500")
    )
    assert offer.amount == Decimal("3.704")
    small = vas.insurance_premium(Decimal("123.456"), 3, "GENERAL", kuwait, kuwait, Decimal("1.500"))
    assert small.amount == Decimal("1.500")  # 0.370 is below the minimum premium
    offer = vas.insurance_premium(Decimal("12345.678"), 3, "GENERAL", kuwait, europe, Decimal("1.500"))
    assert offer.amount == Decimal("46.296")  # 12345.678 * 0.003 * 1.25 = 46.2962925


def test_financing_limit_is_a_share_of_settled_volume_capped_and_needs_history() -> None:
    assert vas.financing_limit(Decimal("100000.00"), 12, 2, Decimal("500000")).amount == Decimal("30000.00")
    assert vas.financing_limit(Decimal("9000000.00"), 400, 2, Decimal("500000")).amount == Decimal("500000.00")
    assert vas.financing_limit(Decimal("333.33"), 1, 2, Decimal("500000")).amount == Decimal("99.99")  # rounded down
    with pytest.raises(vas.NoSettledHistory):
        vas.financing_limit(Decimal(0), 0, 2, Decimal("500000"))


def test_fx_settings_default_to_no_network_and_are_validated() -> None:
    assert FxSettings.from_env({}).providers == ("ops", "ecb")
    assert FxSettings.from_env({"XB_FX_PROVIDERS": "ops, LIVE ,ecb"}).providers == ("ops", "live", "ecb")
    assert FxSettings.from_env({"XB_FX_LIVE_TIMEOUT_S": "0.5"}).live_timeout_s == 0.5
    assert FxSettings.from_env({"XB_FX_REFRESH_PAIRS": "usd/cny,EUR/JPY"}).refresh_pairs == ("USD/CNY", "EUR/JPY")
    for env, variable in (
        ({"XB_FX_PROVIDERS": "ops,bloomberg"}, "XB_FX_PROVIDERS"),
        ({"XB_FX_PROVIDERS": "ops,ops"}, "XB_FX_PROVIDERS"),
        ({"XB_FX_LIVE_TIMEOUT_S": "0"}, "XB_FX_LIVE_TIMEOUT_S"),
        ({"XB_FX_ECB_MAX_STALENESS_S": "soon"}, "XB_FX_ECB_MAX_STALENESS_S"),
        ({"XB_FX_REFRESH_PAIRS": "USDCNY"}, "XB_FX_REFRESH_PAIRS"),
        ({"XB_FX_REFRESH_PAIRS": "USD/USD"}, "XB_FX_REFRESH_PAIRS"),
    ):
        with pytest.raises(ConfigurationError, match=variable):
            FxSettings.from_env(env)


def test_ledger_sweep_interval_defaults_to_five_seconds_and_is_validated() -> None:
    assert LedgerSettings.from_env({}).sweep_s == 5.0
    assert LedgerSettings.from_env({"XB_LEDGER_SWEEP_S": "0.5"}).sweep_s == 0.5
    for raw in ("0", "-1", "soon"):
        with pytest.raises(ConfigurationError, match="XB_LEDGER_SWEEP_S"):
            LedgerSettings.from_env({"XB_LEDGER_SWEEP_S": raw})
