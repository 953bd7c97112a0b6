"""The embedded platform: every service in one process, events over the in-process bus."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.embedded import Platform
from services.registry import SERVICES
from services.shared.settings import Settings


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    running = Platform(replace(settings, service_ports=dict.fromkeys(SERVICES, 0), gateway_grpc_port=0))
    running.boot()
    running.seed()
    running.serve()
    yield running
    running.stop()


def test_every_service_answers_health_checks(platform: Platform) -> None:
    for name in SERVICES:
        with grpc.insecure_channel(platform.settings.service_address(name)) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, name


def test_reference_data_events_reach_compliance(platform: Platform) -> None:
    from services.compliance.service_layer.reference_data import list_upstream_datasets

    compliance = platform.contexts["compliance"]
    expected = {
        ("payments", "iso4217_currencies"),
        ("payments", "ecb_reference_rates"),
        ("logistics", "iso3166_countries"),
        ("logistics", "unece_rec24_status_codes"),
    }
    deadline = time.monotonic() + 30  # generous for a loaded machine; the loop ends as soon as it is true
    seen: set[tuple[str, str]] = set()
    while time.monotonic() < deadline:
        seen = {(d.service, d.dataset) for d in list_upstream_datasets(compliance.uow)}
        if expected <= seen:
            break
        time.sleep(0.05)
    assert expected <= seen
    # every outbox empties (compliance also announces its own datasets and the seeded rule library)
    while time.monotonic() < deadline and any(c.relay.pending() for c in platform.contexts.values()):
        time.sleep(0.05)
    for context in platform.contexts.values():
        assert context.relay.pending() == 0


def test_a_second_seed_changes_nothing(platform: Platform) -> None:
    results = platform.seed()
    assert results and not any(r.changed for r in results)


def test_status_reports_every_component_serving(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    platform.start_gateway(http=False)
    env = {f"XB_{name.upper()}_PORT": str(port) for name, port in platform.settings.service_ports.items()}
    env |= {
        "XB_GATEWAY_GRPC_PORT": str(platform.servers["gateway"].port),
        "XB_VAR_DIR": str(platform.settings.var_dir),
        "COLUMNS": "250",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("XB_BROKER_URL", raising=False)
    monkeypatch.delenv("XB_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert result.output.count("SERVING") == len(platform.servers)
    assert "hs2022@" in result.output and "ecb_reference_rates@" in result.output


def test_the_first_start_onboards_a_demo_merchant_whose_key_works_through_the_gateway(platform: Platform) -> None:
    import json
    import stat

    from xborder.payments.v1 import ledger_service_pb2 as ledger_pb
    from xborder.payments.v1 import ledger_service_pb2_grpc as ledger_grpc

    from cli.merchants import demo_credentials

    platform.start_gateway(http=False)
    path, written = demo_credentials(platform.contexts["identity"], platform.settings.var_dir)
    assert written is not None and json.loads(path.read_text()) == written
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert demo_credentials(platform.contexts["identity"], platform.settings.var_dir) == (path, None)  # kept
    with grpc.insecure_channel(f"127.0.0.1:{platform.servers['gateway'].port}") as channel:
        ledger = ledger_grpc.LedgerServiceStub(channel)
        own = ledger.GetBalances(
            ledger_pb.GetBalancesRequest(),
            metadata=(("authorization", f"Bearer {written['apiKey']}"),),
            timeout=10,
        )
        assert own.merchant_code == written["merchantCode"]
        verified = ledger.VerifyLedger(
            ledger_pb.VerifyLedgerRequest(),
            metadata=(("authorization", f"Bearer {written['operatorKey']}"),),
            timeout=10,
        )
        assert verified.ok
    path.unlink()  # the secrets are stored nowhere else: a new start says how to issue new keys
    with pytest.raises(RuntimeError, match="keys rotate"):
        demo_credentials(platform.contexts["identity"], platform.settings.var_dir)
