"""Several gateway replicas on one platform: one audit chain in PostgreSQL that every replica extends and
`xborder audit verify` checks, person counters shared in PostgreSQL, and rate limits shared in Redis."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli.main import app as cli
from gateway.app import build_app
from gateway.audit_chain import Call, verify
from gateway.audit_log import AuditLog
from gateway.audit_store import AuditStore, open_store
from gateway.audit_store_pg import PostgresAuditStore
from gateway.descriptors import describe_service
from gateway.edge_settings import EdgeSettings
from gateway.front_door import RETRY_AFTER_METADATA, serve_front_door
from gateway.transfer_counters import PersonCounters
from gateway.transfer_counters_pg import PostgresPersonCounters
from gateway.transfer_guard import TransferSettings
from services.shared.db import schema_name
from services.shared.settings import Settings
from tests.conftest import POSTGRES_URL
from tests.e2e.stack import AsgiClient
from tests.integration.test_gateway_transcoding import PACKAGE, Fake, fake_backend, thing_service

pytestmark = pytest.mark.postgres


def call(name: str) -> Call:
    return Call(at="2026-12-06T09:00:00.000000+00:00", door="http", rpc="/x.v1.S/M", outcome="200", correlation_id=name)


def _sql(settings: Settings, *statements: str) -> None:
    """As the database's owner, triggers off: what someone with access to the database could do."""
    engine = sa.create_engine(POSTGRES_URL)
    schema = schema_name(settings, "gateway")
    with engine.begin() as connection:
        connection.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
        connection.exec_driver_sql("ALTER TABLE audit_entries DISABLE TRIGGER USER")
        for statement in statements:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql("ALTER TABLE audit_entries ENABLE TRIGGER USER")
    engine.dispose()


def _two_replicas_write(settings: Settings, per_replica: int = 60) -> None:
    """Two gateway processes' audit logs, each with its own connection pool, writing at the same time."""
    logs = [AuditLog(PostgresAuditStore(settings), linger_s=0.002, max_batch=7) for _ in range(2)]

    def write(replica: str, log: AuditLog) -> None:
        for n in range(per_replica):
            log.record(call(f"{replica}-{n}"))

    threads = [threading.Thread(target=write, args=(name, log)) for name, log in zip("ab", logs, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for log in logs:
        log.close()


def test_two_replicas_extend_one_chain_that_verifies(postgres_settings: Settings) -> None:
    _two_replicas_write(postgres_settings)
    store = PostgresAuditStore(postgres_settings)
    try:
        entries = list(store.entries())
        assert verify(entries) == (120, None)
        assert [e.seq for e in entries] == list(range(1, 121))
        for replica in "ab":  # each replica's calls, in the order it recorded them
            mine = [e.call.correlation_id for e in entries if e.call.correlation_id.startswith(replica)]
            assert mine == [f"{replica}-{n}" for n in range(60)]
    finally:
        store.close()


def test_a_restarted_replica_continues_the_chain(postgres_settings: Settings) -> None:
    first = AuditLog(PostgresAuditStore(postgres_settings))
    first.record(call("before"))
    first.close()  # a clean stop writes what is queued
    again = AuditLog(PostgresAuditStore(postgres_settings))
    again.record(call("after"))
    again.close()
    store = PostgresAuditStore(postgres_settings)
    try:
        assert [e.call.correlation_id for e in store.entries()] == ["before", "after"]
        assert verify(store.entries()) == (2, None)
    finally:
        store.close()


def test_the_table_refuses_changes(postgres_settings: Settings) -> None:
    store = PostgresAuditStore(postgres_settings)
    store.append([call("one")])
    try:
        for statement in ("UPDATE audit_entries SET outcome = '500'", "DELETE FROM audit_entries"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as connection:
                connection.exec_driver_sql(statement)
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.exec_driver_sql("TRUNCATE audit_entries")
        assert verify(store.entries()) == (1, None)
    finally:
        store.close()


def _nth(settings: Settings, replica: str, n: int) -> int:
    store = PostgresAuditStore(settings)
    try:
        return next(e.seq for e in store.entries() if e.call.correlation_id == f"{replica}-{n}")
    finally:
        store.close()


runner = CliRunner()


def _cli_env(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XB_DATABASE_URL", POSTGRES_URL)
    monkeypatch.setenv("XB_DB_SCHEMA_PREFIX", settings.db_schema_prefix)
    monkeypatch.setenv("XB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("XB_LOG_JSON", "false")
    monkeypatch.delenv("XB_AUDIT_PATH", raising=False)


@pytest.mark.parametrize("replica", ["a", "b"])
@pytest.mark.parametrize("tampering", ["changed", "removed", "reordered"])
def test_verify_finds_an_entry_tampered_with_whichever_replica_wrote_it(
    postgres_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replica: str, tampering: str
) -> None:
    _two_replicas_write(postgres_settings, per_replica=10)
    _cli_env(postgres_settings, tmp_path, monkeypatch)
    intact = runner.invoke(cli, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "20 entries" in intact.output

    seq = _nth(postgres_settings, replica, 4)
    statements = {
        "changed": [f"UPDATE audit_entries SET outcome = '200', key_id = 'someone-else' WHERE seq = {seq}"],
        "removed": [f"DELETE FROM audit_entries WHERE seq = {seq}"],
        "reordered": [
            f"UPDATE audit_entries SET seq = -1 WHERE seq = {seq}",
            f"UPDATE audit_entries SET seq = {seq} WHERE seq = {seq + 1}",
            f"UPDATE audit_entries SET seq = {seq + 1} WHERE seq = -1",
        ],
    }[tampering]
    _sql(postgres_settings, *statements)
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    broken_at = seq + 1 if tampering == "removed" else seq
    assert f"broken at entry {broken_at}" in result.output


def test_query_reads_every_replica_s_calls(
    postgres_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PostgresAuditStore(postgres_settings)
    store.append(
        [
            dataclasses.replace(call("a-0"), response_classes=("PERSONAL",), caller_country="DE"),
            dataclasses.replace(call("b-0"), response_classes=("PERSONAL",), caller_country="DE"),
        ]
    )
    store.close()
    _cli_env(postgres_settings, tmp_path, monkeypatch)
    result = runner.invoke(cli, ["audit", "query", "--from", "2026-12-06", "--to", "2026-12-07", "--json"])
    assert result.exit_code == 0, result.output
    assert '"calls": 2' in result.output and '"DE"' in result.output


def test_an_audit_file_named_in_the_settings_stays_a_file(postgres_settings: Settings, tmp_path: Path) -> None:
    store = open_store(EdgeSettings(audit_path=tmp_path / "audit.sqlite3"), postgres_settings)
    assert isinstance(store, AuditStore)
    store.close()
    shared = open_store(EdgeSettings(), postgres_settings)
    assert isinstance(shared, PostgresAuditStore)
    shared.close()
    embedded = open_store(EdgeSettings(), Settings(var_dir=tmp_path / "var"))
    assert isinstance(embedded, AuditStore)
    embedded.close()


# --- person counters ---


def test_a_person_is_counted_once_whichever_replica_sent_it(postgres_settings: Settings) -> None:
    one, two = PostgresPersonCounters(postgres_settings), PostgresPersonCounters(postgres_settings)
    try:
        assert one.digest("110101199003077777") == two.digest("110101199003077777")  # one key for all
        assert one.add(2026, "MC1", "PERSONAL", ["p1", "p2"]) == 2
        assert two.add(2026, "MC1", "PERSONAL", ["p2", "p3"]) == 3
        assert one.add(2026, "MC1", "PERSONAL", ["p1", "p3"]) == 3
        assert two.add(2027, "MC1", "PERSONAL", ["p1"]) == 1  # a new calendar year counts again
        assert one.add(2026, "MC1", "PERSONAL_SENSITIVE", ["p1"]) == 1
    finally:
        one.close()
        two.close()
    restarted = PostgresPersonCounters(postgres_settings)
    try:
        assert restarted.count(2026, "MC1", "PERSONAL") == 3
    finally:
        restarted.close()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_another_replica_s_persons_show_within_the_refresh(postgres_settings: Settings) -> None:
    clock = Clock()
    reader = PostgresPersonCounters(postgres_settings, refresh_s=1.0, clock=clock)
    writer = PostgresPersonCounters(postgres_settings)
    try:
        assert reader.count(2026, "MC1", "PERSONAL") == 0
        writer.add(2026, "MC1", "PERSONAL", [f"p{n}" for n in range(5)])
        clock.now += 1.0
        assert reader.count(2026, "MC1", "PERSONAL") == 5
    finally:
        reader.close()
        writer.close()


def test_replicas_counting_at_once_count_each_person_once(postgres_settings: Settings) -> None:
    replicas = [PostgresPersonCounters(postgres_settings) for _ in range(3)]
    persons = [f"p{n}" for n in range(90)]

    def send(counters: PostgresPersonCounters, offset: int) -> None:
        for start in range(0, 90, 6):  # overlapping answers: every person is sent by every replica
            counters.add(2026, "MC1", "PERSONAL", persons[(start + offset) % 90 : (start + offset) % 90 + 6])

    threads = [threading.Thread(target=send, args=(r, 3 * i)) for i, r in enumerate(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        fresh = PostgresPersonCounters(postgres_settings)
        assert fresh.count(2026, "MC1", "PERSONAL") == 90
        fresh.close()
    finally:
        for counters in replicas:
            counters.close()


def test_the_counters_follow_the_settings(postgres_settings: Settings, tmp_path: Path) -> None:
    shared = TransferSettings().open_counters(postgres_settings)
    assert isinstance(shared, PostgresPersonCounters)
    shared.close()
    named = TransferSettings(counters_path=tmp_path / "persons.sqlite3").open_counters(postgres_settings)
    assert isinstance(named, PersonCounters)
    named.close()
    embedded = TransferSettings().open_counters(Settings(var_dir=tmp_path / "var"))
    assert isinstance(embedded, PersonCounters)
    embedded.close()


# --- two REST gateways: one rate budget in Redis, one audit chain in PostgreSQL ---


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Fake]:
    fake = fake_backend(Settings(var_dir=tmp_path / "fake", log_json=False), thing_service())
    yield fake
    fake.server.stop(0)


class Replica:
    def __init__(self, settings: Settings, edge: EdgeSettings) -> None:
        self.app = build_app(settings, [describe_service(thing_service())], edge=edge)
        self.client = AsgiClient(self.app)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def close(self) -> None:
        self.client.close()
        self.app.state.backends.close()
        self.app.state.audit.close()


@pytest.mark.redis
def test_two_gateways_share_the_rate_budget_and_the_audit_chain(
    postgres_settings: Settings, backend: Fake, redis_url: str
) -> None:
    settings = dataclasses.replace(postgres_settings, service_ports={"gwtest": backend.server.port})
    edge = EdgeSettings(audit=True, rate_limit_per_s=0.01, rate_limit_burst=2, rate_limit_redis_url=redis_url)
    a, b = Replica(settings, edge), Replica(settings, edge)
    headers = {"Authorization": f"Bearer caller-{uuid.uuid4().hex}"}
    try:
        codes = [r.get("/v1/things/n:echo", headers=headers).status_code for r in (a, b)]
        limited = [a.get("/v1/things/n:echo", headers=headers), b.get("/v1/things/n:echo", headers=headers)]
        assert codes == [200, 200]
        assert [r.status_code for r in limited] == [429, 429]
        for response in limited:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["reason"] == "RATE_LIMITED"
            assert 99 <= int(response.headers["retry-after"]) <= 100
    finally:
        a.close()
        b.close()
    store = PostgresAuditStore(settings)
    try:
        entries = list(store.entries())
        assert verify(entries) == (4, None)
        assert sorted(e.call.outcome for e in entries) == ["200", "200", "429", "429"]
    finally:
        store.close()


@pytest.mark.redis
def test_both_doors_of_two_replicas_draw_on_one_bucket(
    postgres_settings: Settings, backend: Fake, redis_url: str
) -> None:
    settings = dataclasses.replace(postgres_settings, service_ports={"gwtest": backend.server.port})
    edge = EdgeSettings(audit=False, rate_limit_per_s=0.01, rate_limit_burst=2, rate_limit_redis_url=redis_url)
    rest = AsgiClient(build_app(settings, [describe_service(thing_service())], edge=edge))
    running = serve_front_door(
        settings, port=0, services=[describe_service(thing_service())], authenticate=False, edge=edge
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    authorization = f"Bearer caller-{uuid.uuid4().hex}"
    try:
        assert rest.get("/v1/things/n:echo", headers={"Authorization": authorization}).status_code == 200
        echo = channel.unary_unary(
            f"/{PACKAGE}.ThingService/EchoThing", request_serializer=None, response_deserializer=None
        )
        echo(b"", timeout=5, metadata=(("authorization", authorization),))
        with pytest.raises(grpc.RpcError) as refused:
            echo(b"", timeout=5, metadata=(("authorization", authorization),))
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        error: Any = refused.value
        assert 99 <= int(dict(error.trailing_metadata())[RETRY_AFTER_METADATA]) <= 100
        assert rest.get("/v1/things/n:echo", headers={"Authorization": authorization}).status_code == 429
    finally:
        channel.close()
        running.stop(grace=0)
        rest.close()
