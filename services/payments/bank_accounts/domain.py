"""Bank accounts for payouts: validation, normalisation and masking (pure Python).

An account is either an IBAN (ISO 13616-1; check digits ISO 7064 MOD 97-10; per-country length and format
from the SWIFT IBAN registry as shipped by python-stdnum) or a domestic account number with the bank's
SWIFT/BIC (ISO 9362: 4-letter institution, ISO 3166-1 country, 2-character location, optional 3-character
branch). A bank account is PIPL art. 28 sensitive personal information (docs/data-classes.md): this module never
logs, and its masked forms are what callers see.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from services.shared.errors import UnknownCurrency, Violations

HOLDER_NAME_MAX = 140  # ISO 20022 Max140Text (pain.001 Cdtr/Nm)
ACCOUNT_NUMBER_MIN, ACCOUNT_NUMBER_MAX = 4, 34  # 34: the longest IBAN, an upper bound for BBANs too
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ACCOUNT_NUMBER = re.compile(r"^[A-Z0-9]+$")
_SEPARATORS = re.compile(r"[\s\-./]")
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]+$")


@dataclass(frozen=True)
class BankAccountDetails:
    """Validated, normalised account data; iban or account_number is set, never both."""

    holder_name: str
    country: str
    currency: str
    iban: str | None
    account_number: str | None
    bic: str | None

    @property
    def number(self) -> str:
        """The identifying number: the IBAN in electronic form, or the account number."""
        return self.iban or self.account_number or ""

    @property
    def number_field(self) -> str:
        return "iban" if self.iban else "account_number"

    def __repr__(self) -> str:  # never the clear values, even in a traceback or a debugger dump
        return f"BankAccountDetails(country={self.country!r}, currency={self.currency!r}, {self.masked_number()})"

    def masked_number(self) -> str:
        return mask_iban(self.iban) if self.iban else mask_account_number(self.account_number or "")


@dataclass(frozen=True)
class BankAccount:
    """A stored account with its clear values, as the vault reveals it for a payout."""

    code: str
    merchant_code: str
    details: BankAccountDetails

    def __repr__(self) -> str:
        return f"BankAccount(code={self.code!r}, merchant_code={self.merchant_code!r}, {self.details!r})"


def normalise_holder_name(value: str) -> str:
    """NFC and single spaces: the bank compares names as text, so keep letters and case as given."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def normalise_iban(value: str) -> str:
    """Electronic form (ISO 13616-1 5.3): no separators, upper case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()


def normalise_account_number(value: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()


def mask_iban(iban: str) -> str:
    """Country and check digits, then the last four: a fixed-width mask that hides the length too."""
    return f"{iban[:4]} **** **** **** {iban[-4:]}"


def mask_account_number(number: str) -> str:
    return f"**** {number[-4:]}"


def mask_holder_name(name: str) -> str:
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


def _bban_structure(country: str) -> str | None:
    """The registry's BBAN structure for a country, e.g. "8n10n" for DE (python-stdnum's iban.dat)."""
    info = stdnum_iban._ibandb.info(country + "00")
    return info[0][1].get("bban") if info and info[0][1] else None


def iban_problem(iban: str) -> str | None:
    """Why an IBAN in electronic form is invalid; None if it is valid."""
    if not iban:
        return "is required"
    if not _IBAN_SHAPE.match(iban):
        return "must start with a 2-letter country and 2 check digits, then letters and digits only (ISO 13616)"
    structure = _bban_structure(iban[:2])
    if structure is None:
        return f"{iban[:2]!r} is not a country in the IBAN registry"
    expected = 4 + sum(int(n) for n in re.findall(r"\d+", structure))
    if len(iban) != expected:
        return f"an IBAN of country {iban[:2]!r} has {expected} characters, got {len(iban)}"
    try:
        stdnum_iban.validate(iban, check_country=True)
    except InvalidChecksum:
        return "check digits do not match (ISO 7064 MOD 97-10): a digit is wrong or two are swapped"
    except InvalidLength:
        return f"has the wrong length for an IBAN of country {iban[:2]!r}"
    except (InvalidFormat, InvalidComponent):
        return f"does not match the IBAN format of country {iban[:2]!r} (ISO 13616)"
    except ValidationError:
        return "is not a valid IBAN"
    return None


def bic_problem(bic: str) -> str | None:
    try:
        stdnum_bic.validate(bic)
    except ValidationError:
        return (
            "must be a SWIFT/BIC (ISO 9362): 4 letters, 2-letter country, 2-character location, "
            f"optional 3-character branch, got {bic!r}"
        )
    return None


def validate_bank_account(
    *,
    holder_name: str,
    country: str,
    currency: str,
    iban: str,
    account_number: str,
    bic: str,
    violations: Violations,
    known_currency: bool = True,
) -> BankAccountDetails | None:
    """Check every field and collect every problem; the details when there is none.

    `known_currency` is whether the currency is one ISO 4217 lists with a minor unit (the kernel's
    `request_fields.currency` knows); an unknown one is refused as UNKNOWN_CURRENCY, as in every service.
    """
    name = normalise_holder_name(holder_name)
    if not name:
        violations.add("holder_name", "is required")
    elif len(name) > HOLDER_NAME_MAX:
        violations.add("holder_name", f"at most {HOLDER_NAME_MAX} characters, got {len(name)}")

    country_code = country.strip().upper()
    currency_code = currency.strip().upper()
    if not currency_code:
        violations.add("currency", "is required")
    elif not _CURRENCY.match(currency_code):
        violations.add("currency", f"must be three letters (ISO 4217 alphabetic), got {currency!r}")
    elif not known_currency:
        violations.add("currency", f"{currency_code!r} is not an ISO 4217 currency code", error=UnknownCurrency)

    bic_code = stdnum_bic.compact(bic) if bic.strip() else None
    if bic_code is not None and (problem := bic_problem(bic_code)):
        violations.add("bic", problem)
        bic_code = None

    iban_code = normalise_iban(iban) if iban.strip() else None
    number = normalise_account_number(account_number) if account_number.strip() else None
    if iban_code and number:
        violations.add("account_number", "give either iban or account_number, not both")
    elif not iban_code and not number:
        violations.add("iban", "is required unless account_number (with bic) is given")

    if iban_code:
        if problem := iban_problem(iban_code):
            violations.add("iban", problem)
        elif country_code and country_code != iban_code[:2]:
            violations.add("country", f"is {country_code!r} but the IBAN is from {iban_code[:2]!r}")
        country_code = country_code or iban_code[:2]
    elif number:
        if not _ACCOUNT_NUMBER.match(number):
            violations.add("account_number", "may hold only letters and digits (spaces and hyphens are ignored)")
        elif not ACCOUNT_NUMBER_MIN <= len(number) <= ACCOUNT_NUMBER_MAX:
            violations.add(
                "account_number", f"must be {ACCOUNT_NUMBER_MIN}-{ACCOUNT_NUMBER_MAX} characters, got {len(number)}"
            )
        if not bic.strip():
            violations.add("bic", "is required with account_number (it names the bank)")
        if not country_code:
            violations.add("country", "is required with account_number")

    if country_code and not _COUNTRY.match(country_code):
        violations.add("country", f"must be an ISO 3166-1 alpha-2 code (two letters), got {country!r}")
    elif country_code and bic_code and bic_code[4:6] != country_code:
        # ISO 9362: characters 5-6 are the country of the institution that holds the account.
        violations.add("bic", f"is a bank in {bic_code[4:6]!r} but the account is in {country_code!r}")

    if violations:
        return None
    return BankAccountDetails(name, country_code, currency_code, iban_code, number, bic_code)
