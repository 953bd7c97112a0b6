"""The OpenAPI 3.1 document of the REST API, generated from the same routes the gateway serves.

Schemas follow the proto3 JSON mapping: lowerCamelCase property names, 64-bit integers as strings, enums
as their names, Timestamp as an RFC 3339 date-time string, google.type.Date as a "YYYY-MM-DD" string or
its {year, month, day} object (the gateway takes both). Each operation carries `x-required-scope` and
`x-grpc-method`; each property carries `x-data-class` from `(xborder.common.v1.data_class)`, and a request
field's `(xborder.common.v1.field_rules)` become `required`, `format`, `pattern`, `minLength`/`maxLength` and
`minimum`/`maximum` through services/shared/field_rules.py, the rule objects the servicers check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from gateway.descriptors import data_class, is_map, is_repeated, resolve_path
from gateway.oauth_token import TOKEN_PATH
from gateway.problems import PROBLEM_CONTENT_TYPE
from gateway.tenancy import Kind, rule_for
from gateway.transcoding import DATE, IDEMPOTENCY_FIELD, Route
from services.shared.field_rules import rule_of, rules_of
from services.shared.logs import get_logger

log = get_logger(__name__)

OPENAPI_VERSION = "3.1.0"
API_VERSION = "v1"
_REF = "#/components/schemas/"

_SCALARS: dict[int, dict[str, Any]] = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295},
    FieldDescriptor.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295},
    # proto3 JSON writes 64-bit integers as strings (JavaScript numbers lose precision past 2^53).
    FieldDescriptor.TYPE_INT64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    FieldDescriptor.TYPE_SINT64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    FieldDescriptor.TYPE_SFIXED64: {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"},
    FieldDescriptor.TYPE_UINT64: {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"},
    FieldDescriptor.TYPE_FIXED64: {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}

_WRAPPERS = {
    "google.protobuf.DoubleValue": FieldDescriptor.TYPE_DOUBLE,
    "google.protobuf.FloatValue": FieldDescriptor.TYPE_FLOAT,
    "google.protobuf.Int64Value": FieldDescriptor.TYPE_INT64,
    "google.protobuf.UInt64Value": FieldDescriptor.TYPE_UINT64,
    "google.protobuf.Int32Value": FieldDescriptor.TYPE_INT32,
    "google.protobuf.UInt32Value": FieldDescriptor.TYPE_UINT32,
    "google.protobuf.BoolValue": FieldDescriptor.TYPE_BOOL,
    "google.protobuf.StringValue": FieldDescriptor.TYPE_STRING,
    "google.protobuf.BytesValue": FieldDescriptor.TYPE_BYTES,
}

_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.Any": {"type": "object", "properties": {"@type": {"type": "string"}}, "required": ["@type"]},
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "reason": {"type": "string", "description": "google.rpc.ErrorInfo reason (errors.proto ErrorReason)."},
        "correlation_id": {
            "type": "string",
            "description": "The call's X-Request-Id, to find it in the logs (not the Idempotency-Key).",
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "detail"],
                "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}


class SchemaSet:
    """components/schemas, filled on demand as messages and enums are referenced."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}

    def message(self, descriptor: Descriptor) -> dict[str, Any]:
        """A schema for a message type: inline for well-known types, else a $ref into components."""
        name = descriptor.full_name
        if name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[name])
        if name == DATE:
            return {"oneOf": [{"type": "string", "format": "date"}, self._object(descriptor)]}
        if name in _WRAPPERS:
            inner = dict(_SCALARS[_WRAPPERS[name]])
            inner["type"] = [inner["type"], "null"]
            return inner
        return self._object(descriptor)

    def _object(self, descriptor: Descriptor) -> dict[str, Any]:
        name = descriptor.full_name
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder first, so recursive messages terminate
            properties = {field.json_name: self.field(field) for field in descriptor.fields}
            schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
            required = [rule.field.json_name for rule in rules_of(descriptor) if rule.required]
            if required:
                schema["required"] = required
            self.schemas[name] = schema
        return {"$ref": _REF + name}

    def enum(self, descriptor: EnumDescriptor) -> dict[str, Any]:
        name = descriptor.full_name
        if name not in self.schemas:
            self.schemas[name] = {"type": "string", "enum": [value.name for value in descriptor.values]}
        return {"$ref": _REF + name}

    def value(self, field: FieldDescriptor) -> dict[str, Any]:
        """The schema of one value of the field (an element, when the field is repeated)."""
        if field.message_type is not None:
            return self.message(field.message_type)
        if field.enum_type is not None:
            return self.enum(field.enum_type)
        return dict(_SCALARS[field.type])

    def field(self, field: FieldDescriptor) -> dict[str, Any]:
        if is_map(field):
            entry = field.message_type
            assert entry is not None
            schema: dict[str, Any] = {
                "type": "object",
                "additionalProperties": self.value(entry.fields_by_name["value"]),
            }
        elif is_repeated(field):
            schema = {"type": "array", "items": self.value(field)}
        else:
            schema = self.value(field)
        rule = rule_of(field)
        if rule is not None:
            if is_repeated(field):
                schema["items"] = {**schema["items"], **rule.json_schema()}
                if rule.required:
                    schema["minItems"] = 1  # proto3 JSON reads [] as the field left out
            else:
                schema.update(rule.json_schema())
        classification = data_class(field)
        if classification is not None:
            schema["x-data-class"] = classification
        return schema


def _template_pattern(sub_template: str) -> str:
    parts = []
    for piece in sub_template.split("/"):
        if piece == "*":
            parts.append("[^/]+")
        elif piece == "**":
            parts.append(".+")
        else:
            parts.append(re.escape(piece))
    return "^" + "/".join(parts) + "$"


def _json_path(request: Descriptor, dotted: str) -> str:
    return ".".join(field.json_name for field in resolve_path(request, dotted))


SECURITY_SCHEME = "apiKey"
OAUTH2_SCHEME = "oauth2"
SESSION_SCHEME = "opsSession"
_SECURITY_SCHEMES: dict[str, Any] = {
    SECURITY_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "xbk_live_<key id>_<secret>",
        "description": "An API key issued at onboarding: `Authorization: Bearer xbk_live_...`. A missing or "
        "invalid key is 401 with WWW-Authenticate; a key without the operation's `x-required-scope` is 403; "
        "another merchant's resource is 404.",
    },
    OAUTH2_SCHEME: {
        "type": "oauth2",
        "description": "OAuth2 client credentials (RFC 6749 section 4.4): a merchant's client, registered with "
        "POST /v1/merchants/{merchantCode}/oauth-clients, exchanges its id and secret at "
        f"POST {TOKEN_PATH} for a short-lived JWT sent as `Authorization: Bearer <token>`.",
        "flows": {"clientCredentials": {"tokenUrl": TOKEN_PATH, "scopes": {}}},
    },
    SESSION_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "xbo_sess_<session id>_<secret>",
        "description": "An ops staff session from POST /v1/operators:login (password and TOTP code) or "
        "POST /v1/operators:sso-login (an ID token of the company's OpenID Connect identity provider). "
        "Operations marked `x-step-up` need a second factor checked within the step-up window (a TOTP code, "
        "POST /v1/operators/sessions:step-up, or the identity provider's multi-factor sign-in); otherwise "
        "403 STEP_UP_REQUIRED.",
    },
}


TRANSFER_DESTINATION_PARAMETER: dict[str, Any] = {
    "name": "X-Transfer-Destination",
    "in": "header",
    "required": False,
    "description": "The country (ISO 3166-1 alpha-2) the caller passes the answer on to: the cross-border "
    "transfer rules are applied for it as well as for the caller's own country; a field that may not go there "
    "is masked, or the answer is refused 451 (TRANSFER_BLOCKED, TRANSFER_BASIS_MISSING) naming the rule.",
    "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
}


def _security(route: Route) -> dict[str, Any]:
    rule = rule_for(route.method.grpc_path)
    if rule.kind in (Kind.PUBLIC, Kind.SIGN_IN):
        return {"security": [], "x-tenancy": rule.kind.value}
    scope = [route.method.required_scope]
    schemes: list[dict[str, list[str | None]]] = []
    if rule.session_field is None:  # a rule that acts on the caller's own session admits only sessions
        schemes.append({SECURITY_SCHEME: scope})
        if rule.kind is Kind.MERCHANT:
            schemes.append({OAUTH2_SCHEME: scope})
    schemes.append({SESSION_SCHEME: scope})
    answer: dict[str, Any] = {"security": schemes, "x-tenancy": rule.kind.value}
    if rule.step_up:
        answer["x-step-up"] = True
    return answer


def _token_operation() -> dict[str, Any]:
    """POST /oauth/token: served by the gateway itself, not transcoded from a gRPC method."""
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "string",
                "enum": [
                    "invalid_request",
                    "invalid_client",
                    "invalid_grant",
                    "unauthorized_client",
                    "unsupported_grant_type",
                    "invalid_scope",
                ],
            },
            "error_description": {"type": "string"},
        },
    }
    return {
        "post": {
            "operationId": "OAuthToken",
            "summary": "Exchange OAuth2 client credentials for an access token (RFC 6749 section 4.4).",
            "description": "Client authentication by HTTP Basic (preferred) or client_id and client_secret in "
            "the form body. Errors are RFC 6749 section 5.2 JSON, not problem details.",
            "security": [],
            "x-tenancy": "sign-in",
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["grant_type"],
                            "properties": {
                                "grant_type": {"type": "string", "enum": ["client_credentials"]},
                                "scope": {"type": "string"},
                                "client_id": {"type": "string"},
                                "client_secret": {"type": "string"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "The access token (RFC 6749 section 5.1).",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["access_token", "token_type", "expires_in"],
                                "properties": {
                                    "access_token": {"type": "string"},
                                    "token_type": {"type": "string", "enum": ["Bearer"]},
                                    "expires_in": {"type": "integer", "minimum": 1},
                                    "scope": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "400": {"description": "RFC 6749 error.", "content": {"application/json": {"schema": error}}},
                "401": {"description": "invalid_client.", "content": {"application/json": {"schema": error}}},
            },
        }
    }


def _operation(route: Route, schemas: SchemaSet, operation_id: str) -> dict[str, Any]:
    method = route.method
    request = method.descriptor.input_type
    parameters: list[dict[str, Any]] = []
    for variable, pattern in zip(route.template.variables, route.template.variable_patterns, strict=True):
        leaf = resolve_path(request, variable.field_path)[-1]
        schema = schemas.field(leaf)
        if pattern:
            schema["pattern"] = _template_pattern(pattern)
        parameters.append({"name": variable.field_path, "in": "path", "required": True, "schema": schema})
    for dotted, leaf in route.query_fields:
        rule = rule_of(leaf) if "." not in dotted else None
        required = rule is not None and rule.required
        parameters.append(
            {"name": _json_path(request, dotted), "in": "query", "required": required, "schema": schemas.field(leaf)}
        )
    if IDEMPOTENCY_FIELD in request.fields_by_name:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": f"Fills `{IDEMPOTENCY_FIELD}`: a replay returns the first result, a replay with a "
                "different payload is refused (409 IDEMPOTENCY_CONFLICT).",
                "schema": {"type": "string", "maxLength": 255},
            }
        )
    response_schema = (
        schemas.message(method.descriptor.output_type)
        if route.response_field is None
        else schemas.field(route.response_field)
    )
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "tags": [method.descriptor.containing_service.name],
        "summary": f"{method.descriptor.containing_service.name}.{method.name}",
        "parameters": parameters,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": response_schema}}},
            "default": {"$ref": "#/components/responses/Problem"},
        },
        "x-grpc-method": method.grpc_path,
        "x-required-scope": method.required_scope,
    }
    if route.binding.body:
        body_schema = schemas.message(request) if route.body_field is None else schemas.field(route.body_field)
        operation["requestBody"] = {
            "required": route.body_field is None,
            "content": {"application/json": {"schema": body_schema}},
        }
    return operation


def build_document(routes: Sequence[Route], *, title: str = "xborder API", secured: bool = False) -> dict[str, Any]:
    """An OpenAPI 3.1 document for the routes (as build_routes returned them)."""
    schemas = SchemaSet()
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, str] = {}
    used_ids: set[str] = set()
    for route in sorted(routes, key=lambda r: (r.template.openapi_path, r.binding.verb)):
        item = paths.setdefault(route.template.openapi_path, {})
        verb = route.binding.verb
        if verb in item:
            log.warning(
                "openapi_duplicate_path", path=route.template.openapi_path, verb=verb, rpc=route.method.grpc_path
            )
            continue
        operation_id = route.method.operation_id
        suffix = 2
        while operation_id in used_ids:
            operation_id = f"{route.method.operation_id}_{suffix}"
            suffix += 1
        used_ids.add(operation_id)
        item[verb] = _operation(route, schemas, operation_id)
        if secured:
            item[verb].update(_security(route))
            if item[verb]["x-tenancy"] != "public":
                item[verb]["parameters"].append(TRANSFER_DESTINATION_PARAMETER)
        service = route.method.descriptor.containing_service
        tags[service.name] = f"gRPC service {service.full_name}"
    components: dict[str, Any] = {
        "schemas": dict(sorted(schemas.schemas.items())),
        "responses": {
            "Problem": {
                "description": "An error, as RFC 9457 problem details.",
                "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": _REF + "Problem"}}},
            },
        },
    }
    if secured:
        components["securitySchemes"] = _SECURITY_SCHEMES
        paths[TOKEN_PATH] = _token_operation()
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": title,
            "version": API_VERSION,
            "description": "REST/JSON mapping of the xborder gRPC services, generated from their "
            "google.api.http rules. Errors are RFC 9457 problem details.",
        },
        "tags": [{"name": name, "description": description} for name, description in sorted(tags.items())],
        "paths": paths,
        "components": components,
    }
