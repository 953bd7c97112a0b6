"""HTTP/JSON <-> gRPC transcoding by the `google.api.http` rules (google/api/http.proto semantics).

A route is one http binding of one RPC. Its path template (`/v1/hs-codes/{code}`, `{name=things/*}`,
`**`, `:verb`) binds path segments to request fields; `body: "*"` maps the JSON body onto the whole
request, `body: "field"` onto one field, and the fields bound by neither are set from query parameters
(dotted for nested fields, repeated for repeated fields). Bodies and responses use the proto3 JSON mapping
(`json_format`), lowerCamelCase on output, either name on input. Unknown fields and parameters are refused,
naming them, so a typo never silently does nothing. A `google.type.Date` is taken either as its JSON object
(`{"year": 2026, "month": 3, "day": 2}`) or as a "YYYY-MM-DD" string, in a body, a path or a query
parameter, like every other date the API takes. A body nested deeper than MAX_JSON_DEPTH is refused before
it is parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from gateway.descriptors import (
    HttpBinding,
    MethodInfo,
    field_by_name,
    is_map,
    is_repeated,
    message_class,
    resolve_path,
)
from services.shared.errors import FieldViolation, ValidationError

IDEMPOTENCY_FIELD = "request_id"
"""The request field an HTTP `Idempotency-Key` header fills (docs/kernel.md: idempotent requests)."""
IDEMPOTENCY_HEADER = "Idempotency-Key"

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# Well-known types whose JSON form is a string, so they may be set from a path or query parameter.
_STRING_LIKE_WKT = frozenset(
    {
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
        "google.protobuf.StringValue",
        "google.protobuf.BytesValue",
        "google.protobuf.Int32Value",
        "google.protobuf.Int64Value",
        "google.protobuf.UInt32Value",
        "google.protobuf.UInt64Value",
        "google.protobuf.FloatValue",
        "google.protobuf.DoubleValue",
        "google.protobuf.BoolValue",
    }
)
_BOOL_WRAPPER = "google.protobuf.BoolValue"
DATE = "google.type.Date"
_DATE_TEXT = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a request body may have (protobuf's JSON parser allows 100)."""
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


class TemplateError(ValueError):
    """An http rule's path template does not follow google/api/http.proto."""


@dataclass(frozen=True)
class Variable:
    field_path: str
    multi_segment: bool


@dataclass(frozen=True)
class PathTemplate:
    """A compiled path template: a regex over the raw (percent-encoded) path, and its variables."""

    template: str
    regex: re.Pattern[str]
    variables: tuple[Variable, ...]
    literal_segments: int
    openapi_path: str
    variable_patterns: tuple[str, ...]
    """Per variable, its sub-template ("things/*") or "" for a plain `{field}` (for OpenAPI)."""

    @classmethod
    def parse(cls, template: str) -> PathTemplate:
        if not template.startswith("/"):
            raise TemplateError(f"path template {template!r} must start with '/'")
        body, verb = _split_verb(template[1:])
        regex_parts: list[str] = []
        openapi_parts: list[str] = []
        variables: list[Variable] = []
        patterns: list[str] = []
        literals = 0
        for segment in _split_segments(body, template):
            if segment.startswith("{"):
                if not segment.endswith("}"):
                    raise TemplateError(f"unbalanced braces in path template {template!r}")
                name, _, sub = segment[1:-1].partition("=")
                if not _IDENT.match(name):
                    raise TemplateError(f"bad variable {name!r} in path template {template!r}")
                sub_regex, multi, sub_literals = _segments_regex(sub or "*", template)
                literals += sub_literals
                regex_parts.append(f"(?P<v{len(variables)}>{sub_regex})")
                openapi_parts.append("{" + name + "}")
                variables.append(Variable(name, multi))
                patterns.append(sub)
            else:
                part_regex, _, part_literals = _segments_regex(segment, template)
                literals += part_literals
                regex_parts.append(part_regex)
                openapi_parts.append(segment)
        regex = "^/" + "/".join(regex_parts) + (re.escape(":" + verb) if verb else "") + "$"
        openapi_path = "/" + "/".join(openapi_parts) + (f":{verb}" if verb else "")
        return cls(template, re.compile(regex), tuple(variables), literals, openapi_path, tuple(patterns))

    def match(self, raw_path: str) -> dict[str, str] | None:
        """Field path -> decoded value when the raw path matches, else None."""
        found = self.regex.match(raw_path)
        if found is None:
            return None
        values = {}
        for index, variable in enumerate(self.variables):
            raw = found.group(f"v{index}")
            if variable.multi_segment:
                # Multi-segment values keep an encoded "/" encoded, as http.proto specifies.
                values[variable.field_path] = "/".join(
                    unquote(part.replace("%2F", "%252F").replace("%2f", "%252f")) for part in raw.split("/")
                )
            else:
                values[variable.field_path] = unquote(raw)
        return values


def _split_verb(body: str) -> tuple[str, str]:
    depth = 0
    last_slash = -1
    for index, char in enumerate(body):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "/" and depth == 0:
            last_slash = index
    colon = body.rfind(":")
    if colon > last_slash and "}" not in body[colon:]:
        return body[:colon], body[colon + 1 :]
    return body, ""


def _split_segments(body: str, template: str) -> list[str]:
    segments: list[str] = []
    depth = 0
    current = ""
    for char in body:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if char == "/" and depth == 0:
            segments.append(current)
            current = ""
        else:
            current += char
        if depth not in (0, 1):
            raise TemplateError(f"nested braces in path template {template!r}")
    segments.append(current)
    if any(not s for s in segments):
        raise TemplateError(f"empty segment in path template {template!r}")
    return segments


def _segments_regex(segments: str, template: str) -> tuple[str, bool, int]:
    """Regex for "a/*/b/**" style segments: (regex, spans several segments, number of literals)."""
    parts = []
    literals = 0
    multi = False
    pieces = segments.split("/")
    for piece in pieces:
        if piece == "*":
            parts.append("[^/]+")
        elif piece == "**":
            parts.append("[^/]+(?:/[^/]+)*")
            multi = True
        elif not piece or any(c in piece for c in "{}*="):
            raise TemplateError(f"bad segment {piece!r} in path template {template!r}")
        else:
            parts.append(re.escape(quote(piece, safe="-._~!$&'()*+,;=:@")))
            literals += 1
    return "/".join(parts), multi or len(pieces) > 1, literals


@dataclass(frozen=True)
class Route:
    """One http binding of one RPC, checked against the request and response messages."""

    method: MethodInfo
    binding: HttpBinding
    template: PathTemplate
    body_field: FieldDescriptor | None
    response_field: FieldDescriptor | None
    query_fields: tuple[tuple[str, FieldDescriptor], ...]
    """(dotted proto path, leaf field) of every field a query parameter may set on this route."""

    @property
    def verb(self) -> str:
        return self.binding.verb.upper()

    @classmethod
    def build(cls, method: MethodInfo, binding: HttpBinding) -> Route:
        where = f"{method.grpc_path} ({binding.verb.upper()} {binding.path})"
        try:
            template = PathTemplate.parse(binding.path)
        except TemplateError as error:
            raise TemplateError(f"{where}: {error}") from None
        request = method.descriptor.input_type
        for variable in template.variables:
            chain = _checked_chain(request, variable.field_path, where)
            leaf = chain[-1]
            if is_repeated(leaf) or (
                leaf.message_type is not None and leaf.message_type.full_name not in _STRING_LIKE_WKT | {DATE}
            ):
                raise TemplateError(f"{where}: path variable {variable.field_path} must name a scalar field")
        body_field = None
        if binding.body and binding.body != "*":
            body_field = request.fields_by_name.get(binding.body)
            if body_field is None:
                raise TemplateError(f"{where}: body {binding.body!r} is not a field of {request.full_name}")
        response_field = None
        if binding.response_body:
            response_field = method.descriptor.output_type.fields_by_name.get(binding.response_body)
            if response_field is None:
                raise TemplateError(
                    f"{where}: response_body {binding.response_body!r} is not a field of "
                    f"{method.descriptor.output_type.full_name}"
                )
        query = _query_fields(request, binding, template, body_field)
        return cls(method, binding, template, body_field, response_field, query)

    def build_request(
        self,
        path_values: dict[str, str],
        query: Sequence[tuple[str, str]],
        body: bytes,
        idempotency_key: str | None = None,
    ) -> Message:
        """The request message for an HTTP call; ValidationError naming every field at fault.

        `idempotency_key` (the HTTP `Idempotency-Key` header) fills the request's `request_id`; a body that
        names a different `request_id` is refused rather than silently picking one of the two.
        """
        violations: list[FieldViolation] = []
        request_type = self.method.descriptor.input_type
        data: dict[str, Any] = {}
        if self.binding.body:
            data = self._body_data(body, violations)
            dates_from_text(data, request_type, "", violations)
        elif body.strip():
            violations.append(FieldViolation("body", f"{self.verb} {self.binding.path} takes no request body"))
        if not violations:
            self._apply_query(data, query, violations)
        if idempotency_key is not None and not violations:
            self._apply_idempotency_key(data, idempotency_key, violations)
        for field_path, value in path_values.items():
            chain = resolve_path(request_type, field_path)
            converted = _check_leaf(chain, value, field_path, violations)
            if converted is not _INVALID:
                _set_path(data, chain, converted)
        if violations:
            raise ValidationError(violations)
        message = self.method.input_class()
        try:
            json_format.ParseDict(data, message, ignore_unknown_fields=False)
        except json_format.ParseError as error:
            raise ValidationError([parse_error_violation(str(error))]) from None
        return message

    def for_http_caller(
        self, violations: Sequence[FieldViolation], request: Message, idempotency_key: str | None
    ) -> list[FieldViolation]:
        """A service's field violations, named the way an HTTP caller sets those fields.

        A service names the idempotency key `request_id`; over HTTP it is the Idempotency-Key header (or
        `requestId`), and `request_id` beside the problem's correlation id would read as the wrong id.
        """
        has_key_field = IDEMPOTENCY_FIELD in self.method.descriptor.input_type.fields_by_name
        sent_in_message = bool(getattr(request, IDEMPOTENCY_FIELD, "")) and idempotency_key is None
        out = []
        for violation in violations:
            if violation.field != IDEMPOTENCY_FIELD or not has_key_field or sent_in_message:
                out.append(violation)
            elif idempotency_key is not None:
                out.append(FieldViolation(IDEMPOTENCY_HEADER, violation.description))
            else:
                out.append(
                    FieldViolation(
                        IDEMPOTENCY_HEADER,
                        f"{violation.description}: send the {IDEMPOTENCY_HEADER} header (or requestId in the body)",
                    )
                )
        return out

    def _apply_idempotency_key(self, data: dict[str, Any], key: str, violations: list[FieldViolation]) -> None:
        field = self.method.descriptor.input_type.fields_by_name.get(IDEMPOTENCY_FIELD)
        if field is None or field.type != FieldDescriptor.TYPE_STRING:
            violations.append(
                FieldViolation(IDEMPOTENCY_HEADER, f"{self.verb} {self.binding.path} is not an idempotent request")
            )
            return
        given = data.get(field.json_name, data.get(IDEMPOTENCY_FIELD))
        if given not in (None, "", key):
            violations.append(
                FieldViolation(IDEMPOTENCY_FIELD, "differs from the Idempotency-Key header; send one of the two")
            )
            return
        data.pop(IDEMPOTENCY_FIELD, None)
        data[field.json_name] = key

    def _body_data(self, body: bytes, violations: list[FieldViolation]) -> dict[str, Any]:
        if not body.strip():
            if self.binding.body == "*" or self.body_field is None or self.body_field.message_type is not None:
                return {}
            violations.append(FieldViolation(self.binding.body, "a JSON request body is required"))
            return {}
        if nests_deeper_than(body, MAX_JSON_DEPTH):
            violations.append(FieldViolation("body", f"nests arrays or objects deeper than {MAX_JSON_DEPTH} levels"))
            return {}
        try:
            parsed = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            violations.append(FieldViolation("body", f"is not valid JSON: {error}"))
            return {}
        except RecursionError:  # deeper than this interpreter's stack allows, whatever MAX_JSON_DEPTH says
            violations.append(FieldViolation("body", "nests arrays or objects too deeply"))
            return {}
        if self.body_field is None:
            if not isinstance(parsed, dict):
                violations.append(FieldViolation("body", "must be a JSON object"))
                return {}
            violations.extend(unknown_fields(parsed, self.method.descriptor.input_type))
            return parsed
        field = self.body_field
        if field.message_type is not None and not is_repeated(field):
            if not isinstance(parsed, dict):
                violations.append(FieldViolation(field.json_name, "must be a JSON object"))
                return {}
            violations.extend(unknown_fields(parsed, field.message_type, f"{field.json_name}."))
        return {field.json_name: parsed}

    def _apply_query(
        self, data: dict[str, Any], query: Sequence[tuple[str, str]], violations: list[FieldViolation]
    ) -> None:
        grouped: dict[str, list[str]] = {}
        for name, value in query:
            grouped.setdefault(name, []).append(value)
        if not grouped:
            return
        allowed = {path for path, _ in self.query_fields}
        request_type = self.method.descriptor.input_type
        for name, values in grouped.items():
            try:
                chain = resolve_path(request_type, name)
            except KeyError:
                violations.append(FieldViolation(name, "unknown query parameter"))
                continue
            if ".".join(f.name for f in chain) not in allowed:
                violations.append(FieldViolation(name, "cannot be set by a query parameter on this route"))
                continue
            leaf = chain[-1]
            if is_repeated(leaf):
                converted: Any = [_check_leaf(chain, v, name, violations) for v in values]
                if _INVALID in converted:
                    continue
            elif len(values) > 1:
                violations.append(FieldViolation(name, "is not repeated; give it once"))
                continue
            else:
                converted = _check_leaf(chain, values[0], name, violations)
                if converted is _INVALID:
                    continue
            _set_path(data, chain, converted)

    def render(self, response: Message) -> Any:
        """The JSON value of a response: the whole message, or the `response_body` field alone."""
        field = self.response_field
        if field is not None and field.message_type is not None and not is_repeated(field):
            return message_to_json(getattr(response, field.name))
        data = message_to_json(response)
        return data if field is None else data.get(field.json_name)


_INVALID: Any = object()


def _query_fields(
    request: Descriptor, binding: HttpBinding, template: PathTemplate, body_field: FieldDescriptor | None
) -> tuple[tuple[str, FieldDescriptor], ...]:
    if binding.body == "*":
        return ()
    bound = {v.field_path for v in template.variables}
    out: list[tuple[str, FieldDescriptor]] = []

    def walk(message: Descriptor, prefix: str, seen: frozenset[str]) -> None:
        for field in message.fields:
            path = f"{prefix}{field.name}"
            if path in bound or (not prefix and field is body_field):
                continue
            if field.message_type is None or field.message_type.full_name in _STRING_LIKE_WKT:
                out.append((path, field))
                continue
            if field.message_type.full_name == DATE and not is_repeated(field):
                out.append((path, field))  # as_of=2026-03-02, besides as_of.year=2026...
            if not is_repeated(field) and field.message_type.full_name not in seen:
                walk(field.message_type, f"{path}.", seen | {field.message_type.full_name})

    walk(request, "", frozenset({request.full_name}))
    return tuple(out)


def message_to_json(message: Message) -> dict[str, Any]:
    # Fields without presence are always printed, so clients see e.g. minorUnit: 0 for JPY.
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


def _checked_chain(message: Descriptor, dotted: str, where: str) -> list[FieldDescriptor]:
    try:
        chain = resolve_path(message, dotted)
    except KeyError:
        raise TemplateError(f"{where}: {dotted} is not a field of {message.full_name}") from None
    if any(is_repeated(f) for f in chain[:-1]):
        raise TemplateError(f"{where}: {dotted} goes through a repeated field")
    return chain


def _check_leaf(chain: list[FieldDescriptor], raw: str, name: str, violations: list[FieldViolation]) -> Any:
    """The JSON value for a path/query string, checked by json_format itself; _INVALID after a violation."""
    leaf = chain[-1]
    if leaf.message_type is not None and leaf.message_type.full_name == DATE:
        date = date_from_text(raw)
        if date is None:
            violations.append(FieldViolation(name, DATE_PROBLEM))
            return _INVALID
        return date
    if leaf.message_type is not None and leaf.message_type.full_name not in _STRING_LIKE_WKT:
        violations.append(FieldViolation(name, "is a message; set its fields with dotted parameter names"))
        return _INVALID
    if leaf.type == FieldDescriptor.TYPE_STRING and leaf.message_type is None:
        return raw  # any text is a valid string; skip the probe parse on the hot path
    value: Any = raw
    if leaf.type == FieldDescriptor.TYPE_BOOL or (
        leaf.message_type is not None and leaf.message_type.full_name == _BOOL_WRAPPER
    ):
        if raw.lower() not in _TRUE | _FALSE:
            violations.append(FieldViolation(name, f"must be true or false, got {raw!r}"))
            return _INVALID
        value = raw.lower() in _TRUE
    elif leaf.type == FieldDescriptor.TYPE_ENUM and raw.lstrip("-").isdigit():
        value = int(raw)
    assert leaf.containing_type is not None
    probe = message_class(leaf.containing_type)()
    try:
        json_format.ParseDict({leaf.json_name: [value] if is_repeated(leaf) else value}, probe)
    except json_format.ParseError as error:
        violations.append(FieldViolation(name, _type_problem(leaf, raw, str(error))))
        return _INVALID
    return value


DATE_PROBLEM = 'must be a date "YYYY-MM-DD" or an object {"year", "month", "day"}'


def date_from_text(text: str) -> dict[str, int] | None:
    """The google.type.Date JSON object for "YYYY-MM-DD", or None when the text is not of that form.

    Only the form is checked here; whether the day exists is the service's to say, as for the object form.
    """
    found = _DATE_TEXT.match(text)
    if found is None:
        return None
    year, month, day = (int(part) for part in found.groups())
    return {"year": year, "month": month, "day": day}


def dates_from_text(value: Any, message: Descriptor, prefix: str, violations: list[FieldViolation]) -> None:
    """Replace, in place, every "YYYY-MM-DD" string at a google.type.Date field of a JSON body by its object."""
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        field = field_by_name(message, key)
        nested = field.message_type if field is not None else None
        if field is None or nested is None or nested.full_name.startswith("google.protobuf."):
            continue
        where = f"{prefix}{field.name}"
        if is_map(field):
            value_field = nested.fields_by_name["value"]
            if value_field.message_type is not None and isinstance(item, dict):
                for map_key, map_value in item.items():
                    dates_from_text(map_value, value_field.message_type, f"{where}.{map_key}.", violations)
        elif nested.full_name == DATE:
            if is_repeated(field) and isinstance(item, list):
                for index, element in enumerate(item):
                    item[index] = _date_value(element, f"{where}[{index}]", violations)
            else:
                value[key] = _date_value(item, where, violations)
        elif is_repeated(field) and isinstance(item, list):
            for index, element in enumerate(item):
                dates_from_text(element, nested, f"{where}[{index}].", violations)
        else:
            dates_from_text(item, nested, f"{where}.", violations)


def _date_value(value: Any, where: str, violations: list[FieldViolation]) -> Any:
    if not isinstance(value, str):
        return value  # the object form (or a wrong type, which the proto3 JSON parser names)
    date = date_from_text(value)
    if date is None:
        violations.append(FieldViolation(where, f"{DATE_PROBLEM}, got {value!r}"))
    return date if date is not None else value


def nests_deeper_than(body: bytes, limit: int) -> bool:
    """Whether a JSON text nests arrays/objects deeper than `limit` (strings skipped; malformed text too)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the common case, decided without a scan
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _type_problem(field: FieldDescriptor, raw: str, error: str) -> str:
    if field.type == FieldDescriptor.TYPE_ENUM and field.enum_type is not None:
        names = ", ".join(v.name for v in field.enum_type.values)
        return f"must be one of {names}, got {raw!r}"
    kinds = {
        FieldDescriptor.CPPTYPE_INT32: "a 32-bit integer",
        FieldDescriptor.CPPTYPE_INT64: "a 64-bit integer",
        FieldDescriptor.CPPTYPE_UINT32: "an unsigned 32-bit integer",
        FieldDescriptor.CPPTYPE_UINT64: "an unsigned 64-bit integer",
        FieldDescriptor.CPPTYPE_FLOAT: "a number",
        FieldDescriptor.CPPTYPE_DOUBLE: "a number",
    }
    if field.cpp_type in kinds:
        return f"must be {kinds[field.cpp_type]}, got {raw!r}"
    return _clean_parse_detail(error)


def _set_path(data: dict[str, Any], chain: list[FieldDescriptor], value: Any) -> None:
    target = data
    for field in chain[:-1]:
        nested = target.get(field.json_name)
        if not isinstance(nested, dict):
            nested = {}
            target[field.json_name] = nested
        target = nested
    # A bound path value wins over the same field given in a body, as the path names the resource.
    target.pop(chain[-1].name, None)
    target[chain[-1].json_name] = value


def unknown_fields(value: dict[str, Any], message: Descriptor, prefix: str = "") -> list[FieldViolation]:
    """Every key of a JSON object (recursively) that names no field of the message."""
    found: list[FieldViolation] = []
    for key, item in value.items():
        field = field_by_name(message, key)
        if field is None:
            found.append(FieldViolation(f"{prefix}{key}", "unknown field"))
            continue
        nested = field.message_type
        if nested is None or nested.full_name.startswith("google.protobuf."):
            continue
        if is_map(field):
            value_field = nested.fields_by_name["value"]
            if value_field.message_type is not None and isinstance(item, dict):
                for map_key, map_value in item.items():
                    if isinstance(map_value, dict):
                        found.extend(unknown_fields(map_value, value_field.message_type, f"{prefix}{key}.{map_key}."))
        elif is_repeated(field) and isinstance(item, list):
            for index, element in enumerate(item):
                if isinstance(element, dict):
                    found.extend(unknown_fields(element, nested, f"{prefix}{key}[{index}]."))
        elif isinstance(item, dict):
            found.extend(unknown_fields(item, nested, f"{prefix}{key}."))
    return found


_FAILED_FIELD = re.compile(r"Failed to parse (\S+) field")


def parse_error_violation(message: str) -> FieldViolation:
    """json_format's nested "Failed to parse a field: Failed to parse b field: why" as (a.b, why)."""
    names = _FAILED_FIELD.findall(message)
    return FieldViolation(".".join(names) or "body", _clean_parse_detail(message))


def _clean_parse_detail(message: str) -> str:
    detail = message.rsplit(" field: ", 1)[-1].split("\n", 1)[0]
    detail = re.sub(r" at \"?[\w.\[\]]+\"?\.*$", "", detail.strip()).rstrip(".")
    return detail or "is invalid"


def build_routes(methods: Iterable[MethodInfo]) -> list[Route]:
    """Every http binding of the given methods, most specific templates first."""
    routes = [Route.build(method, binding) for method in methods for binding in method.bindings]
    routes.sort(key=lambda r: (-r.template.literal_segments, len(r.template.variables), r.template.template))
    return routes


class RouteNotFound(LookupError):
    pass


class MethodNotAllowed(LookupError):
    def __init__(self, allowed: Sequence[str]) -> None:
        super().__init__(", ".join(allowed))
        self.allowed = tuple(allowed)


class Router:
    """Finds the route for (HTTP method, raw path); 404 and 405 are told apart."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = tuple(routes)

    def resolve(self, verb: str, raw_path: str) -> tuple[Route, dict[str, str]]:
        allowed: list[str] = []
        for route in self.routes:
            values = route.template.match(raw_path)
            if values is None:
                continue
            if route.verb == verb.upper():
                return route, values
            if route.verb not in allowed:
                allowed.append(route.verb)
        if allowed:
            raise MethodNotAllowed(allowed)
        raise RouteNotFound(raw_path)
