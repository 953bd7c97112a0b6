"""`xborder keys status` and `xborder keys rotate`, run as an operator would (typer's runner, SQLite files):
the payments vault's columns and identity's operator TOTP secrets."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner
from xborder.identity.v1 import access_service_pb2 as apb

from cli.main import app
from services.identity import bootstrap as identity
from services.identity.adapters.tables import operators
from services.payments import bootstrap
from services.payments.bank_accounts.domain import BankAccountDetails
from services.shared.clock import utcnow
from services.shared.context import ServiceContext
from services.shared.crypto import Envelope
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.ops_staff import PASSWORD, add_operator


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    var = tmp_path / "var"
    monkeypatch.setenv("XB_VAR_DIR", str(var))
    monkeypatch.setenv("XB_LOG_JSON", "false")
    for name in ("XB_BROKER_URL", "XB_DATABASE_URL", "XB_KEK_RING", "XB_BLIND_INDEX_KEY"):
        monkeypatch.delenv(name, raising=False)
    return var


def _register(var_dir: Path, count: int) -> None:
    context = bootstrap.bootstrap(Settings(var_dir=var_dir, log_json=False), RecordingBus())
    try:
        vault = bootstrap.bank_account_vault(context)
        with bootstrap.unit_of_work(context)() as uow:
            for n in range(count):
                details = BankAccountDetails(f"Holder {n}", "DE", "EUR", f"DE89370400440532013{n:03d}", None, None)
                vault.add(uow.bank_accounts, f"BA-{n}", "MC-CLI", details, utcnow())
            uow.commit()
    finally:
        context.close()


def _status(runner: CliRunner) -> dict:
    result = runner.invoke(app, ["keys", "status", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    return {(c["service"], c["column"]): c for c in body["columns"]} | {"remaining": body["remaining"]}


def test_status_then_rotate_moves_every_row_to_a_new_kek(var_dir: Path) -> None:
    _register(var_dir, 5)
    runner = CliRunner()
    before = _status(runner)
    number = before[("payments", "bank_accounts.number_enc")]
    assert (number["done"], number["remaining"], number["byVersion"]) == (5, 0, {"1": 5})
    assert ("compliance", "screenings.party_sensitive_enc") in before

    rotated = runner.invoke(app, ["keys", "rotate", "--batch-size", "2"], terminal_width=200)
    assert rotated.exit_code == 0, rotated.output
    assert "added KEK local-dev v2" in rotated.output
    assert "payments bank_accounts.number_enc: 5 done, 0 remaining" in rotated.output
    assert "XB_KEK_MIN_VERSION=2 retires older KEKs" in rotated.output
    after = _status(runner)
    assert after["remaining"] == 0
    assert after[("payments", "bank_accounts.holder_name_enc")]["byVersion"] == {"2": 5}

    resumed = runner.invoke(app, ["keys", "rotate", "--resume", "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert _status(runner)[("payments", "bank_accounts.number_enc")]["newestVersion"] == 2


def test_rotate_with_inline_keys_asks_for_a_restart_first(var_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv("XB_KEK_RING", f"inline:1:{key}")
    monkeypatch.setenv("XB_BLIND_INDEX_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    result = CliRunner().invoke(app, ["keys", "rotate"], terminal_width=200)
    assert result.exit_code == 2
    assert "inline" in result.output and "--resume" in result.output


def test_rotate_rewraps_operators_totp_secrets_and_a_running_identity_still_logs_them_in(var_dir: Path) -> None:
    settings = Settings(var_dir=var_dir, log_json=False)
    context = identity.bootstrap(settings, RecordingBus())
    try:
        access = identity.access_servicer(context)  # built before the rotation, like a running service
        secret = add_operator(access, "li.wei", apb.OPERATOR_ROLE_ADMIN, "Li Wei")
        before = _stored_totp(context)

        rotated = CliRunner().invoke(app, ["keys", "rotate"], terminal_width=200)
        assert rotated.exit_code == 0, rotated.output
        assert "identity operators.totp_secret: 1 done, 0 remaining" in rotated.output

        after = _stored_totp(context)
        assert (before.kek_version, after.kek_version) == (1, 2)
        assert after.ciphertext == before.ciphertext  # re-wrapped, not re-encrypted
        session = access.Login(
            apb.LoginRequest(login="li.wei", password=PASSWORD, totp_code=pyotp.TOTP(secret).now()),
            None,  # type: ignore[arg-type]  # called in-process: the servicer does not use its context
        )
        assert session.session_token.startswith("xbo_sess_")
    finally:
        context.close()


def _stored_totp(context: ServiceContext) -> Envelope:
    with context.engine.connect() as connection:
        stored = connection.execute(
            sa.select(operators.c.totp_secret).where(operators.c.login == "li.wei")
        ).scalar_one()
    return Envelope.from_text(stored)


def test_rotate_blind_index_adds_an_index_key_and_recomputes_every_index(var_dir: Path) -> None:
    _register(var_dir, 5)
    runner = CliRunner()
    rotated = runner.invoke(
        app, ["keys", "rotate", "--blind-index", "--settle", "0", "--batch-size", "2"], terminal_width=200
    )
    assert rotated.exit_code == 0, rotated.output
    assert "added blind-index key v2" in rotated.output
    assert "payments bank_accounts.number_index: 5 done, 0 remaining" in rotated.output
    assert "every blind index is under index key v2" in rotated.output
    status = json.loads(runner.invoke(app, ["keys", "status", "--json"]).output)
    assert status["indexRemaining"] == 0 and status["remaining"] == 0  # the KEK rotation is not touched
    assert {c["column"]: c["byVersion"] for c in status["blindIndexes"]} == {"bank_accounts.number_index": {"2": 5}}


def test_rotate_blind_index_with_inline_keys_asks_for_a_restart_first(
    var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv("XB_KEK_RING", f"inline:1:{key}")
    monkeypatch.setenv("XB_BLIND_INDEX_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    result = CliRunner().invoke(app, ["keys", "rotate", "--blind-index"], terminal_width=200)
    assert result.exit_code == 2
    assert "XB_BLIND_INDEX_KEY" in result.output and "--blind-index --resume" in result.output
