"""Plan matching on the sample catalogue: billable weight, exact costs, ranking, the Pareto set, exclusions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.logistics.domain.channels import Battery, BatteryPacking
from services.logistics.domain.matching import Candidate, Catalogue, match_naively
from services.logistics.domain.pricing import Goods, Parcel, Preference, Shipment, billable_weight
from services.logistics.domain.ranking import dominates
from services.shared.money import Money
from tests.logistics_support import (
    POSTAL_CODES,
    SHIP_AT,
    channel,
    sample_catalogue,
    sample_definitions,
    sheets_from,
    shipment,
)

CATALOGUE = sample_catalogue()


def reasons_of(result, code: str) -> list[str]:
    return next(list(e.reasons) for e in result.excluded if e.channel.code == code)


def plan_of(result, code: str) -> Candidate:
    return next(p.candidate for p in result.plans if p.candidate.channel.code == code)


# ---- billable weight ----


def test_a_light_bulky_parcel_is_billed_on_its_dimensional_weight() -> None:
    parcel = Parcel(Decimal("1"), Decimal(50), Decimal(40), Decimal(30))  # 60000 cm3 / 5000 = 12 kg
    assert billable_weight(parcel, 5000, Decimal("0.5")) == Decimal("12.0")
    assert billable_weight(parcel, None, Decimal("0.01")) == Decimal("1.00")  # postal: actual weight only


def test_billable_weight_rounds_up_to_the_increment() -> None:
    parcel = Parcel(Decimal("1.01"), Decimal(10), Decimal(10), Decimal(10))
    assert billable_weight(parcel, 6000, Decimal("0.5")) == Decimal("1.5")
    assert billable_weight(parcel, 6000, Decimal("1")) == Decimal("2")
    assert billable_weight(parcel, 6000, Decimal("0.1")) == Decimal("1.1")


decimals = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("80"), places=3)
sides = st.decimals(min_value=Decimal("1"), max_value=Decimal("150"), places=1)


@given(
    decimals,
    sides,
    sides,
    sides,
    st.sampled_from([None, 5000, 6000, 8000]),
    st.sampled_from(["0.01", "0.1", "0.5", "1"]),
)
def test_billable_weight_is_at_least_actual_and_dimensional_in_whole_increments(
    weight: Decimal, length: Decimal, width: Decimal, height: Decimal, divisor: int | None, step: str
) -> None:
    increment = Decimal(step)
    billable = billable_weight(Parcel(weight, length, width, height), divisor, increment)
    assert billable >= weight
    if divisor is not None:
        assert billable >= length * width * height / divisor
    assert billable % increment == 0
    assert billable - increment < max(weight, length * width * height / divisor if divisor else weight)


# ---- what a plan says ----


def test_a_speaker_to_new_york_prices_every_us_channel_and_excludes_the_rest() -> None:
    result = CATALOGUE.match(shipment())
    assert {p.candidate.channel.code for p in result.plans} == {
        "SAMPLE-POST-REG",
        "SAMPLE-POST-EMS",
        "SAMPLE-EXP-PRIORITY",
        "SAMPLE-EXP-ECONOMY",
        "SAMPLE-LINE-US",
        "SAMPLE-AIR-WH-US",
        "SAMPLE-SEA-WH-US",
    }
    assert reasons_of(result, "SAMPLE-LINE-JP") == ["does not serve US"]
    assert len(result.plans) + len(result.excluded) == len(CATALOGUE.channels)


def test_the_dedicated_line_cost_is_its_bracket_fee_plus_per_kg_on_billable_weight() -> None:
    line = plan_of(CATALOGUE.match(shipment()), "SAMPLE-LINE-US")
    # 1.2 kg actual; 30 x 20 x 10 / 6000 = 1 kg; bracket 0.5-2 kg: 26.00 + 80.00/kg
    assert line.billable_kg == Decimal("1.2")
    assert (line.cost.base, line.cost.weight, line.cost.fuel) == (
        Money(Decimal("26.00"), "CNY"),
        Money(Decimal("96.00"), "CNY"),
        Money(Decimal("0.00"), "CNY"),
    )
    assert line.cost.total == Money(Decimal("122.00"), "CNY")
    assert line.zone.name == "US-MAIN" and (line.transit.p50_days, line.transit.p90_days) == (10, 12)
    assert "published range 7-12 days" in line.transit.source
    assert line.sheet.version == 1


def test_express_adds_fuel_and_the_remote_area_surcharge_in_alaska() -> None:
    result = CATALOGUE.match(shipment(postal_code="99501"))
    express = plan_of(result, "SAMPLE-EXP-PRIORITY")
    # billable 1.5 kg (dimensional 1.2 rounded up to 0.5); bracket 0.5-2: 180 + 160 x 1.5 = 420; fuel 18.5%
    assert (express.cost.base.amount, express.cost.weight.amount) == (Decimal("180.00"), Decimal("240.00"))
    assert express.cost.fuel.amount == Decimal("77.70")
    assert express.cost.remote_area.amount == Decimal("28.00")
    assert express.cost.total.amount == Decimal("525.70")
    assert "postal code 99501 is in a remote-area range" in express.notes
    assert plan_of(result, "SAMPLE-LINE-US").zone.name == "US-NONCONTIGUOUS"


def test_lithium_ion_cells_shipped_alone_go_by_sea_only() -> None:
    alone = Goods("850760", Battery("UN3480", BatteryPacking.ALONE), False, False, False)
    result = CATALOGUE.match(shipment(goods=alone))
    assert [p.candidate.channel.code for p in result.plans] == ["SAMPLE-SEA-WH-US"]
    assert "UN3480 lithium-ion batteries shipped alone are not accepted" in reasons_of(result, "SAMPLE-LINE-US")


def test_every_reason_is_given_for_an_excluded_channel() -> None:
    heavy = Parcel(Decimal("31"), Decimal(130), Decimal(40), Decimal(40))
    goods = Goods("930320", None, True, False, True)
    result = CATALOGUE.match(shipment(parcels=(heavy,), goods=goods))
    assert reasons_of(result, "SAMPLE-LINE-US") == [
        "liquids are not accepted",
        "powders are not accepted",
        "HS chapter 93 (HS code 930320) is not accepted",
        "weight 31 kg over the 30 kg limit",
        "longest side 130 cm over the 120 cm limit",
        "length + girth 290 cm over the 266 cm limit",
    ]


def test_a_declared_value_over_the_limit_excludes_and_one_in_another_currency_is_a_note() -> None:
    result = CATALOGUE.match(shipment(declared_value=Money(Decimal("900.00"), "USD")))
    assert reasons_of(result, "SAMPLE-LINE-US") == ["declared value 900.00 USD over the 800.00 USD limit"]
    in_euro = CATALOGUE.match(shipment(declared_value=Money(Decimal("900.00"), "EUR")))
    assert "declared-value limit 800.00 USD not checked" in plan_of(in_euro, "SAMPLE-LINE-US").notes[0]


def test_a_postal_range_zone_wins_over_the_country_wide_one() -> None:
    no_battery = Goods("610910", None, False, False, False)
    to_dubai = CATALOGUE.match(shipment(country="AE", postal_code="", goods=no_battery))
    assert plan_of(to_dubai, "SAMPLE-LINE-GULF").zone.name == "GULF-AE"
    to_gb = CATALOGUE.match(shipment(country="GB", postal_code="HS12AB"))
    assert plan_of(to_gb, "SAMPLE-LINE-GB").zone.name == "GB-HIGHLANDS-ISLANDS"
    assert plan_of(CATALOGUE.match(shipment(country="GB", postal_code="EC1Y8SY")), "SAMPLE-LINE-GB").zone.name == (
        "GB-MAINLAND"
    )


def test_a_postal_code_outside_every_zone_excludes_the_channel() -> None:
    definition = next(d for d in sample_definitions() if d["code"] == "SAMPLE-LINE-US")
    islands_only = channel({**definition, "zones": [z for z in definition["zones"] if z["name"] != "US-MAIN"]})
    catalogue = Catalogue((islands_only,), {"SAMPLE-LINE-US": CATALOGUE.sheets["SAMPLE-LINE-US"]})
    result = catalogue.match(shipment(postal_code="94105"))
    assert reasons_of(result, "SAMPLE-LINE-US") == ["no zone for postal code 94105 in US"]
    assert plan_of(catalogue.match(shipment(postal_code="96813")), "SAMPLE-LINE-US").zone.name == "US-NONCONTIGUOUS"


def test_a_hand_over_after_the_cut_off_leaves_the_next_day() -> None:
    before = plan_of(CATALOGUE.match(shipment()), "SAMPLE-LINE-US")  # 11:00 Shanghai, cut-off 12:00
    after = plan_of(
        CATALOGUE.match(shipment(ship_at=datetime(2026, 3, 2, 5, 0, tzinfo=SHIP_AT.tzinfo))), "SAMPLE-LINE-US"
    )
    assert before.transit.p50_delivery == date(2026, 3, 12)
    assert after.transit.p50_delivery == date(2026, 3, 13)


def test_a_past_quote_uses_the_version_valid_then() -> None:
    channels = {c.code: c for c in CATALOGUE.channels}
    dearer = "channel,zone,weight_from_kg,weight_to_kg,per_parcel,per_kg\n" + "\n".join(
        f"SAMPLE-LINE-US,{zone},{low},{high},30.00,100.00"
        for zone in ("US-MAIN", "US-NONCONTIGUOUS")
        for low, high in (("0", "2"), ("2", "30"))
    )
    second = sheets_from(dearer, channels, version=2, valid_from=datetime(2026, 3, 1, tzinfo=SHIP_AT.tzinfo))
    sheets = {**CATALOGUE.sheets, "SAMPLE-LINE-US": [*CATALOGUE.sheets["SAMPLE-LINE-US"], *second["SAMPLE-LINE-US"]]}
    catalogue = Catalogue(CATALOGUE.channels, sheets)
    now = plan_of(catalogue.match(shipment()), "SAMPLE-LINE-US")
    then = plan_of(catalogue.match(shipment(ship_at=datetime(2026, 2, 1, tzinfo=SHIP_AT.tzinfo))), "SAMPLE-LINE-US")
    assert (now.sheet.version, now.cost.total.amount) == (2, Decimal("150.00"))
    assert (then.sheet.version, then.cost.total.amount) == (1, Decimal("122.00"))
    before_any = catalogue.match(shipment(ship_at=datetime(2025, 12, 1, tzinfo=SHIP_AT.tzinfo)))
    assert not before_any.plans
    assert reasons_of(before_any, "SAMPLE-LINE-US") == ["no rate sheet valid at 2025-12-01T00:00:00+00:00"]


def test_plans_in_another_currency_rank_after_and_say_why() -> None:
    result = CATALOGUE.match(shipment())
    last = result.plans[-1]
    assert last.candidate.channel.code == "SAMPLE-SEA-WH-US" and "priced in USD" in last.reason
    assert result.plans[0].reason.startswith("cheapest of 7")


def test_deliver_by_puts_plans_that_make_it_first() -> None:
    result = CATALOGUE.match(shipment(preference=Preference.DELIVER_BY, deliver_by=date(2026, 3, 10)))
    meeting = [p for p in result.plans if p.meets_deadline]
    assert {p.candidate.channel.code for p in meeting} == {"SAMPLE-EXP-PRIORITY", "SAMPLE-EXP-ECONOMY"}
    assert list(result.plans[: len(meeting)]) == meeting
    assert [p.candidate.channel.code for p in meeting] == [
        "SAMPLE-EXP-ECONOMY",
        "SAMPLE-EXP-PRIORITY",
    ]  # cheapest first
    assert "meets the deliver-by date 2026-03-10" in meeting[0].reason


# ---- properties over random shipments ----

DESTINATIONS = [(country, code) for country, codes in POSTAL_CODES.items() for code in codes]
batteries = st.sampled_from(
    [
        None,
        Battery("UN3480", BatteryPacking.ALONE),
        Battery("UN3481", BatteryPacking.CONTAINED_IN_EQUIPMENT),
        Battery("UN3481", BatteryPacking.PACKED_WITH_EQUIPMENT),
        Battery("UN3091", BatteryPacking.CONTAINED_IN_EQUIPMENT),
    ]
)
parcels = st.builds(
    Parcel,
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("40"), places=2),
    st.decimals(min_value=Decimal("1"), max_value=Decimal("130"), places=0),
    st.decimals(min_value=Decimal("1"), max_value=Decimal("60"), places=0),
    st.decimals(min_value=Decimal("1"), max_value=Decimal("60"), places=0),
)
shipments = st.builds(
    lambda parcels, destination, battery, flags, value, preference, deliver_day, hour: shipment(
        parcels=tuple(parcels),
        origin="CN",
        country=destination[0],
        postal_code=destination[1],
        goods=Goods("851822", battery, *flags),
        declared_value=Money(Decimal(value), "USD"),
        preference=preference,
        deliver_by=date(2026, 3, deliver_day),
        ship_at=SHIP_AT.replace(hour=hour),
    ),
    st.lists(parcels, min_size=1, max_size=3),
    st.sampled_from(DESTINATIONS),
    batteries,
    st.tuples(st.booleans(), st.booleans(), st.booleans()),
    st.integers(min_value=1, max_value=2000),
    st.sampled_from(list(Preference)),
    st.integers(min_value=5, max_value=31),
    st.integers(min_value=0, max_value=23),
)


@settings(max_examples=150, deadline=None)
@given(shipments)
def test_every_plan_costs_exactly_the_sum_of_its_parts_in_minor_units(s: Shipment) -> None:
    for plan in CATALOGUE.match(s).plans:
        cost = plan.candidate.cost
        assert cost.total.amount == cost.base.amount + cost.weight.amount + cost.fuel.amount + cost.remote_area.amount
        exponent = plan.candidate.channel.currency_exponent
        for part in (cost.base, cost.weight, cost.fuel, cost.remote_area, cost.total):
            assert part.amount == part.amount.quantize(Decimal(1).scaleb(-exponent))
            assert part.amount >= 0
        assert plan.candidate.billable_kg >= sum(p.weight_kg for p in s.parcels)


@settings(max_examples=150, deadline=None)
@given(shipments)
def test_the_ranking_follows_the_preference(s: Shipment) -> None:
    plans = CATALOGUE.match(s).plans
    assert [p.rank for p in plans] == list(range(1, len(plans) + 1))
    main = [p.candidate for p in plans if p.candidate.cost.total.currency == "CNY"]
    if s.preference is Preference.CHEAPEST:
        totals = [c.cost.total.amount for c in main]
        assert totals == sorted(totals)
    if s.preference is Preference.FASTEST:
        days = [p.candidate.transit.p90_days for p in plans]
        assert days == sorted(days)
    if s.preference is Preference.BEST_VALUE:
        scores = [Decimal(p.reason.split()[2]) for p in plans if p.candidate.cost.total.currency == "CNY"]
        assert scores == sorted(scores)
    if s.preference is Preference.DELIVER_BY:
        meets = [p.meets_deadline for p in plans]
        assert meets == sorted(meets, reverse=True)
        assert all(p.candidate.transit.p90_delivery <= s.deliver_by for p in plans if p.meets_deadline)  # type: ignore[operator]


@settings(max_examples=150, deadline=None)
@given(shipments)
def test_the_pareto_set_is_exactly_the_plans_nobody_dominates(s: Shipment) -> None:
    plans = CATALOGUE.match(s).plans
    candidates = [p.candidate for p in plans]
    for plan in plans:
        dominated = any(dominates(other, plan.candidate) for other in candidates if other is not plan.candidate)
        assert plan.pareto is not dominated
    if plans:
        assert any(p.pareto for p in plans)


@settings(max_examples=100, deadline=None)
@given(shipments)
def test_the_indexed_matcher_answers_like_scoring_every_channel(s: Shipment) -> None:
    indexed = CATALOGUE.match(s)
    naive = match_naively(CATALOGUE.channels, CATALOGUE.sheets, s)
    assert indexed == naive


@settings(max_examples=50, deadline=None)
@given(shipments)
def test_every_channel_is_either_a_plan_or_excluded_with_a_reason(s: Shipment) -> None:
    result = CATALOGUE.match(s)
    planned = [p.candidate.channel.code for p in result.plans]
    excluded = [e.channel.code for e in result.excluded]
    assert sorted(planned + excluded) == sorted(c.code for c in CATALOGUE.channels)
    assert all(e.reasons and all(e.reasons) for e in result.excluded)


def test_a_second_parcel_over_the_limit_is_named() -> None:
    small = Parcel(Decimal("1"), Decimal(10), Decimal(10), Decimal(10))
    big = replace(small, weight_kg=Decimal("35"))
    result = CATALOGUE.match(shipment(parcels=(small, big)))
    assert "parcel 2 weight 35 kg over the 30 kg limit" in reasons_of(result, "SAMPLE-LINE-US")
    assert "SAMPLE-EXP-PRIORITY" in [p.candidate.channel.code for p in result.plans]
