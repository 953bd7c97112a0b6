"""FX settings, read from XB_FX_* variables (docs/fx.md); each error names its variable.

The live provider (forex-python, network) is off unless named in XB_FX_PROVIDERS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.shared.errors import ConfigurationError
from services.shared.settings import env_setting, seconds_setting

PROVIDERS = ("ops", "live", "ecb")


def _providers(raw: str) -> tuple[str, ...]:
    names = tuple(part.strip().lower() for part in raw.split(","))
    if any(n not in PROVIDERS for n in names) or not names or len(set(names)) != len(names):
        raise ConfigurationError(
            f"XB_FX_PROVIDERS must list distinct providers from {', '.join(PROVIDERS)}, got {raw!r}"
        )
    return names


def _pairs(raw: str) -> tuple[str, ...]:
    pairs = tuple(part.strip().upper() for part in raw.split(",") if part.strip())
    bad = [p for p in pairs if len(p) != 7 or p[3] != "/" or not (p[:3] + p[4:]).isalpha() or p[:3] == p[4:]]
    if bad:
        raise ConfigurationError(f"XB_FX_REFRESH_PAIRS must be pairs like USD/CNY,EUR/CNY; got {bad[0]!r}")
    return pairs


@dataclass(frozen=True)
class FxSettings:
    providers: tuple[str, ...] = ("ops", "ecb")
    live_timeout_s: float = 2.0
    live_max_staleness_s: float = 300.0
    ecb_max_staleness_s: float = 5 * 86_400 + 7_200  # Maundy Thursday 16:00 CET to Easter Tuesday, +2 h
    refresh_interval_s: float = 300.0
    refresh_pairs: tuple[str, ...] = ("USD/CNY", "EUR/CNY", "GBP/CNY", "HKD/CNY", "EUR/USD")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FxSettings:
        kw: dict[str, object] = {}
        for name in ("live_timeout_s", "live_max_staleness_s", "ecb_max_staleness_s", "refresh_interval_s"):
            if (seconds := seconds_setting(environ, f"fx_{name}")) is not None:
                kw[name] = seconds
        if (providers := env_setting(environ, "fx_providers", _providers, "")) is not None:
            kw["providers"] = providers
        if (pairs := env_setting(environ, "fx_refresh_pairs", _pairs, "")) is not None:
            kw["refresh_pairs"] = pairs
        return cls(**kw)  # type: ignore[arg-type]
