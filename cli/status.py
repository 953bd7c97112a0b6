"""Probes behind `xborder status`: gRPC health, database reachability and dataset versions, broker."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import grpc
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.shared import db
from services.shared.refdata import DatasetVersion, DatasetVersions
from services.shared.settings import Settings, mask_url
from services.shared.tables import kernel_tables


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    address: str
    health: str
    database: str
    datasets: str


def grpc_health(address: str, timeout: float = 1.0) -> str:
    channel = grpc.insecure_channel(address)
    try:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
    except grpc.RpcError as error:
        return "UNREACHABLE" if error.code() == grpc.StatusCode.UNAVAILABLE else error.code().name
    finally:
        channel.close()


def database_status(settings: Settings, service: str) -> tuple[str, list[DatasetVersion] | None, str]:
    """(where and whether the database answers, the current dataset versions, events waiting in the outbox)."""
    url = db.database_url(settings, service)
    where = url if url.startswith("sqlite") else f"{mask_url(url)} schema {db.schema_name(settings, service)}"
    engine = db.create_engine(settings, service)
    try:
        with engine.connect() as connection:
            outbox, _, table = kernel_tables(sa.MetaData())
            inspector = sa.inspect(connection)
            if not inspector.has_table("dataset_versions"):
                return f"{where} (not migrated)", None, "-"
            if "skipped_version" not in {c["name"] for c in inspector.get_columns("dataset_versions")}:
                return f"{where} (migrations pending: start the service to apply them)", None, "-"
            versions = DatasetVersions(connection, table).all_current()
            waiting = connection.execute(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            ).scalar_one()
        return f"{where} (ok)", versions, str(waiting)
    except sa.exc.SQLAlchemyError as error:
        return f"{where} (error: {error.__class__.__name__})", None, "-"
    finally:
        engine.dispose()


def dataset_lines(versions: list[DatasetVersion]) -> list[str]:
    """One line per current dataset; one that a start kept instead of the shipped file says where it came from."""
    lines = []
    for v in versions:
        if v.skipped_version is None:
            lines.append(f"{v.dataset}@{v.version[:8]} ({v.record_count})")
        else:
            lines.append(
                f"{v.dataset}: version {v.version[:12]} {v.provenance()}; shipped file differs, "
                "not applied — run `xborder import` to apply it"
            )
    return lines or ["none imported"]


def broker_status(settings: Settings) -> str:
    if not settings.broker_url:
        return "in-process bus (embedded)"
    parts = urlsplit(settings.broker_url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout=1):
            state = "reachable"
    except OSError:
        state = "UNREACHABLE"
    return f"{mask_url(settings.broker_url)} ({state})"
