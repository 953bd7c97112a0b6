"""The environment a CLI test runs the `xborder` command in: SQLite files under a temporary directory,
no broker or database URL from the developer's shell, and service ports nothing listens on (so `status`
reports the services down)."""

from __future__ import annotations

from pathlib import Path

import pytest


def offline_cli_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, extra: dict[str, str] | None = None, unset: tuple[str, ...] = ()
) -> dict[str, str]:
    values = {
        "XB_VAR_DIR": str(tmp_path / "var"),
        "XB_LOG_JSON": "false",
        "XB_COMPLIANCE_PORT": "1",
        "XB_PAYMENTS_PORT": "2",
        "XB_LOGISTICS_PORT": "3",
        "XB_GATEWAY_GRPC_PORT": "4",
        "XB_IDENTITY_PORT": "5",
        "XB_CUSTOMER_SERVICE_PORT": "6",
        **(extra or {}),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    for key in ("XB_BROKER_URL", "XB_DATABASE_URL", *unset):
        monkeypatch.delenv(key, raising=False)
    return values
