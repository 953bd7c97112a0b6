"""Report strings in the merchant's language: Babel message catalogs and Babel's locale formats.

The catalogs are committed as .po files beside this module (package data) and compiled in memory when
first used, so a fresh `make install` needs no build step and no .mo file can go stale. Rule texts are
not here: they come from each rule's en / zh-CN fields in the packs.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency

LANGUAGES = ("en", "zh-CN")
DEFAULT_LANGUAGE = "en"
_LOCALES = {"en": "en", "zh-CN": "zh_CN"}
_HERE = Path(__file__).parent


class UnknownLanguage(ValueError):
    pass


def canonical_language(tag: str) -> str:
    """The supported language a BCP 47 tag names, in its canonical case: tags are case-insensitive, so
    "zh-cn" and "ZH-CN" are "zh-CN"."""
    for language in LANGUAGES:
        if language.lower() == tag.lower():
            return language
    raise UnknownLanguage(f"must be one of {', '.join(LANGUAGES)}, got {tag!r}")


def locale_of(language: str) -> str:
    try:
        return _LOCALES[language]
    except KeyError:
        raise UnknownLanguage(f"must be one of {', '.join(LANGUAGES)}, got {language!r}") from None


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of `language` (English is the source language: no catalog)."""
    locale = locale_of(language)
    po = _HERE / f"{locale}.po"
    if not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def gettext_for(language: str) -> Callable[[str], str]:
    return translations(language).gettext


def money_text(amount: Decimal, currency: str, language: str) -> str:
    """`amount` in `currency` written the way the language's locale writes money (CLDR via Babel)."""
    return format_currency(amount, currency, locale=locale_of(language))


# Message ids, so `pybabel extract` and the tests see one list. English source text is the id.
def N_(message: str) -> str:
    return message


VERDICT_NAMES = {
    "ALLOWED": N_("Allowed"),
    "ALLOWED_WITH_CONDITIONS": N_("Allowed with conditions"),
    "RESTRICTED": N_("Restricted"),
    "PROHIBITED": N_("Prohibited"),
    "UNDETERMINED": N_("Undetermined"),
}
HEADING = N_("Compliance report for %(country)s")
COMPLETE = N_("Complete")
INCOMPLETE = N_("Incomplete: %(count)s point(s) could not be settled, see missing")
