"""The contracts: protos lint clean, every field classified, every RPC scoped, routed and implemented."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FileDescriptor

from gateway.descriptors import data_class, discover, walk_fields
from gateway.tenancy import RULES, Kind
from services.registry import SERVICES, bootstrap_module
from services.shared.settings import Settings
from tests.servers import running_service

ROOT = Path(__file__).resolve().parents[2]


def xborder_files() -> list[FileDescriptor]:
    import xborder

    files = {}
    for info in pkgutil.walk_packages(xborder.__path__, "xborder."):
        if info.name.endswith("_pb2"):
            descriptor = importlib.import_module(info.name).DESCRIPTOR
            files[descriptor.name] = descriptor
    return [files[name] for name in sorted(files)]


def all_messages(files: list[FileDescriptor]) -> list[Descriptor]:
    found: list[Descriptor] = []

    def add(message: Descriptor) -> None:
        if not message.GetOptions().map_entry:
            found.append(message)
        for nested in message.nested_types:
            add(nested)

    for file in files:
        for message in file.message_types_by_name.values():
            add(message)
    return found


def test_buf_lint_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "protos.py"), "lint"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_field_of_every_message_has_a_data_class() -> None:
    files = xborder_files()
    assert any(f.package == "xborder.common.v1" for f in files)
    unlabelled = [
        f"{message.full_name}.{field.name}"
        for message in all_messages(files)
        for _, field in walk_fields(message)
        if field.containing_type is not None
        and field.containing_type.full_name.startswith("xborder.")
        and data_class(field) is None
    ]
    assert unlabelled == []


def test_every_rpc_has_a_scope_and_an_http_rule() -> None:
    methods = [m for s in discover() for m in s.methods]
    assert len(methods) >= 9
    assert [m.grpc_path for m in methods if not m.required_scope] == []
    # Only an RPC the gateway never serves (key verification) is gRPC only.
    internal = {path for path, rule in RULES.items() if rule.kind is Kind.INTERNAL}
    assert [m.grpc_path for m in methods if not m.bindings and m.grpc_path not in internal] == []


def test_every_declared_service_is_served_by_a_registered_service() -> None:
    declared = {s.full_name for s in discover()}
    served = {name for service in SERVICES for name in bootstrap_module(service).GRPC_SERVICES}
    assert declared == served


@pytest.mark.parametrize("service", SERVICES)
def test_every_rpc_is_implemented(service: str, settings: Settings) -> None:
    """Each RPC answers an empty request with something other than UNIMPLEMENTED (usually a field error)."""
    served = bootstrap_module(service).GRPC_SERVICES
    with running_service(settings, service, lambda channel: channel, seed=False) as running:
        for info in discover():
            if info.full_name not in served:
                continue
            for method in info.methods:
                call = running.stub.unary_unary(
                    method.grpc_path,
                    request_serializer=lambda m: m.SerializeToString(),
                    response_deserializer=method.output_class.FromString,
                )
                try:
                    call(method.input_class(), timeout=10)
                except grpc.RpcError as error:
                    assert error.code() not in (
                        grpc.StatusCode.UNIMPLEMENTED,
                        grpc.StatusCode.INTERNAL,
                        grpc.StatusCode.UNKNOWN,
                    ), (method.grpc_path, error.details())
