"""Announcements of one upstream dataset handled at the same moment on PostgreSQL (as the compliance
worker handles payments' `reference_data_imported` events on a platform's first start): none fails on
the key, and the stored version is the one imported last."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.compliance import bootstrap
from services.compliance.adapters.tables import upstream_datasets
from services.compliance.service_layer.reference_data import list_upstream_datasets, record_upstream_dataset
from services.shared.context import ServiceContext
from services.shared.settings import Settings
from tests.fakes import RecordingBus
from tests.unit.test_compliance_upstream import T0, announcement

WAIT_LIMIT_S = 60.0  # a bound for a broken server, not an expectation of how long a wait takes


@pytest.fixture
def compliance(postgres_settings: Settings) -> Iterator[ServiceContext]:
    context = bootstrap.bootstrap(postgres_settings, RecordingBus())
    yield context
    context.close()


def _wait_until_blocked_by(connection: sa.Connection, holder_pid: int) -> None:
    """Return once another backend waits for a lock `holder_pid` holds (the handler reached the key)."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))")
    while connection.execute(query, {"holder": holder_pid}).scalar_one() == 0:
        if time.monotonic() > deadline:
            pytest.fail("the handler never reached the dataset's row")
        time.sleep(0.01)


def test_an_announcement_racing_an_uncommitted_first_insert_does_not_fail(compliance: ServiceContext) -> None:
    # Another worker's transaction has inserted the dataset's first row and not committed yet: the handler
    # cannot see that row; a select-then-insert would insert too and fail on the key once the other
    # transaction commits.
    with compliance.engine.connect() as other:
        other.begin()
        other.execute(
            upstream_datasets.insert().values(
                service="payments",
                dataset="iso4217_currencies",
                version="a" * 64,
                record_count=180,
                source="ISO 4217",
                imported_at=T0,
                event_id=str(uuid.uuid4()),
            )
        )
        holder = int(other.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        later = announcement(str(uuid.uuid4()), "b" * 64, T0 + timedelta(minutes=1))
        with ThreadPoolExecutor(max_workers=1) as pool:
            handled = pool.submit(record_upstream_dataset, compliance.uow, later)
            with compliance.engine.connect() as observer:
                _wait_until_blocked_by(observer, holder)
            other.commit()
            assert handled.result() is True
    [stored] = list_upstream_datasets(compliance.uow)
    assert (stored.version, stored.imported_at) == ("b" * 64, T0 + timedelta(minutes=1))


def test_two_workers_announcing_one_dataset_at_once_both_succeed(compliance: ServiceContext) -> None:
    payloads = [announcement(str(uuid.uuid4()), f"{i}" * 64, T0 + timedelta(minutes=i)) for i in range(2)]
    start = threading.Barrier(len(payloads))

    def handle(payload: dict[str, object]) -> bool:
        start.wait()
        return record_upstream_dataset(compliance.uow, payload)

    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        assert list(pool.map(handle, payloads)) == [True, True]
    [stored] = list_upstream_datasets(compliance.uow)
    assert stored.version == "1" * 64  # the later import wins, whichever committed first
