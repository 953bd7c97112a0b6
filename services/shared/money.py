"""Money: a Decimal amount and an ISO 4217 code, with the currency's minor unit enforced.

Never a float. `google.type.Money` on the wire (units + nanos, same sign). Rounding is explicit: callers
pass a rounding mode; splitting uses the largest-remainder method so the parts always sum to the whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from google.type import money_pb2

from services.shared.errors import FieldViolation, UnknownCurrency, ValidationError
from services.shared.iso4217 import CurrencyInfo, default_table

NANOS = Decimal(1_000_000_000)


def currency_info(
    code: str, *, field: str = "currency_code", table: Mapping[str, CurrencyInfo] | None = None
) -> CurrencyInfo:
    """The active ISO 4217 entry for `code`; an UnknownCurrency naming `field` otherwise."""
    info = (table if table is not None else default_table()).get(code)
    if info is None or len(code) != 3 or not code.isupper():
        raise UnknownCurrency([FieldViolation(field, f"{code!r} is not an ISO 4217 currency code")])
    if info.withdrawn:
        raise UnknownCurrency([FieldViolation(field, f"{code} was withdrawn from ISO 4217 ({info.withdrawn})")])
    return info


def minor_unit(code: str, *, field: str = "currency_code") -> int:
    info = currency_info(code, field=field)
    if info.minor_unit is None:
        raise UnknownCurrency([FieldViolation(field, f"{code} has no minor unit in ISO 4217 (not for payments)")])
    return info.minor_unit


@dataclass(frozen=True, order=False)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")
        if not self.amount.is_finite():
            raise ValueError("Money.amount must be finite")

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str, *, field: str = "amount") -> Money:
        """Exact money: more decimals than the currency's minor unit is an error naming `field`."""
        places = minor_unit(currency, field=f"{field}.currency_code")
        try:
            value = Decimal(amount)
        except (InvalidOperation, ValueError):
            raise ValidationError.single(field, f"{amount!r} is not a decimal number") from None
        if not value.is_finite():
            raise ValidationError.single(field, "must be a finite number")
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)
        if -exponent > places and value != value.quantize(Decimal(1).scaleb(-places)):
            raise ValidationError.single(field, f"{currency} allows {places} decimal places, got {value}")
        return cls(value.quantize(Decimal(1).scaleb(-places)), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(Decimal(minor).scaleb(-minor_unit(currency)), currency)

    @property
    def minor(self) -> int:
        """The amount in minor units (exact: Money.of already refused extra decimals)."""
        return int(self.amount.scaleb(minor_unit(self.currency)))

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def rounded(self, rounding: str = ROUND_HALF_EVEN) -> Money:
        """Round to the currency's minor unit with an explicit rounding mode."""
        return Money(
            self.amount.quantize(Decimal(1).scaleb(-minor_unit(self.currency)), rounding=rounding), self.currency
        )

    def allocate(self, weights: Sequence[int | Decimal]) -> list[Money]:
        """Split by weights in minor units, largest remainder first, so the parts sum exactly to self."""
        if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
            raise ValueError("weights must be non-negative with a positive sum")
        total = self.minor
        weight_sum = Decimal(sum(weights))
        exact = [Decimal(total) * Decimal(w) / weight_sum for w in weights]
        floors = [int(e.to_integral_value(rounding="ROUND_FLOOR")) for e in exact]
        left = total - sum(floors)
        order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
        for i in order[:left]:
            floors[i] += 1
        return [Money.from_minor(m, self.currency) for m in floors]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def to_proto(money: Money) -> money_pb2.Money:
    units = int(money.amount)  # truncates toward zero, so nanos keep the sign of units
    nanos = int((money.amount - units) * NANOS)
    return money_pb2.Money(currency_code=money.currency, units=units, nanos=nanos)


def from_proto(message: money_pb2.Money, *, field: str = "amount") -> Money:
    """Wire money to Money, checking the code, the nanos range and sign, and the minor unit."""
    violations = []
    if not message.currency_code:
        violations.append(FieldViolation(f"{field}.currency_code", "is required"))
    if not -999_999_999 <= message.nanos <= 999_999_999:
        violations.append(FieldViolation(f"{field}.nanos", "must be between -999999999 and 999999999"))
    if (message.units > 0 and message.nanos < 0) or (message.units < 0 and message.nanos > 0):
        violations.append(FieldViolation(f"{field}.nanos", "must have the same sign as units"))
    if violations:
        raise ValidationError(violations)
    amount = Decimal(message.units) + Decimal(message.nanos) / NANOS
    return Money.of(amount.normalize() if amount else Decimal(0), message.currency_code, field=field)
