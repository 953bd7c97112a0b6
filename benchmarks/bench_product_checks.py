"""Product checks per second on one core: the indexed, precompiled engine vs evaluating every rule.

A synthetic catalogue drawn from the real HS 2022 subheadings (data/hs) and the attribute vocabulary of the
rule-pack format, checked for 5 markets against the shipped rule library (data/rules) at the ECB rates of
one date. Both engines run in this process on the same products; the naive loop runs on a subset (it is
slow) and every one of its answers is compared with the indexed engine's. No database, no gRPC: this is
the engine's ceiling; the RPC path adds the costs measured in bench_grpc_baseline.

    .venv/bin/python benchmarks/bench_product_checks.py                 # 100k products x 5 markets
    .venv/bin/python benchmarks/bench_product_checks.py --products 20000 --naive 2000
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from services.compliance.adapters.rule_packs import read_packs
from services.compliance.domain.engine import CompiledLibrary, naive_check
from services.compliance.domain.fx import EcbRates
from services.compliance.domain.library import Reference
from services.compliance.domain.product import AGE_GROUPS, BATTERY_PACKINGS, BATTERY_TYPES, Product
from services.shared.ecb_file import read_ecb_history
from services.shared.iso4217 import default_table
from services.shared.money import Money

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
MARKETS = ("US", "DE", "GB", "JP", "AU")
DAY = date(2026, 3, 2)
MATERIALS = ("cotton", "polyester", "leather", "wood", "plastic", "glass", "metal", "ivory", "fur")
CERTS = ("CE", "UKCA", "FCC-SDOC", "FCC-ID", "PSE", "RCM", "UN38.3", "GPSR-RP", "EN71", "CPC")
LANGS = ("en", "de", "fr", "ja", "zh")


def hs_codes() -> tuple[list[str], set[str]]:
    subheadings, every = [], set()
    with (DATA / "hs" / "harmonized-system.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["hscode"]
            if row["section"] == "TOTAL" or not code.isdigit():
                continue
            every.add(code)
            if len(code) == 6:
                subheadings.append(code)
    return subheadings, every


def countries() -> set[str]:
    with (DATA / "countries" / "country-codes.csv").open(encoding="utf-8") as handle:
        return {row["ISO3166-1-Alpha-2"] for row in csv.DictReader(handle) if row["ISO3166-1-Alpha-2"]}


def catalogue(count: int, subheadings: list[str], seed: int = 7) -> list[Product]:
    rng = random.Random(seed)
    # Chapters the rules care about (electronics, toys, textiles, cosmetics) are over-represented, as in a
    # cross-border seller's catalogue; the rest is drawn from the whole table.
    focus = [c for c in subheadings if c[:2] in ("85", "95", "61", "62", "33", "39", "94", "84", "42")]
    products = []
    for _ in range(count):
        hs = rng.choice(focus if rng.random() < 0.7 else subheadings)
        attributes: dict[str, object] = {}
        if hs.startswith(("85", "84", "95")) or rng.random() < 0.1:
            battery = rng.choice(BATTERY_TYPES)
            attributes["battery_type"] = battery
            if battery in ("lithium_ion", "lithium_metal"):
                attributes["battery_wh"] = Decimal(rng.choice(("5", "18.5", "50", "99", "120", "160")))
                attributes["battery_packing"] = rng.choice(BATTERY_PACKINGS)
                attributes["state_of_charge_pct"] = Decimal(rng.choice(("30", "50", "100")))
            attributes["radio"] = rng.random() < 0.5
            attributes["mains_powered"] = rng.random() < 0.4
        if hs[:2] in ("61", "62", "63"):
            attributes["textile"] = True
        if rng.random() < 0.5:
            attributes["materials"] = tuple(rng.sample(MATERIALS, rng.randint(1, 2)))
        for flag in ("food_contact", "cosmetic", "contains_magnets", "contains_small_parts", "drone"):
            if rng.random() < 0.05:
                attributes[flag] = True
        currency = rng.choice(("CNY", "EUR", "USD", "GBP"))
        amount = Decimal(rng.randint(100, 200_000)) / 100
        products.append(
            Product(
                hs_code=hs,
                origin_country=rng.choice(("CN", "CN", "CN", "VN", "HK")),
                declared_value=Money.of(amount, currency),
                weight_kg=Decimal(rng.randint(1, 5000)) / 1000,
                target_age_group=rng.choice(AGE_GROUPS) if rng.random() < 0.6 else "",
                certifications=frozenset(rng.sample(CERTS, rng.randint(0, 3))),
                label_languages=frozenset(rng.sample(LANGS, rng.randint(1, 2))),
                attributes=attributes,
            )
        )
    return products


def _line(name: str, checks: int, cpu: float, wall: float) -> str:
    return f"{name:<8}: {checks:>8} checks in {cpu:6.2f} CPU s ({wall:.2f} s wall) = {checks / cpu:>9,.0f} checks/CPU-s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000, help="catalogue size (default 100000)")
    parser.add_argument("--naive", type=int, default=5_000, help="products for the naive baseline (default 5000)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says

    subheadings, every_code = hs_codes()
    currencies = frozenset(code for code, info in default_table().items() if not info.withdrawn)
    rules, packs, _ = read_packs(
        DATA / "rules",
        Reference(frozenset(every_code), frozenset(countries()), currencies),
        DATA / "rules" / "schema.json",
    )
    history = read_ecb_history(DATA / "fx" / "eurofxref-hist.zip")
    rates = EcbRates.from_rows([(r["rate_date"], r["currency"], Decimal(str(r["units_per_eur"]))) for r in history])  # type: ignore[misc]
    products = catalogue(args.products, subheadings)
    print(
        f"library: {len(rules)} rules from {len(packs)} packs; "
        f"catalogue: {len(products)} products x {len(MARKETS)} markets"
    )

    started = time.perf_counter()
    library = CompiledLibrary(rules)
    print(f"index build: {(time.perf_counter() - started) * 1000:.1f} ms")

    verdicts: dict[str, int] = {}
    cpu_started, started = time.process_time(), time.perf_counter()
    for product in products:
        for market in MARKETS:
            outcome = library.check(product, market, DAY, rates)
            verdicts[outcome.verdict] = verdicts.get(outcome.verdict, 0) + 1
    indexed_s, indexed_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    indexed_rate = len(products) * len(MARKETS) / indexed_cpu

    subset = products[: args.naive]
    cpu_started, started = time.process_time(), time.perf_counter()
    naive = [naive_check(rules, p, m, DAY, rates) for p in subset for m in MARKETS]
    naive_s, naive_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    naive_rate = len(naive) / naive_cpu
    same = all(
        a == library.check(p, m, DAY, rates)
        for a, (p, m) in zip(naive, ((p, m) for p in subset for m in MARKETS), strict=True)
    )

    print(_line("indexed", len(products) * len(MARKETS), indexed_cpu, indexed_s))
    print(_line("naive", len(naive), naive_cpu, naive_s) + f"  (subset of {len(subset)} products)")
    print(
        f"ratio   : {indexed_rate / naive_rate:.1f}x the naive loop; target >= 20,000 checks/s on one core: "
        f"{'met' if indexed_rate >= 20_000 else 'NOT met'}"
    )
    print(f"naive and indexed answers identical on the subset: {same}")
    print("verdicts:", ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))


if __name__ == "__main__":
    main()
