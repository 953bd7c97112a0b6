"""Ledger settings, read from XB_LEDGER_* variables (docs/ledger.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.shared.settings import seconds_setting


@dataclass(frozen=True)
class LedgerSettings:
    sweep_s: float = 5.0  # how often expired pending ledger transfers (payouts) are voided

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LedgerSettings:
        sweep = seconds_setting(environ, "ledger_sweep_s")
        return cls() if sweep is None else cls(sweep_s=sweep)
