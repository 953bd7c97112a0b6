"""Cross-border transfer decisions: per data class, origin and destination, what the rule table says.

The table is the identity service's TransferPolicy (services/identity/domain/transfer_rules.py), read by
the gateway and cached (gateway/transfer_guard.py). Here everything is pure: `decide` gives one class's
verdict, `DecisionTable` the verdicts for every class an RPC's answer can carry (computed once per method,
origin, destination, rule revision, legal bases and person tier), and `mask` rewrites the fields of the
masked classes in place, so no clear value of those classes is left in the answer.

Order of precedence, the same for every class: data staying in its jurisdiction (same country, or both in
a group a rule names as origin, e.g. EEA) is not a transfer, and nothing here applies to it; for a
transfer, a kill switch (on the class or the destination) blocks, whatever the rules say; an origin no
rule names is not governed by the table (allowed, and recorded as such); a governed origin without a rule
for the class blocks (fail closed); otherwise the most specific destination's rule for the highest person
threshold reached applies.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from xborder.common.v1 import options_pb2

from gateway.descriptors import data_class, is_map, is_repeated

ANYWHERE = "*"
MASKED_TEXT = "***"
PERSONAL_CLASSES = frozenset({"PERSONAL", "PERSONAL_SENSITIVE"})


class Action(enum.Enum):
    ALLOW = "ALLOW"
    MASK = "MASK"
    BLOCK = "BLOCK"


class Why(enum.Enum):
    """The reason code of a verdict (in the audit entry and in a refusal)."""

    RULE = "RULE"  # the rule's action itself
    BASIS_ON_FILE = "BASIS_ON_FILE"  # REQUIRE_BASIS, satisfied
    BASIS_MISSING = "BASIS_MISSING"  # REQUIRE_BASIS, not satisfied: the rule's `otherwise`
    KILL_SWITCH_CLASS = "KILL_SWITCH_CLASS"
    KILL_SWITCH_DESTINATION = "KILL_SWITCH_DESTINATION"
    DOMESTIC = "DOMESTIC"  # not a transfer
    UNGOVERNED_ORIGIN = "UNGOVERNED_ORIGIN"  # no rule names the origin
    NO_RULE = "NO_RULE"  # the origin is governed, the class has no rule: fail closed


@dataclass(frozen=True)
class PolicyRule:
    rule_id: str
    origin: str
    data_class: str
    destination: str
    action: str  # ALLOW, MASK, REQUIRE_BASIS, BLOCK
    any_of: frozenset[str] = frozenset()
    all_of: frozenset[str] = frozenset()
    otherwise: str = "BLOCK"
    min_persons: int = 0


@dataclass(frozen=True)
class Basis:
    """A legal basis on file, as the gateway reads it."""

    basis_id: str
    kind: str  # CONSENT, STANDARD_CONTRACT, ...
    destination: str  # country, group or "*"
    valid_from: date
    valid_until: date | None


@dataclass(frozen=True)
class Policy:
    version: int
    revision: int
    rules: tuple[PolicyRule, ...]
    groups: Mapping[str, frozenset[str]]
    killed_classes: frozenset[str] = frozenset()
    killed_destinations: frozenset[str] = frozenset()
    origins: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "origins", frozenset(r.origin for r in self.rules))

    def within(self, place: str, country: str) -> bool:
        return place in (ANYWHERE, country) or country in self.groups.get(place, frozenset())

    def governed(self, origin: str) -> bool:
        return any(self.within(o, origin) for o in self.origins)

    def domestic(self, origin: str, destination: str) -> bool:
        if origin == destination:
            return True
        return any(
            origin in self.groups.get(o, frozenset()) and destination in self.groups.get(o, frozenset())
            for o in self.origins
        )

    @staticmethod
    def from_proto(message: Any) -> Policy:
        """From an identity TransferPolicy message (enum names without their prefixes)."""
        enum_name = type(message).DESCRIPTOR.file.enum_types_by_name

        def action(value: int) -> str:
            return str(enum_name["TransferAction"].values_by_number[value].name).removeprefix("TRANSFER_ACTION_")

        def kind(value: int) -> str:
            return str(enum_name["LegalBasisKind"].values_by_number[value].name).removeprefix("LEGAL_BASIS_KIND_")

        rules = []
        for r in message.rules:
            classes = r.DESCRIPTOR.fields_by_name["data_class"].enum_type
            rules.append(
                PolicyRule(
                    r.rule_id,
                    r.origin,
                    str(classes.values_by_number[r.data_class].name).removeprefix("DATA_CLASS_"),
                    r.destination,
                    action(r.action),
                    frozenset(kind(b) for b in r.any_of),
                    frozenset(kind(b) for b in r.all_of),
                    action(r.otherwise) if r.otherwise else "BLOCK",
                    int(r.min_persons),
                )
            )
        return Policy(
            int(message.version),
            int(message.revision),
            tuple(rules),
            {g.name: frozenset(g.countries) for g in message.groups},
            frozenset(k.value for k in message.kill_switches if k.target == "class"),
            frozenset(k.value for k in message.kill_switches if k.target == "destination"),
        )


@dataclass(frozen=True)
class Verdict:
    """What happens to one class going from `origin` to `destination`, and why."""

    data_class: str
    origin: str
    destination: str
    action: Action
    why: Why
    rule_id: str = ""
    version: int = 0
    basis_ids: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()  # for BASIS_MISSING: what would satisfy the rule

    @property
    def rule(self) -> str:
        return f"{self.rule_id}@v{self.version}" if self.rule_id else self.why.value

    def audit_text(self) -> str:
        """`CLASS>DEST:ACTION:RULE@vN[:BASIS]`: names and ids only, never a value."""
        text = f"{self.data_class}>{self.destination}:{self.action.value}:{self.rule}"
        return text + (f":{'+'.join(self.basis_ids)}" if self.basis_ids else "")


@dataclass(frozen=True)
class Recorded:
    """A verdict as the audit entry keeps it (Verdict.audit_text), read back."""

    data_class: str
    destination: str
    action: str
    rule: str
    basis_ids: tuple[str, ...]

    @staticmethod
    def parse(text: str) -> Recorded:
        flow, action, rule, *basis = text.split(":")
        data_class, destination = flow.split(">", 1)
        return Recorded(data_class, destination, action, rule, tuple(basis[0].split("+")) if basis else ())


def _specificity(policy: Policy, place: str) -> int:
    return 0 if place == ANYWHERE else (1 if place in policy.groups else 2)


def candidates(policy: Policy, origin: str, data_class: str, destination: str) -> list[PolicyRule]:
    """The rules for the class at the most specific matching destination, highest threshold first."""
    found = [
        r
        for r in policy.rules
        if r.data_class == data_class and policy.within(r.origin, origin) and policy.within(r.destination, destination)
    ]
    if not found:
        return []
    best = max(_specificity(policy, r.destination) for r in found)
    return sorted((r for r in found if _specificity(policy, r.destination) == best), key=lambda r: -r.min_persons)


def bases_for(bases: Iterable[Basis], policy: Policy, destination: str, today: date) -> dict[str, list[str]]:
    """The kinds of basis on file that hold today for `destination`, with their ids."""
    held: dict[str, list[str]] = {}
    for b in bases:
        current = b.valid_from <= today and (b.valid_until is None or today <= b.valid_until)
        if current and policy.within(b.destination, destination):
            held.setdefault(b.kind, []).append(b.basis_id)
    return held


def decide(
    policy: Policy,
    origin: str,
    destination: str,
    data_class: str,
    persons: int,
    held: Mapping[str, list[str]],
) -> Verdict:
    """The verdict for one class; `persons` is how many distinct persons of the class went out this year."""

    def verdict(action: Action, why: Why, rule: PolicyRule | None = None, **extra: Any) -> Verdict:
        rule_id = rule.rule_id if rule else ""
        return Verdict(data_class, origin, destination, action, why, rule_id, policy.version if rule else 0, **extra)

    if policy.domestic(origin, destination):
        return verdict(Action.ALLOW, Why.DOMESTIC)
    if data_class in policy.killed_classes:
        return verdict(Action.BLOCK, Why.KILL_SWITCH_CLASS)
    if destination in policy.killed_destinations:
        return verdict(Action.BLOCK, Why.KILL_SWITCH_DESTINATION)
    if not policy.governed(origin):
        return verdict(Action.ALLOW, Why.UNGOVERNED_ORIGIN)
    rules = candidates(policy, origin, data_class, destination)
    rule = next((r for r in rules if r.min_persons <= persons), None)
    if rule is None:
        return verdict(Action.BLOCK, Why.NO_RULE)
    if rule.action != "REQUIRE_BASIS":
        return verdict(Action(rule.action), Why.RULE, rule)
    any_ok = not rule.any_of or any(k in held for k in rule.any_of)
    all_ok = all(k in held for k in rule.all_of)
    if any_ok and all_ok:
        used = sorted({i for k in (rule.any_of | rule.all_of) if k in held for i in held[k]})
        return verdict(Action.ALLOW, Why.BASIS_ON_FILE, rule, basis_ids=tuple(used))
    needs = tuple(sorted(k for k in rule.all_of if k not in held))
    if not any_ok:
        needs = (*needs, "one of " + "/".join(sorted(rule.any_of)))
    return verdict(Action(rule.otherwise), Why.BASIS_MISSING, rule, needs=needs)


def thresholds(policy: Policy, origin: str, data_class: str, destination: str) -> tuple[int, ...]:
    """The person thresholds (above 0) of the class's rules: the tiers a decision depends on."""
    return tuple(sorted({r.min_persons for r in candidates(policy, origin, data_class, destination) if r.min_persons}))


def tier(limits: tuple[int, ...], persons: int) -> int:
    return sum(1 for limit in limits if persons >= limit)


# --- the answer's fields ---

_CLASSES_OF: dict[str, frozenset[str]] = {}
_FIELD_CLASS: dict[str, str | None] = {}


def field_class(f: FieldDescriptor) -> str | None:
    """The class a field is decided under: its `data_class`, except that a PERSONAL_SENSITIVE field
    declared `(masked) = true` carries only a masked rendering (the vault's), which is personal data but
    not the sensitive value: it is decided as PERSONAL."""
    name = f.full_name
    if name not in _FIELD_CLASS:
        cls = data_class(f)
        if cls == "PERSONAL_SENSITIVE" and f.GetOptions().Extensions[options_pb2.masked]:
            cls = "PERSONAL"
        _FIELD_CLASS[name] = cls
    return _FIELD_CLASS[name]


def classes_sent(message: Message) -> frozenset[str]:
    """The classes (as decided, see `field_class`) of the fields the answer actually sets."""
    found: set[str] = set()

    def walk(msg: Message) -> None:
        for f, value in msg.ListFields():
            cls = field_class(f)
            if f.message_type is None:
                if cls is not None:
                    found.add(cls)
                continue
            if is_map(f):
                value_field = f.message_type.fields_by_name["value"]
                if value_field.message_type is None:
                    if cls is not None:
                        found.add(cls)
                    continue
                items = list(value.values())
            else:
                items = list(value) if is_repeated(f) else [value]
            for item in items:
                walk(item)

    walk(message)
    return frozenset(found)


def reachable_classes(descriptor: Descriptor) -> frozenset[str]:
    """Every class a field of this message (nested ones included) may carry: the decision table's rows."""
    name = descriptor.full_name
    if name in _CLASSES_OF:
        return _CLASSES_OF[name]
    _CLASSES_OF[name] = frozenset()  # a recursive message type ends here
    found: set[str] = set()
    for f in descriptor.fields:
        cls = field_class(f)
        if f.message_type is None and cls is not None:
            found.add(cls)
        elif f.message_type is not None:
            found |= reachable_classes(f.message_type)
    _CLASSES_OF[name] = frozenset(found)
    return _CLASSES_OF[name]


def _masked_scalar(f: FieldDescriptor, value: Any) -> Any:
    if f.type == FieldDescriptor.TYPE_STRING:
        return MASKED_TEXT
    if f.type == FieldDescriptor.TYPE_BYTES:
        return b""
    return type(value)()


def mask(message: Message, classes: frozenset[str]) -> int:
    """Mask, in place, every scalar field whose class is in `classes` (nested messages included): strings
    become "***", bytes empty, every other value its zero. Returns how many values were masked."""
    count = 0
    for f, value in message.ListFields():
        if f.message_type is not None:
            if is_map(f):
                value_field = f.message_type.fields_by_name["value"]
                if value_field.message_type is not None:
                    for item in value.values():
                        count += mask(item, classes)
                elif field_class(f) in classes:
                    for key in list(value.keys()):
                        value[key] = _masked_scalar(value_field, value[key])
                        count += 1
            elif is_repeated(f):
                for item in value:
                    count += mask(item, classes)
            else:
                count += mask(value, classes)
            continue
        if field_class(f) not in classes:
            continue
        if is_repeated(f):
            masked = [_masked_scalar(f, v) for v in value]
            del value[:]
            value.extend(masked)
            count += len(masked)
        else:
            setattr(message, f.name, _masked_scalar(f, value))
            count += 1
    return count


def people(message: Message, classes: frozenset[str]) -> dict[str, set[str]]:
    """Per class, the identities of the persons an answer carries: for every message node that sets fields
    of the class directly, its type and those values (to be hashed before they are kept or counted)."""
    found: dict[str, set[str]] = {}

    def walk(msg: Message) -> None:
        direct: dict[str, list[str]] = {}
        for f, value in msg.ListFields():
            if f.message_type is not None:
                if is_map(f):
                    items = [v for v in value.values() if isinstance(v, Message)]
                elif is_repeated(f):
                    items = list(value)
                else:
                    items = [value]
                for item in items:
                    walk(item)
                continue
            cls = field_class(f)
            if cls in classes:
                direct.setdefault(cls, []).append(f"{f.name}={list(value) if is_repeated(f) else value}")
        for cls, parts in direct.items():
            found.setdefault(cls, set()).add(msg.DESCRIPTOR.full_name + "|" + "|".join(sorted(parts)))

    walk(message)
    return found


@dataclass
class DecisionTable:
    """Verdicts per class for one (method, origin, destination, revision, bases, tiers): computed once."""

    verdicts: dict[str, Verdict]

    @property
    def all_allowed(self) -> bool:
        return all(v.action is Action.ALLOW for v in self.verdicts.values())
