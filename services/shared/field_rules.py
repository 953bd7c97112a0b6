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
FORMAT_COUNTRY_ISO3166: int = options_pb2.FORMAT_COUNTRY_ISO3166

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
    FORMAT_COUNTRY_ISO3166: "^(?:[A-Za-z]{2,3}|[0-9]{1,3})$",
}
_HS_SEPARATORS = "[.\\s]"
"""What the HS parsers drop between digits (compliance.domain.hs.strip_separators, logistics plan_requests):
Python's `\\s`, as both the servicers and the validator read the pattern with `re`."""


def hs_code_pattern(digits: tuple[int, ...]) -> str:
    """ASCII digits, as many as one of `digits`, with dots and whitespace anywhere between and around them."""
    runs: list[tuple[int, int]] = []
    for count in sorted(set(digits)):
        if runs and runs[-1][1] == count - 1:
            runs[-1] = (runs[-1][0], count)
        else:
            runs.append((count, count))
    digit = f"[0-9]{_HS_SEPARATORS}*"
    counts = [f"{{{low}}}" if low == high else f"{{{low},{high}}}" for low, high in runs]
    body = "|".join(f"(?:{digit}){count}" for count in counts)
    return f"^{_HS_SEPARATORS}*(?:{body})$"


def _below(limit: int) -> list[str]:
    """Alternatives matching the integers 1 .. limit - 1, written without leading zeros."""
    text = str(limit)
    width = len(text)
    found = []
    if width >= 2:
        found.append("[1-9]" + (f"[0-9]{{0,{width - 2}}}" if width > 2 else ""))
    for position in range(width):
        low, high = (1 if position == 0 else 0), int(text[position]) - 1
        if high < low:
            continue
        rest = width - position - 1
        digit = str(low) if low == high else f"[{low}-{high}]"
        found.append(text[:position] + digit + (f"[0-9]{{{rest}}}" if rest else ""))
    return found


def decimal_pattern(minimum: int | None, maximum: int | None, exclusive_minimum: bool, max_scale: int | None) -> str:
    """A decimal string in plain notation whose value lies within the bounds and whose decimal places past
    `max_scale` are zeros, as one regular expression (JSON Schema has no numeric bounds for strings).

    Bounds are integers; a lower bound is None (any sign) or 0 (above 0 when `exclusive_minimum`)."""
    if minimum not in (None, 0) or (minimum is None and (maximum is not None or exclusive_minimum)):
        raise ValueError("a decimal string's bounds are: none, or a minimum of 0 and optionally a maximum")
    if max_scale is None:
        fraction, nonzero_fraction = "\\.[0-9]+", "\\.0*[1-9][0-9]*"
    elif max_scale == 0:
        fraction, nonzero_fraction = "\\.0+", ""
    else:
        fraction = f"\\.[0-9]{{1,{max_scale}}}0*"
        places = "|".join(
            "0" * k + "[1-9]" + (f"[0-9]{{0,{max_scale - k - 1}}}" if max_scale - k - 1 else "")
            for k in range(max_scale)
        )
        nonzero_fraction = f"\\.(?:{places})0*"
    if minimum is None:
        return f"^-?[0-9]+(?:{fraction})?$"
    whole = _below(maximum) if maximum is not None else ["[1-9][0-9]*"]
    branches = [f"0*(?:{'|'.join(whole)})(?:{fraction})?"] if whole else []
    if maximum is not None and maximum > 0:
        branches.append(f"0*{maximum}(?:\\.0+)?")
    if not exclusive_minimum:
        branches.append(f"0+(?:{fraction})?")
    elif nonzero_fraction:
        branches.append(f"0+{nonzero_fraction}")
    return f"^(?:{'|'.join(branches)})$"


FORMAT_NAMES: dict[int, str] = {
    FORMAT_UNIFIED_CODE: "xborder-unified-code",
    FORMAT_COUNTRY_ALPHA2: "iso3166-alpha2",
    FORMAT_CURRENCY_ISO4217: "iso4217",
    FORMAT_HS_CODE: "hs-code",
    FORMAT_DECIMAL_STRING: "decimal",
    FORMAT_COUNTRY_ISO3166: "iso3166",
}
"""The OpenAPI `format` of each named format (a client's generator may map them to its own types)."""

_DESCRIPTIONS: dict[int, str] = {
    FORMAT_UNIFIED_CODE: "an 18-character xborder code whose last character is its GB 32100 check character",
    FORMAT_COUNTRY_ALPHA2: "an ISO 3166-1 alpha-2 country code",
    FORMAT_CURRENCY_ISO4217: "an ISO 4217 alphabetic currency code with a minor unit",
    FORMAT_HS_CODE: "an HS code",
    FORMAT_DECIMAL_STRING: "a decimal number written as a string",
    FORMAT_COUNTRY_ISO3166: "an ISO 3166-1 alpha-2, alpha-3 or numeric country code",
}

_NORMALISED = frozenset({FORMAT_UNIFIED_CODE, FORMAT_COUNTRY_ALPHA2, FORMAT_CURRENCY_ISO4217, FORMAT_COUNTRY_ISO3166})
"""Formats checked after trimming and upper-casing, as their parsers have always taken them."""
_TRIMMED = frozenset({FORMAT_DECIMAL_STRING})
"""Formats checked after trimming only (Decimal() ignores surrounding whitespace)."""


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
    hs_digits: tuple[int, ...] = ()
    max_scale: int | None = None
    exclusive_minimum: bool = False

    @property
    def name(self) -> str:
        return self.field.name

    @cached_property
    def pattern(self) -> str | None:
        if self.format == FORMAT_UNIFIED_CODE:
            return unified_code_pattern(self.code_prefix)
        if self.format == FORMAT_HS_CODE:
            return hs_code_pattern(self.hs_digits)
        if self.format == FORMAT_DECIMAL_STRING:
            return decimal_pattern(
                _integer(self.minimum), _integer(self.maximum), self.exclusive_minimum, self.max_scale
            )
        return _PATTERNS.get(self.format)

    @cached_property
    def shape(self) -> str:
        """What the format asks, in words, for the document and for violations."""
        text = _DESCRIPTIONS[self.format]
        if self.format == FORMAT_HS_CODE:
            counts = sorted(set(self.hs_digits))
            listed = ", ".join(map(str, counts[:-1])) + f" or {counts[-1]}" if len(counts) > 1 else str(counts[0])
            if len(counts) > 2 and counts == list(range(counts[0], counts[-1] + 1)):
                listed = f"{counts[0]} to {counts[-1]}"
            text += f" of {listed} digits (dots and whitespace between them are ignored)"
        elif self.format == FORMAT_DECIMAL_STRING:
            if self.minimum is not None:
                text += ", above 0" if self.exclusive_minimum else ", at least 0"
            if self.maximum is not None:
                text += f" and at most {_number(self.maximum)}"
            if self.max_scale is not None:
                text += f", with at most {self.max_scale} decimal places"
        return text + self._of_prefix()

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema keywords this rule adds to the field's schema (`required` is the parent's)."""
        keywords: dict[str, Any] = {}
        if self.format:
            keywords["format"] = FORMAT_NAMES[self.format]
            description = self.shape.removesuffix(self._of_prefix())
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
        if (self.minimum is not None or self.maximum is not None) and self.field.type != FieldDescriptor.TYPE_STRING:
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
        # The pattern sees the trimmed value before upper-casing, which would make "ß" "SS".
        shown = value.strip() if self.format in _NORMALISED or self.format in _TRIMMED else value
        text = shown.upper() if self.format in _NORMALISED else shown
        if not text:
            return [("is required", ValidationError)] if self.required else []
        found: list[tuple[str, type[ValidationError]]] = []
        if self.min_length is not None and len(text) < self.min_length:
            found.append((f"must be at least {self.min_length} characters, got {len(text)}", ValidationError))
        if self.max_length is not None and len(text) > self.max_length:
            found.append((f"must be at most {self.max_length} characters, got {len(text)}", ValidationError))
        pattern = self.pattern
        if pattern is not None and not _compiled(pattern).match(shown):
            found.append((f"must be {self.shape}, got {value!r}", ValidationError))
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


def _integer(value: float | None) -> int | None:
    if value is None:
        return None
    if not float(value).is_integer():
        raise ValueError(f"a decimal string's bound must be an integer, got {value}")
    return int(value)


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
        hs_digits=tuple(option.hs_digits),
        max_scale=option.max_scale if option.HasField("max_scale") else None,
        exclusive_minimum=option.exclusive_minimum,
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
            if rule.required and not getattr(message, name):
                violations.add(prefix + name, "at least one is required")
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
