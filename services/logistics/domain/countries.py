"""ISO 3166-1 countries and how a caller may name one (pure Python)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

_ALPHA2 = re.compile(r"^[A-Z]{2}$")
_ALPHA3 = re.compile(r"^[A-Z]{3}$")
_NUMERIC = re.compile(r"^[0-9]{1,3}$")


class CodeKind(Enum):
    ALPHA2 = "alpha2"
    ALPHA3 = "alpha3"
    NUMERIC = "numeric"


class CodeProblem(ValueError):
    """Why a string is not an ISO 3166-1 code; the message completes "code ..."."""


@dataclass(frozen=True)
class CountryCode:
    kind: CodeKind
    value: str  # upper-case letters, or three digits


@dataclass(frozen=True)
class Country:
    alpha2: str
    alpha3: str
    numeric: str
    name_en: str
    name_zh: str
    formal_name_en: str
    formal_name_zh: str
    currency_code: str
    capital: str
    region: str
    sub_region: str
    languages: tuple[str, ...]
    tld: str


def parse_country_code(value: str) -> CountryCode:
    """Alpha-2 ("cn"), alpha-3 ("CHN") or numeric ("156", "4" is "004"), case-insensitive."""
    code = value.strip().upper()
    if not code:
        raise CodeProblem("is required: an ISO 3166-1 alpha-2 (CN), alpha-3 (CHN) or numeric (156) code")
    if _NUMERIC.match(code):
        return CountryCode(CodeKind.NUMERIC, code.zfill(3))
    if _ALPHA2.match(code):
        return CountryCode(CodeKind.ALPHA2, code)
    if _ALPHA3.match(code):
        return CountryCode(CodeKind.ALPHA3, code)
    raise CodeProblem(f"must be an ISO 3166-1 alpha-2 (CN), alpha-3 (CHN) or numeric (156) code, got {value!r}")
