"""`xborder merchants`: onboarding (screened by a running compliance service), releasing a held merchant, key
rotation and revocation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from typer.testing import CliRunner
from xborder.compliance.v1 import screening_service_pb2_grpc

from cli.main import app
from services.shared.settings import Settings
from tests.servers import running_service


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A compliance service on a free port (onboarding screens through it) and the CLI pointed at it."""
    settings = Settings(var_dir=tmp_path / "var", log_json=False)
    with running_service(settings, "compliance", screening_service_pb2_grpc.ScreeningServiceStub) as compliance:
        values = {
            "XB_VAR_DIR": str(tmp_path / "var"),
            "XB_COMPLIANCE_PORT": str(compliance.port),
            "XB_LOG_JSON": "false",
            # The first screening builds the sanctions index, slowly on a loaded machine: the CLI is under
            # test here, not the deadline.
            "XB_DEFAULT_DEADLINE_S": "60",
        }
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("XB_DATABASE_URL", raising=False)
        monkeypatch.delenv("XB_BROKER_URL", raising=False)
        yield values


def onboard(*args: str) -> dict[str, str]:
    result = CliRunner().invoke(app, ["merchants", "onboard", *args, "--json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_onboard_prints_the_code_and_the_key_once(env: dict[str, str]) -> None:
    printed = onboard("--name", "Hangzhou Silk Trading Co", "--country", "CN", "--uscc", "91440300MA5DXB0T0W")
    assert printed["merchantCode"].startswith("MC") and printed["apiKey"].startswith("xbk_live_")
    assert printed["status"] == "ACTIVE"


def test_a_sanctioned_name_is_onboarded_held(env: dict[str, str]) -> None:
    assert onboard("--name", "Banco Nacional de Cuba", "--country", "CU")["status"] == "BLOCKED"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--name", "X", "--country", "CN"], "uscc"),
        (["--name", "X", "--country", "CN", "--uscc", "91440300MA5DXB0T0X"], "uscc"),
        (["--name", "X", "--country", "DEU"], "country"),
    ],
)
def test_bad_registrations_are_refused_naming_the_field(env: dict[str, str], args: list[str], named: str) -> None:
    result = CliRunner().invoke(app, ["merchants", "onboard", *args, "--json"])
    assert result.exit_code == 2 and named in result.output


def test_rotate_then_revoke(env: dict[str, str]) -> None:
    printed = onboard("--name", "Rotterdam Freight BV", "--country", "NL")
    key_id = printed["apiKey"].split("_")[2]
    rotated = CliRunner().invoke(
        app, ["merchants", "keys", "rotate", printed["merchantCode"], key_id, "--overlap-seconds", "60", "--json"]
    )
    assert rotated.exit_code == 0, rotated.output
    answer = json.loads(rotated.stdout.strip().splitlines()[-1])
    assert answer["apiKey"].startswith("xbk_live_") and answer["previous"]["expiresAt"]
    revoked = CliRunner().invoke(
        app, ["merchants", "keys", "revoke", printed["merchantCode"], answer["keyId"], "--json"]
    )
    assert revoked.exit_code == 0 and json.loads(revoked.stdout.strip().splitlines()[-1])["revokedAt"]
    again = CliRunner().invoke(app, ["merchants", "keys", "revoke", "MCG07KQQDYBCA31AJ7", key_id])
    assert again.exit_code == 1 and "NOT_FOUND" in again.output


def test_onboarding_without_compliance_is_refused_and_stores_nothing(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XB_COMPLIANCE_PORT", "9")  # nothing listens on the discard port
    result = CliRunner().invoke(app, ["merchants", "onboard", "--name", "X", "--country", "DE"])
    assert result.exit_code == 1 and "UNAVAILABLE" in result.output


def ops_session(login: str, role: str) -> str:
    """A fresh ops session of a new member of the ops staff, as `xborder operators add` and `login` give it."""
    password = "correct horse battery staple"
    added = CliRunner().invoke(
        app,
        ["operators", "add", "--login", login, "--name", login, "--role", role, "--password-stdin", "--json"],
        input=password + "\n",
    )
    assert added.exit_code == 0, added.output
    secret = parse_qs(urlparse(json.loads(added.stdout.strip().splitlines()[-1])["totpUri"]).query)["secret"][0]
    logged_in = CliRunner().invoke(
        app,
        ["operators", "login", "--login", login, "--totp", pyotp.TOTP(secret).now(), "--password-stdin", "--json"],
        input=password + "\n",
    )
    assert logged_in.exit_code == 0, logged_in.output
    return str(json.loads(logged_in.stdout.strip().splitlines()[-1])["sessionToken"])


def test_a_compliance_officer_releases_a_merchant_on_review_and_a_viewer_may_not(env: dict[str, str]) -> None:
    held = onboard("--name", "Bank Meli Iran", "--country", "DE")  # close to a listed bank: REVIEW
    assert held["status"] == "REVIEW"
    code, why = held["merchantCode"], "a namesake of the listed bank, checked against the register"
    viewer = CliRunner().invoke(
        app, ["merchants", "release", code, "--reason", why, "--session", ops_session("ops.viewer", "viewer")]
    )
    assert viewer.exit_code == 1 and "PERMISSION_DENIED" in viewer.output

    officer = ops_session("cmp.officer", "compliance_officer")
    released = CliRunner().invoke(
        app, ["merchants", "release", code, "--reason", why, "--json"], env={"XB_SESSION_TOKEN": officer}
    )
    assert released.exit_code == 0, released.output
    merchant = json.loads(released.stdout.strip().splitlines()[-1])
    assert merchant["status"] == "MERCHANT_STATUS_ACTIVE"
    assert [(d["previousStatus"], d["status"], d["decidedBy"]) for d in merchant["holdDecisions"]] == [
        ("REVIEW", "ACTIVE", "cmp.officer")
    ]
    again = CliRunner().invoke(app, ["merchants", "reject", code, "--reason", why, "--session", officer])
    assert again.exit_code == 1 and "FAILED_PRECONDITION" in again.output
    with_a_key = CliRunner().invoke(app, ["merchants", "release", code, "--reason", why, "--session", held["apiKey"]])
    assert with_a_key.exit_code == 1 and "UNAUTHENTICATED" in with_a_key.output
