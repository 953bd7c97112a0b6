"""Process configuration, read once from XB_* environment variables into a frozen dataclass."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from services.registry import GATEWAY_GRPC_PORT, GATEWAY_HTTP_PORT, SERVICE_PORTS
from services.shared.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]


def default_grpc_workers() -> int:
    """Two threads per core, 4 to 16: more threads than that only contend for the GIL (docs/benchmarks.md)."""
    return max(4, min(16, 2 * (os.cpu_count() or 2)))


_BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}

SECONDS = "a number of seconds > 0"
"""How a setting read by `seconds_setting` is described in its error."""


def positive_finite(value: float) -> bool:
    """Above zero and finite: a duration or rate a timer can use (`float()` also accepts "inf" and "nan")."""
    return value > 0 and math.isfinite(value)


def non_negative_finite(value: float) -> bool:
    return value >= 0 and math.isfinite(value)


def boolean(raw: str) -> bool:
    """1/true/yes or 0/false/no, any case; anything else is a ValueError (env_setting names the variable)."""
    if raw.lower() not in _BOOLEANS:
        raise ValueError(raw)
    return _BOOLEANS[raw.lower()]


SECRET_FIELDS = frozenset({"database_url", "broker_url"})
KEY_FIELDS = frozenset({"kek_ring", "blind_index_key"})  # raw key material when given inline: never printed


def mask_url(url: str | None) -> str | None:
    if not url or "@" not in url:
        return url
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    secret = ":***" if parts.password else ""
    return urlunsplit((parts.scheme, f"{user}{secret}@{host}{port}", parts.path, parts.query, parts.fragment))


T = TypeVar("T")


def env_setting(
    environ: Mapping[str, str] | None,
    name: str,
    convert: Callable[[str], T],
    what: str,
    valid: Callable[[T], bool] = lambda _: True,
) -> T | None:
    """The converted value of XB_<NAME> (None when unset or empty), for a service's own settings.

    A value `convert` rejects (ValueError) or `valid` refuses is a ConfigurationError naming the variable.
    """
    variable = f"XB_{name.upper()}"
    raw = (os.environ if environ is None else environ).get(variable)
    if raw in (None, ""):
        return None
    try:
        value = convert(raw)
    except ValueError:
        raise ConfigurationError(f"{variable} must be {what}, got {raw!r}") from None
    if not valid(value):
        raise ConfigurationError(f"{variable} must be {what}, got {raw!r}")
    return value


def seconds_setting(environ: Mapping[str, str] | None, name: str) -> float | None:
    """XB_<NAME> as a duration in seconds (> 0, finite), None when unset; a ConfigurationError otherwise."""
    return env_setting(environ, name, float, SECONDS, positive_finite)


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to start. Defaults give the embedded platform (SQLite, in-process bus)."""

    env: str = "dev"
    var_dir: Path = ROOT / "var"
    data_dir: Path = ROOT / "data"
    database_url: str | None = None
    db_schema_prefix: str = ""
    broker_url: str | None = None
    host: str = "127.0.0.1"
    gateway_http_port: int = GATEWAY_HTTP_PORT
    gateway_grpc_port: int = GATEWAY_GRPC_PORT
    service_ports: Mapping[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))
    service_hosts: Mapping[str, str] = field(default_factory=dict)
    grpc_max_message_bytes: int = 4 * 1024 * 1024
    grpc_workers: int = field(default_factory=lambda: default_grpc_workers())
    default_deadline_s: float = 10.0
    http_max_body_bytes: int = 1024 * 1024
    metrics_port: int = 0
    log_level: str = "INFO"
    log_json: bool = True
    outbox_poll_s: float = 0.5
    seed_reference_data: bool = True
    screening_timeout_s: float = 3.0  # compliance ScreenParty deadline before a payout is held
    kek_ring: str | None = field(default=None, repr=False)  # file path or inline id:version:b64key,... (docs/crypto.md)
    kek_min_version: int = 1
    blind_index_key: str | None = field(default=None, repr=False)  # base64, with an inline XB_KEK_RING

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read XB_* variables; an unparseable value is a ConfigurationError naming the variable."""
        env = os.environ if environ is None else environ
        kw: dict[str, object] = {}

        def get(name: str) -> str | None:
            value = env.get(f"XB_{name.upper()}")
            return value if value not in (None, "") else None

        def parse(name: str, convert: Callable[[str], Any], what: str, valid: Callable[[Any], bool]) -> Any:
            return env_setting(env, name, convert, what, valid)

        def number(name: str, convert: Callable[[str], Any], what: str, valid: Callable[[Any], bool]) -> None:
            if (value := parse(name, convert, what, valid)) is not None:
                kw[name] = value

        for name in ("env", "database_url", "broker_url", "host", "log_level", "db_schema_prefix"):
            if (value := get(name)) is not None:
                kw[name] = value
        for name in ("var_dir", "data_dir"):
            if (value := get(name)) is not None:
                kw[name] = Path(value).expanduser().resolve()
        for name in ("gateway_http_port", "gateway_grpc_port", "metrics_port"):
            number(name, int, "a port number (0-65535)", lambda v: 0 <= v <= 65535)
        number("grpc_workers", int, "an integer >= 1", lambda v: v >= 1)
        number("grpc_max_message_bytes", int, "an integer >= 1024", lambda v: v >= 1024)
        number("http_max_body_bytes", int, "an integer >= 1024", lambda v: v >= 1024)
        number("default_deadline_s", float, SECONDS, positive_finite)
        number("kek_min_version", int, "an integer >= 1", lambda v: v >= 1)
        for name in ("kek_ring", "blind_index_key"):
            if (value := get(name)) is not None:
                kw[name] = value
        number("outbox_poll_s", float, SECONDS, positive_finite)
        number("screening_timeout_s", float, SECONDS, positive_finite)
        for name in ("log_json", "seed_reference_data"):
            if (flag := parse(name, boolean, "true or false", lambda _: True)) is not None:
                kw[name] = flag

        ports = dict(SERVICE_PORTS)
        hosts: dict[str, str] = {}
        for service in SERVICE_PORTS:
            port = parse(f"{service}_port", int, "a port number (0-65535)", lambda v: 0 <= v <= 65535)
            if port is not None:
                ports[service] = port
            if (host := get(f"{service}_host")) is not None:
                hosts[service] = host
        kw["service_ports"] = ports
        kw["service_hosts"] = hosts

        url = kw.get("database_url")
        if isinstance(url, str) and not url.startswith(("sqlite", "postgresql")):
            raise ConfigurationError("XB_DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL")
        broker = kw.get("broker_url")
        if isinstance(broker, str) and not broker.startswith(("amqp://", "amqps://", "memory://")):
            raise ConfigurationError("XB_BROKER_URL must be an amqp:// URL")
        return cls(**kw)  # type: ignore[arg-type]

    def service_address(self, service: str) -> str:
        """host:port at which a service's gRPC server is reached."""
        return f"{self.service_hosts.get(service, self.host)}:{self.service_ports[service]}"

    @property
    def bind_host(self) -> str:
        """Where servers listen: every interface in production (containers), else the configured host."""
        return "0.0.0.0" if self.env == "prod" else self.host  # noqa: S104

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None or self.database_url.startswith("sqlite")

    def masked(self) -> dict[str, object]:
        """The settings as printable values, secrets masked."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = mask_url(value) if f.name in SECRET_FIELDS else value
            if f.name in KEY_FIELDS and value and (f.name == "blind_index_key" or ":" in value):
                out[f.name] = "***"
        return out
