"""`xborder up` with a port already taken: one line naming the port and its variable, before any data is touched."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

PORT_VARIABLES = ("XB_GATEWAY_HTTP_PORT", "XB_GATEWAY_GRPC_PORT", "XB_COMPLIANCE_PORT", "XB_PAYMENTS_PORT")


@pytest.fixture
def held() -> Iterator[int]:
    """A port another process listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    var = tmp_path / "var"
    monkeypatch.setenv("XB_VAR_DIR", str(var))
    monkeypatch.setenv("XB_HOST", "127.0.0.1")
    monkeypatch.setenv("XB_LOG_JSON", "false")
    # 0: the system picks a free port, so only the port a test sets can collide.
    for variable in (*PORT_VARIABLES, "XB_LOGISTICS_PORT"):
        monkeypatch.setenv(variable, "0")
    for key in ("XB_BROKER_URL", "XB_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    return var


@pytest.mark.parametrize("variable", PORT_VARIABLES)
def test_a_taken_port_is_named_with_its_variable_before_any_data_is_touched(
    env: Path, held: int, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, str(held))
    result = CliRunner().invoke(app, ["up"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert f"port {held}" in lines[0] and variable in lines[0]
    assert not env.exists() or not any(env.iterdir())  # no database created, migrated or seeded


def test_one_port_set_for_two_components_is_named(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    monkeypatch.setenv("XB_PAYMENTS_PORT", str(free))
    monkeypatch.setenv("XB_LOGISTICS_PORT", str(free))
    result = CliRunner().invoke(app, ["up"])
    assert result.exit_code == 1
    assert f"port {free} is set for both payments gRPC and logistics gRPC" in result.output
    assert "XB_LOGISTICS_PORT" in result.output
