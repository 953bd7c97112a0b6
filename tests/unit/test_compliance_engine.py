"""The product-check engine: matching, satisfaction, verdicts, value thresholds; index == naive (property)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.compliance.domain.engine import VERDICTS, CompiledLibrary, Outcome, naive_check, worldwide_only
from services.compliance.domain.fx import MAX_STALE_DAYS, EcbRates, stale_margin
from services.compliance.domain.product import Product, coerce
from services.compliance.domain.rules import Rule
from services.shared.money import Money
from tests.compliance_rules import rule

DAY = date(2025, 6, 2)
RATES = EcbRates.from_rows(
    [(date(2025, 5, 30), "USD", Decimal("1.1357")), (date(2025, 5, 30), "CNY", Decimal("8.1716"))]
)


def speaker(**fields: object) -> Product:
    base: dict[str, object] = {
        "hs_code": "851822",
        "origin_country": "CN",
        "attributes": {"radio": True, "battery_type": "lithium_ion", "battery_wh": Decimal("12")},
    }
    base.update(fields)
    return Product(**base)  # type: ignore[arg-type]


def verdict(rules: list[Rule], product: Product, destination: str = "DE", day: date = DAY) -> str:
    outcome = CompiledLibrary(rules).check(product, destination, day, RATES)
    assert outcome == naive_check(rules, product, destination, day, RATES)
    return outcome.verdict


def test_no_matching_rule_is_allowed_with_no_findings() -> None:
    outcome = CompiledLibrary([rule(hs_scope=["61"])]).check(speaker(), "DE", DAY)
    assert (outcome.verdict, outcome.findings) == ("ALLOWED", ())


def test_unmet_marking_is_allowed_with_conditions_and_a_held_one_is_satisfied() -> None:
    ce = rule("EU-CE", destinations=["EU"], hs_scope=["85"])
    assert verdict([ce], speaker()) == "ALLOWED_WITH_CONDITIONS"
    held = CompiledLibrary([ce]).check(speaker(certifications=frozenset({"CE"})), "FR", DAY)
    assert held.verdict == "ALLOWED"
    assert [(f.rule.code, f.satisfied) for f in held.findings] == [("EU-CE", True)]


def test_restricted_without_the_certificate_and_prohibited_regardless() -> None:
    fcc = rule(
        "US-FCC",
        destinations=["US"],
        severity="RESTRICTED",
        requirement={"kind": "CERTIFICATE", "code": "FCC-ID", "text": {"en": "a", "zh-CN": "b"}},
    )
    assert verdict([fcc], speaker(), "US") == "RESTRICTED"
    assert verdict([fcc], speaker(certifications=frozenset({"FCC-ID"})), "US") == "ALLOWED"
    ivory = rule(
        "GB-IVORY",
        destinations=["GB"],
        severity="PROHIBITED",
        conditions=[{"attribute": "materials", "op": "contains", "value": "ivory"}],
        requirement={"kind": "PROHIBITION", "text": {"en": "a", "zh-CN": "b"}},
    )
    comb = speaker(attributes={"materials": ("ivory", "wood")})
    assert verdict([ivory], comb, "GB") == "PROHIBITED"
    assert verdict([ivory], speaker(attributes={"materials": ("wood",)}), "GB") == "ALLOWED"


def test_documents_and_shipping_restrictions_always_count_and_info_never_does() -> None:
    ship = rule(
        "US-LI",
        destinations=["US"],
        requirement={"kind": "SHIPPING_RESTRICTION", "code": "UN3480", "text": {"en": "a", "zh-CN": "b"}},
    )
    info = rule("US-INFO", destinations=["US"], severity="INFO")
    held = speaker(certifications=frozenset({"UN3480"}))
    assert verdict([ship], held, "US") == "ALLOWED_WITH_CONDITIONS"
    assert verdict([info], speaker(), "US") == "ALLOWED"


def test_label_languages_all_required_and_official_means_a_language_of_the_state() -> None:
    german = rule(
        "DE-LANG",
        requirement={
            "kind": "LABEL_LANGUAGE",
            "code": "LANG",
            "languages": ["de", "en"],
            "text": {"en": "a", "zh-CN": "b"},
        },
    )
    assert verdict([german], speaker(label_languages=frozenset({"de"}))) == "ALLOWED_WITH_CONDITIONS"
    assert verdict([german], speaker(label_languages=frozenset({"de", "en"}))) == "ALLOWED"
    official = rule(
        "EU-LANG",
        destinations=["EU"],
        requirement={"kind": "LABEL_LANGUAGE", "languages": ["official"], "text": {"en": "a", "zh-CN": "b"}},
    )
    assert verdict([official], speaker(label_languages=frozenset({"fr"})), "BE") == "ALLOWED"
    assert verdict([official], speaker(label_languages=frozenset({"fr"})), "DE") == "ALLOWED_WITH_CONDITIONS"


def test_conditions_on_unstated_attributes_do_not_hold_except_absent() -> None:
    big = rule("US-BIG", destinations=["US"], conditions=[{"attribute": "battery_wh", "op": "gt", "value": 100}])
    not_lead = rule(
        "US-NL", destinations=["US"], conditions=[{"attribute": "battery_type", "op": "ne", "value": "lead_acid"}]
    )
    no_radio = rule("US-NR", destinations=["US"], conditions=[{"attribute": "radio", "op": "absent"}])
    bare = Product(hs_code="851822")
    assert [f.rule.code for f in CompiledLibrary([big, not_lead, no_radio]).check(bare, "US", DAY).findings] == [
        "US-NR"
    ]
    assert verdict([big], speaker(attributes={"battery_wh": Decimal("100.5")}), "US") == "ALLOWED_WITH_CONDITIONS"
    assert verdict([big], speaker(attributes={"battery_wh": Decimal("100")}), "US") == "ALLOWED"


def test_scope_origin_destination_union_and_effective_dates() -> None:
    gcc = rule(
        "GCC-X",
        destinations=["GCC"],
        origins=["CN"],
        hs_scope=["8518"],
        effective_from="2025-01-01",
        effective_to="2025-07-01",
    )
    assert verdict([gcc], speaker(), "SA") == "ALLOWED_WITH_CONDITIONS"
    assert verdict([gcc], speaker(), "DE") == "ALLOWED"  # not a GCC state
    assert verdict([gcc], speaker(origin_country="VN"), "AE") == "ALLOWED"
    assert verdict([gcc], speaker(hs_code="851830"), "AE") == "ALLOWED_WITH_CONDITIONS"
    assert verdict([gcc], speaker(hs_code="850760"), "AE") == "ALLOWED"
    assert verdict([gcc], speaker(), "SA", date(2025, 7, 1)) == "ALLOWED"  # effective_to is exclusive
    assert verdict([gcc], speaker(), "SA", date(2024, 12, 31)) == "ALLOWED"


def test_a_check_before_a_start_that_is_only_a_lower_bound_says_the_rule_is_undetermined() -> None:
    ban = rule("XX-OLD-BAN", hs_scope=["8518"], severity="PROHIBITED", effective_from="2018-01-01")
    ban_of_unknown_age = rule(
        "XX-OLD-BAN",
        hs_scope=["8518"],
        severity="PROHIBITED",
        effective_from="2018-01-01",
        effective_from_lower_bound=True,
    )
    before, after = date(2017, 6, 1), date(2018, 1, 1)
    for check in (naive_check, lambda rules, *args: CompiledLibrary(rules).check(*args)):
        known = check([ban], speaker(), "DE", before)
        assert (known.verdict, known.missing) == ("ALLOWED", ())  # a known start: the law did not exist yet
        unknown = check([ban_of_unknown_age], speaker(), "DE", before)
        assert unknown.findings == () and not unknown.complete
        assert unknown.missing == (
            "XX-OLD-BAN: in force at least since 2018-01-01, but its start date is not known, so whether it applied "
            "on 2017-06-01 was not determined",
        )
        assert check([ban_of_unknown_age], speaker(), "DE", after).verdict == "PROHIBITED"
        assert check([ban_of_unknown_age], speaker(hs_code="610910"), "DE", before).missing == ()  # out of scope


def test_an_accepted_code_satisfies_a_marking_in_place_of_its_own_code() -> None:
    ukca = rule(
        "GB-X",
        destinations=["GB"],
        severity="RESTRICTED",
        requirement={"kind": "MARKING", "code": "UKCA", "accepted_codes": ["CE"], "text": {"en": "a", "zh-CN": "b"}},
    )
    assert verdict([ukca], speaker(), "GB") == "RESTRICTED"
    assert verdict([ukca], speaker(certifications=frozenset({"CE"})), "GB") == "ALLOWED"
    assert verdict([ukca], speaker(certifications=frozenset({"UKCA"})), "GB") == "ALLOWED"
    assert verdict([ukca], speaker(certifications=frozenset({"FCC-ID"})), "GB") == "RESTRICTED"


def test_ship_from_country_is_the_origin_unless_the_product_says_otherwise() -> None:
    from_us = rule(
        "CA-X", destinations=["CA"], conditions=[{"attribute": "ship_from_country", "op": "in", "value": ["US"]}]
    )
    assert verdict([from_us], speaker(origin_country="US"), "CA") == "ALLOWED_WITH_CONDITIONS"
    assert verdict([from_us], speaker(origin_country="CN"), "CA") == "ALLOWED"
    warehoused = speaker(origin_country="CN", attributes={"ship_from_country": coerce("ship_from_country", " us ")})
    assert verdict([from_us], warehoused, "CA") == "ALLOWED_WITH_CONDITIONS"
    assert verdict([from_us], speaker(origin_country="US", attributes={"ship_from_country": "CN"}), "CA") == "ALLOWED"
    assert verdict([from_us], Product(hs_code="851822"), "CA") == "ALLOWED"  # neither stated: no match


def test_value_threshold_converts_at_the_ecb_rate_of_the_last_target_day() -> None:
    ioss = rule(
        "EU-IOSS",
        destinations=["EU"],
        severity="INFO",
        value_threshold={"op": "lte", "amount": "150", "currency": "EUR"},
        requirement={
            "kind": "TAX_REGIME",
            "code": "IOSS",
            "text": {"en": "a", "zh-CN": "b"},
            "tax": {"scheme": "IOSS"},
        },
    )
    library = CompiledLibrary([ioss])
    # 1225 CNY / 8.1716 = 149.91 EUR; 1226 CNY = 150.03 EUR (ECB 2025-05-30, a Friday, used on Monday 06-02)
    under = library.check(speaker(declared_value=Money.of("1225", "CNY")), "DE", DAY, RATES)
    over = library.check(speaker(declared_value=Money.of("1226", "CNY")), "DE", DAY, RATES)
    assert [r.rule.code for r in under.tax_regimes] == ["EU-IOSS"] and over.tax_regimes == ()
    assert under.findings == ()  # a tax regime is its own section, not a finding
    used = under.tax_regimes[0].value.rate_used
    assert used is not None and (used.day, used.age_days, used.stale) == (date(2025, 5, 30), 3, False)
    assert under.complete and over.complete
    assert library.check(speaker(declared_value=Money.of("150", "EUR")), "DE", DAY).tax_regimes  # no rate needed


IOSS = rule(
    "EU-IOSS",
    destinations=["EU"],
    severity="INFO",
    value_threshold={"op": "lte", "amount": "150", "currency": "EUR"},
    requirement={"kind": "TAX_REGIME", "code": "IOSS", "text": {"en": "a", "zh-CN": "b"}, "tax": {"scheme": "IOSS"}},
)
ABOVE = rule(
    "EU-IMPORT",
    destinations=["EU"],
    severity="INFO",
    value_threshold={"op": "gt", "amount": "150", "currency": "EUR"},
    requirement={"kind": "TAX_REGIME", "code": "IMP", "text": {"en": "a", "zh-CN": "b"}, "tax": {"scheme": "import"}},
)
CE = rule("EU-CE", destinations=["EU"], hs_scope=["85"])
LATER = date(2025, 6, 20)  # 21 days after the last rate: older than the weekend-and-holiday window


def both_ways(product: Product, day: date) -> Outcome:
    outcome = CompiledLibrary([IOSS, ABOVE, CE]).check(product, "DE", day, RATES)
    assert outcome == naive_check([IOSS, ABOVE, CE], product, "DE", day, RATES)
    return outcome


def test_a_missing_rate_leaves_the_regimes_undetermined_and_the_findings_standing() -> None:
    outcome = both_ways(speaker(declared_value=Money.of("100", "SAR")), DAY)
    assert [(f.rule.code, f.satisfied) for f in outcome.findings] == [("EU-CE", False)]
    assert outcome.verdict == "ALLOWED_WITH_CONDITIONS"
    assert [(r.rule.code, r.value.determined, r.value.holds) for r in outcome.tax_regimes] == [
        ("EU-IMPORT", False, False),
        ("EU-IOSS", False, False),
    ]
    assert not outcome.complete
    assert all("SAR" in why and "2025-06-02" in why and "declare the value in EUR" in why for why in outcome.missing)
    before_history = both_ways(speaker(declared_value=Money.of("100", "CNY")), date(2025, 5, 1))
    assert not before_history.complete and "CNY on or before 2025-05-01" in before_history.missing[0]


def test_an_old_rate_decides_a_value_far_from_the_threshold_and_says_how_old_it_is() -> None:
    outcome = both_ways(speaker(declared_value=Money.of("100", "CNY")), LATER)  # 12.24 EUR
    assert [r.rule.code for r in outcome.tax_regimes] == ["EU-IOSS"]
    value = outcome.tax_regimes[0].value
    assert value.determined and value.holds and not value.uncertain
    assert value.rate_used is not None
    assert (value.rate_used.day, value.rate_used.age_days, value.rate_used.stale) == (date(2025, 5, 30), 21, True)
    assert value.rate_used.rate == Decimal(1) / Decimal("8.1716")
    assert outcome.complete


def test_an_old_rate_near_the_threshold_makes_both_sides_uncertain() -> None:
    # 1225 CNY = 149.91 EUR at the 21-day-old rate: within its 4.8 % margin of EUR 150
    outcome = both_ways(speaker(declared_value=Money.of("1225", "CNY")), LATER)
    assert [(r.rule.code, r.value.holds, r.value.uncertain) for r in outcome.tax_regimes] == [
        ("EU-IMPORT", False, True),
        ("EU-IOSS", True, True),
    ]
    assert stale_margin(21) == Decimal("0.0480")
    assert not outcome.complete and all("21 days old" in why and "4.8 %" in why for why in outcome.missing)
    assert outcome.findings and outcome.verdict == "ALLOWED_WITH_CONDITIONS"


@settings(max_examples=60, deadline=None)
@given(amount=st.integers(min_value=1, max_value=5000), age=st.integers(min_value=0, max_value=800))
def test_uncertain_exactly_when_an_old_rate_puts_the_value_within_its_margin(amount: int, age: int) -> None:
    day = date.fromordinal(date(2025, 5, 30).toordinal() + age)
    outcome = both_ways(speaker(declared_value=Money.of(str(amount), "CNY")), day)
    euros = Decimal(amount) / Decimal("8.1716")
    near = age > MAX_STALE_DAYS and abs(euros - 150) <= 150 * stale_margin(age)
    assert all(r.value.uncertain == near for r in outcome.tax_regimes)
    assert len(outcome.tax_regimes) == (2 if near else 1)  # one regime, or both sides when it could be either
    assert outcome.complete == (not near)
    assert all(r.value.rate_used is not None and r.value.rate_used.age_days == age for r in outcome.tax_regimes)


def test_a_report_says_when_it_rests_on_unverified_rules() -> None:
    verified = rule("EU-CE", destinations=["EU"], hs_scope=["85"], verified=True)
    unverified_tax = rule(
        "EU-T",
        destinations=["EU"],
        severity="INFO",
        verified=False,
        requirement={"kind": "TAX_REGIME", "code": "T", "text": {"en": "a", "zh-CN": "b"}, "tax": {"scheme": "x"}},
    )
    assert not CompiledLibrary([verified]).check(speaker(), "DE", DAY).contains_unverified_rules
    assert CompiledLibrary([verified, unverified_tax]).check(speaker(), "DE", DAY).contains_unverified_rules


def test_findings_are_listed_worst_first() -> None:
    rules = [
        rule("A-INFO", severity="INFO"),
        rule("B-COND"),
        rule("C-RESTR", severity="RESTRICTED"),
    ]
    outcome = CompiledLibrary(rules).check(speaker(), "DE", DAY)
    assert [f.rule.code for f in outcome.findings] == ["C-RESTR", "B-COND", "A-INFO"]


# --- properties -----------------------------------------------------------------------------------------

HS = ["851822", "851830", "850760", "950300", "610910", "330499"]
COUNTRIES = ["DE", "FR", "US", "GB", "SA"]
SEVERITY = ["INFO", "CONDITION", "RESTRICTED", "PROHIBITED"]
KIND = ["CERTIFICATE", "MARKING", "DOCUMENT", "SHIPPING_RESTRICTION", "LABEL_LANGUAGE"]

conditions = st.lists(
    st.one_of(
        st.builds(lambda v: {"attribute": "battery_wh", "op": "gt", "value": v}, st.integers(0, 200)),
        st.builds(lambda v: {"attribute": "radio", "op": "eq", "value": v}, st.booleans()),
        st.builds(
            lambda v: {"attribute": "materials", "op": "contains_any", "value": v},
            st.lists(st.sampled_from(["ivory", "wood", "cotton"]), min_size=1, max_size=2),
        ),
        st.just({"attribute": "battery_type", "op": "present"}),
        st.just({"attribute": "target_age_group", "op": "absent"}),
    ),
    max_size=2,
)


@st.composite
def rules_strategy(draw: st.DrawFn, prefix: str = "R") -> Rule:
    kind = draw(st.sampled_from(KIND))
    requirement: dict[str, object] = {
        "kind": kind,
        "code": draw(st.sampled_from(["CE", "FCC-ID", "UN3480"])),
        "text": {"en": "a", "zh-CN": "b"},
    }
    if kind == "LABEL_LANGUAGE":
        requirement["languages"] = draw(st.lists(st.sampled_from(["de", "en", "official"]), min_size=1, max_size=2))
    fields: dict[str, Any] = {
        "destinations": draw(st.lists(st.sampled_from([*COUNTRIES, "EU", "GCC"]), min_size=1, max_size=2)),
        "severity": draw(st.sampled_from(SEVERITY)),
        "requirement": requirement,
        "conditions": draw(conditions),
        "effective_from": draw(st.sampled_from(["2020-01-01", "2025-01-01", "2026-01-01"])),
        "effective_from_lower_bound": draw(st.booleans()),
    }
    scope = draw(st.lists(st.sampled_from(["85", "8518", "851822", "95", "61"]), max_size=2))
    if scope:
        fields["hs_scope"] = scope
    if draw(st.booleans()):
        fields["origins"] = draw(st.lists(st.sampled_from(["CN", "VN"]), min_size=1, max_size=2))
    if draw(st.booleans()):
        fields["value_threshold"] = {
            "op": draw(st.sampled_from(["lt", "lte", "gt", "gte"])),
            "amount": str(draw(st.integers(1, 300))),
            "currency": "EUR",
        }
    return rule(f"{prefix}-{draw(st.integers(0, 10_000))}", **fields)


products = st.builds(
    lambda hs, origin, wh, radio, materials, certs, langs, value: Product(
        hs_code=hs,
        origin_country=origin,
        declared_value=Money.of(value, "EUR") if value is not None else None,
        certifications=frozenset(certs),
        label_languages=frozenset(langs),
        attributes={
            k: v for k, v in {"battery_wh": wh, "radio": radio, "materials": materials}.items() if v is not None
        },
    ),
    st.sampled_from(HS),
    st.sampled_from(["CN", "VN", ""]),
    st.one_of(st.none(), st.decimals(0, 300, places=1)),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.lists(st.sampled_from(["ivory", "wood", "cotton"]), max_size=2).map(tuple)),
    st.lists(st.sampled_from(["CE", "FCC-ID", "UN3480"]), max_size=2),
    st.lists(st.sampled_from(["de", "en", "fr"]), max_size=2),
    st.one_of(st.none(), st.integers(0, 400)),
)
days = st.sampled_from([date(2019, 6, 1), date(2025, 6, 2), date(2026, 3, 1)])


@settings(max_examples=300, deadline=None)
@given(st.lists(rules_strategy(), max_size=12), products, st.sampled_from(COUNTRIES), days)
def test_the_index_finds_exactly_what_evaluating_every_rule_finds(
    rules: list[Rule], product: Product, destination: str, day: date
) -> None:
    assert CompiledLibrary(rules).check(product, destination, day) == naive_check(rules, product, destination, day)


@settings(max_examples=300, deadline=None)
@given(st.lists(rules_strategy(), max_size=8), rules_strategy(prefix="NEW"), products, st.sampled_from(COUNTRIES), days)
def test_adding_a_rule_never_improves_a_verdict_and_a_matching_prohibition_decides_it(
    rules: list[Rule], extra: Rule, product: Product, destination: str, day: date
) -> None:
    before = CompiledLibrary(rules).check(product, destination, day).verdict
    after = CompiledLibrary([*rules, extra]).check(product, destination, day)
    assert VERDICTS.index(after.verdict) >= VERDICTS.index(before)
    if extra.severity == "PROHIBITED" and any(f.rule is extra for f in after.findings):
        assert after.verdict == "PROHIBITED"


def test_a_market_only_worldwide_rules_cover_has_no_national_rules() -> None:
    everywhere = rule("XX-WORLD", destinations=[a + b for a in "ABCDE" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"])
    library = CompiledLibrary([everywhere, CE])
    assert "BR" in library.destinations() and "BR" not in library.national_markets()
    assert "DE" in library.national_markets()
    outcome = worldwide_only(library.check(speaker(), "BR", DAY), 3)
    assert outcome.verdict == "ALLOWED_WITH_CONDITIONS" and not outcome.complete
    assert "library version 3 has no national rules for BR" in outcome.missing[0]
