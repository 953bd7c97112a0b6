"""The product-check engine: which rules match a product in a market on a date, and the verdict (pure Python).

A rule matches when destination, origin, HS scope, conditions, value threshold and effective dates all
hold (the rule-pack format, docs/compliance-rules.md). `CompiledLibrary` indexes one library version's
rules by destination country and HS prefix and precompiles their conditions; `naive_check` evaluates every
rule with no index and is both the benchmark baseline and the property tests' oracle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from services.compliance.domain.conditions import Predicate, compile_all, evaluate_condition
from services.compliance.domain.fx import NO_RATES, EcbRates, RateMissing, RateUsed
from services.compliance.domain.product import Product
from services.compliance.domain.rules import SATISFIABLE_BY_CERTIFICATION, SEVERITIES, Rule

VERDICTS = ("ALLOWED", "ALLOWED_WITH_CONDITIONS", "RESTRICTED", "PROHIBITED")
"""Best first: a higher index is a worse verdict."""

UNDETERMINED = "UNDETERMINED"
"""The verdict of a market the library has no rules for: not a judgement, so outside VERDICTS' order."""

_WEIGHT = {severity: weight for weight, severity in enumerate(SEVERITIES)}

# Official languages (ISO 639-1) a label may use where a rule asks for "official": national law of each
# market, summarised in docs/compliance-rules.md. A label in any one of them satisfies "official".
OFFICIAL_LANGUAGES: Mapping[str, tuple[str, ...]] = {
    "AT": ("de",), "BE": ("nl", "fr", "de"), "BG": ("bg",), "HR": ("hr",), "CY": ("el", "tr"),
    "CZ": ("cs",), "DK": ("da",), "EE": ("et",), "FI": ("fi", "sv"), "FR": ("fr",), "DE": ("de",),
    "GR": ("el",), "HU": ("hu",), "IE": ("en", "ga"), "IT": ("it",), "LV": ("lv",), "LT": ("lt",),
    "LU": ("lb", "fr", "de"), "MT": ("mt", "en"), "NL": ("nl",), "PL": ("pl",), "PT": ("pt",),
    "RO": ("ro",), "SK": ("sk",), "SI": ("sl",), "ES": ("es",), "SE": ("sv",),
    "GB": ("en",), "US": ("en",), "JP": ("ja",), "AU": ("en",), "CA": ("en", "fr"), "SG": ("en", "zh", "ms", "ta"),
    "SA": ("ar",), "AE": ("ar",), "BH": ("ar",), "KW": ("ar",), "OM": ("ar",), "QA": ("ar",),
}  # fmt: skip


@dataclass(frozen=True)
class ValueJudgement:
    """How a rule's value threshold was judged on the check date.

    `determined` is False when no rate exists to convert the declared value (`missing` says which rate, which
    date and what would settle it). `rate_used` is the conversion's rate and its age (None: no conversion);
    a stale rate decides the rule, and `uncertain` marks a value within the stale rate's margin of the bound,
    where a current rate could put it on the other side.
    """

    holds: bool
    determined: bool = True
    rate_used: RateUsed | None = None
    uncertain: bool = False
    missing: str = ""

    @property
    def settled(self) -> bool:
        return self.determined and not self.uncertain


EXACT = ValueJudgement(True)


@dataclass(frozen=True)
class Finding:
    rule: Rule
    satisfied: bool
    value: ValueJudgement = EXACT

    @property
    def counts(self) -> bool:
        """Whether the finding takes part in the verdict: an undetermined threshold decides nothing."""
        return self.value.determined and self.value.holds


@dataclass(frozen=True)
class Regime:
    """A TAX_REGIME rule that applies, may apply (uncertain) or could not be determined."""

    rule: Rule
    value: ValueJudgement = EXACT


@dataclass(frozen=True)
class Outcome:
    """The engine's answer for one product in one market (the report before rendering)."""

    destination: str
    as_of: date
    verdict: str
    findings: tuple[Finding, ...]  # worst first; TAX_REGIME rules are in tax_regimes, not here
    tax_regimes: tuple[Regime, ...]
    missing: tuple[str, ...] = ()  # what the report could not determine, and what would settle it

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def contains_unverified_rules(self) -> bool:
        return any(not f.rule.verified for f in self.findings) or any(not r.rule.verified for r in self.tax_regimes)


# Per threshold currency, the declared value converted once per check: (value, rate used) or the missing rate.
_Converted = dict[str, "tuple[Decimal, RateUsed | None] | RateMissing"]

_SETTLE = (
    "import a current ECB history (`xborder import --service compliance --dataset ecb_reference_rates`) "
    "or declare the value in {currency}"
)


def _holds(op: str, value: Decimal, bound: Decimal) -> bool:
    return bool(
        value < bound
        if op == "lt"
        else value <= bound
        if op == "lte"
        else value > bound
        if op == "gt"
        else value >= bound
    )


def _judge_threshold(
    rule: Rule, product: Product, rates: EcbRates, day: date, converted: _Converted | None = None
) -> ValueJudgement | None:
    """The threshold's judgement, or None when the rule plainly does not match on its value."""
    threshold = rule.value_threshold
    if threshold is None:
        return EXACT
    declared = product.declared_value
    if declared is None:
        return None  # an unstated value is an unstated attribute: the rule does not match
    found = converted.get(threshold.currency) if converted is not None else None
    if found is None:
        if declared.currency == threshold.currency:
            found = (declared.amount, None)
        else:
            try:
                found = rates.conversion(declared.amount, declared.currency, threshold.currency, day)
            except RateMissing as no_rate:
                found = no_rate
        if converted is not None:
            converted[threshold.currency] = found
    if isinstance(found, RateMissing):
        return ValueJudgement(
            False,
            determined=False,
            missing=f"{rule.code}: {found} to convert {declared.currency} into {threshold.currency} for the "
            f"{threshold.op} {threshold.currency} {threshold.amount} threshold; "
            + _SETTLE.format(currency=threshold.currency),
        )
    value, used = found
    holds = _holds(threshold.op, value, threshold.amount)
    if used is None or not used.stale:
        return ValueJudgement(True, rate_used=used) if holds else None
    margin = used.margin
    uncertain = abs(value - threshold.amount) <= threshold.amount * margin
    if not holds and not uncertain:
        return None
    why = ""
    if uncertain:
        why = (
            f"{rule.code}: the value at the {used.source}/{used.target} rate of {used.day} ({used.age_days} days "
            f"old) is within {margin * 100:.1f} % of the {threshold.currency} {threshold.amount} threshold, "
            "as far as that rate may have moved; a rate of the check date would settle it: "
            + _SETTLE.format(currency=threshold.currency)
        )
    return ValueJudgement(holds, rate_used=used, uncertain=uncertain, missing=why)


def is_satisfied(rule: Rule, product: Product, destination: str) -> bool:
    kind = rule.requirement.kind
    if kind in SATISFIABLE_BY_CERTIFICATION:
        return not rule.requirement.satisfying_codes.isdisjoint(product.certifications)
    if kind == "LABEL_LANGUAGE":
        for language in rule.requirement.languages:
            if language == "official":
                if product.label_languages.isdisjoint(OFFICIAL_LANGUAGES.get(destination, ())):
                    return False
            elif language not in product.label_languages:
                return False
        return bool(rule.requirement.languages)
    return False  # DOCUMENT, SHIPPING_RESTRICTION, PROHIBITION: never met in advance; TAX_REGIME: not a requirement


def verdict_of(findings: Iterable[Finding]) -> str:
    worst = 0
    for finding in findings:
        severity = finding.rule.severity
        if severity == "PROHIBITED" and finding.counts:
            return "PROHIBITED"
        if finding.satisfied or not finding.counts:
            continue
        if severity == "RESTRICTED":
            worst = max(worst, 2)
        elif severity == "CONDITION":
            worst = max(worst, 1)
    return VERDICTS[worst]


def start_unknown(rule: Rule, day: date) -> str:
    return (
        f"{rule.code}: in force at least since {rule.effective_from.isoformat()}, but its start date is not known, "
        f"so whether it applied on {day.isoformat()} was not determined"
    )


def _outcome(destination: str, day: date, matched: list[tuple[Rule, ValueJudgement]], product: Product) -> Outcome:
    findings: list[Finding] = []
    taxes: list[Regime] = []
    missing: list[str] = []
    for rule, value in matched:
        if value.missing:
            missing.append(value.missing)
        if not rule.in_force(day):  # matched only because its start is a lower bound after `day`
            missing.append(start_unknown(rule, day))
            continue
        if rule.requirement.kind == "TAX_REGIME":
            taxes.append(Regime(rule, value))
        else:
            findings.append(Finding(rule, is_satisfied(rule, product, destination), value))
    findings.sort(key=lambda f: (-_WEIGHT[f.rule.severity], f.satisfied, f.rule.code))
    taxes.sort(key=lambda r: r.rule.code)
    missing.sort()
    return Outcome(destination, day, verdict_of(findings), tuple(findings), tuple(taxes), tuple(missing))


def naive_check(
    rules: Iterable[Rule], product: Product, destination: str, day: date, rates: EcbRates = NO_RATES
) -> Outcome:
    """Evaluate every rule of the library, interpreting each condition: the baseline."""
    facts = product.facts()
    matched = []
    for rule in rules:
        if (
            destination in rule.countries
            and (rule.in_force(day) or rule.start_unknown_on(day))
            and (rule.origins is None or product.origin_country in rule.origins)
            and (not rule.hs_scope or any(product.hs_code.startswith(p) for p in rule.hs_scope))
            and all(evaluate_condition(c, facts) for c in rule.conditions)
        ):
            value = _judge_threshold(rule, product, rates, day)
            if value is not None:
                matched.append((rule, value))
    return _outcome(destination, day, matched, product)


_MAX_DAY = date.max

# One indexed rule as a flat tuple: (rule, effective_from, effective_to or date.max, origins or None,
# predicate or None, has a value threshold, start is a lower bound). A check touches each candidate's fields
# once, by position.
_Entry = tuple[Rule, date, date, "frozenset[str] | None", "Predicate | None", bool, bool]


# A rule naming more countries than this is a worldwide rule (the INTL packs: IATA dangerous goods, goods
# prohibited everywhere); the largest national or regional list, the EU's, has 27.
WORLDWIDE_MIN_COUNTRIES = 100


class CompiledLibrary:
    """One library version's rules indexed by destination and HS prefix, conditions precompiled.

    The candidates of a (destination, 6-digit code) are the rules under its 4 prefixes ("", chapter,
    heading, subheading); they are merged once and memoised (at most markets x 5,613 subheadings).
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        index: dict[str, dict[str, list[_Entry]]] = {}
        for rule in self.rules:
            entry: _Entry = (
                rule,
                rule.effective_from,
                rule.effective_to or _MAX_DAY,
                frozenset(rule.origins) if rule.origins is not None else None,
                compile_all(rule.conditions),
                rule.value_threshold is not None,
                rule.effective_from_lower_bound,
            )
            # A rule whose scope lists both "85" and "8507" would be found twice under one code: keep the
            # shortest prefixes only, they already cover the longer ones.
            prefixes = sorted(set(rule.hs_scope)) or [""]
            kept = [p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)]
            for country in rule.countries:
                by_prefix = index.setdefault(country, {})
                for prefix in kept:
                    by_prefix.setdefault(prefix, []).append(entry)
        self._index: dict[str, dict[str, tuple[_Entry, ...]]] = {
            country: {prefix: tuple(items) for prefix, items in by_prefix.items()}
            for country, by_prefix in index.items()
        }
        self._memo: dict[tuple[str, str], tuple[_Entry, ...]] = {}
        self._national = frozenset(
            country
            for rule in self.rules
            if len(rule.countries) <= WORLDWIDE_MIN_COUNTRIES
            for country in rule.countries
        )

    def candidates(self, destination: str, hs_code: str) -> tuple[_Entry, ...]:
        key = (destination, hs_code)
        found = self._memo.get(key)
        if found is None:
            by_prefix = self._index.get(destination) or {}
            merged: list[_Entry] = []
            for prefix in ("", hs_code[:2], hs_code[:4], hs_code[:6]):
                merged.extend(by_prefix.get(prefix, ()))
            found = self._memo[key] = tuple(merged)  # a race only computes the same tuple twice
        return found

    def check(self, product: Product, destination: str, day: date, rates: EcbRates = NO_RATES) -> Outcome:
        facts = product.facts()
        origin = product.origin_country
        matched: list[tuple[Rule, ValueJudgement]] = []
        converted: _Converted = {}
        for rule, starts, ends, origins, predicate, has_threshold, lower_bound in self.candidates(
            destination, product.hs_code
        ):
            if (starts > day and not lower_bound) or day >= ends:
                continue
            if origins is not None and origin not in origins:
                continue
            if predicate is not None and not predicate(facts):
                continue
            value = _judge_threshold(rule, product, rates, day, converted) if has_threshold else EXACT
            if value is None:
                continue
            matched.append((rule, value))
        return _outcome(destination, day, matched, product)

    def destinations(self) -> frozenset[str]:
        return frozenset(self._index)

    def national_markets(self) -> frozenset[str]:
        """Markets with rules of their own, beyond the worldwide ones."""
        return self._national


def no_rules(destination: str, day: date, library_version: int, covered: Iterable[str]) -> Outcome:
    """The outcome for a market the library has no rules for: no verdict, and what is missing."""
    return Outcome(
        destination,
        day,
        UNDETERMINED,
        (),
        (),
        (
            f"destination: library version {library_version} has no rules for {destination}, so nothing could be "
            f"judged; covered: {', '.join(sorted(covered))}",
        ),
    )


def worldwide_only(outcome: Outcome, library_version: int) -> Outcome:
    """`outcome` for a market only worldwide rules cover: its verdict stands, and the report says what is not known."""
    why = (
        f"destination: library version {library_version} has no national rules for {outcome.destination}; only "
        "the worldwide rules (dangerous goods, goods prohibited everywhere) were checked, not its customs, tax or "
        "product-safety law"
    )
    return replace(outcome, missing=(*outcome.missing, why))


def worse(new: str, old: str) -> bool:
    return VERDICTS.index(new) > VERDICTS.index(old)
