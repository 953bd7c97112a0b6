"""The seed rule library in data/rules/: every pack matches the schema, and the library holds together.

The schema checks one file; the checks here need the whole library or the reference data (codes unique
per version, versions that do not overlap in time, HS prefixes, countries and currencies that exist).
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import functools
import importlib.util
import itertools
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "data" / "rules"
SCHEMA_PATH = RULES_DIR / "schema.json"
PACK_FILES = sorted(RULES_DIR.glob("*.yaml"))

# The product attributes the engine exposes (briefs/rulepack.md); a rule may name only these.
VOCABULARY = frozenset(
    {
        "hs_code",
        "origin_country",
        "weight_kg",
        "target_age_group",
        "certifications",
        "label_languages",
        "battery_type",
        "battery_wh",
        "battery_packing",
        "lithium_metal_g",
        "battery_count",
        "state_of_charge_pct",
        "radio",
        "mains_powered",
        "voltage_ac",
        "materials",
        "substances",
        "food_contact",
        "cosmetic",
        "contains_magnets",
        "button_cell_battery",
        "contains_small_parts",
        "textile",
        "contains_cbd",
        "weapon",
        "drone",
        "medical_device",
        "ppe",
        "water_absorbing_polymer",
        "durable_infant_product",
        "laser_class",
        "ship_from_country",
    }
)
UNIONS = frozenset({"EU", "GCC"})
REQUIRED_MARKETS = ("US", "EU", "GB", "JP", "AU", "CA", "SG", "SA", "AE")
MIN_RULES = 60
MIN_RULES_PER_MARKET = 3
MAX_PLACES_OF_A_MARKET_RULE = 30
CJK = re.compile(r"[\u4e00-\u9fff]")


@functools.cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


@functools.cache
def _packs() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, _load(path)) for path in PACK_FILES]


def _rules() -> Iterator[tuple[str, dict[str, Any]]]:
    for path, pack in _packs():
        for rule in pack.get("rules", []):
            yield path.name, rule


def _csv_column(path: Path, column: str, keep: Any = None) -> set[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row[column] for row in csv.DictReader(handle) if row[column] and (keep is None or keep(row))}


def _alpha2() -> set[str]:
    return _csv_column(ROOT / "data" / "countries" / "country-codes.csv", "ISO3166-1-Alpha-2")


def _hs_codes() -> set[str]:
    return _csv_column(ROOT / "data" / "hs" / "harmonized-system.csv", "hscode")


def _live_currencies() -> set[str]:
    return _csv_column(
        ROOT / "data" / "currencies" / "codes-all.csv", "AlphabeticCode", keep=lambda row: not row["WithdrawalDate"]
    )


def _languages() -> set[str]:
    # The Languages column lists tags such as "fa-AF,ps,uz-AF"; their primary subtags are ISO 639-1.
    tags = _csv_column(ROOT / "data" / "countries" / "country-codes.csv", "Languages")
    return {tag.split("-")[0] for cell in tags for tag in cell.split(",") if len(tag.split("-")[0]) == 2}


def _period(rule: dict[str, Any]) -> tuple[dt.date, dt.date]:
    start = dt.date.fromisoformat(rule["effective_from"])
    end = rule.get("effective_to")
    return start, dt.date.fromisoformat(end) if end else dt.date.max


# --- the schema itself -------------------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12() -> None:
    schema = _schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_names_exactly_the_engine_vocabulary() -> None:
    assert set(_schema()["$defs"]["attribute"]["enum"]) == VOCABULARY


def _valid_pack() -> dict[str, Any]:
    return {
        "pack": "eu-example",
        "title": "Example",
        "jurisdiction": "EU",
        "rules": [
            {
                "code": "EU-EXAMPLE-CE",
                "version": 1,
                "title": {"en": "CE marking", "zh-CN": "CE 标志"},
                "destinations": ["EU"],
                "origins": ["CN", "HK"],
                "hs_scope": ["85", "8517", "851762"],
                "conditions": [
                    {"attribute": "radio", "op": "eq", "value": True},
                    {"attribute": "battery_wh", "op": "gt", "value": 100},
                    {"attribute": "target_age_group", "op": "in", "value": ["child", "infant"]},
                    {"attribute": "laser_class", "op": "present"},
                ],
                "value_threshold": {"op": "lte", "amount": "150", "currency": "EUR"},
                "severity": "CONDITION",
                "requirement": {
                    "kind": "MARKING",
                    "code": "CE",
                    "text": {"en": "Affix CE.", "zh-CN": "加贴 CE 标志。"},
                },
                "source": {"title": "Directive 2014/53/EU", "url": "https://eur-lex.europa.eu/eli/dir/2014/53/oj"},
                "effective_from": "2016-06-13",
                "effective_to": None,
                "verified": True,
            }
        ],
    }


def test_a_complete_example_pack_is_valid() -> None:
    errors = list(_validator().iter_errors(_valid_pack()))
    assert errors == []


def _set(path: str, value: Any) -> Any:
    def change(pack: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = pack
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return change


_DELETE = object()


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (_set("rules.0.title", {"en": "CE marking"}), "Chinese title missing"),
        (_set("rules.0.requirement.text", {"zh-CN": "加贴"}), "English text missing"),
        (_set("rules.0.code", "eu-gpsr"), "code not upper-case kebab"),
        (_set("rules.0.code", "EUGPSR"), "code with one segment"),
        (_set("rules.0.version", 0), "version below 1"),
        (_set("rules.0.severity", "MANDATORY"), "severity outside the enum"),
        (_set("rules.0.requirement.kind", "LICENCE"), "kind outside the enum"),
        (_set("rules.0.conditions.0.attribute", "colour"), "attribute outside the vocabulary"),
        (_set("rules.0.conditions.0.op", "matches"), "op outside the enum"),
        (_set("rules.0.conditions.1.value", "100"), "numeric comparison with a string"),
        (_set("rules.0.conditions.2.value", ["toddler"]), "target_age_group outside the enum"),
        (_set("rules.0.conditions.2.value", "child"), "in with a scalar"),
        (_set("rules.0.conditions.3.value", "3R"), "present with a value"),
        (_set("rules.0.conditions.0.op", "gt"), "boolean attribute compared by size"),
        (_set("rules.0.hs_scope", ["850"]), "HS prefix of 3 digits"),
        (_set("rules.0.destinations", ["usa"]), "destination not alpha-2"),
        (_set("rules.0.destinations", []), "no destination"),
        (_set("rules.0.value_threshold.amount", 150.0), "threshold amount as a float"),
        (_set("rules.0.value_threshold.op", "eq"), "threshold op outside lt|lte|gt|gte"),
        (_set("rules.0.value_threshold.currency", "euro"), "currency not ISO 4217 alpha"),
        (_set("rules.0.effective_from", dt.date(2016, 6, 13)), "unquoted YAML date (a date object)"),
        (_set("rules.0.effective_from", "2016-02-30"), "impossible date"),
        (_set("rules.0.effective_from", "13/06/2016"), "date not ISO"),
        (_set("rules.0.source", {"title": "Directive 2014/53/EU"}), "source without URL"),
        (_set("rules.0.source.url", "eur-lex"), "URL that is not a URL"),
        (_set("rules.0.verified", _DELETE), "verified flag missing"),
        (_set("rules.0.verified", False), "unverified rule without a note"),
        (_set("rules.0.requirement.languages", ["de"]), "languages on a MARKING"),
        (_set("rules.0.requirement.tax", {"scheme": "IOSS"}), "tax on a MARKING"),
        (_set("rules.0.requirement.kind", "LABEL_LANGUAGE"), "LABEL_LANGUAGE without languages"),
        (_set("rules.0.requirement.kind", "TAX_REGIME"), "TAX_REGIME without tax"),
        (_set("rules.0.severity", "PROHIBITED"), "PROHIBITED with a non-prohibition requirement"),
        (_set("rules.0.requirement.kind", "PROHIBITION"), "prohibition that is only a condition"),
        (_set("rules.0.colour", "blue"), "unknown rule field"),
        (_set("rules.0.read_on", "6 Dec 2026"), "read date not ISO"),
        (_set("rules.0.requirement.accepted_codes", ["ce"]), "accepted code not upper-case"),
        (_set("rules.0.requirement.accepted_codes", []), "empty list of accepted codes"),
        (_set("pack", "EU_Example"), "pack id not kebab-case"),
        (_set("jurisdiction", "Europe"), "jurisdiction not a code"),
        (_set("rules", []), "pack without rules"),
    ],
)
def test_schema_refuses(change: Any, why: str) -> None:
    pack = copy.deepcopy(_valid_pack())
    change(pack)
    assert list(_validator().iter_errors(pack)), f"schema accepted: {why}"


def test_tax_regime_must_be_info() -> None:
    pack = _valid_pack()
    rule = pack["rules"][0]
    rule["requirement"] = {
        "kind": "TAX_REGIME",
        "code": "IOSS",
        "text": {"en": "VAT collected at sale.", "zh-CN": "销售时代征增值税。"},
        "tax": {"scheme": "IOSS", "vat": "collected_at_sale", "duty": "none"},
    }
    assert list(_validator().iter_errors(pack)), "a CONDITION tax regime was accepted"
    rule["severity"] = "INFO"
    assert list(_validator().iter_errors(pack)) == []


# --- every pack --------------------------------------------------------------------------------------------


def test_the_library_has_packs() -> None:
    assert PACK_FILES, f"no packs in {RULES_DIR}"


@pytest.mark.parametrize("path", PACK_FILES, ids=lambda path: path.name)
def test_pack_matches_schema(path: Path) -> None:
    pack = _load(path)  # a fresh copy: the validator must see exactly what the file holds
    problems = [
        f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message}"
        for error in _validator().iter_errors(pack)
    ]
    assert problems == [], f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", PACK_FILES, ids=lambda path: path.name)
def test_file_name_is_pack_id(path: Path) -> None:
    assert _load(path)["pack"] == path.stem


# --- across the library ------------------------------------------------------------------------------------


def test_rule_codes_are_unique_per_version() -> None:
    seen: dict[tuple[str, int], str] = {}
    duplicates = []
    for file, rule in _rules():
        key = (rule["code"], rule["version"])
        if key in seen:
            duplicates.append(f"{key} in {seen[key]} and {file}")
        seen[key] = file
    assert duplicates == []


def test_versions_of_a_code_do_not_overlap_in_time() -> None:
    periods: dict[str, list[tuple[dt.date, dt.date, int]]] = defaultdict(list)
    for _, rule in _rules():
        start, end = _period(rule)
        assert start < end, f"{rule['code']} v{rule['version']} ends before it starts"
        periods[rule["code"]].append((start, end, rule["version"]))
    overlaps = []
    for code, spans in periods.items():
        spans.sort()
        for (_, end, version), (start, _, next_version) in itertools.pairwise(spans):
            if start < end:
                overlaps.append(f"{code} v{version} and v{next_version}")
    assert overlaps == []


def test_conditions_name_only_the_vocabulary() -> None:
    unknown = {
        (rule["code"], condition["attribute"])
        for _, rule in _rules()
        for condition in rule.get("conditions", [])
        if condition["attribute"] not in VOCABULARY
    }
    assert unknown == set()


def test_hs_prefixes_exist_in_the_harmonized_system() -> None:
    codes = _hs_codes()
    missing = {
        (rule["code"], prefix) for _, rule in _rules() for prefix in rule.get("hs_scope", []) if prefix not in codes
    }
    assert missing == set()


def test_places_are_real_countries_or_unions() -> None:
    known = _alpha2() | UNIONS
    unknown = {
        (rule["code"], place)
        for _, rule in _rules()
        for place in [*rule["destinations"], *rule.get("origins", [])]
        if place not in known
    }
    assert unknown == set()
    for _, pack in _packs():
        assert pack["jurisdiction"] in known | {"INTL"}, pack["pack"]


def test_threshold_currencies_are_current_iso_4217() -> None:
    live = _live_currencies()
    unknown = {
        (rule["code"], rule["value_threshold"]["currency"])
        for _, rule in _rules()
        if "value_threshold" in rule and rule["value_threshold"]["currency"] not in live
    }
    assert unknown == set()


def _ecb_currencies() -> set[str]:
    with (
        zipfile.ZipFile(ROOT / "data" / "fx" / "eurofxref-hist.zip") as archive,
        archive.open(archive.namelist()[0]) as f,
    ):
        header = f.readline().decode("ascii").strip().split(",")
    return {code for code in header[1:] if code} | {"EUR"}


def test_threshold_currencies_have_an_ecb_reference_rate() -> None:
    # The engine converts the declared value at the ECB rate of the check date: a threshold in a currency
    # the ECB does not quote (SAR, AED) could never be compared.
    ecb = _ecb_currencies()
    unquoted = {
        (rule["code"], rule["value_threshold"]["currency"])
        for _, rule in _rules()
        if "value_threshold" in rule and rule["value_threshold"]["currency"] not in ecb
    }
    assert unquoted == set()


def test_label_languages_are_real_languages() -> None:
    known = _languages() | {"official"}
    unknown = {
        (rule["code"], language)
        for _, rule in _rules()
        for language in rule["requirement"].get("languages", [])
        if language not in known
    }
    assert unknown == set()


def test_every_rule_cites_a_source_title_and_url() -> None:
    missing = [
        rule["code"]
        for _, rule in _rules()
        if not rule.get("source", {}).get("title", "").strip() or not rule["source"].get("url", "").startswith("http")
    ]
    assert missing == []


def test_every_rule_records_the_day_its_source_was_read() -> None:
    undated = [f"{rule['code']}@{rule['version']}" for _, rule in _rules() if not rule.get("read_on")]
    assert undated == [], "set read_on (the day the source was read)"


# What a note says when a point of the rule was not confirmed against the instrument or an official page
# quoting it (docs/rule-sources.md "Notes on rules marked verified" allows only approximations).
UNCONFIRMED = re.compile(
    r"not confirmed|unconfirmed|believed|not checked|secondary sources|practitioner summaries|bodies' summaries",
    re.IGNORECASE,
)


def test_a_verified_rule_admits_no_unconfirmed_point() -> None:
    admitted = [
        f"{rule['code']}@{rule['version']}"
        for _, rule in _rules()
        if rule["verified"] and UNCONFIRMED.search(rule.get("note", ""))
    ]
    assert admitted == []


# Where a verified rule's cited source may live (docs/compliance-rules.md "Sources, read dates and `verified`"):
# government domains (a host equal to or under one of these), the EU institutions, and the few non-government
# bodies that publish the instrument itself. A university, trainer, carrier, law firm or CFR mirror is not here.
OFFICIAL_DOMAINS = frozenset(
    {
        "gov",  # US federal government: eCFR, govinfo / Federal Register, uscode.house.gov, agencies
        "gov.uk",  # legislation.gov.uk, HMRC and other GOV.UK guidance
        "europa.eu",  # EUR-Lex, the Commission, ECHA
        "gov.au",
        "gc.ca",
        "canada.ca",
        "go.jp",
        "lg.jp",  # Japanese prefectures and cities
        "gov.sg",
        "gov.sa",
        "gov.ae",
        "iata.org",  # IATA, publisher of the Dangerous Goods Regulations
        "icao.int",  # ICAO, publisher of the Technical Instructions
        "verpackungsregister.org",  # Zentrale Stelle Verpackungsregister, the authority VerpackG s. 26 entrusts
    }
)


def _official(url: str) -> bool:
    host = (urlparse(url).hostname or "").lower()
    return any(host == domain or host.endswith("." + domain) for domain in OFFICIAL_DOMAINS)


@pytest.mark.parametrize(
    ("url", "official"),
    [
        ("https://www.ecfr.gov/current/title-16/part-1263", True),
        ("https://eur-lex.europa.eu/eli/reg/2009/1223/oj", True),
        ("https://www.legislation.gov.uk/uksi/2011/1881/contents", True),
        ("https://www.iata.org/en/programs/cargo/dgr/lithium-batteries/", True),
        ("https://ehs-web01.s.uw.edu/node/2854", False),
        ("https://regulations.justia.com/regulations/fedreg/2023/09/21/2023-20334.html", False),
        ("https://checkoutapi.com/regulations/expand/title16_chapterII_part1263_section1263.4", False),
        ("https://gov-base.info/en/", False),
        ("https://notgov.uk/", False),
    ],
)
def test_official_domains_are_matched_on_whole_labels(url: str, official: bool) -> None:
    assert _official(url) is official


def test_a_verified_rule_cites_an_official_source() -> None:
    unofficial = [
        f"{rule['code']}@{rule['version']}: {rule['source']['url']}"
        for _, rule in _rules()
        if rule["verified"] and not _official(rule["source"]["url"])
    ]
    assert unofficial == [], "cite the instrument or an official page, or set verified: false with a note"


def test_chinese_texts_are_chinese() -> None:
    latin_only = [
        rule["code"]
        for _, rule in _rules()
        for text in (rule["title"]["zh-CN"], rule["requirement"]["text"]["zh-CN"])
        if not CJK.search(text)
    ]
    assert latin_only == []


def test_the_library_has_enough_rules() -> None:
    assert sum(1 for _ in _rules()) >= MIN_RULES


def _market_rules(market: str) -> list[dict[str, Any]]:
    """Rules written for this market: a worldwide rule (e.g. IATA, listing every country) does not count."""

    def covers(rule: dict[str, Any]) -> bool:
        places = set(rule["destinations"])
        targeted = market in places or (market in {"SA", "AE"} and "GCC" in places)
        return targeted and len(places) <= MAX_PLACES_OF_A_MARKET_RULE

    return [rule for _, rule in _rules() if covers(rule)]


def test_every_required_market_has_its_own_rules_and_tax_regime() -> None:
    thin = {
        market: len(rules)
        for market in REQUIRED_MARKETS
        if len(rules := _market_rules(market)) < MIN_RULES_PER_MARKET
        or not any(rule["requirement"]["kind"] == "TAX_REGIME" for rule in rules)
    }
    assert thin == {}, "markets with too few rules or no tax regime"


def test_rule_sources_doc_is_generated_from_the_current_packs() -> None:
    spec = importlib.util.spec_from_file_location("rule_sources", ROOT / "scripts" / "rule_sources.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    doc = ROOT / "docs" / "rule-sources.md"
    assert doc.read_text(encoding="utf-8") == module.render(), "run scripts/rule_sources.py"


# --- invariants the engine relies on ------------------------------------------------------------------------


@given(day=st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2040, 12, 31)))
@settings(max_examples=200, deadline=None)
def test_at_most_one_version_of_a_code_is_in_force_on_any_day(day: dt.date) -> None:
    in_force: dict[str, list[int]] = defaultdict(list)
    for _, rule in _rules():
        start, end = _period(rule)
        if start <= day < end:
            in_force[rule["code"]].append(rule["version"])
    assert {code: versions for code, versions in in_force.items() if len(versions) > 1} == {}


_THRESHOLD_OPS = {
    "lt": lambda value, amount: value < amount,
    "lte": lambda value, amount: value <= amount,
    "gt": lambda value, amount: value > amount,
    "gte": lambda value, amount: value >= amount,
}


def _origin_holds(rule: dict[str, Any], origin: str) -> bool | None:
    """Whether a bare product of this origin satisfies the rule's origin scope; None if other conditions apply."""
    if "origins" in rule and origin not in rule["origins"]:
        return False
    for condition in rule.get("conditions", []):
        if condition["attribute"] != "origin_country" or condition["op"] not in {"in", "not_in", "eq", "ne"}:
            return None
        values = condition["value"] if isinstance(condition["value"], list) else [condition["value"]]
        if (origin in values) != (condition["op"] in {"in", "eq"}):
            return False
    return True


def _tax_rules(market: str) -> list[dict[str, Any]]:
    return [rule for rule in _market_rules(market) if rule["requirement"]["kind"] == "TAX_REGIME"]


def test_each_market_states_its_tax_thresholds_in_one_currency() -> None:
    currencies = {
        market: {rule["value_threshold"]["currency"] for rule in _tax_rules(market) if "value_threshold" in rule}
        for market in REQUIRED_MARKETS
    }
    assert {market: found for market, found in currencies.items() if len(found) > 1} == {}


@given(
    market=st.sampled_from(REQUIRED_MARKETS),
    day=st.dates(min_value=dt.date(2021, 7, 1), max_value=dt.date(2035, 12, 31)),
    value=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2),
    origin=st.sampled_from(["CN", "HK", "US", "MX", "DE", "JP", "GB", "VN", "IN", "TR"]),
)
@settings(max_examples=400, deadline=None)
def test_every_market_has_a_tax_regime_for_any_value_origin_and_day(
    market: str, day: dt.date, value: Decimal, origin: str
) -> None:
    # The duties/VAT section of a report must never be empty for a required market since the EU reform.
    def applies(rule: dict[str, Any]) -> bool:
        start, end = _period(rule)
        threshold = rule.get("value_threshold")
        within = threshold is None or _THRESHOLD_OPS[threshold["op"]](value, Decimal(threshold["amount"]))
        return start <= day < end and within and _origin_holds(rule, origin) is True

    assert any(applies(rule) for rule in _tax_rules(market)), f"{market} {day} {value} {origin}"
