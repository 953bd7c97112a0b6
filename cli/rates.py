"""`xborder rates ...`: ops-entered FX rates, spreads and merchant tiers, and a manual refresh (docs/fx.md)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from services.shared.errors import ConfigurationError, XborderError
from services.shared.settings import Settings

app = typer.Typer(help="FX rates: ops entries, spreads, merchant tiers, refresh.", no_args_is_help=True)
console = Console()

MAX_VALID_MINUTES = 7 * 24 * 60


@contextlib.contextmanager
def _desk(*, refreshing: bool = False) -> Iterator:
    from services.payments import bootstrap
    from services.shared.bus import InProcessBus

    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        console.print(f"[red]configuration error:[/red] {error}")
        raise typer.Exit(2) from None
    bus = InProcessBus()
    # Without the platform running, events stay in the payments outbox; its relay publishes them later.
    context = bootstrap.bootstrap(settings, bus)
    try:
        yield bootstrap.fx_desk(context, refreshing=refreshing)
    finally:
        context.close()
        bus.close()


def _fail(what: str, why: str) -> typer.Exit:
    console.print(f"[red]{what}:[/red] {why}")
    return typer.Exit(2)


def _currency(code: str, what: str) -> str:
    from services.shared.money import minor_unit

    value = code.strip().upper()
    try:
        minor_unit(value, field=what)
    except XborderError as error:
        raise _fail(what, error.message) from None
    return value


@app.command("set")
def set_rate(
    base: str = typer.Argument(..., help="ISO 4217 code of the currency priced, e.g. USD."),
    quote: str = typer.Argument(..., help="ISO 4217 code it is priced in, e.g. CNY."),
    rate: str = typer.Argument(..., help="Units of QUOTE per one BASE, e.g. 7.1234."),
    valid_minutes: int = typer.Option(60, help=f"How long the rate may be used (1 to {MAX_VALID_MINUTES})."),
    entered_by: str = typer.Option("ops", help="Who entered it (kept with the rate)."),
) -> None:
    """Enter an ops rate; the chain uses it (and its inverse) while it is valid, never after."""
    from services.payments.fx.service_layer import desk as fx

    base, quote = _currency(base, "BASE"), _currency(quote, "QUOTE")
    if base == quote:
        raise _fail("QUOTE", "must differ from BASE")
    try:
        value = Decimal(rate)
    except InvalidOperation:
        raise _fail("RATE", f"{rate!r} is not a decimal number") from None
    if not value.is_finite() or value <= 0:
        raise _fail("RATE", f"must be a positive number, got {rate}")
    if not 1 <= valid_minutes <= MAX_VALID_MINUTES:
        raise _fail("--valid-minutes", f"must be 1 to {MAX_VALID_MINUTES}, got {valid_minutes}")
    with _desk() as desk:
        stored = fx.set_ops_rate(desk, base, quote, value, valid_minutes, entered_by)
    console.print(
        f"{stored.pair} = {stored.rate} (ops, {stored.derivation}), valid until {stored.expires_at.isoformat()}"
    )


@app.command("show")
def show(
    base: str = typer.Argument(..., help="ISO 4217 code of the currency priced."),
    quote: str = typer.Argument(..., help="ISO 4217 code it is priced in."),
) -> None:
    """Ask the provider chain for a pair: the first fresh rate, or why there is none."""
    from services.payments.fx.service_layer import desk as fx

    base, quote = _currency(base, "BASE"), _currency(quote, "QUOTE")
    with _desk() as desk:
        try:
            rate = fx.fresh_rate(desk, base, quote, desk.clock())
        except XborderError as error:
            console.print(f"[red]{error.reason}:[/red] {error.message}")
            raise typer.Exit(1) from None
    console.print(
        f"{rate.pair} = {rate.rate} from {rate.source} ({rate.derivation}), as of {rate.as_of.isoformat()}, "
        f"fresh until {rate.expires_at.isoformat()}"
    )


@app.command("spread")
def set_spread(
    sell: str = typer.Argument(..., help="Currency sold, or * for any."),
    buy: str = typer.Argument(..., help="Currency bought, or * for any."),
    tier: str = typer.Argument(..., help="Merchant tier: STANDARD, PLUS or ENTERPRISE."),
    bps: int = typer.Argument(..., help="Spread in basis points (before the lock premium)."),
) -> None:
    """Set the spread for a pair and tier (the most specific rule wins)."""
    from services.payments.fx.domain import spreads
    from services.payments.fx.service_layer import desk as fx

    sell_code = "*" if sell == "*" else _currency(sell, "SELL")
    buy_code = "*" if buy == "*" else _currency(buy, "BUY")
    if sell_code == buy_code != "*":
        raise _fail("BUY", "must differ from SELL")
    tier = tier.strip().upper()
    if tier not in spreads.TIERS:
        raise _fail("TIER", f"must be one of {', '.join(spreads.TIERS)}, got {tier!r}")
    if not 0 <= bps <= spreads.MAX_SPREAD_BPS:
        raise _fail("BPS", f"must be 0 to {spreads.MAX_SPREAD_BPS}, got {bps}")
    with _desk() as desk:
        fx.set_spread(desk, spreads.SpreadRule(sell_code, buy_code, tier, bps))
    console.print(f"spread {sell_code}->{buy_code} {tier}: {bps} bps")


@app.command("spreads")
def list_spreads() -> None:
    """List the spread table and the lock premiums."""
    from services.payments.fx.domain import spreads
    from services.payments.fx.service_layer import desk as fx

    with _desk() as desk:
        rules = fx.list_spreads(desk)
    table = Table(title="spreads (bps)")
    for column in ("tier", "sell", "buy", "bps"):
        table.add_column(column)
    for rule in rules:
        table.add_row(rule.tier, rule.sell, rule.buy, str(rule.bps))
    console.print(table)
    console.print("lock premium: " + ", ".join(f"<= {s}s +{b}" for s, b in spreads.LOCK_LADDER))


@app.command("tier")
def set_tier(
    merchant_code: str = typer.Argument(..., help="The merchant's unified code (type MC)."),
    tier: str = typer.Argument(..., help="STANDARD, PLUS or ENTERPRISE."),
) -> None:
    """Put a merchant in a spread tier."""
    from services.payments.fx.domain import spreads
    from services.payments.fx.service_layer import desk as fx
    from services.shared import codes

    try:
        code = codes.parse(merchant_code, field="MERCHANT_CODE", entity_type="MC").value
    except XborderError as error:
        raise _fail("MERCHANT_CODE", error.message) from None
    tier = tier.strip().upper()
    if tier not in spreads.TIERS:
        raise _fail("TIER", f"must be one of {', '.join(spreads.TIERS)}, got {tier!r}")
    with _desk() as desk:
        fx.set_merchant_tier(desk, code, tier)
    console.print(f"{code}: tier {tier}")


class _RecordedProvider:
    """A chain provider that remembers what it answered for each pair, so the refresh can say what happened."""

    def __init__(self, provider: Any, said: dict[str, list[tuple[str, str, bool]]]) -> None:
        self.provider = provider
        self.name = provider.name
        self.said = said

    def fetch(self, base: str, quote: str, now: datetime) -> Any:
        from services.payments.fx.domain.rates import ProviderFailed

        record = self.said.setdefault(f"{base}/{quote}", [])
        try:
            rate = self.provider.fetch(base, quote, now)
        except ProviderFailed as failed:
            record.append((self.name, str(failed), True))
            raise
        except Exception as missing:
            record.append((self.name, str(missing), False))
            raise
        record.append((self.name, "fresh" if rate.is_fresh(now) else "stale", False))
        return rate


@app.command("refresh")
def refresh(
    require_all: bool = typer.Option(
        False, "--require-all", help="Exit 1 when any pair is left without a fresh rate, whatever the reason."
    ),
) -> None:
    """Refresh the configured pairs now (what the scheduled refresh does) and say, per pair, what happened.

    Exits 0 when the chain ran as configured, including a pair that fell back to a later provider or that no
    provider has a fresh rate for (stale or missing data: the report says which and what to do); exits 1 when
    an outage of a provider left a pair without a rate, or with --require-all when any pair has none.
    """
    from services.payments.fx.service_layer import desk as fx

    said: dict[str, list[tuple[str, str, bool]]] = {}
    with _desk(refreshing=True) as desk:
        chain = type(desk.chain)([_RecordedProvider(p, said) for p in desk.chain.providers])
        event = fx.refresh_rates(replace(desk, chain=chain))
        order = ", ".join(desk.chain.order)
    table = Table(title=f"rates refreshed (chain: {order})")
    for column in ("pair", "rate", "source", "as of", "fresh until", "asked before it"):
        table.add_column(column)
    for rate in event.rates:
        pair = f"{rate.base}/{rate.quote}"
        skipped = [f"{name}: {what}" for name, what, _ in said.get(pair, []) if name != rate.source]
        table.add_row(
            pair,
            rate.rate,
            rate.source,
            rate.as_of.ToJsonString(),
            rate.fresh_until.ToJsonString(),
            "; ".join(skipped) or "-",
        )
    if event.rates:
        console.print(table)
    outage = False
    for failure in event.failures:
        pair = failure.split(":", 1)[0]
        outage = outage or any(failed for _, _, failed in said.get(pair, []))
        console.print(f"[yellow]not refreshed[/yellow] {failure}")
    refreshed, total = len(event.rates), len(event.rates) + len(event.failures)
    console.print(f"{refreshed} of {total} pairs refreshed.")
    if event.failures:
        console.print(
            "A pair not refreshed has no fresh rate to quote with until one is: enter an ops rate "
            "(`xborder rates set BASE QUOTE RATE`) or import a current ECB file "
            "(`xborder import --dataset ecb_reference_rates --data-dir DIR`)."
        )
    if outage:
        console.print("[red]a provider failed (outage) and left pairs without a rate[/red]")
    if outage or (require_all and event.failures):
        raise typer.Exit(1)
