"""What the gateway knows about the services, read from the generated descriptors and nothing else.

Every `*_service_pb2` module under `xborder` is imported; each service's methods carry their
`google.api.http` rules, `(xborder.common.v1.required_scope)` and, on every field, `(data_class)`. Adding an
RPC with an http rule and a scope to a proto is all it takes to expose it. These readers are also what the
contract tests use to check that every RPC is scoped and every field classified.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType

from google.api import annotations_pb2, http_pb2
from google.protobuf import message_factory
from google.protobuf.descriptor import (
    Descriptor,
    FieldDescriptor,
    FileDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)
from google.protobuf.message import Message
from xborder.common.v1 import options_pb2

from services.shared.logs import get_logger

log = get_logger(__name__)

HTTP_VERBS = ("get", "put", "post", "delete", "patch")
SERVICE_MODULE_SUFFIX = "_service_pb2"


@dataclass(frozen=True)
class HttpBinding:
    """One `google.api.http` rule (or one of its additional_bindings)."""

    verb: str
    path: str
    body: str
    response_body: str


@dataclass(frozen=True)
class MethodInfo:
    """One RPC: its wire path, message types, scope and http bindings."""

    service: str
    """The short service name from the proto package, e.g. "payments" for xborder.payments.v1."""
    descriptor: MethodDescriptor
    required_scope: str | None
    bindings: tuple[HttpBinding, ...]

    @property
    def name(self) -> str:
        return self.descriptor.name

    @property
    def service_full_name(self) -> str:
        return self.descriptor.containing_service.full_name

    @property
    def grpc_path(self) -> str:
        """ "/pkg.Service/Method", as gRPC names it on the wire."""
        return f"/{self.service_full_name}/{self.descriptor.name}"

    @property
    def operation_id(self) -> str:
        return f"{self.descriptor.containing_service.name}_{self.descriptor.name}"

    @property
    def input_class(self) -> type[Message]:
        return message_class(self.descriptor.input_type)

    @property
    def output_class(self) -> type[Message]:
        return message_class(self.descriptor.output_type)


@dataclass(frozen=True)
class ServiceInfo:
    service: str
    descriptor: ServiceDescriptor
    methods: tuple[MethodInfo, ...]

    @property
    def full_name(self) -> str:
        return self.descriptor.full_name


def message_class(descriptor: Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


def required_scope(method: MethodDescriptor) -> str | None:
    """The method's `(xborder.common.v1.required_scope)`, or None when it has none."""
    scope = method.GetOptions().Extensions[options_pb2.required_scope]
    return scope or None


def data_class(field: FieldDescriptor) -> str | None:
    """The field's `(xborder.common.v1.data_class)` name without its prefix ("PUBLIC"), None if unset."""
    value = field.GetOptions().Extensions[options_pb2.data_class]
    if value == options_pb2.DATA_CLASS_UNSPECIFIED:
        return None
    return options_pb2.DataClass.Name(value).removeprefix("DATA_CLASS_")


def _binding(rule: http_pb2.HttpRule) -> HttpBinding | None:
    pattern = rule.WhichOneof("pattern")
    if pattern in HTTP_VERBS:
        return HttpBinding(pattern, getattr(rule, pattern), rule.body, rule.response_body)
    if pattern == "custom":
        return HttpBinding(rule.custom.kind.lower(), rule.custom.path, rule.body, rule.response_body)
    return None


def http_bindings(method: MethodDescriptor) -> tuple[HttpBinding, ...]:
    """The method's `google.api.http` rule and its additional_bindings, in declaration order."""
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return ()
    rule = options.Extensions[annotations_pb2.http]
    found = [_binding(rule), *(_binding(extra) for extra in rule.additional_bindings)]
    return tuple(b for b in found if b is not None)


def service_short_name(service: ServiceDescriptor) -> str:
    """ "payments" for a service in package xborder.payments.v1."""
    parts = service.file.package.split(".")
    if len(parts) < 3 or parts[0] != "xborder":
        raise ValueError(f"service {service.full_name} is not in an xborder.<service>.v<N> package")
    return parts[1]


def describe_service(service: ServiceDescriptor) -> ServiceInfo:
    short = service_short_name(service)
    methods = tuple(MethodInfo(short, m, required_scope(m), http_bindings(m)) for m in service.methods)
    return ServiceInfo(short, service, methods)


def services_in(files: Iterable[FileDescriptor]) -> list[ServiceInfo]:
    return [describe_service(s) for file in files for s in file.services_by_name.values()]


def service_modules(package: str = "xborder") -> list[ModuleType]:
    """Import every generated `*_service_pb2` module under the package (this also fills the default pool)."""
    root = importlib.import_module(package)
    modules = []
    for info in pkgutil.walk_packages(root.__path__, f"{package}."):
        if info.name.endswith(SERVICE_MODULE_SUFFIX):
            modules.append(importlib.import_module(info.name))
    return sorted(modules, key=lambda m: m.__name__)


def discover(package: str = "xborder") -> list[ServiceInfo]:
    """Every service declared in the generated code, with all its methods (scoped or not)."""
    return services_in(module.DESCRIPTOR for module in service_modules(package))


def exposed_methods(services: Sequence[ServiceInfo]) -> list[MethodInfo]:
    """The methods the gateway may route: those with a required scope. The others are logged and dropped."""
    exposed = []
    for service in services:
        for method in service.methods:
            if method.required_scope is None:
                log.warning("rpc_not_exposed", rpc=method.grpc_path, why="no (xborder.common.v1.required_scope)")
                continue
            exposed.append(method)
    return exposed


def walk_fields(descriptor: Descriptor) -> Iterator[tuple[str, FieldDescriptor]]:
    """(dotted proto path, field) for every field reachable from a message, each message type once."""
    seen: set[str] = set()

    def walk(message: Descriptor, prefix: str) -> Iterator[tuple[str, FieldDescriptor]]:
        if message.full_name in seen:
            return
        seen.add(message.full_name)
        for field in message.fields:
            path = f"{prefix}{field.name}"
            yield path, field
            if field.message_type is not None:
                yield from walk(field.message_type, f"{path}.")

    yield from walk(descriptor, "")


def field_by_name(message: Descriptor, name: str) -> FieldDescriptor | None:
    """A field by its proto name or its JSON (lowerCamelCase) name; both are accepted on input."""
    field = message.fields_by_name.get(name)
    if field is not None:
        return field
    for candidate in message.fields:
        if candidate.json_name == name:
            return candidate
    return None


def resolve_path(message: Descriptor, dotted: str) -> list[FieldDescriptor]:
    """The chain of fields a dotted path (proto or JSON names) names; KeyError naming the first bad part."""
    chain: list[FieldDescriptor] = []
    current: Descriptor | None = message
    for part in dotted.split("."):
        field = field_by_name(current, part) if current is not None else None
        if field is None:
            raise KeyError(dotted)
        chain.append(field)
        current = field.message_type
    return chain


def is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry
