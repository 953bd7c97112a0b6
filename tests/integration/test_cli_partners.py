"""`xborder partners`: onboarding (screened by a running compliance service), show, rejecting a held one,
certificates add/revoke."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from xborder.compliance.v1 import screening_service_pb2_grpc

from cli.main import app
from services.shared.settings import Settings
from tests.integration.test_cli_merchants import ops_session
from tests.partner_certs import TestCa
from tests.servers import running_service


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    settings = Settings(var_dir=tmp_path / "var", log_json=False)
    with running_service(settings, "compliance", screening_service_pb2_grpc.ScreeningServiceStub) as compliance:
        values = {
            "XB_VAR_DIR": str(tmp_path / "var"),
            "XB_COMPLIANCE_PORT": str(compliance.port),
            "XB_LOG_JSON": "false",
        }
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("XB_DATABASE_URL", raising=False)
        monkeypatch.delenv("XB_BROKER_URL", raising=False)
        yield


def run(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["partners", *args, "--json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_onboard_show_and_certificates(env: None, tmp_path: Path) -> None:
    partner = run(
        "onboard",
        "--name",
        "Rhine Parcel GmbH",
        "--kind",
        "logistics",
        "--country",
        "DE",
        "--owns",
        "dhl_express",
        "--owns",
        "hermes",
        "--contact",
        "Ops Desk,ops@rhine.example",
    )
    code = partner["partnerCode"]
    assert code.startswith("HB") and partner["status"] == "PARTNER_STATUS_ACTIVE"
    assert partner["owns"] == ["DHL_EXPRESS", "HERMES"] and partner["screeningCode"].startswith("HC")
    issued = TestCa().issue("rhine-01")
    pem = tmp_path / "client.pem"
    pem.write_bytes(issued.cert_pem)
    assert run("certificates", "add", code, "--pem", str(pem), "--label", "push")["fingerprint"] == issued.fingerprint
    assert "revokedAt" in run("certificates", "revoke", code, issued.fingerprint)
    shown = run("show", code)
    assert shown["certificates"][0]["fingerprint"] == issued.fingerprint and "revokedAt" in shown["certificates"][0]


def test_a_sanctioned_partner_is_held_and_bad_input_names_the_field(env: None) -> None:
    held = run("onboard", "--name", "Banco Nacional de Cuba", "--kind", "payment", "--country", "CU", "--owns", "BNC")
    assert held["status"] == "PARTNER_STATUS_BLOCKED"
    result = CliRunner().invoke(app, ["partners", "onboard", "--name", "X", "--kind", "warehouse", "--country", "DE"])
    assert result.exit_code == 2 and "owns" in result.output
    unknown = CliRunner().invoke(app, ["partners", "onboard", "--name", "X", "--kind", "airline", "--country", "DE"])
    assert unknown.exit_code == 2 and "kind" in unknown.output


def test_a_held_partner_is_rejected_by_an_admin_and_shows_the_decision(env: None) -> None:
    partner = run("onboard", "--name", "Bank Meli Iran", "--kind", "payment", "--country", "DE", "--owns", "BMI")
    assert partner["status"] == "PARTNER_STATUS_REVIEW"
    admin = ops_session("ops.admin", "admin")
    why = "the listed bank itself, per its registration documents"
    rejected = run("reject", partner["partnerCode"], "--reason", why, "--session", admin)
    assert rejected["status"] == "PARTNER_STATUS_REJECTED"
    shown = CliRunner().invoke(app, ["partners", "show", partner["partnerCode"]], terminal_width=200)
    assert shown.exit_code == 0 and "REVIEW -> REJECTED by ops.admin" in shown.output
    again = CliRunner().invoke(
        app, ["partners", "release", partner["partnerCode"], "--reason", why, "--session", admin]
    )
    assert again.exit_code == 1 and "FAILED_PRECONDITION" in again.output
