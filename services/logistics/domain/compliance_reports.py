"""What a compliance report changes in a match (pure Python): its battery attributes fill in the goods'
battery when the request states none, and each PROHIBITED finding that counts excludes every channel.

A finding counts as the compliance engine counts it: its value threshold was determined. An uncertain one
(the declared value lies within a stale rate's margin of the bound) is named in the note but not applied,
since the report does not say on which side of the bound the value fell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from services.logistics.domain.channels import Battery, BatteryPacking
from services.logistics.domain.matching import Exclusion, MatchResult
from services.logistics.domain.pricing import Goods

# compliance's battery_type / battery_packing vocabulary -> UN number (packed alone, with or in equipment)
_UN_NUMBERS = {"lithium_ion": ("UN3480", "UN3481"), "lithium_metal": ("UN3090", "UN3091")}
_PACKINGS = {
    "alone": BatteryPacking.ALONE,
    "with_equipment": BatteryPacking.PACKED_WITH_EQUIPMENT,
    "in_equipment": BatteryPacking.CONTAINED_IN_EQUIPMENT,
}


@dataclass(frozen=True)
class ReportFinding:
    rule_code: str
    severity: str  # PROHIBITED, RESTRICTED, CONDITION or INFO
    requirement_kind: str
    requirement_code: str
    title: str
    determined: bool
    uncertain: bool

    @property
    def prohibits(self) -> bool:
        return self.severity == "PROHIBITED" and self.determined and not self.uncertain


@dataclass(frozen=True)
class ComplianceReport:
    code: str
    destination: str
    merchant_code: str  # "" when the check named none
    battery_attributes: Mapping[str, str]  # battery_type, battery_packing, battery_wh, ... as compliance states them
    findings: tuple[ReportFinding, ...]


def battery_of(attributes: Mapping[str, str]) -> tuple[Battery | None, str]:
    """The lithium battery the attributes describe, and a phrase saying how it was read (or why not)."""
    kind = attributes.get("battery_type", "")
    if kind not in _UN_NUMBERS:
        return None, f"battery_type {kind}: no lithium battery" if kind else "no battery_type stated"
    packing_word = attributes.get("battery_packing", "")
    packing = _PACKINGS.get(packing_word)
    if packing is None:
        return None, f"battery_type {kind} without battery_packing: goods.battery left unset"
    alone, with_equipment = _UN_NUMBERS[kind]
    battery = Battery(alone if packing is BatteryPacking.ALONE else with_equipment, packing)
    return battery, f"battery_type {kind}, battery_packing {packing_word} -> {battery.un_number} {packing.value}"


@dataclass(frozen=True)
class Applied:
    goods: Goods
    reasons: tuple[str, ...]  # one per prohibiting finding; each excludes every channel
    note: str


def apply(report: ComplianceReport, goods: Goods) -> Applied:
    """The goods the match uses and the exclusion reasons the report adds, with the note that says so."""
    parts = [f"compliance report {report.code} for {report.destination} applied"]
    if goods.battery is None:
        battery, how = battery_of(report.battery_attributes)
        parts.append(how)
        if battery is not None:
            goods = replace(goods, battery=battery)
    else:
        parts.append(f"goods.battery as requested ({goods.battery.un_number}); the report's battery attributes unused")
    reasons = tuple(
        f"prohibited for {report.destination} by compliance rule {f.rule_code} ({f.title}) in report {report.code}"
        for f in report.findings
        if f.prohibits
    )
    used = [f.rule_code for f in report.findings if f.prohibits]
    parts.append(f"PROHIBITED findings excluding every channel: {', '.join(used)}" if used else "no PROHIBITED finding")
    uncertain = [f.rule_code for f in report.findings if f.severity == "PROHIBITED" and not f.prohibits]
    if uncertain:
        parts.append(f"undetermined or uncertain PROHIBITED findings not applied: {', '.join(uncertain)}")
    shipping = [
        f.requirement_code or f.rule_code for f in report.findings if f.requirement_kind == "SHIPPING_RESTRICTION"
    ]
    if shipping:
        parts.append(f"shipping restrictions in the report: {', '.join(shipping)}")
    return Applied(goods, reasons, "; ".join(parts))


def exclude_every_channel(result: MatchResult, reasons: tuple[str, ...]) -> MatchResult:
    """No plan: every channel excluded, the reasons added to those it already had, one entry per channel."""
    if not reasons:
        return result
    merged: dict[str, Exclusion] = {}
    for exclusion in result.excluded:
        merged[exclusion.channel.code] = Exclusion(exclusion.channel, exclusion.reasons + reasons)
    for ranked in result.plans:
        channel = ranked.candidate.channel
        merged.setdefault(channel.code, Exclusion(channel, reasons))
    return MatchResult((), tuple(merged[code] for code in sorted(merged)))
