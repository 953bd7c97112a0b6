"""Probes behind `xborder status`: gRPC health, database reachability and dataset versions, broker."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import grpc
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.registry import bootstrap_module
from services.shared import db
from services.shared.refdata import STARTED, DatasetSpec, DatasetVersion, DatasetVersions, file_version
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
            if "imported_by" not in {c["name"] for c in inspector.get_columns("dataset_versions")}:
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


def dataset_lines(settings: Settings, service: str, versions: list[DatasetVersion]) -> list[str]:
    """One line per current dataset; a version the shipped file would not give says where it came from."""
    specs = {spec.name: spec for spec in getattr(bootstrap_module(service), "DATASET_SPECS", ())}
    lines = []
    for v in versions:
        line = f"{v.dataset}@{v.version[:8]} ({v.record_count})"
        shipped = _shipped_version(settings, specs.get(v.dataset))
        if shipped is not None and shipped != v.version:
            if v.imported_by == STARTED:
                line += f": the shipped file differs (version {shipped[:12]}); the next start imports it"
            else:
                line = (
                    f"{v.dataset}: version {v.version[:12]} {v.provenance()}; shipped file differs, "
                    "not applied — run `xborder import` to apply it"
                )
        lines.append(line)
    return lines or ["none imported"]


def _shipped_version(settings: Settings, spec: DatasetSpec | None) -> str | None:
    if spec is None:
        return None
    path = settings.data_dir / spec.relative_path
    companions = [path.with_name(c) for c in spec.companions]
    if not path.is_file() or not all(c.is_file() for c in companions):
        return None
    return file_version(path, *companions)


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
