"""Matching a shipment to channels: every channel either prices it as a plan or is excluded with its
reasons (pure Python).

`Catalogue` indexes the channels by lane (origin, destination country) once, so a request evaluates in full
only the channels that serve its lane; the others' exclusion reasons are computed once per lane and
reused. `match_naively` evaluates every channel in full on every request, which the benchmark compares
against (benchmarks/bench_plan_match.py); both give the same answer.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from services.logistics.domain.channels import Channel, Zone
from services.logistics.domain.lane_history import DEFAULT_MINIMUM, LaneHistory, learn
from services.logistics.domain.pricing import (
    Cost,
    Shipment,
    Transit,
    billable_weight,
    price,
    rates_for_parcels,
    transit,
)
from services.logistics.domain.ranking import RankedPlan, rank
from services.logistics.domain.rate_sheets import RateSheet

QUALITY_SOURCE = "the channel's default score; no tracking history for this channel and lane yet"


@dataclass(frozen=True)
class Candidate:
    """A channel that can carry the shipment, priced; ranking turns it into a RankedPlan."""

    channel: Channel
    zone: Zone
    sheet: RateSheet
    cost: Cost
    billable_kg: Decimal
    transit: Transit
    quality: int
    notes: tuple[str, ...]
    warehouse_code: str = ""  # set when the plan ships the merchant's stock from an overseas warehouse
    ship_from: str = ""  # that warehouse's country
    quality_source: str = QUALITY_SOURCE


@dataclass(frozen=True)
class Exclusion:
    channel: Channel
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class MatchResult:
    plans: tuple[RankedPlan, ...]
    excluded: tuple[Exclusion, ...]


def _lane_reasons(channel: Channel, origin: str, country: str) -> list[str]:
    reasons = []
    if origin not in channel.origin_countries:
        reasons.append(f"does not ship from {origin} (ships from {', '.join(sorted(channel.origin_countries))})")
    if not channel.serves(country):
        reasons.append(f"does not serve {country}")
    return reasons


def _goods_reasons(channel: Channel, shipment: Shipment) -> list[str]:
    limits = channel.restrictions
    goods = shipment.goods
    reasons = []
    if goods.battery is not None and (goods.battery.un_number, goods.battery.packing) not in limits.batteries:
        reasons.append(f"{goods.battery.describe()} are not accepted")
    for present, accepted, word in (
        (goods.liquid, limits.liquids, "liquids"),
        (goods.magnet, limits.magnets, "magnets"),
        (goods.powder, limits.powders, "powders"),
    ):
        if present and not accepted:
            reasons.append(f"{word} are not accepted")
    chapter = goods.hs_code[:2]
    if chapter in limits.prohibited_hs_chapters:
        reasons.append(f"HS chapter {chapter} (HS code {goods.hs_code}) is not accepted")
    for number, parcel in enumerate(shipment.parcels, start=1):
        label = f"parcel {number} " if len(shipment.parcels) > 1 else ""
        if parcel.weight_kg > limits.max_weight_kg:
            reasons.append(
                f"{label}weight {parcel.weight_kg.normalize():f} kg over the {limits.max_weight_kg} kg limit"
            )
        if parcel.longest_side_cm > limits.max_side_cm:
            reasons.append(
                f"{label}longest side {parcel.longest_side_cm.normalize():f} cm over the {limits.max_side_cm} cm limit"
            )
        if limits.max_girth_cm is not None and parcel.girth_cm > limits.max_girth_cm:
            reasons.append(
                f"{label}length + girth {parcel.girth_cm.normalize():f} cm over the {limits.max_girth_cm} cm limit"
            )
    return reasons


def _value_check(channel: Channel, shipment: Shipment) -> tuple[list[str], list[str]]:
    """(reasons, notes): a limit in another currency cannot be checked without an FX rate, so it is a note."""
    limit = channel.restrictions.max_declared_value
    if limit is None:
        return [], []
    value = shipment.declared_value
    if value.currency != limit.currency:
        return [], [f"declared-value limit {limit} not checked: the value is declared in {value.currency}"]
    if value.amount > limit.amount:
        return [f"declared value {value} over the {limit} limit"], []
    return [], []


def sheet_at(sheets: list[RateSheet], at: datetime) -> RateSheet | None:
    """The version valid at `at`: the latest whose valid_from is not after it (sheets in valid_from order)."""
    index = bisect.bisect_right([s.valid_from for s in sheets], at)
    return sheets[index - 1] if index else None


def evaluate(
    channel: Channel,
    sheets: list[RateSheet],
    shipment: Shipment,
    history: LaneHistory | None = None,
    minimum: int = DEFAULT_MINIMUM,
) -> Candidate | Exclusion:
    """Price the shipment on one channel, or say every reason it cannot take it; transit and quality
    learned from the lane's `history` once it has `minimum` delivered shipments."""
    reasons = _lane_reasons(channel, shipment.origin, shipment.country)
    if reasons:
        return Exclusion(channel, tuple(reasons))
    zone = channel.zone_for(shipment.country, shipment.postal_code)
    if zone is None:
        shown = shipment.postal_code or "(none given)"
        reasons.append(f"no zone for postal code {shown} in {shipment.country}")
    reasons += _goods_reasons(channel, shipment)
    value_reasons, notes = _value_check(channel, shipment)
    reasons += value_reasons
    sheet = sheet_at(sheets, shipment.ship_at)
    if sheet is None:
        reasons.append(f"no rate sheet valid at {shipment.ship_at.isoformat()}")
    if reasons or zone is None or sheet is None:
        return Exclusion(channel, tuple(reasons))
    billable = [billable_weight(p, channel.dim_divisor, channel.weight_increment_kg) for p in shipment.parcels]
    rates = sheet.zones[zone.name]
    brackets = rates_for_parcels(rates, billable)
    if isinstance(brackets, int):
        label = f"parcel {brackets + 1} " if len(shipment.parcels) > 1 else ""
        return Exclusion(
            channel,
            (
                f"{label}billable weight {billable[brackets]} kg above the rate sheet's last bracket "
                f"({rates.top_kg} kg) for zone {zone.name}",
            ),
        )
    remote = channel.remote_area is not None and channel.remote_area.applies(shipment.country, shipment.postal_code)
    if remote:
        notes.append(f"postal code {shipment.postal_code} is in a remote-area range")
    cost = price(channel, brackets, billable, remote)
    published = transit(channel, zone, shipment.ship_at)
    learned = learn(history, zone.transit_max_days, minimum)
    if learned is None:
        return Candidate(
            channel, zone, sheet, cost, sum(billable, Decimal(0)), published, channel.default_quality, tuple(notes)
        )
    leaves = published.p50_delivery - timedelta(days=published.p50_days)
    lane = f"{channel.code} to {shipment.country}"
    learned_transit = Transit(
        learned.p50_days,
        learned.p90_days,
        leaves + timedelta(days=learned.p50_days),
        leaves + timedelta(days=learned.p90_days),
        f"learned from {learned.sample} delivered shipments on {lane} (booking to delivery)",
    )
    quality_source = (
        f"learned from {history.finished if history else 0} finished shipments on {lane}: on time "
        f"{learned.on_time_rate:.0%} (within the published {zone.transit_max_days} days), exceptions "
        f"{learned.exception_rate:.0%}, lost {learned.loss_rate:.0%}"
    )
    return Candidate(
        channel,
        zone,
        sheet,
        cost,
        sum(billable, Decimal(0)),
        learned_transit,
        learned.quality,
        tuple(notes),
        quality_source=quality_source,
    )


def _result(candidates: list[Candidate], excluded: list[Exclusion], shipment: Shipment) -> MatchResult:
    """`excluded` in channel-code order."""
    return MatchResult(tuple(rank(candidates, shipment.preference, shipment.deliver_by)), tuple(excluded))


def match_naively(
    channels: Iterable[Channel],
    sheets: Mapping[str, list[RateSheet]],
    shipment: Shipment,
    lanes: Mapping[tuple[str, str], LaneHistory] | None = None,
    minimum: int = DEFAULT_MINIMUM,
) -> MatchResult:
    """Every channel evaluated in full: the reference the indexed matcher must agree with."""
    lanes = lanes or {}
    outcomes = [
        evaluate(channel, sheets.get(channel.code, []), shipment, lanes.get((channel.code, shipment.country)), minimum)
        for channel in channels
    ]
    candidates = [o for o in outcomes if isinstance(o, Candidate)]
    excluded = sorted((o for o in outcomes if isinstance(o, Exclusion)), key=lambda e: e.channel.code)
    return _result(candidates, excluded, shipment)


def _code(exclusion: Exclusion) -> str:
    return exclusion.channel.code


@dataclass
class Catalogue:
    """The channels and all their rate-sheet versions, indexed by lane; immutable once built."""

    channels: tuple[Channel, ...]
    sheets: Mapping[str, list[RateSheet]]  # channel code -> versions in valid_from order
    lanes: Mapping[tuple[str, str], LaneHistory] = field(default_factory=dict)  # (channel, country) -> history
    minimum: int = DEFAULT_MINIMUM  # delivered shipments a lane needs before its figures are learned
    _by_lane: dict[tuple[str, str], list[Channel]] = field(default_factory=dict, init=False, repr=False)
    _off_lane: dict[tuple[str, str], list[Exclusion]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.channels = tuple(sorted(self.channels, key=lambda c: c.code))
        self._origins = frozenset(o for c in self.channels for o in c.origin_countries)
        self._destinations = frozenset(d for c in self.channels for z in c.zones for d in z.countries)

    def _lane(self, origin: str, country: str) -> tuple[list[Channel], list[Exclusion]]:
        key = (origin, country)
        if key not in self._by_lane:
            on_lane: list[Channel] = []
            off_lane: list[Exclusion] = []
            for channel in self.channels:
                reasons = _lane_reasons(channel, origin, country)
                if reasons:
                    off_lane.append(Exclusion(channel, tuple(reasons)))
                else:
                    on_lane.append(channel)
            # Lanes nobody asks for are not kept: the cache holds at most origins x destinations entries.
            if origin in self._origins and country in self._destinations:
                self._by_lane[key], self._off_lane[key] = on_lane, off_lane
            return on_lane, off_lane
        return self._by_lane[key], self._off_lane[key]

    def match(self, shipment: Shipment) -> MatchResult:
        candidates, excluded = self.outcomes(shipment)
        return _result(candidates, excluded, shipment)

    def outcomes(self, shipment: Shipment) -> tuple[list[Candidate], list[Exclusion]]:
        """The lane's priced candidates, unranked, and every exclusion in channel-code order."""
        on_lane, off_lane = self._lane(shipment.origin, shipment.country)
        candidates: list[Candidate] = []
        excluded = list(off_lane)  # in code order, as the channels are; the lane's exclusions go in between
        for channel in on_lane:
            history = self.lanes.get((channel.code, shipment.country))
            outcome = evaluate(channel, self.sheets.get(channel.code, []), shipment, history, self.minimum)
            if isinstance(outcome, Candidate):
                candidates.append(outcome)
            else:
                bisect.insort(excluded, outcome, key=_code)
        return candidates, excluded

    def current_version(self, code: str, at: datetime) -> RateSheet | None:
        return sheet_at(self.sheets.get(code, []), at)
