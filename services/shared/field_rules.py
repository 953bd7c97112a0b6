"""The `(xborder.common.v1.field_rules)` option of request fields: read once, checked here, stated in OpenAPI.

`rules_of(descriptor)` gives the rule objects of a message type; `check(request, violations)` adds a
violation, named by the proto field path, for each field that breaks its rule; gateway/openapi.py turns
the same `Rule` objects into JSON Schema keywords with `json_schema()`. A format's regular expression is
shared by both, so what the document states is what the servicer refuses
(tests/contract/test_field_rules.py).

Every unary RPC is checked before its servicer runs (services/shared/grpc_server.py). When a rule fails,
the servicer's own validation still runs so that one answer names every bad field: its first
`Violations.raise_if_any` adds the rule violations (`errors.declared_violations`) and refuses the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from xborder.common.v1 import options_pb2

from services.shared import codes
from services.shared.errors import CodeCheckFailed, UnknownCurrency, ValidationError, Violations
from services.shared.money import minor_unit

Format = options_pb2.Format
# Plain ints: reading them through the enum wrapper on every call costs more than the check itself.
FORMAT_UNIFIED_CODE: int = options_pb2.FORMAT_UNIFIED_CODE
FORMAT_COUNTRY_ALPHA2: int = options_pb2.FORMAT_COUNTRY_ALPHA2
FORMAT_CURRENCY_ISO4217: int = options_pb2.FORMAT_CURRENCY_ISO4217
FORMAT_HS_CODE: int = options_pb2.FORMAT_HS_CODE
FORMAT_DECIMAL_STRING: int = options_pb2.FORMAT_DECIMAL_STRING

_ALPHABET_CLASS = "0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy"  # GB 32100: no I O Z S V, either case (checked upper-cased)


def _either_case(letters: str) -> str:
    return "".join(f"[{ch.upper()}{ch.lower()}]" if ch.isalpha() else re.escape(ch) for ch in letters)


def unified_code_pattern(prefix: str) -> str:
    """The regular expression of a unified code of entity type `prefix` (any type when ""): the type, a
    residency zone, then 15 characters of the alphabet; only the check character is left to `codes`."""
    if prefix:
        zones = "".join(codes.ZONES) + "".join(codes.ZONES).lower()
        rest = codes.CODE_LENGTH - len(prefix) - 1
        return f"^{_either_case(prefix)}[{zones}][{_ALPHABET_CLASS}]{{{rest}}}$"
    return f"^[{_ALPHABET_CLASS}]{{{codes.CODE_LENGTH}}}$"


_PATTERNS: dict[int, str] = {
    FORMAT_COUNTRY_ALPHA2: "^[A-Za-z]{2}$",
    FORMAT_CURRENCY_ISO4217: "^[A-Za-z]{3}$",
    FORMAT_HS_CODE: "^([0-9]{2}|[0-9]{4}|[0-9]{6})$",
    FORMAT_DECIMAL_STRING: "^-?[0-9]+(\\.[0-9]+)?$",
}

FORMAT_NAMES: dict[int, str] = {
    FORMAT_UNIFIED_CODE: "xborder-unified-code",
    FORMAT_COUNTRY_ALPHA2: "iso3166-alpha2",
    FORMAT_CURRENCY_ISO4217: "iso4217",
    FORMAT_HS_CODE: "hs-code",
    FORMAT_DECIMAL_STRING: "decimal",
}
"""The OpenAPI `format` of each named format (a client's generator may map them to its own types)."""

_DESCRIPTIONS: dict[int, str] = {
    FORMAT_UNIFIED_CODE: "an 18-character xborder code whose last character is its GB 32100 check character",
    FORMAT_COUNTRY_ALPHA2: "an ISO 3166-1 alpha-2 country code",
    FORMAT_CURRENCY_ISO4217: "an ISO 4217 alphabetic currency code with a minor unit",
    FORMAT_HS_CODE: "an HS chapter, heading or subheading: 2, 4 or 6 digits",
    FORMAT_DECIMAL_STRING: "a decimal number written as a string",
}

_NORMALISED = frozenset({FORMAT_UNIFIED_CODE, FORMAT_COUNTRY_ALPHA2, FORMAT_CURRENCY_ISO4217})
"""Formats checked after trimming and upper-casing, as their parsers have always taken them."""


@dataclass(frozen=True)
class Rule:
    """The field_rules option of one field, in the form both readers use."""

    field: FieldDescriptor
    required: bool
    format: int
    code_prefix: str
    min_length: int | None
    max_length: int | None
    minimum: float | None
    maximum: float | None
    zero_means_default: bool

    @property
    def name(self) -> str:
        return self.field.name

    @cached_property
    def pattern(self) -> str | None:
        if self.format == FORMAT_UNIFIED_CODE:
            return unified_code_pattern(self.code_prefix)
        return _PATTERNS.get(self.format)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema keywords this rule adds to the field's schema (`required` is the parent's)."""
        keywords: dict[str, Any] = {}
        if self.format:
            keywords["format"] = FORMAT_NAMES[self.format]
            description = _DESCRIPTIONS[self.format]
            if self.code_prefix:
                entity = codes.ENTITY_TYPES.get(self.code_prefix, self.code_prefix)
                description += f", of a {entity} ({self.code_prefix})"
            keywords["description"] = description[0].upper() + description[1:] + "."
        pattern = self.pattern
        if pattern is not None:
            keywords["pattern"] = pattern
        min_length = self.min_length
        if self.required and self.field.type == FieldDescriptor.TYPE_STRING and not min_length:
            min_length = 1
        if min_length is not None:
            keywords["minLength"] = min_length
        if self.max_length is not None:
            keywords["maxLength"] = self.max_length
        if self.minimum is not None or self.maximum is not None:
            bounds = {}
            if self.minimum is not None:
                bounds["minimum"] = _number(self.minimum)
            if self.maximum is not None:
                bounds["maximum"] = _number(self.maximum)
            if self.accepts_zero and self.minimum is not None and self.minimum > 0:
                # 0 (or leaving the field out) is allowed beside the range: proto3 reads a missing number as 0.
                keywords["anyOf"] = [{"const": 0}, bounds]
                if self.zero_means_default:
                    keywords["description"] = "0 or left out means the default."
            else:
                keywords.update(bounds)
        return keywords

    def problems(self, value: Any) -> list[tuple[str, type[ValidationError]]]:
        """What is wrong with one value of the field, with the error each problem raises."""
        if isinstance(value, str):
            return self._text_problems(value)
        return self._number_problems(value)

    def _text_problems(self, value: str) -> list[tuple[str, type[ValidationError]]]:
        text = value.strip().upper() if self.format in _NORMALISED else value
        if not text:
            return [("is required", ValidationError)] if self.required else []
        found: list[tuple[str, type[ValidationError]]] = []
        if self.min_length is not None and len(text) < self.min_length:
            found.append((f"must be at least {self.min_length} characters, got {len(text)}", ValidationError))
        if self.max_length is not None and len(text) > self.max_length:
            found.append((f"must be at most {self.max_length} characters, got {len(text)}", ValidationError))
        pattern = self.pattern
        if pattern is not None and not _compiled(pattern).match(text):
            found.append((f"must be {_DESCRIPTIONS[self.format]}{self._of_prefix()}, got {value!r}", ValidationError))
            return found
        if self.format == FORMAT_UNIFIED_CODE:
            problem = codes.problems(text)
            if problem is not None:
                found.append((problem, CodeCheckFailed if problem.startswith("check") else ValidationError))
        elif self.format == FORMAT_CURRENCY_ISO4217:
            try:
                minor_unit(text, field=self.name)
            except UnknownCurrency as unknown:
                found.extend((v.description, UnknownCurrency) for v in unknown.violations)
        return found

    def _of_prefix(self) -> str:
        return f", starting {self.code_prefix}" if self.code_prefix else ""

    @property
    def accepts_zero(self) -> bool:
        """proto3 cannot tell 0 from a number left out: 0 passes unless the field is required."""
        return self.zero_means_default or not self.required

    def _number_problems(self, value: float) -> list[tuple[str, type[ValidationError]]]:
        if value == 0:
            return [] if self.accepts_zero else [("is required", ValidationError)]
        low, high = self.minimum, self.maximum
        if (low is None or value >= low) and (high is None or value <= high):
            return []
        if low is not None and high is not None:
            span = f"between {_number(low)} and {_number(high)}"
        else:
            span = f"at least {_number(low)}" if low is not None else f"at most {_number(high)}"
        default = " (0 for the default)" if self.zero_means_default else ""
        return [(f"must be {span}{default}, got {_number(value)}", ValidationError)]


def _number(value: float | None) -> float | int | None:
    if value is not None and float(value).is_integer():
        return int(value)
    return value


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def rule_of(field: FieldDescriptor) -> Rule | None:
    """The field's rule, or None when it carries no field_rules option."""
    options = field.GetOptions()
    if not options.HasExtension(options_pb2.field_rules):
        return None
    option = options.Extensions[options_pb2.field_rules]
    return Rule(
        field=field,
        required=option.required,
        format=option.format,
        code_prefix=option.code_prefix,
        min_length=option.min_length if option.HasField("min_length") else None,
        max_length=option.max_length if option.HasField("max_length") else None,
        minimum=option.minimum if option.HasField("minimum") else None,
        maximum=option.maximum if option.HasField("maximum") else None,
        zero_means_default=option.zero_means_default,
    )


@cache
def rules_of(descriptor: Descriptor) -> tuple[Rule, ...]:
    """The rules of a message type's own fields (not of the messages it nests)."""
    found = (rule_of(field) for field in descriptor.fields)
    return tuple(rule for rule in found if rule is not None)


@cache
def _has_rules(descriptor: Descriptor) -> bool:
    """Whether the type or any message it nests carries a rule (cycles count as none)."""
    return _reaches_rules(descriptor, frozenset())


def _reaches_rules(descriptor: Descriptor, seen: frozenset[str]) -> bool:
    if descriptor.full_name in seen:
        return False
    if rules_of(descriptor):
        return True
    inner = seen | {descriptor.full_name}
    return any(
        field.message_type is not None and _reaches_rules(field.message_type, inner) for field in descriptor.fields
    )


@cache
def _nested_with_rules(descriptor: Descriptor) -> tuple[FieldDescriptor, ...]:
    """The message fields of a type through which some rule is reached (maps hold none)."""
    return tuple(
        field
        for field in descriptor.fields
        if field.message_type is not None
        and not field.message_type.GetOptions().map_entry
        and _has_rules(field.message_type)
    )


def check(message: Message, violations: Violations, prefix: str = "") -> None:
    """Add a violation for every annotated field of `message` (and of the messages it holds) that breaks
    its rule; fields are named by their proto path (`parcels[0].weight_g`)."""
    descriptor = message.DESCRIPTOR
    if not _has_rules(descriptor):
        return
    for rule in rules_of(descriptor):
        name = rule.name
        if rule.field.is_repeated:
            for index, value in enumerate(getattr(message, name)):
                _add(violations, f"{prefix}{name}[{index}]", rule.problems(value))
        elif rule.field.message_type is None:
            _add(violations, prefix + name, rule.problems(getattr(message, name)))
        elif rule.required and not message.HasField(name):
            violations.add(prefix + name, "is required")
    for field in _nested_with_rules(descriptor):
        if field.is_repeated:
            for index, item in enumerate(getattr(message, field.name)):
                check(item, violations, f"{prefix}{field.name}[{index}].")
        elif message.HasField(field.name):
            check(getattr(message, field.name), violations, f"{prefix}{field.name}.")


def _add(violations: Violations, name: str, problems: list[tuple[str, type[ValidationError]]]) -> None:
    for description, error in problems:
        violations.add(name, description, error=None if error is ValidationError else error)


def violations_of(message: Message) -> Violations:
    """The violations of `message`'s field rules (empty when it keeps them)."""
    violations = Violations()
    check(message, violations)
    return violations


def validate(message: Message) -> None:
    """Raise the violations of `message`'s field rules, every field at once."""
    violations_of(message).raise_if_any()
