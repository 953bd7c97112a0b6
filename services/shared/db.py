"""Engines and migrations: one SQLite file per service by default, one PostgreSQL schema per service.

A service never reads another's tables (docs/architecture.md, ADR 0003). On PostgreSQL every connection of a
service's engine has `search_path` set to the service's schema, so the same SQL and the same Alembic
migrations run on both engines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from services.shared.settings import Settings


def schema_name(settings: Settings, service: str) -> str:
    return f"{settings.db_schema_prefix}{service}"


def database_url(settings: Settings, service: str) -> str:
    if settings.database_url is None:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{settings.var_dir / f'{service}.db'}"
    return settings.database_url.replace("{service}", service)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(settings: Settings, service: str, **kwargs: Any) -> Engine:
    url = database_url(settings, service)
    if url.startswith("sqlite"):
        # One pooled connection per gRPC worker thread, so a busy server never opens and closes extras.
        kwargs.setdefault("pool_size", settings.grpc_workers)
        kwargs.setdefault("max_overflow", settings.grpc_workers)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            # WAL lets readers proceed while the relay or an import writes; NORMAL sync is safe under WAL.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    schema = schema_name(settings, service)
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        connect_args={"options": f"-csearch_path={schema}"},
        **kwargs,
    )


def migrate(engine: Engine, settings: Settings, service: str, migrations: Path) -> None:
    """Bring the service's schema to the latest Alembic revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    with engine.begin() as connection:
        if not is_sqlite(engine):
            schema = schema_name(settings, service)
            # Replicas and a service's worker may start together: one migrates, the others wait for it.
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"xborder-migrate:{schema}"}
            )
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        config.attributes["connection"] = connection
        config.attributes["settings"] = settings  # revisions that encrypt existing rows load the key ring
        command.upgrade(config, "head")
