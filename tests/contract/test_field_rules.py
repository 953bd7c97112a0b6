"""The `(xborder.common.v1.field_rules)` of request fields: /openapi.json states exactly what the servicers
check. Both read the same `Rule` objects (services/shared/field_rules.py); this test holds them to it by
comparing the document with the rules and by drawing values from each field's schema and checking that the
validator takes and refuses the same ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
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


def _in_responses() -> set[str]:
    found: set[str] = set()

    def walk(message: Descriptor) -> None:
        if message.full_name not in found:
            found.add(message.full_name)
            for field in message.fields:
                if field.message_type is not None:
                    walk(field.message_type)

    for method in METHODS:
        walk(method.descriptor.output_type)
    return found


IN_RESPONSES = _in_responses()


@pytest.mark.parametrize(("message", "rule"), ANNOTATED, ids=IDS)
def test_rules_only_sit_on_request_scalars_they_can_state(message: Descriptor, rule: Rule) -> None:
    field = rule.field
    assert field.message_type is None and field.enum_type is None
    if rule.format or rule.min_length is not None or rule.max_length is not None:
        assert field.type == FieldDescriptor.TYPE_STRING
    decimal = rule.format == Format.FORMAT_DECIMAL_STRING
    if (rule.minimum is not None or rule.maximum is not None) and not decimal:
        assert field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_DOUBLE)
    if not decimal:
        assert rule.max_scale is None and not rule.exclusive_minimum
    assert (rule.format == Format.FORMAT_UNIFIED_CODE) == bool(rule.code_prefix)
    assert (rule.format == Format.FORMAT_HS_CODE) == bool(rule.hs_digits)
    if rule.code_prefix:
        assert rule.code_prefix in codes.ENTITY_TYPES
    # A message with rules is only ever a request: its `required` must not turn up in a response schema.
    assert message.full_name not in IN_RESPONSES


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
        if rule.field.is_repeated:
            assert prop.get("minItems") == (1 if rule.required else None), prop
            prop = prop["items"]
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


def _hs_like() -> st.SearchStrategy[str]:
    """Digit strings of 0 to 12 digits with dots, spaces and other separators between them."""
    separator = st.sampled_from(["", "", "", ".", " ", "  ", "\t", "-", "/", "\u00a0", "..", "\n"])
    return st.lists(st.tuples(st.sampled_from("0123456789\u0663"), separator), max_size=12).map(
        lambda parts: "".join(d + sep for d, sep in parts)
    ) | st.tuples(separator, st.text(alphabet="0123456789", min_size=1, max_size=12)).map("".join)


def _decimal_like(rule: Rule) -> st.SearchStrategy[str]:
    """Decimals around the rule's bounds at every scale, and other spellings of numbers."""
    high = int(rule.maximum) if rule.maximum is not None else 1000
    near = st.tuples(st.sampled_from([0, 1, high]), st.integers(-3, 3), st.integers(0, 5)).map(
        lambda t: Decimal(t[0]) + Decimal(t[1]).scaleb(-t[2])
    )
    anywhere = st.decimals(min_value=-10, max_value=high * 2, places=4, allow_nan=False, allow_infinity=False)
    plain = st.one_of(near, anywhere).map(lambda d: format(d, "f"))
    padded = st.tuples(st.sampled_from(["", "0", "00", " "]), plain, st.sampled_from(["", "0", "000", " "])).map(
        lambda t: t[0] + t[1] + (t[2] if "." in t[1] or not t[2].strip() else "")
    )
    other = st.sampled_from(["1e2", "1E-1", ".5", "5.", "+1", "1_0", "-0", "Infinity", "NaN", "1,5", "0x10", "\u0661"])
    return st.one_of(plain, padded, other)


def _values(rule: Rule) -> st.SearchStrategy[Any]:
    if rule.field.type == FieldDescriptor.TYPE_STRING:
        drawn = [st.text(max_size=25), st.text(alphabet="0123456789ABCDEFGHJKMNPQRTUWXYZIOSVmc ", max_size=20)]
        if rule.pattern is not None:
            drawn.append(st.from_regex(rule.pattern, fullmatch=True))
        if rule.format == Format.FORMAT_HS_CODE:
            drawn.append(_hs_like())
        elif rule.format == Format.FORMAT_DECIMAL_STRING:
            drawn.append(_decimal_like(rule))
        elif rule.format in (Format.FORMAT_COUNTRY_ALPHA2, Format.FORMAT_COUNTRY_ISO3166):
            drawn.append(st.text(alphabet="cnCNhkHKusUS0123456789ßÄ \n", min_size=1, max_size=4))
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


# --- the servicers' own parsing agrees with the rules it sits behind ---


class _EveryCountry:
    """Postal rules that know every code: whether ISO 3166-1 assigns one is beyond the pattern."""

    def known(self, country: str) -> bool:
        return True

    def problem(self, country: str, postal_code: str) -> str | None:
        return None

    def uses_postal_codes(self, country: str) -> bool:
        return False


def _accepted(parse: Callable[[str, Violations], object], value: str, field: str) -> bool:
    violations = Violations()
    parse(value, violations)
    try:
        violations.raise_if_any()
    except ValidationError as refused:
        return not any(v.field == field for v in refused.violations)
    return True


def _servicer_parsers() -> dict[str, tuple[str, Callable[[str, Violations], object]]]:
    """Each annotated country, HS code and measure field with the parser its servicer runs on it, and the
    name that parser gives the field in its violations."""
    from xborder.compliance.v1 import product_compliance_service_pb2 as product_pb
    from xborder.customer_service.v1 import customer_service_pb2 as cs_pb
    from xborder.logistics.v1 import plans_service_pb2 as plans_pb

    from services.compliance.domain import screening
    from services.compliance.entrypoints import grpc_api as hs_api
    from services.compliance.entrypoints import product_checks_api as checks
    from services.customer_service.entrypoints import odr_proto
    from services.identity.domain import merchants
    from services.logistics.domain import countries
    from services.logistics.entrypoints import plan_requests as plans
    from services.logistics.entrypoints import warehouses_api as warehouses
    from services.payments.fx import entrypoints as fx

    postal = _EveryCountry()

    def quantity(field: str, unit: str, maximum: Decimal) -> Callable[[str, Violations], object]:
        return lambda v, out: plans.quantity(v, field, out, unit=unit, maximum=maximum)

    def plan_country(field: str) -> Callable[[str, Violations], object]:
        return lambda v, out: plans.country(v, field, out, postal)

    def screened_country(value: str, out: Violations) -> None:
        try:
            screening.parse_country(value)
        except ValueError as problem:
            out.add("country", str(problem))

    def country_code(value: str, out: Violations) -> None:
        try:
            countries.parse_country_code(value)
        except countries.CodeProblem as problem:
            out.add("code", str(problem))

    kg, side = plans.MAX_WEIGHT_KG, plans.MAX_SIDE_CM
    pb = "xborder."
    return {
        pb + "compliance.v1.Product.origin_country": ("c", lambda v, out: checks.parse_country(v, "c", out)),
        pb + "compliance.v1.Product.hs_code": (
            "product.hs_code",
            lambda v, out: checks.parse_product(product_pb.Product(hs_code=v), out, ""),
        ),
        pb + "compliance.v1.Product.weight_kg": (
            "product.weight_kg",
            lambda v, out: checks.parse_product(product_pb.Product(hs_code="850760", weight_kg=v), out, ""),
        ),
        pb + "compliance.v1.CheckProductRequest.destinations": (
            "destinations[0]",
            lambda v, out: checks.parse_check(product_pb.CheckProductRequest(destinations=[v]), out),
        ),
        pb + "compliance.v1.ListRulesRequest.destination": ("c", lambda v, out: checks.parse_country(v, "c", out)),
        pb + "compliance.v1.GetHsCodeRequest.code": ("code", hs_api.parse_hs_code),
        pb + "compliance.v1.ScreenPartyRequest.country": ("country", screened_country),
        pb + "customer_service.v1.OdrParty.country": (
            "claimant.country",
            lambda v, out: odr_proto.party(cs_pb.OdrParty(country=v), "claimant", out),
        ),
        pb + "identity.v1.OnboardMerchantRequest.country": ("country", merchants.country),
        pb + "identity.v1.OnboardPartnerRequest.country": ("country", merchants.country),
        pb + "logistics.v1.AuthoriseReturnRequest.origin_country": ("origin_country", plan_country("origin_country")),
        pb + "logistics.v1.Destination.country": ("country", plan_country("country")),
        pb + "logistics.v1.MatchPlansRequest.origin_country": ("origin_country", plan_country("origin_country")),
        pb + "logistics.v1.ListChannelsRequest.destination_country": ("c", plan_country("c")),
        pb + "logistics.v1.Goods.hs_code": (
            "goods.hs_code",
            lambda v, out: plans.goods(plans_pb.Goods(hs_code=v), True, out),
        ),
        pb + "logistics.v1.Parcel.weight_kg": ("w", quantity("w", "kg", kg)),
        pb + "logistics.v1.Parcel.weight_g": ("w", quantity("w", "g", kg * 1000)),
        pb + "logistics.v1.Parcel.length_cm": ("s", quantity("s", "cm", side)),
        pb + "logistics.v1.Parcel.width_cm": ("s", quantity("s", "cm", side)),
        pb + "logistics.v1.Parcel.height_cm": ("s", quantity("s", "cm", side)),
        pb + "logistics.v1.GetCountryRequest.code": ("code", country_code),
        pb + "logistics.v1.UpdateWarehouseRequest.country": (
            "country",
            lambda v, out: warehouses._country(v, "country", out, False),
        ),
        pb + "payments.v1.CreateInsuranceQuoteRequest.origin_country": (
            "c",
            lambda v, out: fx.parse_country(v, "c", out),
        ),
        pb + "payments.v1.CreateInsuranceQuoteRequest.destination_country": (
            "c",
            lambda v, out: fx.parse_country(v, "c", out),
        ),
    }


SERVICER_PARSERS = _servicer_parsers()
CHECKED_FORMATS = (
    Format.FORMAT_COUNTRY_ALPHA2,
    Format.FORMAT_COUNTRY_ISO3166,
    Format.FORMAT_HS_CODE,
    Format.FORMAT_DECIMAL_STRING,
)
NOT_PARSED_ALONE = {
    # Parsed inline in their servicers (with the warehouse list at hand), annotated before these checks.
    "xborder.logistics.v1.ListWarehousesRequest.country",
    "xborder.logistics.v1.ReserveStockRequest.destination_country",
    # Required or not by the other account fields (an IBAN names its country).
    "xborder.payments.v1.RegisterBankAccountRequest.country",
}
PARSED = [(m, r) for m, r in ANNOTATED if r.field.full_name in SERVICER_PARSERS]
NARROWED = re.compile(r"^\s*[-+]?(?:[0-9_]*\.[0-9_]*|[0-9_]+)(?:[eE][-+]?[0-9]+)?\s*$")
"""Number spellings Decimal() takes that a decimal field's pattern does not: exponents, signs, underscores,
a bare leading or trailing point. The document states plain notation ("1.25"), which every client writes."""


def test_every_annotated_country_hs_and_measure_field_is_held_to_its_servicer() -> None:
    kinds = {r.field.full_name for _, r in ANNOTATED if r.format in CHECKED_FORMATS}
    assert kinds - NOT_PARSED_ALONE == set(SERVICER_PARSERS)


@pytest.mark.parametrize(("message", "rule"), PARSED, ids=[r.field.full_name for _, r in PARSED])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_servicer_takes_what_the_schema_states_and_refuses_nothing_more(
    message: Descriptor, rule: Rule, data: st.DataObject
) -> None:
    """What the document states, the servicer behind the rule takes; what the servicer took before the rule
    (every ASCII spelling, separators in HS codes included), the rule still takes: no field was narrowed
    but for the number spellings in NARROWED."""
    value = data.draw(_values(rule))
    if not value and not rule.required:
        return  # proto3: left out, which each servicer reads with the request's other fields
    field, parse = SERVICER_PARSERS[rule.field.full_name]
    by_servicer = _accepted(parse, value, field)
    if _schema_accepts(message, rule, value):
        assert by_servicer, f"the schema states {value!r} but the servicer refuses it"
    elif by_servicer and value.isascii() and _validator_verdict(message, rule, value):
        assert rule.format == Format.FORMAT_DECIMAL_STRING and NARROWED.match(value), (
            f"the servicer takes {value!r} but the rule refuses it"
        )
