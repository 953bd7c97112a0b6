"""deploy/ runs every service, worker and the gateway: compose for one host, the kustomize base for a cluster.

These read the files as a user's tools would (PyYAML); scripts/validate_deploy.py checks them against the
compose and Kubernetes schemas.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.edge_settings import EdgeSettings
from gateway.transfer_guard import TransferSettings
from services.identity.settings import IdentitySettings
from services.registry import SERVICE_PORTS, SERVICE_TABLE, SERVICES, subscriptions
from services.shared.settings import SECRET_FIELDS, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
XBORDER_COMMANDS = ("services.", "gateway")

CONSUMERS = sorted({subscription.consumer_service for subscription in subscriptions()})


def _dns(service: str) -> str:
    """A service's host and resource name in compose and Kubernetes (the registry's deploy name)."""
    return next(entry.deploy_name for entry in SERVICE_TABLE if entry.name == service)


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _compose_services() -> dict[str, dict[str, Any]]:
    return _compose()["services"]


def _k8s_documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def _k8s(kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in _k8s_documents() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert found, f"no {kind} named {name!r} in {K8S.relative_to(ROOT)}"
    return found[0]


def _xborder_compose_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in _compose_services().items()
        if any(part.startswith(XBORDER_COMMANDS) for part in service.get("command", []))
    }


def _xborder_deployments() -> list[dict[str, Any]]:
    """The Deployments that run the xborder image (not Redis beside them)."""
    return [
        doc
        for doc in _k8s_documents()
        if doc["kind"] == "Deployment"
        and any(part.startswith(XBORDER_COMMANDS) for part in _container(doc).get("command", []))
    ]


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{deployment['metadata']['name']}: one container per xborder pod"
    return containers[0]


def _known_variables() -> set[str]:
    """Every XB_* variable Settings.from_env reads, and identity's own (IdentitySettings)."""
    names = {f"XB_{f.name.upper()}" for f in fields(Settings) if f.name not in {"service_ports", "service_hosts"}}
    names |= {f"XB_{f.name.upper()}" for f in fields(IdentitySettings)}
    names |= {f"XB_{f.name.upper()}" for f in fields(EdgeSettings)}  # the gateway's own
    # TransferSettings' fields, under the names its from_env reads.
    names |= {f"XB_TRANSFER_{f.name.upper()}" for f in fields(TransferSettings) if f.name != "enabled"}
    names |= {"XB_TRANSFER_RULES"}
    for service in SERVICE_PORTS:
        names |= {f"XB_{service.upper()}_PORT", f"XB_{service.upper()}_HOST"}
    return names


def _interpolate(value: str) -> str:
    """Compose's ${NAME:-default} with nothing set in the environment: the defaults a laptop runs with."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


@pytest.mark.parametrize("service", SERVICES)
def test_compose_runs_each_service_on_its_port_with_a_grpc_healthcheck(service: str) -> None:
    spec = _compose_services()[_dns(service)]
    port = str(SERVICE_PORTS[service])

    assert spec["command"] == ["python", "-m", f"services.{service}"]
    assert spec["environment"][f"XB_{service.upper()}_PORT"] == port
    probe = spec["healthcheck"]["test"]
    assert probe[:3] == ["CMD", "python", "-c"] and "grpc_health" in probe[3] and probe[-1] == port
    assert {name: dep["condition"] for name, dep in spec["depends_on"].items()} == {
        "postgres": "service_healthy",
        "rabbitmq": "service_healthy",
    }


@pytest.mark.parametrize("service", SERVICES)
def test_k8s_runs_each_service_behind_a_service_with_grpc_probes(service: str) -> None:
    port = SERVICE_PORTS[service]
    container = _container(_k8s("Deployment", _dns(service)))

    assert container["command"] == ["python", "-m", f"services.{service}"]
    assert {"name": "grpc", "containerPort": port} in container["ports"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == port, f"{service} {probe}"
    service_ports = {p["name"]: p["port"] for p in _k8s("Service", _dns(service))["spec"]["ports"]}
    assert service_ports["grpc"] == port


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_every_consuming_service_has_an_event_worker(consumer: str) -> None:
    command = ["python", "-m", "services.worker", consumer]
    compose_worker = _compose_services()[f"{_dns(consumer)}-worker"]
    assert compose_worker["command"] == command
    assert compose_worker["depends_on"][_dns(consumer)]["condition"] == "service_healthy"
    assert compose_worker["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert _container(_k8s("Deployment", f"{_dns(consumer)}-worker"))["command"] == command


def test_compliance_consumes_events_so_it_has_a_worker() -> None:
    assert "compliance" in CONSUMERS


def test_gateway_exposes_http_8080_and_grpc_50050() -> None:
    compose_gateway = _compose_services()["gateway"]
    assert compose_gateway["command"] == ["python", "-m", "gateway"]
    assert {"8080:8080", "50050:50050"} <= set(compose_gateway["ports"])
    assert "/healthz" in " ".join(compose_gateway["healthcheck"]["test"])
    assert {f"XB_{s.upper()}_HOST" for s in SERVICES} <= set(compose_gateway["environment"])

    container = _container(_k8s("Deployment", "gateway"))
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 8080, "grpc": 50050}
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    service_ports = {p["name"]: p["port"] for p in _k8s("Service", "gateway")["spec"]["ports"]}
    assert service_ports == {"http": 8080, "grpc": 50050}


def test_configmap_holds_no_secret() -> None:
    data = _k8s("ConfigMap", "xborder-config")["data"]
    secret_variables = {f"XB_{name.upper()}" for name in SECRET_FIELDS}
    assert not secret_variables & set(data), "connection URLs belong in the Secret"
    for key, value in data.items():
        assert not re.search(r"://[^/\s]*@", value), f"{key} carries credentials"
        assert not re.search(r"PASSWORD|SECRET|TOKEN|KEY", key), f"{key} looks like a secret"
    assert secret_variables <= set(_k8s("Secret", "xborder-secrets")["stringData"])


def test_k8s_settings_are_ones_the_processes_accept() -> None:
    config = _k8s("ConfigMap", "xborder-config")["data"]
    secrets = _k8s("Secret", "xborder-secrets")["stringData"]
    for deployment in _xborder_deployments():
        env = {**config, **secrets, **{e["name"]: e["value"] for e in _container(deployment).get("env", [])}}
        assert set(env) <= _known_variables(), (
            f"{deployment['metadata']['name']}: unknown {set(env) - _known_variables()}"
        )
        settings = Settings.from_env(env)
        assert settings.env == "prod" and settings.database_url and settings.broker_url
        assert settings.service_hosts == {s: _dns(s) for s in SERVICE_PORTS}


def test_compose_settings_are_ones_the_processes_accept() -> None:
    for name, spec in _xborder_compose_services().items():
        env = {key: _interpolate(str(value)) for key, value in spec["environment"].items()}
        assert set(env) <= _known_variables(), f"{name}: unknown {set(env) - _known_variables()}"
        settings = Settings.from_env(env)
        assert settings.env == "prod" and settings.database_url and settings.broker_url
        if name == "identity":
            assert len(IdentitySettings.from_env(env).jwt_signing_keys) == 1
        assert settings.service_hosts == {s: _dns(s) for s in SERVICE_PORTS}


def test_placeholder_credentials_agree_so_the_base_starts_as_is() -> None:
    urls = _k8s("Secret", "xborder-secrets")["stringData"]
    postgres = _k8s("Secret", "postgres-credentials")["stringData"]
    rabbitmq = _k8s("Secret", "rabbitmq-credentials")["stringData"]
    assert f"://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}@postgres:5432/" in urls["XB_DATABASE_URL"]
    assert (
        f"://{rabbitmq['RABBITMQ_DEFAULT_USER']}:{rabbitmq['RABBITMQ_DEFAULT_PASS']}@rabbitmq:5672/"
        in urls["XB_BROKER_URL"]
    )


def test_dockerfile_runs_as_a_non_root_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    final_stage = text[text.rindex("\nFROM ") :]
    users = re.findall(r"^USER\s+(\S+)", final_stage, re.MULTILINE)
    assert users, "the runtime stage must set USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]}: a numeric non-root uid"
    assert "[dev]" not in text, "the image installs no dev extras"
    assert "scripts/protos.py generate" in text
    for variable in ("PYTHONPATH=/app:/app/protos/gen", "XB_DATA_DIR=/app/data", "XB_VAR_DIR=/var/lib/xborder"):
        assert variable in final_stage


def test_every_xborder_container_is_unprivileged_with_a_read_only_root() -> None:
    for deployment in _xborder_deployments():
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert "resources" in container and "limits" in container["resources"], name
        mounts = {m["mountPath"] for m in _container(deployment)["volumeMounts"]}
        assert "/var/lib/xborder" in mounts, f"{name}: XB_VAR_DIR must be writable"
    for name, spec in _xborder_compose_services().items():
        assert spec["read_only"] is True and not spec["user"].startswith("0"), name


def test_postgres_and_rabbitmq_keep_their_data_on_volumes() -> None:
    for name in ("postgres", "rabbitmq"):
        statefulset = _k8s("StatefulSet", name)
        assert statefulset["spec"]["volumeClaimTemplates"], name
        assert "healthcheck" in _compose_services()[name]
        assert any(
            v.endswith(("/var/lib/postgresql/data", "/var/lib/rabbitmq")) for v in _compose_services()[name]["volumes"]
        )


def test_kustomization_lists_every_manifest() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    present = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present


def test_validate_deploy_checks_the_ports_against_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    import scripts.validate_deploy as validate
    from services import registry

    assert "registry" in validate.check_ports()
    moved = tuple(registry.ServiceEntry(e.name, 50099) if e.name == "payments" else e for e in registry.SERVICE_TABLE)
    monkeypatch.setattr(registry, "SERVICE_TABLE", moved)
    with pytest.raises(validate.CheckFailed, match="payments") as failed:
        validate.check_ports()
    assert "50099" in str(failed.value)


def test_the_gateway_keeps_its_state_where_replicas_share_it_and_restarts_keep_it() -> None:
    import scripts.validate_deploy as validate

    assert "one for all replicas" in validate.check_gateway_state()
    env = _compose_services()["gateway"]["environment"]
    assert env["XB_RATE_LIMIT_REDIS_URL"].startswith("redis://redis:")
    assert _compose_services()["gateway"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "XB_RATE_LIMIT_REDIS_URL" in _k8s("Secret", "xborder-secrets")["stringData"]
    assert _k8s("Service", "redis")["spec"]["ports"][0]["port"] == 6379


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        ("k8s/secret.yaml", "  XB_RATE_LIMIT_REDIS_URL: redis://redis:6379/0\n", "", "without XB_RATE_LIMIT_REDIS_URL"),
        (
            "k8s/configmap.yaml",
            "  XB_OUTBOX_POLL_S:",
            "  XB_AUDIT_PATH: /var/lib/xborder/audit.sqlite3\n  XB_OUTBOX_POLL_S:",
            "not on a persistent volume",
        ),
        ("compose.yaml", "      - postgres-data:/var/lib/postgresql/data\n", "", "keeps no persistent volume"),
        ("compose.yaml", "redis://redis:6379/0", "redis://cache:6379/0", "which nothing here runs"),
    ],
    ids=["k8s-limits-per-replica", "k8s-audit-in-scratch", "compose-postgres-without-volume", "compose-no-redis"],
)
def test_validate_deploy_refuses_gateway_state_that_a_restart_or_a_replica_would_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, old: str, new: str, problem: str
) -> None:
    import shutil

    import scripts.validate_deploy as validate

    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    changed = copy / file
    assert old in changed.read_text()
    changed.write_text(changed.read_text().replace(old, new))
    monkeypatch.setattr(validate, "K8S", copy / "k8s")
    monkeypatch.setattr(validate, "COMPOSE", copy / "compose.yaml")
    with pytest.raises(validate.CheckFailed, match=problem):
        validate.check_gateway_state()
