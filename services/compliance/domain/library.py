"""The bitemporal rule library: cross-rule checks, drafts, diffs and which rules a version holds (pure Python).

Two times (docs/compliance-rules.md):
- valid time: when a rule is in force in law (`effective_from`/`effective_to`, from the pack);
- record time: which library versions recorded it. A stored rule carries `recorded_in` (the version that
  first published that code+version) and `superseded_in` (the first version that no longer holds it).
Version N holds the rules with recorded_in <= N < superseded_in, so a check against version N on date D
reproduces the report that version gave on D, whatever was published later.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from services.compliance.domain.rules import Rule, rule_to_document


@dataclass(frozen=True)
class PackProblem:
    """One reason a set of packs cannot be published: which file, which rule, which field."""

    pack_file: str
    rule_code: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.pack_file}"
        if self.rule_code:
            where += f": rule {self.rule_code}"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"


class PackErrors(ValueError):
    """Every problem found in a set of packs; nothing is staged or published when raised."""

    def __init__(self, problems: Iterable[PackProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "invalid rule packs")


@dataclass(frozen=True)
class Reference:
    """The reference data cross checks run against."""

    hs_codes: frozenset[str]
    countries: frozenset[str]
    currencies: frozenset[str]


def cross_check(rules: Iterable[tuple[str, Rule]], reference: Reference) -> list[PackProblem]:
    """Problems across the rules of all packs (file name, rule): duplicates, overlapping versions, unknown data."""
    problems: list[PackProblem] = []
    seen: dict[tuple[str, int], str] = {}
    by_code: dict[str, list[tuple[str, Rule]]] = {}
    for pack_file, rule in rules:
        if rule.key in seen:
            problems.append(
                PackProblem(
                    pack_file, rule.code, "version", f"version {rule.version} is also defined in {seen[rule.key]}"
                )
            )
            continue
        seen[rule.key] = pack_file
        by_code.setdefault(rule.code, []).append((pack_file, rule))
        for position, prefix in enumerate(rule.hs_scope):
            if prefix not in reference.hs_codes:
                problems.append(
                    PackProblem(pack_file, rule.code, f"hs_scope[{position}]", f"{prefix!r} is not an HS 2022 code")
                )
        for name, codes in (("destinations", rule.destinations), ("origins", rule.origins or ())):
            for position, country in enumerate(codes):
                if country in ("EU", "GCC") and name == "destinations":
                    continue
                if country not in reference.countries:
                    problems.append(
                        PackProblem(
                            pack_file, rule.code, f"{name}[{position}]", f"{country!r} is not an ISO 3166-1 country"
                        )
                    )
        if rule.value_threshold and rule.value_threshold.currency not in reference.currencies:
            problems.append(
                PackProblem(
                    pack_file,
                    rule.code,
                    "value_threshold.currency",
                    f"{rule.value_threshold.currency!r} is not an active ISO 4217 currency",
                )
            )
        if rule.effective_to is not None and rule.effective_to <= rule.effective_from:
            problems.append(PackProblem(pack_file, rule.code, "effective_to", "must be after effective_from"))
    for versions in by_code.values():
        ordered = sorted(versions, key=lambda item: item[1].effective_from)
        for (_, earlier), (pack_file, later) in itertools.pairwise(ordered):
            if earlier.effective_to is None or earlier.effective_to > later.effective_from:
                ends = earlier.effective_to.isoformat() if earlier.effective_to else "open-ended"
                problems.append(
                    PackProblem(
                        pack_file,
                        later.code,
                        "effective_from",
                        f"version {later.version} from {later.effective_from} overlaps version {earlier.version} "
                        f"({earlier.effective_from} .. {ends}); end the earlier version first",
                    )
                )
    return problems


@dataclass(frozen=True)
class RuleChange:
    code: str
    change: str  # added | changed | removed
    old: tuple[Rule, ...]
    new: tuple[Rule, ...]

    @property
    def version(self) -> int:
        return max((r.version for r in self.new), default=0)

    @property
    def hs_scope(self) -> tuple[str, ...]:
        """Scope of old and new together; empty when any version covers all goods."""
        rules = (*self.old, *self.new)
        if any(not r.hs_scope for r in rules):
            return ()
        return tuple(sorted({p for r in rules for p in r.hs_scope}))

    @property
    def destinations(self) -> tuple[str, ...]:
        return tuple(sorted({c for r in (*self.old, *self.new) for c in r.countries}))


def diff(published: Iterable[Rule], draft: Iterable[Rule]) -> list[RuleChange]:
    """What publishing `draft` over `published` changes, per rule code (all versions of a code together)."""
    before: dict[str, dict[int, Rule]] = {}
    after: dict[str, dict[int, Rule]] = {}
    for rule in published:
        before.setdefault(rule.code, {})[rule.version] = rule
    for rule in draft:
        after.setdefault(rule.code, {})[rule.version] = rule
    changes: list[RuleChange] = []
    for code in sorted(before.keys() | after.keys()):
        old, new = before.get(code, {}), after.get(code, {})
        old_rules = tuple(old[v] for v in sorted(old))
        new_rules = tuple(new[v] for v in sorted(new))
        if not old:
            changes.append(RuleChange(code, "added", (), new_rules))
        elif not new:
            changes.append(RuleChange(code, "removed", old_rules, ()))
        elif [_content(r) for r in old_rules] != [_content(r) for r in new_rules]:
            changes.append(RuleChange(code, "changed", old_rules, new_rules))
    return changes


def _content(rule: Rule) -> dict:
    doc = rule_to_document(rule)
    doc["pack"] = rule.pack
    return doc


CORRECTABLE = frozenset(
    {"effective_to", "verified", "note", "source", "title", "read_on", "effective_from_lower_bound"}
)
"""Keys a published code+version may still change: ending its validity when a successor arrives, and
corrections of its citation, of the day its source was read and of whether its start date is known. The
record keeps both (the old row is superseded, not overwritten)."""


def _meaning(rule: Rule) -> dict:
    return {k: v for k, v in rule_to_document(rule).items() if k not in CORRECTABLE}


def same_version_edited(published: Iterable[Rule], draft: Iterable[Rule]) -> list[tuple[Rule, Rule]]:
    """Rules whose code+version was published meaning something else: a changed rule takes a new version."""
    stored: dict[tuple[str, int], list[Rule]] = {}
    for rule in published:
        stored.setdefault(rule.key, []).append(rule)
    return [
        (stored[r.key][-1], r)
        for r in draft
        if r.key in stored and all(_meaning(old) != _meaning(r) for old in stored[r.key])
    ]


@dataclass(frozen=True)
class LibraryVersion:
    version: int
    code: str
    published_at: datetime
    packs_digest: str
    packs: tuple[str, ...]
    rule_count: int


@dataclass(frozen=True)
class StoredRule:
    rule: Rule
    recorded_in: int
    superseded_in: int | None

    def held_by(self, version: int) -> bool:
        return self.recorded_in <= version and (self.superseded_in is None or version < self.superseded_in)


def version_current_at(versions: Iterable[LibraryVersion], moment: datetime) -> LibraryVersion | None:
    """The last version published at or before `moment` (record time)."""
    best: LibraryVersion | None = None
    for v in versions:
        if v.published_at <= moment and (best is None or v.version > best.version):
            best = v
    return best


@dataclass
class Draft:
    """Packs validated and staged for publication."""

    rules: list[Rule]
    packs: tuple[str, ...]
    packs_digest: str
    staged_at: datetime
    files: Mapping[str, str] = field(default_factory=dict)  # pack id -> file name


def end_of_day(day: date, tz: object) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=tz)  # type: ignore[arg-type]
