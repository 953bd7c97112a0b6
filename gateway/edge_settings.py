"""The gateway's own XB_* settings: audit, rate limits, CORS (docs/configuration.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from services.shared.errors import ConfigurationError
from services.shared.settings import Settings, boolean, env_setting, non_negative_finite

REDIS_SCHEMES = ("redis", "rediss", "unix")


def _origins(raw: str) -> tuple[str, ...]:
    found = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    if any(o == "*" or not o.startswith(("https://", "http://")) for o in found):
        raise ValueError(raw)  # a wildcard would let any site read an authenticated answer
    return found


def _positive(value: int) -> bool:
    return value >= 1


@dataclass(frozen=True)
class EdgeSettings:
    audit: bool = True
    audit_path: Path | None = None  # default: <var_dir>/gateway-audit.sqlite3
    rate_limit_per_s: float = 50.0  # tokens added per second, per caller and method; 0 turns limits off
    rate_limit_burst: int = 100
    cors_origins: tuple[str, ...] = ()
    # Buckets shared by every replica in this Redis (redis://host:6379/0); None keeps them in the process.
    # It may carry a password, so it is never printed.
    rate_limit_redis_url: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EdgeSettings:
        env = os.environ if environ is None else environ
        audit = env_setting(env, "audit", boolean, "true or false")
        path = env_setting(env, "audit_path", lambda v: Path(v).expanduser().resolve(), "a file path")
        per_s = env_setting(env, "rate_limit_per_s", float, "a number >= 0", non_negative_finite)
        burst = env_setting(env, "rate_limit_burst", int, "an integer >= 1", _positive)
        origins = env_setting(env, "cors_origins", _origins, "a comma-separated list of http(s) origins, no '*'")
        redis_url = (env.get("XB_RATE_LIMIT_REDIS_URL") or "").strip() or None
        if redis_url is not None and urlsplit(redis_url).scheme not in REDIS_SCHEMES:
            # The value is not echoed: it may hold a password.
            raise ConfigurationError("XB_RATE_LIMIT_REDIS_URL must be a redis://, rediss:// or unix:// URL")
        default = cls()
        return cls(
            audit=default.audit if audit is None else audit,
            audit_path=path,
            rate_limit_per_s=default.rate_limit_per_s if per_s is None else per_s,
            rate_limit_burst=default.rate_limit_burst if burst is None else burst,
            cors_origins=origins or (),
            rate_limit_redis_url=redis_url,
        )

    def audit_file(self, settings: Settings) -> Path:
        return self.audit_path or settings.var_dir / "gateway-audit.sqlite3"
