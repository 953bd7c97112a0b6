"""Customer-service settings, read from XB_* variables (docs/customer-service.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.shared.settings import env_setting


@dataclass(frozen=True)
class CustomerServiceSettings:
    ticket_attachment_max_bytes: int = 2 * 1024 * 1024  # per attachment
    sla_sweep_s: float = 60.0  # how often SLA breaches are detected

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CustomerServiceSettings:
        defaults = cls()
        sweep = env_setting(environ, "sla_sweep_s", float, "a number of seconds > 0", lambda v: 0 < v < float("inf"))
        limit = env_setting(environ, "ticket_attachment_max_bytes", int, "an integer >= 1", lambda v: v >= 1)
        return cls(
            ticket_attachment_max_bytes=defaults.ticket_attachment_max_bytes if limit is None else limit,
            sla_sweep_s=defaults.sla_sweep_s if sweep is None else sweep,
        )
