"""The `(xborder.common.v1.field_rules)` of request fields: /openapi.json states exactly what the servicers
check. Both read the same `Rule` objects (services/shared/field_rules.py); this test holds them to it by
comparing the document with the rules and by drawing values from each field's schema and checking that the
validator takes and refuses the same ones."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.descriptors import discover, exposed_methods, message_class
from gateway.openapi import build_document
from gateway.transcoding import build_routes
from services.shared import codes, field_rules
from services.shared.errors import CodeCheckFailed, ValidationError, Violations
from services.shared.field_rules import Format, Rule
from services.shared.money import minor_unit

METHODS = exposed_methods(discover())
DOCUMENT = build_document(build_routes(m for m in METHODS if m.bindings), secured=True)
SCHEMAS = DOCUMENT["components"]["schemas"]


def _annotated() -> list[tuple[Descriptor, Rule]]:
    found: dict[str, tuple[Descriptor, Rule]] = {}
    seen: set[str] = set()

    def walk(message: Descriptor) -> None:
        if message.full_name in seen:
            return
        seen.add(message.full_name)
        for rule in field_rules.rules_of(message):
            found[rule.field.full_name] = (message, rule)
        for field in message.fields:
            if field.message_type is not None:
                walk(field.message_type)

    for method in METHODS:
        walk(method.descriptor.input_type)
    return [found[name] for name in sorted(found)]


ANNOTATED = _annotated()
IDS = [rule.field.full_name for _, rule in ANNOTATED]


def test_the_most_used_request_fields_are_annotated() -> None:
    names = {rule.field.name for _, rule in ANNOTATED}
    assert {"merchant_code", "currency", "page_size", "code"} <= names
    assert len(ANNOTATED) >= 60


@pytest.mark.parametrize(("message", "rule"), ANNOTATED, ids=IDS)
def test_rules_only_sit_on_request_scalars_they_can_state(message: Descriptor, rule: Rule) -> None:
    field = rule.field
    assert field.message_type is None and field.enum_type is None
    if rule.format or rule.min_length is not None or rule.max_length is not None:
        assert field.type == FieldDescriptor.TYPE_STRING
    if rule.minimum is not None or rule.maximum is not None:
        assert field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_DOUBLE)
    assert (rule.format == Format.FORMAT_UNIFIED_CODE) == bool(rule.code_prefix)
    if rule.code_prefix:
        assert rule.code_prefix in codes.ENTITY_TYPES
    # A message with rules is a request: its `required` must not turn up in a response schema.
    assert message.name.endswith("Request")


def _statements(message: Descriptor, rule: Rule) -> list[tuple[dict[str, Any], bool]]:
    """Every place the document states the field: (its schema, whether it is required there)."""
    found = []
    schema = SCHEMAS.get(message.full_name)
    if schema is not None:
        found.append((schema["properties"][rule.field.json_name], rule.field.json_name in schema.get("required", [])))
    for item in DOCUMENT["paths"].values():
        for operation in item.values():
            grpc = operation.get("x-grpc-method", "")
            if grpc.rsplit("/", 1)[-1] + "Request" != message.name or message.full_name.rsplit(".", 1)[0] not in grpc:
                continue
            for parameter in operation["parameters"]:
                if parameter["name"] in (rule.field.name, rule.field.json_name) and parameter["in"] != "header":
                    found.append((parameter["schema"], parameter["required"]))
    return found


def _field_schema(message: Descriptor, rule: Rule) -> dict[str, Any]:
    return _statements(message, rule)[0][0]


@pytest.mark.parametrize(("message", "rule"), ANNOTATED, ids=IDS)
def test_the_document_states_each_rule(message: Descriptor, rule: Rule) -> None:
    statements = _statements(message, rule)
    assert statements, "the field is in no schema, path or query of the document"
    for prop, required in statements:
        for keyword, value in rule.json_schema().items():
            if keyword == "pattern" and prop.get("pattern") != value:
                continue  # a path variable's sub-template pattern wins; test_path_parameters... checks the rest
            assert prop[keyword] == value, (keyword, prop)
        assert required == rule.required or prop.get("in") == "path"


def test_path_parameters_carry_the_rule_of_their_field() -> None:
    checked = 0
    for route in build_routes(m for m in METHODS if m.bindings):
        operation = DOCUMENT["paths"][route.template.openapi_path][route.binding.verb]
        parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "path"}
        for variable, sub_template in zip(route.template.variables, route.template.variable_patterns, strict=True):
            leaf = route.method.descriptor.input_type.fields_by_name.get(variable.field_path)
            rule = field_rules.rule_of(leaf) if leaf is not None else None
            if rule is None or sub_template:
                continue
            assert parameters[variable.field_path]["schema"]["pattern"] == rule.pattern
            checked += 1
    assert checked >= 5


def _validator_verdict(message: Descriptor, rule: Rule, value: Any) -> list[tuple[str, type[ValidationError]]]:
    request = message_class(message)()
    if rule.field.is_repeated:
        getattr(request, rule.field.name).append(value)
    else:
        setattr(request, rule.field.name, value)
    violations = Violations()
    field_rules.check(request, violations)
    try:
        violations.raise_if_any()
    except ValidationError as error:
        return [(v.description, type(error)) for v in error.violations if v.field.split("[")[0] == rule.field.name]
    return []


def _schema_accepts(message: Descriptor, rule: Rule, value: Any) -> bool:
    prop = _field_schema(message, rule)
    if rule.field.is_repeated:
        prop = prop["items"]
    try:
        jsonschema.Draft202012Validator({k: v for k, v in prop.items() if not k.startswith("x-")}).validate(value)
    except jsonschema.ValidationError:
        return False
    return True


def _values(rule: Rule) -> st.SearchStrategy[Any]:
    if rule.field.type == FieldDescriptor.TYPE_STRING:
        drawn = [st.text(max_size=25), st.text(alphabet="0123456789ABCDEFGHJKMNPQRTUWXYZIOSVmc ", max_size=20)]
        if rule.pattern is not None:
            drawn.append(st.from_regex(rule.pattern, fullmatch=True))
        if rule.format == Format.FORMAT_UNIFIED_CODE:
            zone = st.sampled_from(sorted(codes.ZONES))
            body = st.text(alphabet=codes.ALPHABET, min_size=14, max_size=14)
            drawn.append(
                st.tuples(zone, body)
                .map(lambda t: rule.code_prefix + t[0] + t[1] + "0")
                .map(lambda c: c[:-1] + codes.check_character(c[:-1]))
            )
        return st.one_of(drawn)
    low = int(rule.minimum) if rule.minimum is not None else -1000
    high = int(rule.maximum) if rule.maximum is not None else 1000
    return st.one_of(st.integers(low - 3, low + 3), st.integers(high - 3, high + 3), st.integers(-(2**31), 2**31 - 1))


def _beyond_the_pattern(rule: Rule, value: Any) -> bool:
    """Whether a schema-valid value is still refused for what no JSON Schema keyword can say."""
    if rule.format == Format.FORMAT_UNIFIED_CODE:
        text = value.strip().upper()
        return codes.check_character(text[:-1]) != text[-1]
    if rule.format == Format.FORMAT_CURRENCY_ISO4217:
        try:
            minor_unit(value.strip().upper())
        except ValidationError:
            return True
    return False


@pytest.mark.parametrize(("message", "rule"), ANNOTATED, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_validator_and_schema_take_and_refuse_the_same_values(
    message: Descriptor, rule: Rule, data: st.DataObject
) -> None:
    value = data.draw(_values(rule))
    refused = _validator_verdict(message, rule, value)
    by_schema = _schema_accepts(message, rule, value)
    if by_schema:
        if _beyond_the_pattern(rule, value):
            assert refused, value
            if rule.format == Format.FORMAT_UNIFIED_CODE:
                assert all(error is CodeCheckFailed for _, error in refused)
        else:
            assert not refused, (value, refused)
    elif not isinstance(value, str) or (value == value.strip() and (rule.required or value)):
        # The validator trims code-like values, and proto3 reads "" as a field left out: the document
        # states the trimmed form of a value that is there.
        assert refused, value
