"""Rules corrected against their sources: a product on each side of every version break gets the law of its day.

Each test checks the shipped packs (data/rules) with the engine, so a later edit that moves a break date or
drops a version fails here. Values are declared in the threshold's currency, so no exchange rate is needed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.compliance.domain.engine import Outcome, naive_check
from services.compliance.domain.product import Product, coerce
from services.compliance.domain.rules import Rule, rule_from_pack
from services.shared.money import Money

RULES_DIR = Path(__file__).resolve().parents[2] / "data" / "rules"


@functools.cache
def shipped() -> tuple[Rule, ...]:
    rules = []
    for path in sorted(RULES_DIR.glob("*.yaml")):
        pack = yaml.safe_load(path.read_text(encoding="utf-8"))
        rules += [rule_from_pack(entry, pack["pack"]) for entry in pack["rules"]]
    return tuple(rules)


def product(
    hs_code: str, origin: str = "CN", value: str | None = None, currency: str = "USD", **attributes: Any
) -> Product:
    return Product(
        hs_code=hs_code,
        origin_country=origin,
        declared_value=Money(Decimal(value), currency) if value is not None else None,
        attributes={name: coerce(name, raw) for name, raw in attributes.items()},
    )


def check(item: Product, destination: str, day: str) -> Outcome:
    return naive_check(shipped(), item, destination, date.fromisoformat(day))


def regimes(outcome: Outcome) -> Mapping[str, int]:
    return {regime.rule.code: regime.rule.version for regime in outcome.tax_regimes}


def says(rule: Rule, words: str) -> bool:
    """Whether the rule's English requirement or its tax summary mentions `words`."""
    return words in rule.requirement.text["en"] or any(words in v for v in (rule.requirement.tax or {}).values())


def findings(outcome: Outcome) -> Mapping[str, Rule]:
    return {finding.rule.code: finding.rule for finding in outcome.findings}


TOY = "950300"


# --- United States after Learning Resources, Inc. v. Trump (2026-02-20) -------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-02-23", {"US-DE-MINIMIS-SUSPENDED": 1}),
        ("2026-02-24", {"US-DE-MINIMIS-SUSPENDED": 2, "US-SECTION-122-SURCHARGE": 1}),
        ("2026-07-23", {"US-DE-MINIMIS-SUSPENDED": 2, "US-SECTION-122-SURCHARGE": 1}),
        ("2026-07-24", {"US-DE-MINIMIS-SUSPENDED": 2}),
        ("2027-06-30", {"US-DE-MINIMIS-SUSPENDED": 2}),
        ("2027-07-01", {"US-DE-MINIMIS-SUSPENDED": 3}),
    ],
)
def test_a_low_value_us_shipment_gets_the_regime_of_its_day(day: str, expected: dict[str, int]) -> None:
    outcome = check(product(TOY, value="50"), "US", day)
    assert {code: v for code, v in regimes(outcome).items() if code != "US-SECTION-301-CN"} == expected


def test_after_the_ruling_no_us_regime_names_ieepa_duties() -> None:
    for day in ("2026-02-24", "2026-12-06", "2027-07-01"):
        for value in ("50", "1000"):
            for regime in check(product(TOY, value=value), "US", day).tax_regimes:
                rule = regime.rule
                told = " ".join([rule.requirement.text["en"], *(rule.requirement.tax or {}).values()])
                assert "IEEPA" not in told.replace("IEEPA duties are no longer collected", ""), (rule.key, day)


def test_ieepa_duties_are_still_named_for_entries_before_the_ruling_took_effect() -> None:
    taxed = check(product(TOY, value="1000"), "US", "2026-02-23").tax_regimes
    assert any(says(regime.rule, "IEEPA") for regime in taxed)


@pytest.mark.parametrize(("day", "version"), [("2026-02-23", 1), ("2026-02-24", 2)])
def test_a_us_shipment_above_800_gets_the_entry_regime_of_its_day(day: str, version: int) -> None:
    assert regimes(check(product(TOY, value="1000"), "US", day))["US-DUTIABLE-ENTRY-ABOVE-800"] == version


# --- Lithium batteries shipped alone: Section II removed from 2022-04-01 -------------------------------------


@pytest.mark.parametrize(
    ("battery", "hs_code", "code"),
    [("lithium_ion", "850760", "IATA-LI-ION-ALONE-PI965"), ("lithium_metal", "850650", "IATA-LI-METAL-ALONE-PI968")],
)
def test_batteries_shipped_alone_are_fully_regulated_from_april_2022(battery: str, hs_code: str, code: str) -> None:
    item = product(hs_code, battery_type=battery, battery_packing="alone")
    before = findings(check(item, "DE", "2022-03-31"))[code]
    after = findings(check(item, "DE", "2022-04-01"))[code]
    assert (before.version, after.version) == (1, 2)
    assert after.severity == "RESTRICTED"
    assert "Section II" in after.requirement.text["en"] and "no longer exists" in after.requirement.text["en"]
    assert "shipper's declaration" in after.requirement.text["en"]


@pytest.mark.parametrize(("day", "version", "phone"), [("2022-12-31", 3, True), ("2023-01-01", 4, False)])
def test_the_lithium_battery_mark_needs_a_phone_number_only_before_2023(day: str, version: int, phone: bool) -> None:
    item = product("847130", battery_type="lithium_ion", battery_packing="in_equipment")
    mark = findings(check(item, "US", day))["IATA-LITHIUM-BATTERY-MARK"]
    assert mark.version == version
    assert ("telephone number)" in mark.requirement.text["en"]) is phone


@pytest.mark.parametrize("day", ["2019-01-01", "2022-12-31", "2023-01-01", "2026-12-06"])
def test_the_mark_exemption_for_small_packages_holds_only_for_two_packages_a_consignment(day: str) -> None:
    item = product("847130", battery_type="lithium_metal", battery_packing="in_equipment")
    mark = findings(check(item, "JP", day))["IATA-LITHIUM-BATTERY-MARK"]
    assert "no more than two such packages" in mark.requirement.text["en"]
    assert "IATA-LITHIUM-BATTERY-MARK" not in findings(check(item, "JP", "2018-12-31"))


# --- Lithium batteries with equipment: 5 kg a Section II package on every aircraft; state of charge -------------

SECTION_II_LIMIT = "5 kg of cells and batteries per package on passenger and cargo aircraft alike"


@pytest.mark.parametrize(
    ("battery", "packing", "code"),
    [
        ("lithium_ion", "with_equipment", "IATA-LI-ION-WITH-EQUIPMENT-PI966"),
        ("lithium_ion", "in_equipment", "IATA-LI-ION-IN-EQUIPMENT-PI967"),
        ("lithium_metal", "with_equipment", "IATA-LI-METAL-EQUIPMENT-PI969-970"),
        ("lithium_metal", "in_equipment", "IATA-LI-METAL-EQUIPMENT-PI969-970"),
    ],
)
@pytest.mark.parametrize("day", ["2016-04-01", "2024-12-31", "2025-01-01", "2025-12-31", "2026-01-01", "2026-12-06"])
def test_section_ii_allows_5_kg_a_package_on_cargo_aircraft_too(
    battery: str, packing: str, code: str, day: str
) -> None:
    rule = findings(check(product("846721", battery_type=battery, battery_packing=packing), "FR", day))[code]
    assert SECTION_II_LIMIT in rule.requirement.text["en"]
    assert "on passenger aircraft," not in rule.requirement.text["en"]


@pytest.mark.parametrize(
    ("day", "version", "soc_required"), [("2025-12-31", 3, False), ("2026-01-01", 4, True), ("2026-12-06", 4, True)]
)
def test_batteries_packed_with_equipment_need_30_percent_charge_from_2026(
    day: str, version: int, soc_required: bool
) -> None:
    drill_kit = product("846721", battery_type="lithium_ion", battery_packing="with_equipment", battery_wh="54")
    found = findings(check(drill_kit, "DE", day))
    assert found["IATA-LI-ION-WITH-EQUIPMENT-PI966"].version == version
    assert ("rated design capacity" in found["IATA-LI-ION-WITH-EQUIPMENT-PI966"].requirement.text["en"]) is soc_required
    assert "indicated" not in found["IATA-LI-ION-WITH-EQUIPMENT-PI966"].requirement.text["en"]
    charged = product(
        "846721",
        battery_type="lithium_ion",
        battery_packing="with_equipment",
        battery_wh="54",
        state_of_charge_pct="80",
    )
    soc = findings(check(charged, "DE", day)).get("IATA-LI-ION-WITH-EQUIPMENT-SOC")
    assert (soc is not None and soc.severity == "RESTRICTED") is soc_required


def test_small_batteries_packed_with_equipment_are_not_held_to_30_percent() -> None:
    small = product(
        "851713",
        battery_type="lithium_ion",
        battery_packing="with_equipment",
        battery_wh="2.5",
        state_of_charge_pct="90",
    )
    assert "IATA-LI-ION-WITH-EQUIPMENT-SOC" not in findings(check(small, "DE", "2026-12-06"))


@pytest.mark.parametrize(("day", "version", "recommended"), [("2024-12-31", 2, False), ("2025-01-01", 3, True)])
def test_a_30_percent_charge_is_recommended_for_batteries_in_equipment_only_from_2025(
    day: str, version: int, recommended: bool
) -> None:
    laptop = product("847130", battery_type="lithium_ion", battery_packing="in_equipment", battery_wh="60")
    outcome = check(laptop, "US", day)
    rule = findings(outcome)["IATA-LI-ION-IN-EQUIPMENT-PI967"]
    assert rule.version == version and rule.severity == "CONDITION"
    assert ("recommended" in rule.requirement.text["en"]) is recommended
    assert "IATA-LI-ION-WITH-EQUIPMENT-SOC" not in findings(outcome)  # a recommendation, never a restriction


# --- Batteries above Section II: UN specification packaging only when not installed in equipment --------------


@pytest.mark.parametrize(
    ("battery", "code", "start", "size"),
    [
        ("lithium_ion", "IATA-LI-ION-OVER-100WH", "2016-04-01", {"battery_wh": "160"}),
        ("lithium_metal", "IATA-LI-METAL-OVER-1G", "2015-01-01", {"lithium_metal_g": "4"}),
    ],
)
def test_large_batteries_installed_in_equipment_need_strong_packaging_not_un_packaging(
    battery: str, code: str, start: str, size: dict[str, str]
) -> None:
    item = product("850760", battery_type=battery, battery_packing="in_equipment", **size)
    day_before = (date.fromisoformat(start) - timedelta(days=1)).isoformat()
    assert code not in findings(check(item, "GB", day_before))
    for day in (start, "2026-12-06"):
        rule = findings(check(item, "GB", day))[code]
        assert rule.version == 2 and rule.severity == "RESTRICTED"
        text = rule.requirement.text["en"]
        assert "equipment with the batteries installed needs strong rigid outer packaging" in text
        assert "UN specification packaging (Packing Group II)" in text


# --- Singapore: the SGD 400 relief continues beside the OVR regime ------------------------------------------


@pytest.mark.parametrize("day", ["2022-12-31", "2023-01-01", "2026-12-06"])
def test_singapore_relieves_low_value_imports_at_the_border_before_and_after_ovr(day: str) -> None:
    found = regimes(check(product(TOY, value="100", currency="SGD"), "SG", day))
    assert found["SG-GST-IMPORT-RELIEF-400"] == (1 if day < "2023-01-01" else 2)
    assert ("SG-GST-LOW-VALUE-GOODS" in found) is (day >= "2023-01-01")


def test_singapore_relief_stops_above_400() -> None:
    above = product(TOY, value="400.01", currency="SGD")
    assert "SG-GST-IMPORT-RELIEF-400" not in regimes(check(above, "SG", "2026-12-06"))


# --- Canada: the CUSMA courier thresholds follow the ship-from country (CBSA Customs Notice 20-18) -----------


@pytest.mark.parametrize(
    ("origin", "ship_from", "cusma"),
    [
        ("CN", "US", True),  # made in China, shipped from a US warehouse: the everyday case
        ("CN", None, False),  # shipped from its origin
        ("US", None, True),
        ("US", "CN", False),  # made in the US, shipped from China
        ("MX", "MX", True),
    ],
)
def test_canadas_cusma_relief_depends_on_where_goods_ship_from(origin: str, ship_from: str | None, cusma: bool) -> None:
    extra = {"ship_from_country": ship_from} if ship_from else {}
    found = regimes(check(product(TOY, origin=origin, value="30", currency="CAD", **extra), "CA", "2026-12-06"))
    assert ("CA-LVS-CUSMA-TAX-40" in found) is cusma
    assert ("CA-LVS-CUSMA-DUTY-150" in found) is cusma
    assert ("CA-IMPORT-ABOVE-20" in found) is True  # the general regime is still stated beside it


@pytest.mark.parametrize(("day", "cusma"), [("2020-06-30", False), ("2020-07-01", True)])
def test_canadas_cusma_relief_starts_with_cusma(day: str, cusma: bool) -> None:
    item = product(TOY, origin="CN", value="30", currency="CAD", ship_from_country="us")
    assert ("CA-LVS-CUSMA-TAX-40" in regimes(check(item, "CA", day))) is cusma


def test_no_canadian_regime_reads_the_origin_for_a_ship_from_condition() -> None:
    assert [r.key for r in shipped() if r.code.startswith("CA-LVS-CUSMA") and r.origins] == []


# --- Australia: cosmetics labelling under the 2020 information standard -------------------------------------


@pytest.mark.parametrize(("day", "version", "cited"), [("2020-11-24", 1, "1991"), ("2020-11-25", 2, "Standard 2020")])
def test_australian_cosmetics_cite_the_standard_in_force(day: str, version: int, cited: str) -> None:
    rule = findings(check(product("330499", cosmetic=True), "AU", day))["AU-COSMETICS-AICIS"]
    assert rule.version == version
    assert cited in rule.source_title


# --- EU: common charger for laptops from 2026-04-28; battery collection symbol from 2025-08-18 ---------------


@pytest.mark.parametrize(("day", "applies"), [("2026-04-27", False), ("2026-04-28", True)])
def test_laptops_need_usb_c_from_april_2026(day: str, applies: bool) -> None:
    laptop = product("847130", radio=True, battery_type="lithium_ion")
    found = findings(check(laptop, "DE", day))
    assert ("EU-RED-USB-C" in found) is applies
    if applies:
        assert found["EU-RED-USB-C"].severity == "RESTRICTED"


@pytest.mark.parametrize(("day", "version"), [("2024-12-27", None), ("2024-12-28", 2), ("2026-04-28", 3)])
def test_phones_need_usb_c_from_december_2024_as_an_essential_requirement(day: str, version: int | None) -> None:
    phone = product("851713", radio=True, battery_type="lithium_ion")
    rule = findings(check(phone, "FR", day)).get("EU-RED-USB-C")
    assert (rule.version if rule else None) == version
    assert rule is None or check(phone, "FR", day).verdict == "RESTRICTED"


@pytest.mark.parametrize(("day", "applies"), [("2025-08-17", False), ("2025-08-18", True)])
def test_eu_batteries_carry_the_collection_symbol_from_august_2025(day: str, applies: bool) -> None:
    found = findings(check(product("850610", battery_type="alkaline"), "DE", day))
    assert ("EU-BATTERY-COLLECTION-SYMBOL" in found) is applies
    assert "EU-BATTERY-LABEL" not in found  # the full label waits for the implementing act
    if applies:
        symbol = found["EU-BATTERY-COLLECTION-SYMBOL"]
        # Version 1 announced the full label for 2026-08-18; version 2 states the condition of Art. 13(1).
        assert symbol.version == 2 and "whichever is later" in symbol.requirement.text["en"]


@pytest.mark.parametrize("day", ["2026-08-18", "2026-12-06", "2027-02-17"])
def test_the_eu_battery_label_does_not_apply_before_its_implementing_act(day: str) -> None:
    # Art. 13(1) applies 18 months after the implementing act of Art. 13(10) if that is later than 2026-08-18;
    # the act was still a draft in 2026, so version 1 (the label from 2026-08-18) was withdrawn.
    found = findings(check(product("850760", battery_type="lithium_ion"), "DE", day))
    assert "EU-BATTERY-LABEL" not in found
    assert "EU-BATTERY-COLLECTION-SYMBOL" in found


def test_eu_batteries_carry_a_qr_code_from_february_2027() -> None:
    rule = findings(check(product("850760", battery_type="lithium_ion"), "DE", "2027-02-18"))["EU-BATTERY-LABEL"]
    assert (rule.version, rule.requirement.code, rule.verified) == (2, "EU-BATTERY-QR", False)
    assert "QR code" in rule.requirement.text["en"] and "implementing act" in rule.requirement.text["en"]


# --- US cosmetics: the MoCRA adverse-event label contact from 2024-12-29 ------------------------------------


@pytest.mark.parametrize(
    ("day", "version", "contact"),
    [("2023-12-28", None, False), ("2023-12-29", 2, False), ("2024-12-28", 2, False), ("2024-12-29", 3, True)],
)
def test_mocra_asks_for_the_label_contact_from_december_2024(day: str, version: int | None, contact: bool) -> None:
    rule = findings(check(product("330499", cosmetic=True), "US", day)).get("US-MOCRA-LISTING")
    assert (rule.version if rule else None) == version
    assert rule is None or ("adverse-event reports" in rule.requirement.text["en"]) is contact


# --- Heading 2404: vaping rules name the vaping subheadings, not nicotine gum, patches or heated tobacco ------


@pytest.mark.parametrize(
    ("destination", "code", "start"),
    [
        ("AU", "AU-VAPING-GOODS-PERMIT", "2024-03-01"),
        ("SG", "SG-E-VAPORISER-BAN", "2016-08-01"),
        ("JP", "JP-NICOTINE-ELIQUID", "2014-11-25"),
        ("CA", "CA-VAPING-NICOTINE-LIMIT", "2021-07-08"),
        ("US", "US-ENDS-MAIL-BAN", "2021-10-21"),
    ],
)
def test_vaping_rules_catch_e_liquids_but_not_nicotine_gum_or_patches(destination: str, code: str, start: str) -> None:
    def caught(hs_code: str, day: str) -> bool:
        return code in findings(check(product(hs_code), destination, day))

    day_before = (date.fromisoformat(start) - timedelta(days=1)).isoformat()
    assert not caught("240412", day_before)
    for day in (start, "2026-12-06"):
        assert caught("240412", day)  # e-liquid containing nicotine
        assert not caught("240491", day)  # nicotine gum
        assert not caught("240492", day)  # nicotine patches


def test_japan_does_not_treat_heated_tobacco_or_nicotine_free_liquids_as_nicotine_medicines() -> None:
    for hs_code in ("240411", "240419"):
        assert "JP-NICOTINE-ELIQUID" not in findings(check(product(hs_code), "JP", "2026-12-06"))


# --- Great Britain accepts the CE marking for the radio and electrical-safety regimes ------------------------


@pytest.mark.parametrize("day", ["2021-01-01", "2024-12-31", "2026-12-06"])
@pytest.mark.parametrize("marking", ["CE", "UKCA"])
def test_a_ce_or_ukca_marked_mains_radio_is_not_restricted_in_great_britain(day: str, marking: str) -> None:
    router = Product(
        hs_code="851762",
        origin_country="CN",
        certifications=frozenset({marking}),
        attributes={"radio": True, "mains_powered": True, "voltage_ac": Decimal("230")},
    )
    outcome = check(router, "GB", day)
    held = {f.rule.code: f.satisfied for f in outcome.findings}
    assert held["GB-RER-UKCA"] and held["GB-EESR-UKCA"]


def test_without_either_marking_the_gb_regimes_stay_unmet() -> None:
    router = product("851762", radio=True, mains_powered=True, voltage_ac="230")
    outcome = check(router, "GB", "2026-12-06")
    assert outcome.verdict == "RESTRICTED"
    assert {f.rule.code for f in outcome.findings if not f.satisfied} >= {"GB-RER-UKCA", "GB-EESR-UKCA"}


# --- Added rules: button and coin batteries, magnets, REACH nickel and phthalates ---------------------------


@pytest.mark.parametrize(("day", "applies"), [("2023-10-22", False), ("2023-10-23", True)])
def test_products_with_button_batteries_need_ul_4200a_from_october_2023(day: str, applies: bool) -> None:
    remote = product("854370", button_cell_battery=True)
    assert ("US-BUTTON-BATTERY-PRODUCTS" in findings(check(remote, "US", day))) is applies
    assert "US-BUTTON-BATTERY-PRODUCTS" not in findings(check(product("854370"), "US", "2026-12-06"))
    certified = Product(
        hs_code="854370", certifications=frozenset({"UL4200A"}), attributes={"button_cell_battery": True}
    )
    held = {f.rule.code: f.satisfied for f in check(certified, "US", "2026-12-06").findings}
    assert held["US-BUTTON-BATTERY-PRODUCTS"]


@pytest.mark.parametrize(("day", "applies"), [("2024-09-20", False), ("2024-09-21", True)])
def test_button_battery_packages_carry_the_warning_from_september_2024(day: str, applies: bool) -> None:
    cells = product("850650", button_cell_battery=True, battery_type="lithium_metal")
    assert ("US-BUTTON-BATTERY-PACKAGING" in findings(check(cells, "US", day))) is applies


@pytest.mark.parametrize(("day", "applies"), [("2022-10-20", False), ("2022-10-21", True)])
def test_small_loose_magnets_in_toys_and_jewelry_are_restricted_from_october_2022(day: str, applies: bool) -> None:
    magnet_balls = product("950390", contains_magnets=True, contains_small_parts=True)
    assert ("US-MAGNETS-16CFR1262" in findings(check(magnet_balls, "US", day))) is applies
    large_magnets = product("950390", contains_magnets=True, contains_small_parts=False)
    assert "US-MAGNETS-16CFR1262" not in findings(check(large_magnets, "US", "2026-12-06"))


@pytest.mark.parametrize(("hs_code", "applies"), [("711719", True), ("911320", True), ("611020", False)])
def test_eu_nickel_release_applies_to_jewelry_and_watch_straps(hs_code: str, applies: bool) -> None:
    assert ("EU-REACH-NICKEL-RELEASE" in findings(check(product(hs_code), "IT", "2026-12-06"))) is applies
    assert "EU-REACH-NICKEL-RELEASE" not in findings(check(product(hs_code), "IT", "2009-05-31"))


def test_eu_toys_meet_the_phthalate_limits_and_a_test_report_satisfies_it() -> None:
    doll = product("950300")
    assert findings(check(doll, "NL", "2026-12-06"))["EU-REACH-PHTHALATES-TOYS"].severity == "RESTRICTED"
    tested = Product(hs_code="950300", certifications=frozenset({"REACH-PHTHALATES"}))
    held = {f.rule.code: f.satisfied for f in check(tested, "NL", "2026-12-06").findings}
    assert held["EU-REACH-PHTHALATES-TOYS"]


# --- Smaller corrections: GPSR listing contents, FCC authorisation as an entry condition ----------------------


@pytest.mark.parametrize("day", ["2024-12-13", "2026-12-06"])
def test_gpsr_listings_need_a_product_identifier_but_no_batch_number(day: str) -> None:
    rule = findings(check(product(TOY), "DE", day))["EU-GPSR-ONLINE-LISTING"]
    assert rule.version == 2
    assert "batch" not in rule.requirement.text["en"] and "product identifier" in rule.requirement.text["en"]
    assert "EU-GPSR-ONLINE-LISTING" not in findings(check(product(TOY), "DE", "2024-12-12"))


def test_a_digital_device_without_its_fcc_authorisation_is_restricted() -> None:
    outcome = check(product("847130"), "US", "2026-12-06")
    assert findings(outcome)["US-FCC-SDOC"].severity == "RESTRICTED"
    assert outcome.verdict == "RESTRICTED"
    declared = Product(hs_code="847130", origin_country="CN", certifications=frozenset({"FCC-SDOC"}))
    assert {f.rule.code: f.satisfied for f in check(declared, "US", "2026-12-06").findings}["US-FCC-SDOC"]


# --- Gulf G-mark: the listed appliance groups, not every mains product ---------------------------------------


@pytest.mark.parametrize(
    ("hs_code", "listed"),
    [("851631", True), ("851650", True), ("850440", True), ("841510", True), ("847130", False), ("852872", False)],
)
def test_the_gulf_g_mark_covers_the_listed_appliance_groups_only(hs_code: str, listed: bool) -> None:
    item = product(hs_code, mains_powered=True)
    found = findings(check(item, "SA", "2026-12-06"))
    assert ("GCC-G-MARK-LOW-VOLTAGE" in found) is listed
    if listed:
        assert found["GCC-G-MARK-LOW-VOLTAGE"].version == 2


def test_the_g_mark_applies_from_july_2016() -> None:
    hair_dryer = product("851631", mains_powered=True)
    assert "GCC-G-MARK-LOW-VOLTAGE" not in findings(check(hair_dryer, "AE", "2016-06-30"))
    assert "GCC-G-MARK-LOW-VOLTAGE" in findings(check(hair_dryer, "AE", "2016-07-01"))


# --- EU toys: the under-36-months warning continues under the Toy Safety Regulation ---------------------------


@pytest.mark.parametrize(("day", "version"), [("2030-07-31", 1), ("2030-08-01", 2)])
def test_the_eu_toy_age_warning_has_a_successor_under_the_regulation(day: str, version: int) -> None:
    rule = findings(check(product(TOY, contains_small_parts=True), "DE", day))["EU-TOY-UNDER-36M-WARNING"]
    assert rule.version == version
    assert rule.read_on is not None and rule.note  # each version says what of it was confirmed


@pytest.mark.parametrize(("day", "version"), [("2030-07-31", 1), ("2030-08-01", 2)])
def test_eu_toys_follow_the_directive_until_the_toy_safety_regulation_applies(day: str, version: int) -> None:
    rule = findings(check(product(TOY), "FR", day))["EU-TOY-CE"]
    assert rule.version == version
    assert rule.source_title.startswith("Directive 2009/48/EC" if version == 1 else "Regulation (EU) 2025/2509")


# --- Singapore SAFETY Mark: the controlled-goods categories, not every mains product -------------------------


@pytest.mark.parametrize(
    ("hs_code", "controlled"),
    [("851631", True), ("853669", True), ("852872", True), ("851679", True), ("846721", False), ("901890", False)],
)
def test_the_singapore_safety_mark_covers_the_controlled_categories_only(hs_code: str, controlled: bool) -> None:
    found = findings(check(product(hs_code, mains_powered=True), "SG", "2026-12-06"))
    assert ("SG-SAFETY-MARK" in found) is controlled


def test_a_battery_powered_appliance_of_a_controlled_category_needs_no_safety_mark() -> None:
    assert "SG-SAFETY-MARK" not in findings(check(product("851631", mains_powered=False), "SG", "2026-12-06"))


# --- Saudi IECEE recognition: the listed products, extended on announced dates ------------------------------


@pytest.mark.parametrize(
    ("hs_code", "day", "version"),
    [
        ("851713", "2018-02-14", None),
        ("851713", "2018-02-15", 2),
        ("851671", "2021-10-31", None),
        ("851671", "2021-11-01", 3),
        ("851020", "2022-12-31", None),
        ("851020", "2023-01-01", 4),
        ("846721", "2026-12-06", None),
    ],
)
def test_saudi_iecee_recognition_follows_the_announced_product_lists(
    hs_code: str, day: str, version: int | None
) -> None:
    rule = findings(check(product(hs_code, mains_powered=True), "SA", day)).get("SA-SASO-IECEE-RC")
    assert (rule.version if rule else None) == version


# --- History before the current thresholds -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "value", "expected"),
    [
        ("2016-03-09", "150", "US-DE-MINIMIS-321@3"),
        ("2016-03-09", "500", "US-DUTIABLE-ENTRY-ABOVE-200@1"),
        ("2016-03-10", "500", "US-DE-MINIMIS-321@1"),
    ],
)
def test_the_us_de_minimis_was_usd_200_before_march_2016(day: str, value: str, expected: str) -> None:
    found = {f"{code}@{version}" for code, version in regimes(check(product(TOY, value=value), "US", day)).items()}
    assert expected in found


def test_before_the_known_start_of_the_usd_200_threshold_the_us_regime_is_undetermined() -> None:
    outcome = check(product(TOY, value="150"), "US", "1990-01-01")
    assert "US-DE-MINIMIS-321" not in regimes(outcome)
    assert any(line.startswith("US-DE-MINIMIS-321: in force at least since 1993-12-08") for line in outcome.missing)


# --- California Proposition 65 -----------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "version"), [("2024-12-31", 1), ("2025-01-01", 2)])
def test_a_product_with_lead_needs_a_prop_65_warning_naming_a_chemical_from_2025(day: str, version: int) -> None:
    jewelry = product("711719", substances="7439-92-1")
    rule = findings(check(jewelry, "US", day))["US-CA-PROP65-WARNING"]
    assert rule.version == version
    assert ("at least one listed chemical" in rule.requirement.text["en"]) is (version == 2)


def test_a_product_without_listed_substances_needs_no_prop_65_warning() -> None:
    assert "US-CA-PROP65-WARNING" not in findings(check(product("711719", substances="7440-50-8"), "US", "2026-12-06"))
    assert "US-CA-PROP65-WARNING" not in findings(check(product("711719"), "US", "2026-12-06"))


# --- UFLPA high-priority sectors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hs_code", "day", "version"),
    [
        ("610910", "2022-06-20", None),
        ("610910", "2022-06-21", 1),
        ("391810", "2024-07-08", None),
        ("391810", "2024-07-09", 2),
        ("850760", "2025-08-18", None),
        ("850760", "2025-08-19", 3),
        ("950300", "2026-12-06", None),
    ],
)
def test_uflpa_flags_chinese_goods_of_the_high_priority_sectors_of_their_day(
    hs_code: str, day: str, version: int | None
) -> None:
    rule = findings(check(product(hs_code), "US", day)).get("US-UFLPA-HIGH-PRIORITY")
    assert (rule.version if rule else None) == version


def test_uflpa_sector_rule_does_not_flag_goods_of_other_origins() -> None:
    assert "US-UFLPA-HIGH-PRIORITY" not in findings(check(product("610910", origin="VN"), "US", "2026-12-06"))


# --- FCC Covered List: foreign-produced drones ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "day", "listed"), [("CN", "2025-12-21", False), ("CN", "2025-12-22", True), ("US", "2026-12-06", False)]
)
def test_foreign_drones_are_restricted_from_the_covered_list_entry(origin: str, day: str, listed: bool) -> None:
    drone = product("880621", origin=origin, drone=True, radio=True)
    assert ("US-FCC-COVERED-LIST-UAS" in findings(check(drone, "US", day))) is listed


# --- Japan's amended product safety acts (2025-12-25) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "day", "applies"),
    [("infant", "2025-12-24", False), ("infant", "2025-12-25", True), ("child", "2026-12-06", False)],
)
def test_japanese_toys_for_under_3s_need_the_child_psc_mark_from_december_2025(
    age: str, day: str, applies: bool
) -> None:
    assert ("JP-CHILD-PSC-INFANT-TOYS" in findings(check(product(TOY, target_age_group=age), "JP", day))) is applies


def test_overseas_sellers_of_appliances_need_a_domestic_administrator_in_japan_from_december_2025() -> None:
    kettle = product("851679", mains_powered=True)
    assert "JP-SPECIFIED-IMPORTER-ADMIN" not in findings(check(kettle, "JP", "2025-12-24"))
    rule = findings(check(kettle, "JP", "2025-12-25"))["JP-SPECIFIED-IMPORTER-ADMIN"]
    assert rule.requirement.kind == "RESPONSIBLE_PERSON"


# --- EU bisphenol ban in food contact materials ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "severity"), [("2025-01-19", None), ("2025-01-20", "RESTRICTED"), ("2026-07-20", "PROHIBITED")]
)
def test_eu_food_contact_articles_with_bpa_are_phased_out(day: str, severity: str | None) -> None:
    bottle = product("392410", food_contact=True, substances="80-05-7")
    rule = findings(check(bottle, "FR", day)).get("EU-FCM-BISPHENOL-BAN")
    assert (rule.severity if rule else None) == severity


def test_bpa_in_a_product_not_touching_food_is_not_caught_by_the_food_contact_ban() -> None:
    case = product("392690", food_contact=False, substances="80-05-7")
    assert "EU-FCM-BISPHENOL-BAN" not in findings(check(case, "FR", "2026-12-06"))


# --- Packaging EPR: Germany and France ---------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "version"), [("2018-12-31", None), ("2019-01-01", 1), ("2022-07-01", 2)])
def test_goods_for_germany_need_a_lucid_registration(day: str, version: int | None) -> None:
    rule = findings(check(product(TOY), "DE", day)).get("DE-VERPACKG-LUCID")
    assert (rule.version if rule else None) == version


def test_goods_for_france_need_triman_and_a_unique_identifier_from_2022() -> None:
    assert {"FR-TRIMAN-INFO-TRI", "FR-EPR-UNIQUE-ID"} <= set(findings(check(product(TOY), "FR", "2022-01-01")))
    assert not {"FR-TRIMAN-INFO-TRI", "FR-EPR-UNIQUE-ID"} & set(findings(check(product(TOY), "FR", "2021-12-31")))
    assert "FR-TRIMAN-INFO-TRI" not in findings(check(product(TOY), "DE", "2026-12-06"))


# --- Australia: button batteries and small magnets ---------------------------------------------------------------


@pytest.mark.parametrize(("day", "applies"), [("2022-06-21", False), ("2022-06-22", True)])
def test_australian_button_battery_standards_apply_from_june_2022(day: str, applies: bool) -> None:
    remote = product("854370", button_cell_battery=True)
    assert ("AU-BUTTON-BATTERY-PRODUCTS" in findings(check(remote, "AU", day))) is applies


def test_australia_asks_for_a_flux_test_for_small_loose_magnets_in_toys() -> None:
    magnets = product(TOY, contains_magnets=True, contains_small_parts=True)
    assert "AU-SMALL-MAGNETS-BAN" in findings(check(magnets, "AU", "2012-11-15"))
    assert "AU-SMALL-MAGNETS-BAN" not in findings(check(magnets, "AU", "2012-11-14"))
    assert "AU-SMALL-MAGNETS-BAN" not in findings(check(product(TOY, contains_magnets=True), "AU", "2026-12-06"))


# --- Quebec: French inscriptions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("languages", "day", "satisfied"), [("en", "2025-06-01", False), ("en,fr", "2025-06-01", True)]
)
def test_quebec_asks_for_french_inscriptions(languages: str, day: str, satisfied: bool) -> None:
    outcome = check(replace(product(TOY), label_languages=frozenset(languages.split(","))), "CA", day)
    [finding] = [f for f in outcome.findings if f.rule.code == "CA-QC-FRENCH-INSCRIPTIONS"]
    assert finding.rule.version == 2 and finding.satisfied is satisfied


# --- REACH: lead, cadmium and Candidate List substances ---------------------------------------------------------


def test_a_lead_bearing_zipper_pull_needs_a_lead_test_and_svhc_information_in_the_eu() -> None:
    keyring = product("731990", substances="7439-92-1")
    found = findings(check(keyring, "IT", "2026-12-06"))
    assert {"EU-REACH-LEAD-MOUTHABLE", "EU-REACH-SVHC-ARTICLE-33"} <= set(found)
    assert "EU-REACH-LEAD-MOUTHABLE" not in findings(check(keyring, "IT", "2016-05-31"))


@pytest.mark.parametrize(
    ("substance", "code"), [("7439-92-1", "EU-REACH-LEAD-JEWELLERY"), ("7440-43-9", "EU-REACH-CADMIUM-JEWELLERY")]
)
def test_eu_jewellery_is_checked_for_lead_and_cadmium(substance: str, code: str) -> None:
    assert code in findings(check(product("711719", substances=substance), "DE", "2026-12-06"))
    assert code not in findings(check(product("711719", substances="7440-50-8"), "DE", "2026-12-06"))


def test_a_childrens_product_declaring_dehp_meets_the_cpsia_phthalate_limit_rule() -> None:
    doll = product(TOY, target_age_group="child", substances="117-81-7")
    assert "US-CPSIA-LEAD-PHTHALATES" in findings(check(doll, "US", "2026-12-06"))
    assert "US-CPSIA-LEAD-PHTHALATES" not in findings(
        check(product(TOY, target_age_group="adult", substances="117-81-7"), "US", "2026-12-06")
    )


def test_saudi_rohs_applies_to_electrical_equipment_from_july_2022() -> None:
    kettle = product("851679", mains_powered=True)
    assert "SA-ROHS" in findings(check(kettle, "SA", "2022-07-04"))
    assert "SA-ROHS" not in findings(check(kettle, "SA", "2022-07-03"))


# --- UAE: the Dubai small-consignment threshold is AED 1,000 (AED 300 in January and February 2023) ------------


@pytest.mark.parametrize(
    ("day", "value", "regime"),
    [
        ("2023-02-28", "80", "AE-CUSTOMS-SMALL-SHIPMENT@3"),
        ("2023-02-28", "100", "AE-IMPORT-DUTY@3"),
        ("2023-03-01", "270", "AE-CUSTOMS-SMALL-SHIPMENT@2"),
        ("2023-03-01", "273", "AE-IMPORT-DUTY@2"),
    ],
)
def test_the_uae_threshold_is_in_dirhams(day: str, value: str, regime: str) -> None:
    found = {f"{code}@{version}" for code, version in regimes(check(product(TOY, value=value), "AE", day)).items()}
    assert regime in found


def test_a_fridge_for_the_eu_needs_its_energy_label_and_eprel_registration_from_2019() -> None:
    fridge = product("841810", mains_powered=True)
    assert "EU-ENERGY-LABEL-EPREL" in findings(check(fridge, "NL", "2019-01-01"))
    assert "EU-ENERGY-LABEL-EPREL" not in findings(check(fridge, "NL", "2018-12-31"))
    assert "EU-ENERGY-LABEL-EPREL" not in findings(check(product("851631", mains_powered=True), "NL", "2026-12-06"))


def test_cosmetics_for_saudi_arabia_need_an_ecosma_notification() -> None:
    cream = product("330499", cosmetic=True)
    assert findings(check(cream, "SA", "2026-12-06"))["SA-COSMETICS-ECOSMA"].requirement.kind == "RESPONSIBLE_PERSON"
    assert "SA-COSMETICS-ECOSMA" not in findings(check(cream, "AE", "2026-12-06"))


# --- Medical devices and PPE ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "code"),
    [("DE", "EU-MDR-AUTHORISED-REP"), ("GB", "GB-UKRP-MEDICAL-DEVICES"), ("US", "US-FDA-DEVICE-REGISTRATION")],
)
def test_medical_devices_need_a_local_representative(destination: str, code: str) -> None:
    thermometer = product("902519", medical_device=True)
    rule = findings(check(thermometer, destination, "2026-12-06"))[code]
    assert rule.requirement.kind == "RESPONSIBLE_PERSON"
    assert code not in findings(check(product("902519"), destination, "2026-12-06"))


def test_protective_gloves_need_ce_under_the_ppe_regulation() -> None:
    assert "EU-PPE-CE" in findings(check(product("392620", ppe=True), "ES", "2018-04-21"))
    assert "EU-PPE-CE" not in findings(check(product("392620", ppe=True), "ES", "2018-04-20"))


# --- Great Britain toys: the 2011 Regulations came into force on 2011-08-19, not the EU's 2011-07-20 ------------


@pytest.mark.parametrize("code", ["GB-TOYS-UKCA", "GB-TOY-UNDER-36M-WARNING"])
def test_gb_toy_rules_start_when_the_toys_regulations_came_into_force(code: str) -> None:
    toy = product(TOY, contains_small_parts=True)
    assert findings(check(toy, "GB", "2011-08-19"))[code].version == 2
    before = check(toy, "GB", "2011-08-18")
    assert code not in findings(before)
    assert any(line.startswith(f"{code}: in force at least since 2011-08-19") for line in before.missing)


def test_no_gb_toy_rule_claims_the_eu_directive_date() -> None:
    # Version 1 applied the 2011 Regulations from 2011-07-20, a month before they came into force.
    outcome = check(product(TOY, contains_small_parts=True), "GB", "2011-07-20")
    assert not {"GB-TOYS-UKCA", "GB-TOY-UNDER-36M-WARNING"} & set(findings(outcome))


@pytest.mark.parametrize(
    ("hs_code", "caught"), [("240412", True), ("854340", True), ("240491", False), ("240492", False), ("240411", False)]
)
def test_the_eu_e_cigarette_rule_catches_e_liquids_but_not_nicotine_gum_patches_or_heated_tobacco(
    hs_code: str, caught: bool
) -> None:
    found = findings(check(product(hs_code), "DE", "2026-12-06")).get("EU-ECIG-TPD-NOTIFICATION")
    assert (found is not None) is caught
    if found:
        assert found.version == 2


# --- Japan: magnet sets and water beads became PSC specified products on 2023-06-19 (transition to 2023-12-18) ----


@pytest.mark.parametrize(
    ("day", "version"), [("2023-06-18", None), ("2023-06-19", 1), ("2023-12-18", 1), ("2023-12-19", 2)]
)
@pytest.mark.parametrize(
    ("code", "attributes"),
    [
        ("JP-PSC-MAGNET-SETS", {"contains_magnets": True, "contains_small_parts": True}),
        ("JP-PSC-WATER-BEADS", {"water_absorbing_polymer": True}),
    ],
)
def test_japanese_magnet_sets_and_water_beads_need_the_psc_mark_after_the_transition(
    code: str, attributes: dict[str, Any], day: str, version: int | None
) -> None:
    found = findings(check(product(TOY, **attributes), "JP", day))
    if version is None:
        assert code not in found
        return
    assert found[code].version == version
    assert found[code].severity == ("CONDITION" if version == 1 else "RESTRICTED")
    assert found[code].requirement.code == "PSC"


def test_a_psc_marked_magnet_set_is_allowed_in_japan() -> None:
    marked = replace(product(TOY, contains_magnets=True, contains_small_parts=True), certifications=frozenset({"PSC"}))
    outcome = check(marked, "JP", "2026-12-06")
    assert all(f.satisfied for f in outcome.findings if f.rule.code == "JP-PSC-MAGNET-SETS")
    assert "JP-PSC-MAGNET-SETS" not in findings(check(product(TOY, contains_magnets=True), "JP", "2026-12-06"))


# --- REACH Annex XVII: azo dyes (entry 43) and PAHs (entry 50) -------------------------------------------------


def test_eu_textiles_need_an_azo_dye_test_report_since_annex_xvii_replaced_the_directive() -> None:
    shirt = product("610910", textile=True)
    assert findings(check(shirt, "FR", "2009-06-01"))["EU-REACH-AZO-DYES"].requirement.code == "REACH-ANNEX-XVII-43"
    before = check(shirt, "FR", "2009-05-31")
    assert "EU-REACH-AZO-DYES" not in findings(before)
    assert any(line.startswith("EU-REACH-AZO-DYES: in force at least since 2009-06-01") for line in before.missing)
    tested = replace(shirt, certifications=frozenset({"REACH-ANNEX-XVII-43"}))
    assert all(f.satisfied for f in check(tested, "FR", "2026-12-06").findings if f.rule.code == "EU-REACH-AZO-DYES")


@pytest.mark.parametrize(("day", "applies"), [("2015-12-26", False), ("2015-12-27", True)])
def test_eu_pah_limits_apply_from_december_2015(day: str, applies: bool) -> None:
    grip = product("392690", substances="50-32-8")
    rubber_duck = product(TOY, materials="rubber")
    assert ("EU-REACH-PAH-ARTICLES" in findings(check(grip, "DE", day))) is applies
    assert ("EU-REACH-PAH-TOYS" in findings(check(rubber_duck, "DE", day))) is applies
    assert "EU-REACH-PAH-TOYS" not in findings(check(product(TOY, materials="wood"), "DE", "2026-12-06"))


# --- EU ecodesign for external power supplies, and bamboo-melamine tableware --------------------------------------


@pytest.mark.parametrize(("day", "applies"), [("2020-03-31", False), ("2020-04-01", True)])
def test_eu_chargers_meet_the_2019_ecodesign_regulation_from_april_2020(day: str, applies: bool) -> None:
    charger = product("850440", mains_powered=True)
    assert ("EU-ECODESIGN-EPS" in findings(check(charger, "IT", day))) is applies


def test_bamboo_melamine_tableware_is_prohibited_in_the_eu() -> None:
    cup = product("392410", food_contact=True, materials="bamboo,melamine")
    assert check(cup, "NL", "2021-02-15").verdict == "PROHIBITED"
    before = check(cup, "NL", "2021-02-14")
    assert "EU-FCM-BAMBOO-MELAMINE" not in findings(before)
    assert any(line.startswith("EU-FCM-BAMBOO-MELAMINE: in force at least since 2021-02-15") for line in before.missing)
    assert "EU-FCM-BAMBOO-MELAMINE" not in findings(
        check(product("392410", food_contact=True, materials="melamine"), "NL", "2026-12-06")
    )


# --- Gulf: UAE RoHS, Saudi Arabic safety labelling ------------------------------------------------------------------


@pytest.mark.parametrize(("day", "applies"), [("2017-12-31", False), ("2018-01-01", True)])
def test_uae_rohs_applies_to_electrical_equipment_from_2018(day: str, applies: bool) -> None:
    kettle = product("851671", mains_powered=True)
    assert ("AE-ROHS" in findings(check(kettle, "AE", day))) is applies
    assert "AE-ROHS" not in findings(check(kettle, "SA", "2026-12-06"))


def test_saudi_warnings_and_manuals_are_in_arabic() -> None:
    lamp = product("940520")
    assert findings(check(lamp, "SA", "2017-02-15"))["SA-ARABIC-SAFETY-LABELLING"].requirement.kind == "LABEL_LANGUAGE"
    before = check(lamp, "SA", "2017-02-14")
    assert any(line.startswith("SA-ARABIC-SAFETY-LABELLING: in force at least since") for line in before.missing)
    arabic = replace(lamp, label_languages=frozenset({"ar", "en"}))
    outcome = check(arabic, "SA", "2026-12-06")
    assert all(f.satisfied for f in outcome.findings if f.rule.code == "SA-ARABIC-SAFETY-LABELLING")


# --- US durable infant or toddler products -------------------------------------------------------------------------


def test_us_durable_infant_products_need_a_registration_card_from_june_2010() -> None:
    stroller = product("871500", durable_infant_product=True)
    assert "US-CPSC-DURABLE-INFANT-REGISTRATION" in findings(check(stroller, "US", "2010-06-28"))
    assert "US-CPSC-DURABLE-INFANT-REGISTRATION" not in findings(check(stroller, "US", "2010-06-27"))
    assert "US-CPSC-DURABLE-INFANT-REGISTRATION" not in findings(check(product("871500"), "US", "2026-12-06"))


def test_us_durable_infant_products_meet_their_category_standard() -> None:
    stroller = product("871500", durable_infant_product=True)
    assert (
        findings(check(stroller, "US", "2014-03-24"))["US-CPSC-DURABLE-INFANT-STANDARDS"].requirement.code == "CPSC-104"
    )
    before = check(stroller, "US", "2014-03-23")
    assert "US-CPSC-DURABLE-INFANT-STANDARDS" not in findings(before)
    assert any(
        line.startswith("US-CPSC-DURABLE-INFANT-STANDARDS: in force at least since 2014-03-24")
        for line in before.missing
    )


# --- Phthalates in articles (entry 51 as replaced in 2018) and the GB copies of the REACH restrictions -----------


@pytest.mark.parametrize("destination", ["DE", "GB"])
@pytest.mark.parametrize(("day", "applies"), [("2020-07-07", False), ("2020-07-08", True)])
def test_phthalates_in_any_plasticised_article_are_restricted_after_7_july_2020(
    destination: str, day: str, applies: bool
) -> None:
    code = "EU-REACH-PHTHALATES-ARTICLES" if destination == "DE" else "GB-REACH-PHTHALATES-ARTICLES"
    cable_tidy = product("392690", substances="84-69-5")
    assert (code in findings(check(cable_tidy, destination, day))) is applies


def test_gb_toys_meet_the_phthalate_limits_known_from_july_2020() -> None:
    assert "GB-REACH-PHTHALATES-TOYS" in findings(check(product(TOY), "GB", "2020-07-08"))
    before = check(product(TOY), "GB", "2020-07-07")
    assert "GB-REACH-PHTHALATES-TOYS" not in findings(before)
    assert any(
        line.startswith("GB-REACH-PHTHALATES-TOYS: in force at least since 2020-07-08") for line in before.missing
    )


@pytest.mark.parametrize(("day", "applies"), [("2004-01-07", False), ("2004-01-08", True)])
def test_gb_azo_dye_controls_apply_from_january_2004(day: str, applies: bool) -> None:
    assert ("GB-REACH-AZO-DYES" in findings(check(product("620462", textile=True), "GB", day))) is applies


@pytest.mark.parametrize(("day", "applies"), [("2015-12-26", False), ("2015-12-27", True)])
def test_gb_pah_limits_apply_from_december_2015(day: str, applies: bool) -> None:
    assert ("GB-REACH-PAH-ARTICLES" in findings(check(product("392690", substances="50-32-8"), "GB", day))) is applies
    assert ("GB-REACH-PAH-TOYS" in findings(check(product(TOY, materials="plastic"), "GB", day))) is applies


def test_gb_jewellery_needs_a_nickel_release_test_known_from_september_2005() -> None:
    earring = product("711719")
    assert findings(check(earring, "GB", "2005-09-01"))["GB-REACH-NICKEL-RELEASE"].requirement.code == "EN1811"
    before = check(earring, "GB", "2005-08-31")
    assert "GB-REACH-NICKEL-RELEASE" not in findings(before)
    assert any(
        line.startswith("GB-REACH-NICKEL-RELEASE: in force at least since 2005-09-01") for line in before.missing
    )


def test_gb_svhc_information_under_uk_reach_from_2021() -> None:
    zip_pull = product("960719", substances="7439-92-1")
    assert "GB-REACH-SVHC-ARTICLE-33" in findings(check(zip_pull, "GB", "2021-01-01"))
    before = check(zip_pull, "GB", "2020-12-31")
    assert "GB-REACH-SVHC-ARTICLE-33" not in findings(before)
    assert any(
        line.startswith("GB-REACH-SVHC-ARTICLE-33: in force at least since 2021-01-01") for line in before.missing
    )


def test_uae_toy_warnings_are_in_arabic() -> None:
    assert "AE-TOY-ARABIC-WARNINGS" in findings(check(product(TOY), "AE", "2022-01-09"))
    before = check(product(TOY), "AE", "2022-01-08")
    assert any(line.startswith("AE-TOY-ARABIC-WARNINGS: in force at least since 2022-01-09") for line in before.missing)
    arabic = replace(product(TOY), label_languages=frozenset({"ar"}))
    assert all(
        f.satisfied for f in check(arabic, "AE", "2026-12-06").findings if f.rule.code == "AE-TOY-ARABIC-WARNINGS"
    )


@pytest.mark.parametrize(
    ("hs_code", "substance", "code", "start"),
    [
        ("392690", "7439-92-1", "GB-REACH-LEAD-MOUTHABLE", "2016-06-01"),
        ("711719", "7439-92-1", "GB-REACH-LEAD-JEWELLERY", "2013-10-09"),
        ("711719", "7440-43-9", "GB-REACH-CADMIUM-JEWELLERY", "2011-12-10"),
    ],
)
def test_gb_lead_and_cadmium_limits_apply_from_the_eu_dates(
    hs_code: str, substance: str, code: str, start: str
) -> None:
    item = product(hs_code, substances=substance)
    day_before = (date.fromisoformat(start) - timedelta(days=1)).isoformat()
    assert code in findings(check(item, "GB", start))
    assert code not in findings(check(item, "GB", day_before))


# --- Gulf toys: the G-mark from 2014, the conformity tracking symbol with its QR code from 2017-04-01 -----------


@pytest.mark.parametrize(
    ("day", "version", "qr"),
    [("2013-12-31", None, False), ("2014-01-01", 2, False), ("2017-03-31", 2, False), ("2017-04-01", 3, True)],
)
@pytest.mark.parametrize("destination", ["SA", "AE"])
def test_gulf_toys_need_the_qr_tracking_symbol_only_from_april_2017(
    destination: str, day: str, version: int | None, qr: bool
) -> None:
    rule = findings(check(product(TOY), destination, day)).get("GCC-G-MARK-TOYS")
    assert (rule.version if rule else None) == version
    assert rule is None or ("QR code" in rule.requirement.text["en"]) is qr
    assert rule is None or rule.severity == "RESTRICTED"


def test_a_g_marked_toy_meets_the_gulf_toy_rule() -> None:
    marked = replace(product(TOY), certifications=frozenset({"G-MARK"}))
    held = {f.rule.code: f.satisfied for f in check(marked, "SA", "2026-12-06").findings}
    assert held["GCC-G-MARK-TOYS"]
