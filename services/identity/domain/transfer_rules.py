"""Cross-border transfer rules: the versioned rule table, kill switches and legal bases on file.

A rule says what happens to one data class of data whose origin is a country or group (the owning
merchant's jurisdiction) when it goes to a destination (a country, a group, or "*"): ALLOW, MASK,
REQUIRE_BASIS (a legal basis on file, any of `any_of` and all of `all_of`; else `otherwise`, MASK or
BLOCK) or BLOCK, from `min_persons` distinct persons of the class sent this calendar year on (the
thresholds of the 2024 CAC Provisions). Every rule cites its source, the date it was read and what could
not be confirmed. A table is published whole, as a new version; nothing is edited in place. The gateway
applies the table (gateway/transfer_policy.py); here it is validated and kept.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.shared.errors import Violations

DATA_CLASSES = ("PUBLIC", "BUSINESS", "PERSONAL", "PERSONAL_SENSITIVE", "IMPORTANT", "CORE")
ANYWHERE = "*"
MAX_RULES = 500
MAX_TEXT = 2000
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
_RULE_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,63}$")


class Action(enum.Enum):
    ALLOW = "ALLOW"
    MASK = "MASK"
    REQUIRE_BASIS = "REQUIRE_BASIS"
    BLOCK = "BLOCK"


class BasisKind(enum.Enum):
    CONSENT = "CONSENT"
    STANDARD_CONTRACT = "STANDARD_CONTRACT"
    CERTIFICATION = "CERTIFICATION"
    SECURITY_ASSESSMENT = "SECURITY_ASSESSMENT"
    CONTRACT_NECESSITY = "CONTRACT_NECESSITY"


class KillTarget(enum.Enum):
    CLASS = "class"
    DESTINATION = "destination"


@dataclass(frozen=True)
class Rule:
    rule_id: str
    origin: str
    data_class: str
    destination: str
    action: Action
    source: str
    source_read_on: str
    any_of: tuple[BasisKind, ...] = ()
    all_of: tuple[BasisKind, ...] = ()
    otherwise: Action = Action.BLOCK
    min_persons: int = 0
    uncertain: str = ""


@dataclass(frozen=True)
class Group:
    name: str
    countries: tuple[str, ...]
    source: str
    source_read_on: str
    uncertain: str = ""


@dataclass(frozen=True)
class RuleTable:
    """One published version: the rules, the groups they name, who published it, when and why."""

    version: int
    rules: tuple[Rule, ...]
    groups: tuple[Group, ...]
    published_by: str
    published_at: datetime
    reason: str


@dataclass(frozen=True)
class KillSwitchChange:
    """One engagement or release of a kill switch (the log is append-only; the latest per target wins)."""

    target: KillTarget
    value: str
    engaged: bool
    changed_by: str
    changed_at: datetime
    reason: str


@dataclass(frozen=True)
class LegalBasis:
    basis_id: str
    merchant_code: str
    kind: BasisKind
    reference: str
    destination: str
    valid_from: date
    valid_until: date | None
    registered_by: str
    registered_at: datetime


@dataclass
class Draft:
    """A table being checked before publication."""

    rules: list[Rule] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)


def _text(value: Any, where: str, violations: Violations, *, required: bool = True) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        violations.add(where, "is required")
    elif len(text) > MAX_TEXT:
        violations.add(where, f"must be at most {MAX_TEXT} characters")
    return text


def _read_on(value: Any, where: str, violations: Violations) -> str:
    text = str(value or "").strip()
    try:
        date.fromisoformat(text)
    except ValueError:
        violations.add(where, f"must be the date the source was read, YYYY-MM-DD, got {text!r}")
    return text


def _enum(kind: type[enum.Enum], value: Any, where: str, violations: Violations) -> Any:
    name = str(value or "").strip().upper()
    try:
        return kind[name]
    except KeyError:
        violations.add(where, f"must be one of {', '.join(m.name for m in kind)}, got {value!r}")
        return None


def check_group(raw: dict[str, Any], where: str, violations: Violations) -> Group:
    name = str(raw.get("name", "")).strip().upper()
    if not _NAME.match(name):
        violations.add(f"{where}.name", f"must be an upper-case name such as EEA, got {name!r}")
    countries = tuple(str(c).strip().upper() for c in raw.get("countries") or ())
    bad = [c for c in countries if not _COUNTRY.match(c)]
    if not countries or bad:
        violations.add(f"{where}.countries", f"must be ISO 3166-1 alpha-2 codes, got {bad or 'none'}")
    return Group(
        name,
        tuple(sorted(set(countries))),
        _text(raw.get("source"), f"{where}.source", violations),
        _read_on(raw.get("source_read_on"), f"{where}.source_read_on", violations),
        _text(raw.get("uncertain"), f"{where}.uncertain", violations, required=False),
    )


def _place(value: Any, groups: set[str], where: str, violations: Violations, *, anywhere: bool) -> str:
    place = str(value or "").strip().upper()
    if (anywhere and place == ANYWHERE) or _COUNTRY.match(place) or place in groups:
        return place
    violations.add(where, f"must be a country code, a group ({', '.join(sorted(groups))}) or '*', got {value!r}")
    return place


def check_rule(raw: dict[str, Any], groups: set[str], where: str, violations: Violations) -> Rule:
    rule_id = str(raw.get("rule_id", "")).strip().upper()
    if not _RULE_ID.match(rule_id):
        violations.add(f"{where}.rule_id", f"must be 3-64 upper-case letters, digits and dashes, got {rule_id!r}")
    data_class = str(raw.get("data_class", "")).strip().upper()
    if data_class not in DATA_CLASSES:
        violations.add(f"{where}.data_class", f"must be one of {', '.join(DATA_CLASSES)}, got {data_class!r}")
    action = _enum(Action, raw.get("action"), f"{where}.action", violations)
    any_of = tuple(_enum(BasisKind, b, f"{where}.any_of", violations) for b in raw.get("any_of") or ())
    all_of = tuple(_enum(BasisKind, b, f"{where}.all_of", violations) for b in raw.get("all_of") or ())
    otherwise = Action.BLOCK
    if action is Action.REQUIRE_BASIS:
        if not any_of and not all_of:
            violations.add(f"{where}.any_of", "REQUIRE_BASIS needs at least one legal basis kind")
        otherwise = _enum(Action, raw.get("otherwise") or "BLOCK", f"{where}.otherwise", violations)
        if otherwise not in (Action.MASK, Action.BLOCK, None):
            violations.add(f"{where}.otherwise", "must be MASK or BLOCK")
    elif any_of or all_of:
        violations.add(f"{where}.any_of", "legal bases apply only to REQUIRE_BASIS rules")
    try:
        min_persons = int(raw.get("min_persons") or 0)
    except (TypeError, ValueError):
        min_persons = -1
    if min_persons < 0:
        violations.add(f"{where}.min_persons", "must be a whole number of persons, 0 or more")
    return Rule(
        rule_id,
        _place(raw.get("origin"), groups, f"{where}.origin", violations, anywhere=False),
        data_class,
        _place(raw.get("destination"), groups, f"{where}.destination", violations, anywhere=True),
        action or Action.BLOCK,
        _text(raw.get("source"), f"{where}.source", violations),
        _read_on(raw.get("source_read_on"), f"{where}.source_read_on", violations),
        tuple(b for b in any_of if b is not None),
        tuple(b for b in all_of if b is not None),
        otherwise or Action.BLOCK,
        max(0, min_persons),
        _text(raw.get("uncertain"), f"{where}.uncertain", violations, required=False),
    )


def check_table(raw_rules: list[dict[str, Any]], raw_groups: list[dict[str, Any]], violations: Violations) -> Draft:
    """Validate a whole table: unique ids and names, known places, one rule per (origin, class, destination,
    threshold), and every rule cited with its read date."""
    draft = Draft()
    for i, raw in enumerate(raw_groups):
        draft.groups.append(check_group(raw, f"groups[{i}]", violations))
    names = [g.name for g in draft.groups]
    if len(set(names)) != len(names):
        violations.add("groups", "group names must be unique")
    if not raw_rules:
        violations.add("rules", "a table needs at least one rule")
    if len(raw_rules) > MAX_RULES:
        violations.add("rules", f"at most {MAX_RULES} rules")
    for i, raw in enumerate(raw_rules):
        draft.rules.append(check_rule(raw, set(names), f"rules[{i}]", violations))
    seen: dict[str, int] = {}
    slots: dict[tuple[str, str, str, int], str] = {}
    for i, rule in enumerate(draft.rules):
        if rule.rule_id in seen:
            violations.add(f"rules[{i}].rule_id", f"{rule.rule_id} is already rules[{seen[rule.rule_id]}]")
        seen[rule.rule_id] = i
        slot = (rule.origin, rule.data_class, rule.destination, rule.min_persons)
        if slot in slots:
            violations.add(f"rules[{i}]", f"same origin, class, destination and threshold as {slots[slot]}")
        slots[slot] = rule.rule_id
    return draft


def check_kill_switch(target: str, value: str, violations: Violations) -> tuple[KillTarget | None, str]:
    try:
        kind = KillTarget(target.strip().lower())
    except ValueError:
        violations.add("target", f"must be 'class' or 'destination', got {target!r}")
        return None, value
    found = value.strip().upper()
    if kind is KillTarget.CLASS and found not in DATA_CLASSES:
        violations.add("value", f"must be one of {', '.join(DATA_CLASSES)}, got {value!r}")
    if kind is KillTarget.DESTINATION and not _COUNTRY.match(found):
        violations.add("value", f"must be an ISO 3166-1 alpha-2 country code, got {value!r}")
    return kind, found


def engaged(changes: list[KillSwitchChange]) -> list[KillSwitchChange]:
    """The switches engaged now: the latest change per (target, value), when it engaged."""
    latest: dict[tuple[KillTarget, str], KillSwitchChange] = {}
    for change in changes:
        latest[(change.target, change.value)] = change
    return [c for c in latest.values() if c.engaged]


def check_validity(valid_from: str, valid_until: str, violations: Violations) -> tuple[date, date | None]:
    start: date = date.min
    end: date | None = None
    try:
        start = date.fromisoformat(valid_from.strip())
    except ValueError:
        violations.add("valid_from", f"must be a date YYYY-MM-DD, got {valid_from!r}")
    if valid_until.strip():
        try:
            end = date.fromisoformat(valid_until.strip())
        except ValueError:
            violations.add("valid_until", f"must be a date YYYY-MM-DD or empty, got {valid_until!r}")
        if end is not None and end < start:
            violations.add("valid_until", "must not be before valid_from")
    return start, end


def check_destination(value: str, violations: Violations) -> str:
    place = value.strip().upper() or ANYWHERE
    if place != ANYWHERE and not _COUNTRY.match(place) and not _NAME.match(place):
        violations.add("destination", f"must be a country code, a group name or '*', got {value!r}")
    return place
