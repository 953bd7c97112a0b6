"""Customer-service settings, read from XB_* variables (docs/customer-service.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.shared.errors import ConfigurationError
from services.shared.settings import SECONDS, env_setting, positive_finite

ODR_PROVIDERS = ("file", "http")


@dataclass(frozen=True)
class CustomerServiceSettings:
    ticket_attachment_max_bytes: int = 2 * 1024 * 1024  # per attachment
    sla_sweep_s: float = 60.0  # how often SLA breaches are detected
    # ISO 32122:2025: move on from negotiation after 10 calendar days without settlement.
    odr_negotiation_days: int = 10
    odr_provider: str = "file"  # adapters/odr_providers.py: "file" (JSON drop under var/) or "http"
    odr_http_url: str = ""
    odr_http_timeout_s: float = 10.0
    odr_sweep_s: float = 60.0  # how often due escalations and pending deliveries are looked for
    odr_retry_base_s: float = 60.0  # first wait after a failed delivery; doubles per attempt
    odr_retry_max_s: float = 3600.0  # longest wait between attempts
    odr_consent_version: str = "odr-consent-1"  # the ODR terms the parties accepted, named in each case file
    # Below this similarity the bot hands off rather than guess; chosen on the tuning half of
    # benchmarks/data/bot_questions.yaml (docs/benchmarks.md).
    bot_confidence_threshold: float = 0.325
    bot_context_timeout_s: float = 2.0  # a logistics or payments lookup slower than this is "unavailable"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CustomerServiceSettings:
        values: dict[str, Any] = {}
        read: dict[str, tuple[Callable[[str], Any], str, Callable[[Any], bool]]] = {
            "sla_sweep_s": (float, SECONDS, positive_finite),
            "ticket_attachment_max_bytes": (int, "an integer >= 1", lambda v: v >= 1),
            "odr_negotiation_days": (int, "a number of days >= 1", lambda v: v >= 1),
            "odr_provider": (str, f"one of {', '.join(ODR_PROVIDERS)}", lambda v: v in ODR_PROVIDERS),
            "odr_http_url": (str, "an http(s) URL", lambda v: v.startswith(("http://", "https://"))),
            "odr_http_timeout_s": (float, SECONDS, positive_finite),
            "odr_sweep_s": (float, SECONDS, positive_finite),
            "odr_retry_base_s": (float, SECONDS, positive_finite),
            "odr_retry_max_s": (float, SECONDS, positive_finite),
            "odr_consent_version": (str, "a version name", lambda v: bool(v.strip())),
            "bot_confidence_threshold": (float, "a number between 0 and 1", lambda v: 0 <= v <= 1),
            "bot_context_timeout_s": (float, SECONDS, positive_finite),
        }
        for name, (convert, what, valid) in read.items():
            value = env_setting(environ, name, convert, what, valid)
            if value is not None:
                values[name] = value
        settings = cls(**values)
        if settings.odr_provider == "http" and not settings.odr_http_url:
            raise ConfigurationError("XB_ODR_PROVIDER=http needs XB_ODR_HTTP_URL")
        return settings
