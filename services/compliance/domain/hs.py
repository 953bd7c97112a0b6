"""The WCO Harmonized System 2022 nomenclature: code rules, entries and search queries (pure Python).

HS codes are 2 digits (chapter), 4 (heading) or 6 (subheading). Countries extend them to 8- or 10-digit
national tariff lines (CN, HTS, the Chinese tariff), which the WCO table does not hold: those are refused
with the 6-digit subheading to look up instead, never silently truncated.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

EDITION = "HS2022"
LEVELS = (2, 4, 6)
NATIONAL_LENGTHS = (8, 10)
RESERVED_CHAPTERS = {
    "77": "chapter 77 is reserved by the WCO for possible future use",
    "98": "chapters 98 and 99 are reserved for national use by the contracting parties, outside the WCO table",
    "99": "chapters 98 and 99 are reserved for national use by the contracting parties, outside the WCO table",
}
MAX_QUERY_CHARS = 200

_SEPARATORS = re.compile(r"[.\s]+")
_WORD = re.compile(r"[0-9a-z]+")


class CodeProblem(ValueError):
    """Why a string is not an HS code; the message completes "code ..."."""


@dataclass(frozen=True)
class Section:
    numeral: str
    name: str


@dataclass(frozen=True)
class Ref:
    code: str
    description: str


@dataclass(frozen=True)
class HsEntry:
    code: str
    description: str
    section: Section
    chapter: Ref
    heading: Ref | None  # None for a chapter

    @property
    def level(self) -> int:
        return len(self.code)


def strip_separators(value: str) -> str:
    """ "8507.60" and "8507 60" are 850760: the dotted form is how tariffs print codes."""
    return _SEPARATORS.sub("", value)


def parse_code(value: str) -> str:
    """The HS code in `value`, or CodeProblem saying why it is not one."""
    code = strip_separators(value)
    if not code:
        raise CodeProblem("is required")
    if not code.isascii() or not code.isdigit():
        raise CodeProblem(f"must contain only digits (dots and spaces are ignored), got {value!r}")
    if len(code) in NATIONAL_LENGTHS:
        raise CodeProblem(
            f"{code} is a {len(code)}-digit national tariff line; national lines are not in the WCO HS table, "
            f"look up its 6-digit subheading {code[:6]}"
        )
    if len(code) not in LEVELS:
        raise CodeProblem(f"must be 2, 4 or 6 digits, got {len(code)} ({value!r})")
    return code


def chapter_of(code: str) -> str:
    return code[:2]


def heading_of(code: str) -> str | None:
    return code[:4] if len(code) >= 4 else None


def search_words(text: str) -> list[str]:
    """Lower-case ASCII words of `text`: "Lithium-ion" gives ["lithium", "ion"] (accents folded away)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _WORD.findall(folded)


def search_text(description: str) -> str:
    """The stored search form of a description: its words between spaces, so a word prefix is
    `LIKE '% word%'` in SQL on every engine."""
    return f" {' '.join(search_words(description))} "


@dataclass(frozen=True)
class SearchQuery:
    """Either a code prefix (2 to 6 digits) or words that must all start a word of the description."""

    code_prefix: str | None
    words: tuple[str, ...]

    def key(self) -> str:
        """A canonical form: two spellings of the same search share page tokens."""
        return f"code:{self.code_prefix}" if self.code_prefix else "words:" + " ".join(self.words)


def parse_query(value: str) -> SearchQuery:
    """A search query, or CodeProblem (its message completes "query ...")."""
    if not value.strip():
        raise CodeProblem("is required: words of the description or a code prefix of 2 to 6 digits")
    if len(value) > MAX_QUERY_CHARS:
        raise CodeProblem(f"must be at most {MAX_QUERY_CHARS} characters, got {len(value)}")
    compact = strip_separators(value)
    if compact.isascii() and compact.isdigit():
        if len(compact) in NATIONAL_LENGTHS:
            raise CodeProblem(
                f"{compact} is a {len(compact)}-digit national tariff line; national lines are not in the WCO "
                f"HS table, search its 6-digit subheading {compact[:6]}"
            )
        if not 2 <= len(compact) <= 6:
            raise CodeProblem(f"a code prefix must be 2 to 6 digits, got {len(compact)} ({value!r})")
        return SearchQuery(compact, ())
    words = tuple(dict.fromkeys(search_words(value)))
    if not words:
        raise CodeProblem(f"must contain letters or digits, got {value!r}")
    return SearchQuery(None, words)
