"""Shared fixtures. Broker and database tests skip when the server is unreachable, and fail instead when
XB_REQUIRE_SERVICES=1 (CI)."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from services.shared.settings import Settings

pytest_plugins = ["tests.customer_service_fakes"]  # the linked_records fixture

POSTGRES_URL = os.environ.get("XB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("XB_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("XB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE = os.environ.get("XB_REQUIRE_SERVICES") == "1"


def _reachable(url: str) -> bool:
    parts = urlsplit(url.replace("postgresql+psycopg", "postgresql"))
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


def need(url: str, what: str) -> None:
    if _reachable(url):
        return
    message = f"{what} not reachable at {urlsplit(url).hostname}:{urlsplit(url).port}"
    if REQUIRE:
        pytest.fail(f"{message} and XB_REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded settings: SQLite files under a fresh directory."""
    return Settings(var_dir=tmp_path / "var", outbox_poll_s=0.05, log_json=False)


@contextlib.contextmanager
def postgres_schemas(var_dir: Path) -> Iterator[Settings]:
    """PostgreSQL settings with a schema prefix of their own; the schemas are dropped afterwards."""
    need(POSTGRES_URL, "PostgreSQL")
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    try:
        yield Settings(
            var_dir=var_dir, database_url=POSTGRES_URL, db_schema_prefix=prefix, outbox_poll_s=0.05, log_json=False
        )
    finally:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            schemas = connection.execute(
                sa.text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :p"),
                {"p": f"{prefix}%"},
            )
            for (schema,) in schemas.all():
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis (tests keep to keys of their own prefix and delete them)."""
    need(REDIS_URL, "Redis")
    return REDIS_URL


@pytest.fixture
def postgres_settings(tmp_path: Path) -> Iterator[Settings]:
    with postgres_schemas(tmp_path / "var") as settings:
        yield settings


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_any_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Like any_settings, shared by a module's read-only tests (reference data imported once)."""
    var_dir = tmp_path_factory.mktemp("var")
    if request.param == "sqlite":
        yield Settings(var_dir=var_dir, outbox_poll_s=0.05, log_json=False)
        return
    with postgres_schemas(var_dir) as settings:
        yield settings


@pytest.fixture(params=["sqlite", "postgresql"])
def any_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The same test on the embedded SQLite default and on PostgreSQL."""
    if request.param == "sqlite":
        return settings
    return request.getfixturevalue("postgres_settings")


@pytest.fixture
def amqp_url() -> str:
    need(AMQP_URL, "RabbitMQ")
    return AMQP_URL
