"""UN/CEFACT Recommendation 24 trade and transport status codes (pure Python).

Rec. 24 codes are carrier-neutral (an..3: in practice 1 to 3 digits, e.g. "21" Delivery, completed), the
vocabulary tracking events are normalised to.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_CODE = re.compile(r"^[0-9A-Z]{1,3}$")
_WORD = re.compile(r"[0-9a-z]+")
MAX_QUERY_CHARS = 200


class CodeProblem(ValueError):
    """Why a string is not a Rec. 24 code or query; the message completes "<field> ..."."""


@dataclass(frozen=True)
class StatusCode:
    code: str
    name: str
    description: str


def parse_status_code(value: str) -> str:
    code = value.strip().upper()
    if not code:
        raise CodeProblem("is required: a UN/CEFACT Rec. 24 code such as 21")
    if not _CODE.match(code):
        raise CodeProblem(f"must be 1 to 3 letters or digits (UN/CEFACT Rec. 24), got {value!r}")
    return code


def search_words(text: str) -> list[str]:
    """Lower-case ASCII words of `text` ("Arrival, completed" gives ["arrival", "completed"])."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _WORD.findall(folded)


def search_text(name: str, description: str) -> str:
    """Stored search form: the words of name and description between spaces, so a word prefix is
    `LIKE '% word%'` in SQL."""
    return f" {' '.join(search_words(name + ' ' + description))} "


def parse_query(value: str) -> tuple[str, ...]:
    """The distinct words a listing must match; () for no filter."""
    if len(value) > MAX_QUERY_CHARS:
        raise CodeProblem(f"must be at most {MAX_QUERY_CHARS} characters, got {len(value)}")
    words = tuple(dict.fromkeys(search_words(value)))
    if value.strip() and not words:
        raise CodeProblem(f"must contain letters or digits, got {value!r}")
    return words
