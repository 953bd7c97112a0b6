"""The product as the rules see it, and the attribute vocabulary a condition may name (pure Python).

The vocabulary is fixed by the rule-pack format (data/rules/schema.json): each attribute has a type, so a
pack's `100` and a request's "100.0" compare as the same Decimal, never as floats or strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from services.shared.money import Money

NUMBER, INTEGER, BOOLEAN, TEXT, TEXT_LIST = "number", "integer", "boolean", "text", "list"

AGE_GROUPS = ("adult", "teen", "child", "infant")
BATTERY_TYPES = ("none", "lithium_ion", "lithium_metal", "nimh", "alkaline", "lead_acid")
BATTERY_PACKINGS = ("alone", "with_equipment", "in_equipment")

TOP_LEVEL: Mapping[str, str] = {
    "hs_code": TEXT,
    "origin_country": TEXT,
    "weight_kg": NUMBER,
    "target_age_group": TEXT,
    "certifications": TEXT_LIST,
    "label_languages": TEXT_LIST,
}
ATTRIBUTES: Mapping[str, str] = {
    "battery_type": TEXT,
    "battery_wh": NUMBER,
    "battery_packing": TEXT,
    "lithium_metal_g": NUMBER,
    "battery_count": INTEGER,
    "state_of_charge_pct": NUMBER,
    "radio": BOOLEAN,
    "mains_powered": BOOLEAN,
    "voltage_ac": NUMBER,
    "materials": TEXT_LIST,
    "substances": TEXT_LIST,  # CAS registry numbers of substances the product contains (Proposition 65, REACH)
    "food_contact": BOOLEAN,
    "cosmetic": BOOLEAN,
    "contains_magnets": BOOLEAN,
    "button_cell_battery": BOOLEAN,  # contains or is a button cell or coin battery (16 CFR 1263)
    "contains_small_parts": BOOLEAN,
    "textile": BOOLEAN,
    "contains_cbd": BOOLEAN,
    "weapon": BOOLEAN,
    "drone": BOOLEAN,
    "medical_device": BOOLEAN,  # placed on the market with a medical purpose (diagnosis, monitoring, treatment)
    "ppe": BOOLEAN,  # personal protective equipment: worn or held to protect against a health or safety risk
    "water_absorbing_polymer": BOOLEAN,  # made of a water-absorbing synthetic resin that swells in water (water beads)
    # One of the durable infant or toddler products of 16 CFR 1130.2 (cribs, strollers, high chairs, carriers...).
    "durable_infant_product": BOOLEAN,
    "laser_class": TEXT,
    # The country the parcel is dispatched from (an overseas warehouse's, say); thresholds such as Canada's
    # CUSMA courier relief depend on it, not on where the goods were made (CBSA Customs Notice 20-18).
    "ship_from_country": TEXT,
}
COUNTRY_ATTRIBUTES = frozenset({"ship_from_country"})
ENUMERATED: Mapping[str, tuple[str, ...]] = {
    "battery_type": BATTERY_TYPES,
    "battery_packing": BATTERY_PACKINGS,
    "target_age_group": AGE_GROUPS,
}
VOCABULARY: Mapping[str, str] = {**TOP_LEVEL, **ATTRIBUTES}


class AttributeProblem(ValueError):
    """Why a value does not fit its attribute; the message completes "<attribute> ..."."""


def coerce(attribute: str, value: Any) -> Any:
    """`value` as the attribute's type: Decimal, int, bool, str or tuple of str."""
    kind = VOCABULARY.get(attribute)
    if kind is None:
        raise AttributeProblem(f"is not a known attribute (known: {', '.join(sorted(VOCABULARY))})")
    if kind == TEXT_LIST:
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(str(item).strip() for item in items if str(item).strip())
    text_value = coerce_scalar(kind, value)
    if attribute in COUNTRY_ATTRIBUTES:
        text_value = text_value.upper()
    allowed = ENUMERATED.get(attribute)
    if allowed and text_value not in allowed:
        raise AttributeProblem(f"must be one of {', '.join(allowed)}, got {text_value!r}")
    return text_value


def coerce_scalar(kind: str, value: Any) -> Any:
    """One value as NUMBER (Decimal), INTEGER (int), BOOLEAN or TEXT."""
    if kind in (NUMBER, INTEGER):
        if isinstance(value, bool):
            raise AttributeProblem(f"must be a number, got {value!r}")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise AttributeProblem(f"must be a number, got {value!r}") from None
        if not number.is_finite():
            raise AttributeProblem(f"must be a finite number, got {value!r}")
        if kind == INTEGER:
            if number != number.to_integral_value():
                raise AttributeProblem(f"must be a whole number, got {value!r}")
            return int(number)
        return number
    if kind == BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise AttributeProblem(f"must be true or false, got {value!r}")
    return str(value).strip()


@dataclass(frozen=True)
class Product:
    hs_code: str  # 6 digits, checked against the HS table before a check
    title: str = ""
    gtin: str = ""
    origin_country: str = ""
    declared_value: Money | None = None
    weight_kg: Decimal | None = None
    target_age_group: str = ""
    certifications: frozenset[str] = frozenset()
    label_languages: frozenset[str] = frozenset()
    attributes: Mapping[str, Any] = field(default_factory=dict)  # already coerced

    def facts(self) -> Mapping[str, Any]:
        """Every stated attribute by name: what conditions read. Unstated ones are absent, not empty.

        Built once per product (a check for 5 markets reads it 5 times); the product is immutable.
        """
        cached = self.__dict__.get("_facts")
        if cached is None:
            cached = self._facts_now()
            object.__setattr__(self, "_facts", cached)
        return cached

    def _facts_now(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.attributes)
        out["hs_code"] = self.hs_code
        if self.origin_country:
            out["origin_country"] = self.origin_country
            # Goods not said to leave from elsewhere are taken to ship from their origin, the direct case.
            out.setdefault("ship_from_country", self.origin_country)
        if self.weight_kg is not None:
            out["weight_kg"] = self.weight_kg
        if self.target_age_group:
            out["target_age_group"] = self.target_age_group
        out["certifications"] = tuple(sorted(self.certifications))
        if self.label_languages:
            out["label_languages"] = tuple(sorted(self.label_languages))
        return out

    def to_document(self) -> dict[str, Any]:
        """JSON-ready form, stored with each check so a re-check can rebuild the product."""
        return {
            "hs_code": self.hs_code,
            "title": self.title,
            "gtin": self.gtin,
            "origin_country": self.origin_country,
            "declared_value": (
                {"amount": str(self.declared_value.amount), "currency": self.declared_value.currency}
                if self.declared_value
                else None
            ),
            "weight_kg": str(self.weight_kg) if self.weight_kg is not None else None,
            "target_age_group": self.target_age_group,
            "certifications": sorted(self.certifications),
            "label_languages": sorted(self.label_languages),
            "attributes": {k: _plain(v) for k, v in sorted(self.attributes.items())},
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Product:
        value = doc.get("declared_value")
        return cls(
            hs_code=doc["hs_code"],
            title=doc.get("title", ""),
            gtin=doc.get("gtin", ""),
            origin_country=doc.get("origin_country", ""),
            declared_value=Money(Decimal(value["amount"]), value["currency"]) if value else None,
            weight_kg=Decimal(doc["weight_kg"]) if doc.get("weight_kg") is not None else None,
            target_age_group=doc.get("target_age_group", ""),
            certifications=frozenset(doc.get("certifications", ())),
            label_languages=frozenset(doc.get("label_languages", ())),
            attributes={k: coerce(k, v) for k, v in (doc.get("attributes") or {}).items()},
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value
