"""The nameko worker: its handlers match the declared topology, and an event published by a gRPC-side process
through the outbox reaches a real `python -m services.worker compliance` over RabbitMQ.

The end-to-end test uses the platform's real queues (`evt-payments-reference_data_imported--compliance.*`):
their names are the contract under test. They are durable by design and left declared.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.compliance import bootstrap as compliance
from services.compliance.entrypoints.events import ComplianceEvents
from services.compliance.service_layer import reference_data as compliance_handlers
from services.payments import bootstrap as payments
from services.registry import subscriptions
from services.shared.amqp import AmqpBus
from services.shared.settings import ROOT, Settings
from services.shared.topology import for_consumer
from services.worker.runner import check_topology, declared_subscriptions
from tests.fakes import RecordingBus


def test_the_compliance_handlers_are_exactly_the_declared_topology() -> None:
    check_topology(ComplianceEvents)  # raises, naming the queues, on any difference
    assert declared_subscriptions(ComplianceEvents) == set(for_consumer("compliance", subscriptions()))


def worker_env(settings: Settings, broker_url: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("XB_")}
    env.update(
        {
            "XB_VAR_DIR": str(settings.var_dir),
            "XB_LOG_JSON": "false",
            "XB_DB_SCHEMA_PREFIX": settings.db_schema_prefix,
            "XB_DATABASE_URL": settings.database_url or "",
        }
    )
    if broker_url:
        env["XB_BROKER_URL"] = broker_url
    return env


def start_worker(settings: Settings, broker_url: str | None, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.worker", "compliance"],
            cwd=ROOT,
            env=worker_env(settings, broker_url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_the_worker_refuses_to_start_without_a_broker(settings: Settings, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    worker = start_worker(settings, None, log)
    try:
        assert worker.wait(timeout=60) == 2
    finally:
        if worker.poll() is None:
            worker.kill()
    assert "XB_BROKER_URL is required" in log.read_text()


@pytest.mark.rabbitmq
@pytest.mark.postgres
def test_an_event_from_the_payments_process_reaches_the_nameko_worker(
    amqp_url: str, postgres_settings: Settings, tmp_path: Path
) -> None:
    compliance_context = compliance.bootstrap(postgres_settings, RecordingBus())  # migrated before the worker
    payments_bus = AmqpBus(amqp_url, subscriptions=subscriptions())
    payments_context = payments.bootstrap(postgres_settings, payments_bus)
    log = tmp_path / "worker.log"
    worker = start_worker(postgres_settings, amqp_url, log)
    try:
        results = payments_context.import_reference_data()  # commits the datasets and their events
        assert all(result.changed for result in results)
        assert payments_context.relay.drain(timeout=30), "the relay could not publish to RabbitMQ"

        # Event ids of this run's outbox, so that leftovers of an earlier run in the queues cannot pass.
        with payments_context.engine.connect() as connection:
            expected = {(row.event_id,) for row in connection.execute(sa.select(payments_context.outbox.c.event_id))}
        assert len(expected) == len(payments_context.dataset_specs)
        deadline = time.monotonic() + 30
        recorded: set[tuple[str]] = set()
        while not expected <= recorded:
            if worker.poll() is not None:
                pytest.fail(f"the worker exited with {worker.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"compliance recorded {recorded}, expected {expected}:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
            recorded = {
                (d.event_id,)
                for d in compliance_handlers.list_upstream_datasets(compliance_context.uow)
                if d.service == "payments"
            }
        assert {d.dataset for d in compliance_handlers.list_upstream_datasets(compliance_context.uow)} >= {
            "iso4217_currencies",
            "ecb_reference_rates",
        }

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()[-3000:]
        assert "worker_stopped" in log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        payments_context.close()
        payments_bus.close()
        compliance_context.close()
