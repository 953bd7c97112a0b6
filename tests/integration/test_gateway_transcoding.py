"""Transcoding rules the current protos do not exercise yet (bodies, nested and repeated parameters, enums,
64-bit integers, timestamps, unscoped RPCs), on a service built from its own descriptor for this test and
served by a recording fake."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import openapi_spec_validator
import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, timestamp_pb2
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from google.type import date_pb2
from xborder.common.v1 import options_pb2

from gateway.app import build_app
from gateway.descriptors import MethodInfo, describe_service, exposed_methods, message_class
from gateway.front_door import serve_front_door
from services.shared.errors import ValidationError
from services.shared.grpc_errors import status_details
from services.shared.grpc_server import RunningServer, serve
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient

FILE = "xborder/gwtest/v1/thing_service.proto"
PACKAGE = "xborder.gwtest.v1"
T = descriptor_pb2.FieldDescriptorProto


def _message(file: descriptor_pb2.FileDescriptorProto, name: str, *fields: tuple) -> None:
    message = file.message_type.add(name=name)
    for number, (field_name, kind, extra) in enumerate(fields, start=1):
        repeated = extra.get("repeated", False)
        added = message.field.add(
            name=field_name, number=number, type=kind, label=T.LABEL_REPEATED if repeated else T.LABEL_OPTIONAL
        )
        if "type_name" in extra:
            added.type_name = extra["type_name"]
        added.options.Extensions[options_pb2.data_class] = extra.get("data_class", options_pb2.DATA_CLASS_PUBLIC)


def _rpc(
    service: descriptor_pb2.ServiceDescriptorProto,
    name: str,
    request: str,
    reply: str,
    *,
    verb: str,
    path: str,
    body: str = "",
    scope: str | None = "things.write",
    extra: tuple[tuple[str, str], ...] = (),
) -> None:
    method = service.method.add(name=name, input_type=f".{PACKAGE}.{request}", output_type=f".{PACKAGE}.{reply}")
    rule = method.options.Extensions[annotations_pb2.http]
    setattr(rule, verb, path)
    rule.body = body
    for extra_verb, extra_path in extra:
        setattr(rule.additional_bindings.add(), extra_verb, extra_path)
    if scope is not None:
        method.options.Extensions[options_pb2.required_scope] = scope


def thing_service() -> ServiceDescriptor:
    """A small service in the default pool (once per process), shaped like a real xborder proto."""
    pool = descriptor_pool.Default()
    try:
        return pool.FindFileByName(FILE).services_by_name["ThingService"]
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto(
        name=FILE,
        package=PACKAGE,
        syntax="proto3",
        dependency=[
            "google/api/annotations.proto",
            "google/protobuf/timestamp.proto",
            date_pb2.DESCRIPTOR.name,
            "xborder/common/v1/options.proto",
        ],
    )
    kind = file.enum_type.add(name="Kind")
    for number, name in enumerate(("KIND_UNSPECIFIED", "KIND_SMALL", "KIND_BIG")):
        kind.value.add(name=name, number=number)
    _message(
        file,
        "Thing",
        ("name", T.TYPE_STRING, {}),
        ("display_name", T.TYPE_STRING, {"data_class": options_pb2.DATA_CLASS_PERSONAL}),
        ("count", T.TYPE_INT64, {}),
        ("kind", T.TYPE_ENUM, {"type_name": f".{PACKAGE}.Kind"}),
        ("tags", T.TYPE_STRING, {"repeated": True}),
        ("created", T.TYPE_MESSAGE, {"type_name": ".google.protobuf.Timestamp"}),
        ("due", T.TYPE_MESSAGE, {"type_name": ".google.type.Date"}),
    )
    _message(
        file,
        "CreateThingRequest",
        ("parent", T.TYPE_STRING, {}),
        ("thing", T.TYPE_MESSAGE, {"type_name": f".{PACKAGE}.Thing"}),
        ("validate_only", T.TYPE_BOOL, {}),
        ("request_id", T.TYPE_STRING, {}),
    )
    _message(file, "UpdateThingRequest", ("thing", T.TYPE_MESSAGE, {"type_name": f".{PACKAGE}.Thing"}))
    _message(file, "Filter", ("min_count", T.TYPE_INT64, {}), ("kind", T.TYPE_ENUM, {"type_name": f".{PACKAGE}.Kind"}))
    _message(
        file,
        "ListThingsRequest",
        ("parent", T.TYPE_STRING, {}),
        ("page_size", T.TYPE_INT32, {}),
        ("kinds", T.TYPE_ENUM, {"type_name": f".{PACKAGE}.Kind", "repeated": True}),
        ("filter", T.TYPE_MESSAGE, {"type_name": f".{PACKAGE}.Filter"}),
    )
    service = file.service.add(name="ThingService")
    _rpc(
        service,
        "CreateThing",
        "CreateThingRequest",
        "Thing",
        verb="post",
        path="/v1/{parent=shelves/*}/things",
        body="thing",
    )
    _rpc(
        service,
        "UpdateThing",
        "UpdateThingRequest",
        "Thing",
        verb="patch",
        path="/v1/{thing.name=things/*}",
        body="thing",
    )
    # The reply is the request itself, so a test sees exactly what the gateway built.
    _rpc(
        service,
        "ListThings",
        "ListThingsRequest",
        "ListThingsRequest",
        verb="get",
        path="/v1/{parent=shelves/*}/things",
        scope="things.read",
    )
    _rpc(
        service,
        "EchoThing",
        "Thing",
        "Thing",
        verb="post",
        path="/v1/things:echo",
        body="*",
        extra=(("get", "/v1/things/{name}:echo"),),
    )
    _rpc(service, "HiddenThing", "Thing", "Thing", verb="get", path="/v1/hidden-things/{name}", scope=None)
    pool.Add(file)
    return pool.FindFileByName(FILE).services_by_name["ThingService"]


@dataclass
class Seen:
    method: str
    request: Any  # a message of a class built at run time: its fields are not known to the type checker
    metadata: dict[str, Any]
    time_remaining: float | None


@dataclass
class Fake:
    server: RunningServer
    calls: list[Seen] = field(default_factory=list)

    @property
    def last(self) -> Seen:
        return self.calls[-1]


def fake_backend(settings: Settings, service: ServiceDescriptor) -> Fake:
    fake = Fake(server=None)  # type: ignore[arg-type]

    def behaviour(method: MethodInfo) -> Any:
        def handle(request: Any, context: grpc.ServicerContext) -> Message:
            fake.calls.append(Seen(method.name, request, dict(context.invocation_metadata()), context.time_remaining()))
            if method.name == "CreateThing":
                if request.thing.display_name == "no-key" and not request.request_id:
                    raise ValidationError.single("request_id", "required")
                if request.thing.display_name == "bad-key" and len(request.request_id) > 255:
                    raise ValidationError.single("request_id", "at most 255 characters")
                if request.thing.display_name == "fail":
                    raise ValidationError.single("thing.display_name", "must not be 'fail'")
                reply: Any = message_class(method.descriptor.output_type)()
                reply.CopyFrom(request.thing)
                reply.name = f"{request.parent}/things/t1"
                return reply
            if method.name == "UpdateThing":
                return request.thing
            return request

        return grpc.unary_unary_rpc_method_handler(
            handle,
            request_deserializer=method.input_class.FromString,
            response_serializer=method.output_class.SerializeToString,
        )

    info = describe_service(service)
    handlers = {m.name: behaviour(m) for m in info.methods}

    def register(server: grpc.Server) -> None:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))

    fake.server = serve(settings, [register], [service.full_name], port=0)
    return fake


@dataclass
class Harness:
    rest: AsgiClient
    backend: Fake
    settings: Settings
    service: ServiceDescriptor


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    service = thing_service()
    base = Settings(
        var_dir=tmp_path_factory.mktemp("var"), log_json=False, default_deadline_s=5.0, http_max_body_bytes=4096
    )
    backend = fake_backend(base, service)
    settings = Settings(
        var_dir=base.var_dir,
        log_json=False,
        default_deadline_s=5.0,
        http_max_body_bytes=4096,
        service_ports={"gwtest": backend.server.port},
    )
    app = build_app(settings, [describe_service(service)])
    client = AsgiClient(app)
    yield Harness(client, backend, settings, service)
    client.close()
    app.state.backends.close()
    backend.server.stop(0)


def fields(response: Any) -> dict[str, str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return {e["field"]: e["detail"] for e in response.json().get("errors", [])}


def test_body_field_and_path_variable_build_the_request(harness: Harness) -> None:
    response = harness.rest.post(
        "/v1/shelves/s1/things",
        json={
            "displayName": "Lamp",
            "count": "9007199254740993",
            "kind": "KIND_BIG",
            "tags": ["a", "b"],
            "created": "2024-03-15T08:30:00Z",
        },
    )
    assert response.status_code == 200, response.text
    sent = harness.backend.last.request
    assert sent.parent == "shelves/s1"
    assert (sent.thing.display_name, sent.thing.count, list(sent.thing.tags)) == ("Lamp", 9007199254740993, ["a", "b"])
    assert sent.thing.created == timestamp_pb2.Timestamp(seconds=1710491400)
    reply = response.json()
    # proto3 JSON: 64-bit integers as strings, enums by name, timestamps in RFC 3339.
    assert reply["count"] == "9007199254740993"
    assert reply["kind"] == "KIND_BIG"
    assert reply["created"] == "2024-03-15T08:30:00Z"
    assert reply["name"] == "shelves/s1/things/t1"


def test_proto_field_names_are_accepted_in_bodies(harness: Harness) -> None:
    response = harness.rest.post("/v1/shelves/s1/things", json={"display_name": "Lamp"})
    assert response.status_code == 200
    assert response.json()["displayName"] == "Lamp"


def test_idempotency_key_header_becomes_the_request_id(harness: Harness) -> None:
    response = harness.rest.post(
        "/v1/shelves/s1/things", json={"displayName": "Lamp"}, headers={"Idempotency-Key": "order-42"}
    )
    assert response.status_code == 200, response.text
    assert harness.backend.last.request.request_id == "order-42"


def test_openapi_documents_the_idempotency_key_where_a_request_has_a_request_id(harness: Harness) -> None:
    spec = harness.rest.get("/openapi.json").json()
    create = spec["paths"]["/v1/{parent}/things"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create)
    echo = spec["paths"]["/v1/things:echo"]["post"]["parameters"]
    assert not any(p["name"] == "Idempotency-Key" for p in echo)


def test_idempotency_key_and_a_different_request_id_are_refused(harness: Harness) -> None:
    response = harness.rest.post(
        "/v1/shelves/s1/things?requestId=order-1", json={"displayName": "Lamp"}, headers={"Idempotency-Key": "order-2"}
    )
    assert response.status_code == 400
    assert "request_id" in fields(response)


def test_idempotency_key_on_a_request_without_request_id_is_refused(harness: Harness) -> None:
    response = harness.rest.post("/v1/things:echo", json={"name": "x"}, headers={"Idempotency-Key": "k"})
    assert response.status_code == 400
    assert "Idempotency-Key" in fields(response)


def test_nested_path_variable_sets_the_nested_field(harness: Harness) -> None:
    response = harness.rest.request("PATCH", "/v1/things/t%207", json={"displayName": "Desk"})
    assert response.status_code == 200, response.text
    assert harness.backend.last.request.thing.name == "things/t 7"
    assert harness.backend.last.request.thing.display_name == "Desk"


def test_unknown_body_field_is_refused_by_its_path(harness: Harness) -> None:
    response = harness.rest.post("/v1/shelves/s1/things", json={"displayName": "Lamp", "colour": "red"})
    assert response.status_code == 400
    assert fields(response) == {"thing.colour": "unknown field"}


def test_badly_typed_body_field_is_refused_by_name(harness: Harness) -> None:
    response = harness.rest.post("/v1/things:echo", json={"count": "many"})
    assert response.status_code == 400
    assert list(fields(response)) == ["count"]


def test_malformed_json_is_a_400(harness: Harness) -> None:
    response = harness.rest.post("/v1/things:echo", content=b'{"name": ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "body" in fields(response)


def test_non_json_body_is_refused_as_unsupported_media_type(harness: Harness) -> None:
    response = harness.rest.post("/v1/things:echo", content=b"name=x", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["reason"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "text/plain" in response.json()["detail"]


def test_body_without_a_content_type_is_refused_as_unsupported_media_type(harness: Harness) -> None:
    response = harness.rest.post("/v1/things:echo", content=b'{"name": "x"}')
    assert response.status_code == 415
    assert response.json()["reason"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "Content-Type: application/json" in response.json()["detail"]


def test_json_with_a_charset_or_a_json_suffix_is_accepted(harness: Harness) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = harness.rest.post(
            "/v1/things:echo", content=b'{"name": "x"}', headers={"content-type": content_type}
        )
        assert response.status_code == 200, (content_type, response.text)


def test_body_star_takes_no_query_parameters(harness: Harness) -> None:
    response = harness.rest.post("/v1/things:echo?name=x", json={"name": "y"})
    assert response.status_code == 400
    assert "name" in fields(response)


def test_additional_binding_routes_to_the_same_rpc(harness: Harness) -> None:
    response = harness.rest.get("/v1/things/abc:echo?count=3&tags=x&tags=y")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "abc"
    assert harness.backend.last.method == "EchoThing"
    assert list(harness.backend.last.request.tags) == ["x", "y"]


def test_query_parameters_map_nested_repeated_and_enum_fields(harness: Harness) -> None:
    response = harness.rest.get(
        "/v1/shelves/s9/things?pageSize=5&kinds=KIND_BIG&kinds=1&filter.minCount=7&filter.kind=KIND_SMALL"
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "parent": "shelves/s9",
        "pageSize": 5,
        "kinds": ["KIND_BIG", "KIND_SMALL"],
        "filter": {"minCount": "7", "kind": "KIND_SMALL"},
    }


def test_bad_enum_names_the_parameter_and_the_choices(harness: Harness) -> None:
    response = harness.rest.get("/v1/shelves/s9/things?kinds=KIND_HUGE")
    assert response.status_code == 400
    assert "KIND_BIG" in fields(response)["kinds"]


def test_message_valued_and_unknown_nested_parameters_are_refused(harness: Harness) -> None:
    response = harness.rest.get("/v1/shelves/s9/things?filter=x&filter.colour=red&page_size=1.5")
    assert response.status_code == 400
    assert set(fields(response)) == {"filter", "filter.colour", "page_size"}


def test_path_templates_do_not_match_other_collections(harness: Harness) -> None:
    assert harness.rest.post("/v1/racks/s1/things", json={}).status_code == 404


def test_request_id_and_deadline_reach_the_service(harness: Harness) -> None:
    response = harness.rest.post(
        "/v1/things:echo", json={"name": "x"}, headers={"X-Request-Id": "trace-123", "X-Request-Timeout": "0.75"}
    )
    assert response.status_code == 200
    seen = harness.backend.last
    assert seen.metadata["x-request-id"] == "trace-123"
    # The wire encoding of grpc-timeout rounds up a little: compare with the 5 s default, not to the ms.
    assert seen.time_remaining is not None and 0 < seen.time_remaining < 1


def test_deadline_is_clamped_to_the_default(harness: Harness) -> None:
    harness.rest.post("/v1/things:echo", json={"name": "x"}, headers={"X-Request-Timeout": "3600"})
    remaining = harness.backend.last.time_remaining
    assert remaining is not None and remaining < harness.settings.default_deadline_s + 1


def test_service_field_violations_become_problem_errors(harness: Harness) -> None:
    response = harness.rest.post("/v1/shelves/s1/things", json={"displayName": "fail"})
    assert response.status_code == 400
    assert fields(response) == {"thing.display_name": "must not be 'fail'"}


def test_oversized_body_is_a_413(harness: Harness) -> None:
    response = harness.rest.post("/v1/things:echo", json={"name": "x" * 5000})
    assert response.status_code == 413
    assert response.json()["reason"] == "PAYLOAD_TOO_LARGE"


def test_rpc_without_scope_is_not_routed(harness: Harness) -> None:
    names = [m.name for m in exposed_methods([describe_service(harness.service)])]
    assert "HiddenThing" not in names and "EchoThing" in names
    assert harness.rest.get("/v1/hidden-things/x").status_code == 404
    paths = harness.rest.get("/openapi.json").json()["paths"]
    assert not any(p.startswith("/v1/hidden-things") for p in paths)


def test_openapi_describes_bodies_patterns_and_proto3_json_types(harness: Harness) -> None:
    document = harness.rest.get("/openapi.json").json()
    create = document["paths"]["/v1/{parent}/things"]["post"]
    assert create["operationId"] == "ThingService_CreateThing"
    assert create["x-required-scope"] == "things.write"
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(".Thing")
    (parent,) = [p for p in create["parameters"] if p["in"] == "path"]
    assert parent["schema"]["pattern"] == "^shelves/[^/]+$"
    thing = document["components"]["schemas"][f"{PACKAGE}.Thing"]["properties"]
    assert thing["count"]["type"] == "string"
    assert thing["created"]["format"] == "date-time"
    assert thing["displayName"]["x-data-class"] == "PERSONAL"
    assert document["components"]["schemas"][f"{PACKAGE}.Kind"]["enum"] == [
        "KIND_UNSPECIFIED",
        "KIND_SMALL",
        "KIND_BIG",
    ]
    listing = document["paths"]["/v1/{parent}/things"]["get"]
    query = {p["name"] for p in listing["parameters"] if p["in"] == "query"}
    assert query == {"pageSize", "kinds", "filter.minCount", "filter.kind"}
    echo_ids = {
        document["paths"][p][v]["operationId"]
        for p, v in (("/v1/things:echo", "post"), ("/v1/things/{name}:echo", "get"))
    }
    assert echo_ids == {"ThingService_EchoThing", "ThingService_EchoThing_2"}
    openapi_spec_validator.validate(document)


@pytest.fixture(scope="module")
def front_door(harness: Harness) -> Iterator[grpc.Channel]:
    running = serve_front_door(
        harness.settings, port=0, services=[describe_service(harness.service)], authenticate=False
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield channel
    channel.close()
    running.stop(grace=0)


def raw(channel: grpc.Channel, method: str) -> grpc.UnaryUnaryMultiCallable:
    return channel.unary_unary(f"/{PACKAGE}.ThingService/{method}", request_serializer=None, response_deserializer=None)


def test_front_door_forwards_bytes_metadata_and_deadline(harness: Harness, front_door: grpc.Channel) -> None:
    thing = message_class(harness.service.methods_by_name["EchoThing"].input_type)(name="n", count=5)
    reply, call = raw(front_door, "EchoThing").with_call(
        thing.SerializeToString(), timeout=1.5, metadata=(("x-request-id", "partner-9"), ("x-partner", "acme"))
    )
    assert reply == thing.SerializeToString()
    seen = harness.backend.last
    assert (seen.metadata["x-request-id"], seen.metadata["x-partner"]) == ("partner-9", "acme")
    assert seen.time_remaining is not None and seen.time_remaining < 2  # not the 5 s default
    assert dict(call.trailing_metadata())["x-request-id"] == "partner-9"


def test_front_door_passes_rich_errors_through(harness: Harness, front_door: grpc.Channel) -> None:
    request: Any = message_class(harness.service.methods_by_name["CreateThing"].input_type)(parent="shelves/1")
    request.thing.display_name = "fail"
    with pytest.raises(grpc.RpcError) as failure:
        raw(front_door, "CreateThing")(request.SerializeToString(), timeout=5)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, violations, _ = status_details(failure.value)
    assert reason == "VALIDATION_FAILED"
    assert violations == [("thing.display_name", "must not be 'fail'")]


def test_front_door_refuses_an_unscoped_rpc(harness: Harness, front_door: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        raw(front_door, "HiddenThing")(b"", timeout=5)
    assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert status_details(failure.value)[0] == "PERMISSION_DENIED"
    assert not any(c.method == "HiddenThing" for c in harness.backend.calls)


def test_front_door_does_not_know_other_methods(front_door: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        front_door.unary_unary(
            "/xborder.gwtest.v1.ThingService/Nope", request_serializer=None, response_deserializer=None
        )(b"", timeout=5)
    assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_a_date_is_taken_as_a_yyyy_mm_dd_string_in_a_body(harness: Harness) -> None:
    response = harness.rest.post("/v1/things:echo", json={"name": "x", "due": "2026-03-02"})
    assert response.status_code == 200, response.text
    assert harness.backend.last.request.due == date_pb2.Date(year=2026, month=3, day=2)


def test_a_date_in_a_body_field_route_is_taken_as_a_string_too(harness: Harness) -> None:
    response = harness.rest.post("/v1/shelves/s1/things", json={"displayName": "Lamp", "due": "2026-12-31"})
    assert response.status_code == 200, response.text
    assert harness.backend.last.request.thing.due == date_pb2.Date(year=2026, month=12, day=31)


def test_a_date_object_still_works(harness: Harness) -> None:
    response = harness.rest.post("/v1/things:echo", json={"name": "x", "due": {"year": 2026, "month": 3, "day": 2}})
    assert response.status_code == 200, response.text
    assert response.json()["due"] == {"year": 2026, "month": 3, "day": 2}


def test_a_date_string_in_a_query_parameter(harness: Harness) -> None:
    response = harness.rest.get("/v1/things/abc:echo?due=2026-03-02")
    assert response.status_code == 200, response.text
    assert harness.backend.last.request.due == date_pb2.Date(year=2026, month=3, day=2)
    parts = harness.rest.get("/v1/things/abc:echo?due.year=2026&due.month=3&due.day=2")
    assert parts.status_code == 200, parts.text


def test_a_malformed_date_string_names_the_field_and_both_forms(harness: Harness) -> None:
    body = harness.rest.post("/v1/things:echo", json={"name": "x", "due": "02/03/2026"})
    assert body.status_code == 400
    assert "YYYY-MM-DD" in fields(body)["due"] and "02/03/2026" in fields(body)["due"]
    query = harness.rest.get("/v1/things/abc:echo?due=tomorrow")
    assert query.status_code == 400
    assert "YYYY-MM-DD" in fields(query)["due"]


def test_openapi_says_a_date_is_a_string_or_an_object(harness: Harness) -> None:
    spec = harness.rest.get("/openapi.json").json()
    due = spec["components"]["schemas"]["xborder.gwtest.v1.Thing"]["properties"]["due"]
    assert {"type": "string", "format": "date"} in due["oneOf"]
    assert {"$ref": "#/components/schemas/google.type.Date"} in due["oneOf"]


@pytest.mark.parametrize(("opening", "depth"), [(b"[", 2000), (b'{"a":', 650)])
def test_a_deeply_nested_body_is_a_400_naming_the_body(harness: Harness, opening: bytes, depth: int) -> None:
    # Deeper than Python's recursion limit, within this harness's 4 KiB body limit.
    closing = b"]" if opening == b"[" else b"}"
    nested = opening * depth + b"1" + closing * depth
    for path in ("/v1/things:echo", "/v1/shelves/s1/things"):
        response = harness.rest.post(
            path, content=b'{"tags": ' + nested + b"}", headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, response.text[:200]
        assert "body" in fields(response)


def test_nesting_inside_strings_does_not_count(harness: Harness) -> None:
    response = harness.rest.post("/v1/things:echo", json={"name": "[" * 500 + "{" * 500})
    assert response.status_code == 200, response.text


def test_a_missing_request_id_is_named_as_the_idempotency_key_header(harness: Harness) -> None:
    response = harness.rest.post("/v1/shelves/s1/things", json={"displayName": "no-key"})
    assert response.status_code == 400
    assert fields(response) == {
        "Idempotency-Key": "required: send the Idempotency-Key header (or requestId in the body)"
    }
    problem = response.json()
    assert "request_id" not in problem
    assert problem["correlation_id"] == response.headers["x-request-id"]


def test_a_refused_idempotency_key_is_named_as_the_header(harness: Harness) -> None:
    response = harness.rest.post(
        "/v1/shelves/s1/things", json={"displayName": "bad-key"}, headers={"Idempotency-Key": "k" * 300}
    )
    assert response.status_code == 400
    assert list(fields(response)) == ["Idempotency-Key"]


def test_a_refused_request_id_sent_in_the_body_keeps_its_name(harness: Harness) -> None:
    response = harness.rest.post("/v1/shelves/s1/things?requestId=" + "k" * 300, json={"displayName": "bad-key"})
    assert response.status_code == 400
    assert list(fields(response)) == ["request_id"]
