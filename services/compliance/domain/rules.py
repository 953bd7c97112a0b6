"""Rules as data: the model of one rule of a rule pack (docs/compliance-rules.md; format in data/rules/).

Pure Python. A rule is parsed from a pack entry that already passed the JSON Schema, so the parser only
turns it into typed values; cross-rule checks live in domain/library.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from services.compliance.domain import product

SEVERITIES = ("INFO", "CONDITION", "RESTRICTED", "PROHIBITED")
"""Mildest first: the index of a severity is its weight in the verdict."""

KINDS = (
    "CERTIFICATE",
    "MARKING",
    "LABEL_LANGUAGE",
    "DOCUMENT",
    "SHIPPING_RESTRICTION",
    "RESPONSIBLE_PERSON",
    "PROHIBITION",
    "TAX_REGIME",
)
SATISFIABLE_BY_CERTIFICATION = frozenset({"CERTIFICATE", "MARKING", "RESPONSIBLE_PERSON"})

# Treaty on European Union Art. 52 and the 2013 Croatian accession: the 27 member states since 2020-02-01
# (UK withdrawal). EL is the EU's own code for Greece; ISO 3166-1 (and this platform) uses GR.
EU_MEMBER_STATES = frozenset(
    {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"}
    | {"IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}
)
# Charter of the Cooperation Council for the Arab States of the Gulf (1981), Art. 1: its six members.
GCC_MEMBER_STATES = frozenset({"AE", "BH", "KW", "OM", "QA", "SA"})
UNIONS: Mapping[str, frozenset[str]] = {"EU": EU_MEMBER_STATES, "GCC": GCC_MEMBER_STATES}

LANGUAGES = ("en", "zh-CN")


def expand_destinations(codes: tuple[str, ...] | list[str]) -> frozenset[str]:
    """Alpha-2 countries a destinations list covers, with EU and GCC replaced by their members."""
    out: set[str] = set()
    for code in codes:
        out |= UNIONS.get(code, frozenset({code}))
    return frozenset(out)


@dataclass(frozen=True)
class Condition:
    attribute: str
    op: str
    value: Any  # None for present/absent; a tuple for in/not_in/contains_any; Decimal for numbers


@dataclass(frozen=True)
class ValueThreshold:
    op: str  # lt | lte | gt | gte
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Requirement:
    kind: str
    code: str
    text: Mapping[str, str]
    languages: tuple[str, ...] = ()
    tax: Mapping[str, str] | None = None
    accepted_codes: tuple[str, ...] = ()  # held instead of `code`, they satisfy it too

    @property
    def satisfying_codes(self) -> frozenset[str]:
        return frozenset(filter(None, (self.code, *self.accepted_codes)))


@dataclass(frozen=True)
class Rule:
    code: str
    version: int
    pack: str
    title: Mapping[str, str]
    destinations: tuple[str, ...]
    origins: tuple[str, ...] | None
    hs_scope: tuple[str, ...]  # empty: all goods
    conditions: tuple[Condition, ...]
    value_threshold: ValueThreshold | None
    severity: str
    requirement: Requirement
    source_title: str
    source_url: str
    effective_from: date
    effective_to: date | None
    verified: bool
    note: str = ""
    read_on: date | None = None  # when the source was last read to confirm the rule
    # The law is known to apply from `effective_from` but may be older: a check dated earlier cannot say
    # whether the rule applied, so it reports it as missing instead of silently leaving it out.
    effective_from_lower_bound: bool = False

    @property
    def key(self) -> tuple[str, int]:
        return (self.code, self.version)

    @property
    def countries(self) -> frozenset[str]:
        return expand_destinations(self.destinations)

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def start_unknown_on(self, day: date) -> bool:
        """Whether `day` falls before a start date that is only a lower bound (and before the rule ends)."""
        return (
            self.effective_from_lower_bound
            and day < self.effective_from
            and (self.effective_to is None or day < self.effective_to)
        )


def _condition_value(attribute: str, op: str, value: Any) -> Any:
    """The condition's operand in the attribute's type, so comparisons are exact (Decimal, never float)."""
    if op in ("present", "absent"):
        return None
    kind = product.VOCABULARY.get(attribute, product.TEXT)
    scalar = product.TEXT if kind == product.TEXT_LIST else kind

    def one(item: Any) -> Any:
        return product.coerce_scalar(scalar, item)

    if op in ("in", "not_in", "contains_any"):
        return tuple(one(v) for v in (value or ()))
    return one(value)


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def rule_from_pack(entry: Mapping[str, Any], pack: str) -> Rule:
    """A typed rule from a schema-valid pack entry (YAML dates may arrive as date or as text)."""
    requirement = entry["requirement"]
    threshold = entry.get("value_threshold")
    effective_from = _as_date(entry["effective_from"])
    assert effective_from is not None  # required by the schema
    source = entry.get("source") or {}
    return Rule(
        code=entry["code"],
        version=int(entry["version"]),
        pack=pack,
        title=dict(entry["title"]),
        destinations=tuple(entry["destinations"]),
        origins=tuple(entry["origins"]) if entry.get("origins") else None,
        hs_scope=tuple(str(p) for p in entry.get("hs_scope") or ()),
        conditions=tuple(
            Condition(c["attribute"], c["op"], _condition_value(c["attribute"], c["op"], c.get("value")))
            for c in entry.get("conditions") or ()
        ),
        value_threshold=(
            ValueThreshold(threshold["op"], Decimal(str(threshold["amount"])), threshold["currency"])
            if threshold
            else None
        ),
        severity=entry["severity"],
        requirement=Requirement(
            kind=requirement["kind"],
            code=str(requirement.get("code") or ""),
            text=dict(requirement["text"]),
            languages=tuple(requirement.get("languages") or ()),
            tax={str(k): str(v) for k, v in requirement["tax"].items()} if requirement.get("tax") else None,
            accepted_codes=tuple(requirement.get("accepted_codes") or ()),
        ),
        source_title=str(source.get("title", "")),
        source_url=str(source.get("url", "")),
        effective_from=effective_from,
        effective_to=_as_date(entry.get("effective_to")),
        verified=bool(entry.get("verified", False)),
        note=str(entry.get("note") or ""),
        read_on=_as_date(entry.get("read_on")),
        effective_from_lower_bound=bool(entry.get("effective_from_lower_bound", False)),
    )


def rule_to_document(rule: Rule) -> dict[str, Any]:
    """The rule as JSON-ready data (stored in the library tables; rule_from_pack reads it back)."""
    doc: dict[str, Any] = {
        "code": rule.code,
        "version": rule.version,
        "title": dict(rule.title),
        "destinations": list(rule.destinations),
        "severity": rule.severity,
        "requirement": {
            "kind": rule.requirement.kind,
            "code": rule.requirement.code,
            "text": dict(rule.requirement.text),
        },
        "source": {"title": rule.source_title, "url": rule.source_url},
        "effective_from": rule.effective_from.isoformat(),
        "effective_to": rule.effective_to.isoformat() if rule.effective_to else None,
        "verified": rule.verified,
    }
    if rule.origins is not None:
        doc["origins"] = list(rule.origins)
    if rule.hs_scope:
        doc["hs_scope"] = list(rule.hs_scope)
    if rule.conditions:
        doc["conditions"] = [
            {"attribute": c.attribute, "op": c.op, **({} if c.value is None else {"value": _jsonable(c.value)})}
            for c in rule.conditions
        ]
    if rule.value_threshold:
        t = rule.value_threshold
        doc["value_threshold"] = {"op": t.op, "amount": str(t.amount), "currency": t.currency}
    if rule.requirement.languages:
        doc["requirement"]["languages"] = list(rule.requirement.languages)
    if rule.requirement.tax:
        doc["requirement"]["tax"] = dict(rule.requirement.tax)
    if rule.requirement.accepted_codes:
        doc["requirement"]["accepted_codes"] = list(rule.requirement.accepted_codes)
    if rule.note:
        doc["note"] = rule.note
    if rule.read_on:
        doc["read_on"] = rule.read_on.isoformat()
    if rule.effective_from_lower_bound:
        doc["effective_from_lower_bound"] = True
    return doc


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)  # read back exactly through the attribute's type
    return value
