"""`xborder operators add|login|step-up|disable|link-sso|sso-login` on the embedded database (no running
service needed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.oidc_idp import Idp

PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("XB_LOG_JSON", "false")
    monkeypatch.delenv("XB_DATABASE_URL", raising=False)
    monkeypatch.delenv("XB_BROKER_URL", raising=False)


def run(*args: str, stdin: str = "") -> dict[str, str]:
    result = CliRunner().invoke(app, ["operators", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_add_then_login_with_password_and_totp() -> None:
    added = run(
        "add",
        "--login",
        "ops.admin",
        "--name",
        "Ops Admin",
        "--role",
        "admin",
        "--password-stdin",
        "--json",
        stdin=PASSWORD + "\n",
    )
    secret = parse_qs(urlparse(added["totpUri"]).query)["secret"][0]
    code = pyotp.TOTP(secret).now()
    session = run("login", "--login", "ops.admin", "--totp", code, "--password-stdin", "--json", stdin=PASSWORD + "\n")
    assert session["sessionToken"].startswith("xbo_sess_")
    replay = CliRunner().invoke(
        app, ["operators", "login", "--login", "ops.admin", "--totp", code, "--password-stdin"], input=PASSWORD + "\n"
    )
    assert replay.exit_code == 1 and "UNAUTHENTICATED" in replay.output
    fresh = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
    stepped = CliRunner().invoke(app, ["operators", "step-up", "--session", session["sessionToken"], "--totp", fresh])
    assert stepped.exit_code == 0, stepped.output
    disabled = CliRunner().invoke(app, ["operators", "disable", "ops.admin"])
    assert disabled.exit_code == 0 and "disabled" in disabled.output


def test_a_bad_role_or_short_password_names_the_field() -> None:
    bad_role = CliRunner().invoke(
        app,
        ["operators", "add", "--login", "x.y.z", "--name", "X", "--role", "root", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert bad_role.exit_code == 2 and "role" in bad_role.output
    short = CliRunner().invoke(
        app,
        ["operators", "add", "--login", "x.y.z", "--name", "X", "--role", "viewer", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code == 2 and "password" in short.output


def test_link_sso_then_sign_in_with_an_id_token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    idp = Idp(tmp_path / "jwks.json")
    for name, value in idp.env().items():
        monkeypatch.setenv(name, value)
    run(
        "add",
        "--login",
        "li.wei",
        "--name",
        "Li Wei",
        "--role",
        "viewer",
        "--password-stdin",
        "--json",
        stdin=PASSWORD + "\n",
    )
    linked = CliRunner().invoke(app, ["operators", "link-sso", "li.wei", "--subject", "00u-li-wei"])
    assert linked.exit_code == 0 and "00u-li-wei" in linked.output
    token_file = tmp_path / "id_token"
    token_file.write_text(idp.token("00u-li-wei", amr=["pwd"], nonce="n-1") + "\n")
    session = run("sso-login", "--id-token-file", str(token_file), "--nonce", "n-1", "--json")
    assert session["sessionToken"].startswith("xbo_sess_") and session["stepUpUntil"] is None
    replay = CliRunner().invoke(app, ["operators", "sso-login", "--id-token-file", str(token_file), "--nonce", "n-1"])
    assert replay.exit_code == 1 and "UNAUTHENTICATED" in replay.output
    from_stdin = CliRunner().invoke(
        app, ["operators", "sso-login", "--id-token-file", "-"], input=idp.token("00u-li-wei") + "\n"
    )
    assert from_stdin.exit_code == 0 and "sensitive calls allowed until" in from_stdin.output
