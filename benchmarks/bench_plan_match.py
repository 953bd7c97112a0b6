"""Plan matching latency: the lane-indexed matcher against scoring every channel, in one run, in-process.

Builds a synthetic catalogue of N channels (default 500) from the 18 sample channels (data/logistics): each
copy gets its own code, origins drawn from 4 countries, its zones remapped onto destinations drawn from 40
countries, and its sample rates scaled by a random factor. Then it matches the same R random shipments
(parcels, goods with and without batteries, every preference) with

  indexed   Catalogue.match: channels off the lane are excluded from a per-lane cache, only the lane's
            channels are evaluated in full (what MatchPlans runs)
  naive     match_naively: every channel evaluated in full on every request (the reference)
  stock     with W synthetic warehouses (default 50) in destination markets, each holding the order: pick
            the destination's warehouse, then the direct plans and that warehouse's last-mile plans
            (match_with_stock, what MatchPlans runs when the request names SKU lines, minus the stock read)

and, with --servicer, through LogisticsPlanServicer.MatchPlans on a SQLite database holding the same
catalogue (request parsing, postal-code validation, the catalogue revision check, proto answer with every
excluded channel). Prints p50/p99 per request in microseconds. Every answer of `indexed` is checked equal to
`naive`'s for the same request. Reports only; never fails on a timing.

and, with --gateway, also as POST /v1/logistics/plans:match with a merchant's API key through the REST
gateway of an embedded platform in a child process holding the same catalogue (implies --servicer), and
the ratio of its p50/p99 to the in-process paths'.

    .venv/bin/python -m benchmarks.bench_plan_match [--channels 500] [--requests 2000] [--warehouses 50] \\
        [--servicer] [--gateway]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from services.logistics.adapters.postal_formats import postal_format
from services.logistics.domain.channels import (
    Battery,
    BatteryPacking,
    Channel,
    channel_from_mapping,
    normalise_postal_code,
)
from services.logistics.domain.matching import Catalogue, MatchResult, match_naively
from services.logistics.domain.pricing import Goods, Parcel, Preference, Shipment
from services.logistics.domain.rate_sheets import Bracket, RateSheet, ZoneRates
from services.logistics.domain.stock import Level, Line, pick_warehouse
from services.logistics.domain.warehouse_plans import match_with_stock
from services.logistics.domain.warehouses import Warehouse
from services.shared.money import Money, minor_unit
from tests.logistics_support import POSTAL_CODES, SAMPLE_VALID_FROM, SHIP_AT, sample_catalogue, sample_definitions

ORIGINS = ["CN", "HK", "VN", "TW"]
DESTINATIONS = [
    *POSTAL_CODES,
    *("CA", "MX", "BR", "CL", "PL", "SE", "DK", "FI", "NO", "AT", "BE", "PT", "IE", "CZ"),
    *("HU", "GR", "CH", "KR", "SG", "MY", "TH", "ID", "PH", "NZ", "IL", "TR", "QA", "KW"),
]


RAW_POSTAL: dict[str, str] = {}  # normalised -> as written (the servicer validates the written form)


def _example(country: str) -> str:
    found = postal_format(country)
    if not found or not found.examples:
        return ""
    RAW_POSTAL[normalise_postal_code(found.examples[0])] = found.examples[0]
    return normalise_postal_code(found.examples[0])


POSTAL = {**POSTAL_CODES, **{c: [_example(c)] for c in DESTINATIONS if c not in POSTAL_CODES}}


def synthetic_catalogue(size: int, rng: random.Random) -> tuple[list[Channel], dict[str, list[RateSheet]]]:
    base = sample_catalogue()
    definitions = {d["code"]: d for d in sample_definitions()}
    channels: list[Channel] = []
    sheets: dict[str, list[RateSheet]] = {}
    codes = sorted(definitions)
    for i in range(size):
        source = codes[i % len(codes)]
        raw = copy.deepcopy(definitions[source])
        raw["code"] = f"{source}-{i:04d}"
        raw["origin_countries"] = sorted(rng.sample(ORIGINS, rng.randint(1, 2)))
        for zone in raw["zones"]:
            zone["countries"] = sorted(rng.sample(DESTINATIONS, rng.randint(1, 3)))
        if source.startswith("SAMPLE-LASTMILE"):  # a domestic last mile: collects where it delivers
            market = rng.choice(DESTINATIONS)
            raw["origin_countries"] = [market]
            for zone in raw["zones"]:
                zone["countries"] = [market]
        channel = channel_from_mapping(raw, minor_unit(raw["currency"]))
        channels.append(channel)
        factor = Decimal(rng.randint(80, 130)) / 100
        places = Decimal(1).scaleb(-channel.currency_exponent)
        sample = base.sheets[source][0]
        zones = {
            name: ZoneRates.of(
                [
                    Bracket(
                        b.weight_from_kg, b.weight_to_kg, (b.per_parcel * factor).quantize(places), b.per_kg * factor
                    )
                    for b in rates.brackets
                ]
            )
            for name, rates in sample.zones.items()
        }
        sheets[channel.code] = [RateSheet(channel.code, 1, SAMPLE_VALID_FROM, zones)]
    return channels, sheets


BATTERIES = [
    None,
    None,
    Battery("UN3481", BatteryPacking.CONTAINED_IN_EQUIPMENT),
    Battery("UN3481", BatteryPacking.PACKED_WITH_EQUIPMENT),
    Battery("UN3480", BatteryPacking.ALONE),
]


def synthetic_warehouses(count: int, rng: random.Random) -> list[Warehouse]:
    """`count` warehouses in destination markets (several per market where they repeat)."""
    return [
        Warehouse(f"BENCH-WH-{i:02d}", f"Bench warehouse {i}", "bench", country, "-", "UTC")
        for i, country in enumerate(rng.choice(DESTINATIONS) for _ in range(count))
    ]


def stock_matcher(catalogue: Catalogue, warehouses: list[Warehouse]) -> Callable[[Shipment], MatchResult]:
    """What MatchPlans does with SKU lines, minus the database read: pick the destination market's warehouse
    holding the order (every warehouse holds 10 of the SKU), then match direct and last-mile plans."""
    by_country: dict[str, list[Warehouse]] = {}
    for w in warehouses:
        by_country.setdefault(w.country, []).append(w)
    lines = (Line("SKU-1", 2),)

    def match(shipment: Shipment) -> MatchResult:
        local = by_country.get(shipment.country, [])
        levels = [Level(w.code, "MC", "SKU-1", 10) for w in local]
        chosen = None
        if local:
            code = pick_warehouse(levels, lines, {w.code: w.country for w in local})
            chosen = next(w for w in local if w.code == code)
        return match_with_stock(catalogue, shipment, chosen)

    return match


def random_shipment(rng: random.Random) -> Shipment:
    country = rng.choice(DESTINATIONS)
    parcels = tuple(
        Parcel(
            Decimal(rng.randint(5, 3000)) / 100,
            Decimal(rng.randint(5, 120)),
            Decimal(rng.randint(5, 60)),
            Decimal(rng.randint(2, 40)),
        )
        for _ in range(rng.choice([1, 1, 1, 2, 3]))
    )
    return Shipment(
        parcels,
        rng.choice(["CN", "CN", "CN", "HK"]),
        country,
        rng.choice(POSTAL[country]),
        Goods("851822", rng.choice(BATTERIES), rng.random() < 0.1, rng.random() < 0.2, rng.random() < 0.05),
        Money(Decimal(rng.randint(5, 900)), "USD"),
        rng.choice(list(Preference)),
        SHIP_AT.date().replace(day=rng.randint(8, 28)),
        SHIP_AT,
    )


Timings = tuple[list[float], list[float]]
"""(wall-clock, thread CPU) microseconds per request: on a shared machine the CPU time shows the work, the
wall clock adds the time the scheduler gave other processes."""


def timings_us(fn: Callable[[Any], object], items: list[Any]) -> Timings:
    wall, cpu = [], []
    for item in items:
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn(item)
        cpu.append((time.thread_time() - start_cpu) * 1e6)
        wall.append((time.perf_counter() - start) * 1e6)
    return wall, cpu


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_catalogue(context: Any, channels: list[Channel], sheets: dict[str, list[RateSheet]]) -> None:
    """Replace the logistics database's catalogue with these channels and sheets."""
    from services.logistics.adapters.catalogue_repository import ChannelRepository, RateSheetRepository
    from services.logistics.adapters.catalogue_tables import rate_rows, rate_sheets

    with context.uow() as uow:  # a benchmark fixture, not a use case: written straight through the repositories
        uow.connection.execute(rate_rows.delete())
        uow.connection.execute(rate_sheets.delete())
        ChannelRepository(uow.connection).replace_all([dict(c.definition) for c in channels])
        repository = RateSheetRepository(uow.connection)
        for code, versions in sheets.items():
            for sheet in versions:
                zones = {name: list(rates.brackets) for name, rates in sheet.zones.items()}
                repository.add(code, sheet.version, sheet.valid_from, datetime.now(UTC), "bench", zones)
        uow.commit()


def request_body(s: Shipment) -> dict[str, Any]:
    """The MatchPlansRequest of a shipment, as the REST gateway takes it (proto JSON)."""
    postal = RAW_POSTAL.get(s.postal_code, s.postal_code)
    battery = (
        {"unNumber": s.goods.battery.un_number, "packing": f"BATTERY_PACKING_{s.goods.battery.packing.name}"}
        if s.goods.battery
        else None
    )
    return {
        "parcels": [
            {
                "weightKg": str(p.weight_kg),
                "lengthCm": str(p.length_cm),
                "widthCm": str(p.width_cm),
                "heightCm": str(p.height_cm),
            }
            for p in s.parcels
        ],
        "originCountry": s.origin,
        "destination": {"country": s.country, "postalCode": postal},
        "goods": {"hsCode": s.goods.hs_code, **({"battery": battery} if battery else {})},
        "declaredValue": {"currencyCode": "USD", "units": str(int(s.declared_value.amount))},
        "preference": f"PREFERENCE_{s.preference.name}",
        "deliverBy": {"year": s.deliver_by.year, "month": s.deliver_by.month, "day": s.deliver_by.day},  # type: ignore[union-attr]
        "shipAt": "2026-03-02T03:00:00Z",
    }


def servicer_timings(channels: list[Channel], sheets: dict[str, list[RateSheet]], shipments: list[Shipment]) -> Timings:
    """MatchPlans on an in-process servicer over SQLite holding the same catalogue."""
    from google.protobuf import json_format
    from xborder.logistics.v1 import plans_service_pb2 as pb

    from services.logistics import bootstrap
    from services.logistics.adapters.postal_formats import PostalFormats
    from services.logistics.entrypoints.plans_api import LogisticsPlanServicer
    from services.logistics.service_layer.catalogue_cache import CatalogueCache
    from services.shared.bus import InProcessBus
    from services.shared.settings import Settings

    settings = Settings(var_dir=Path(tempfile.mkdtemp(prefix="bench-plans-")), log_json=False)
    context = bootstrap.bootstrap(settings, InProcessBus())
    context.import_reference_data()
    load_catalogue(context, channels, sheets)
    servicer = LogisticsPlanServicer(context.uow, CatalogueCache(), PostalFormats())  # type: ignore[arg-type]
    requests = [json_format.ParseDict(request_body(s), pb.MatchPlansRequest()) for s in shipments]
    servicer.MatchPlans(requests[0], None)  # type: ignore[arg-type]  # builds the catalogue cache
    out = timings_us(lambda request: servicer.MatchPlans(request, None), requests)  # type: ignore[arg-type]
    context.close()
    return out


def gateway_timings(channels: int, seed: int, shipments: list[Shipment]) -> Timings:
    """POST /v1/logistics/plans:match with a merchant's API key through the REST gateway of an embedded
    platform (every service, SQLite, authentication, scope and tenancy checks, the audit log; rate limits
    off) running in a child process whose logistics database holds the same catalogue (rebuilt there from
    the same seed). One keep-alive client, the requests one after another. The CPU column is the client's
    thread (encoding the body, reading the answer), not the server's."""
    import json

    from benchmarks.rawhttp import KeepAliveClient
    from benchmarks.servers import spawn

    bodies = [json.dumps(request_body(s)).encode() for s in shipments]
    with tempfile.TemporaryDirectory(prefix="xb-bench-plans-") as work:
        server = spawn("platform_logistics", Path(work), {"channels": channels, "seed": seed}, timeout=300)
        try:
            client = KeepAliveClient("127.0.0.1", int(server.ports["gateway_http"]))
            headers = (("Authorization", f"Bearer {server.ports['api_key']}"), ("Content-Type", "application/json"))

            def call(body: bytes) -> None:
                status, answer = client.post("/v1/logistics/plans:match", body, headers)
                if status != 200:
                    raise RuntimeError(f"HTTP {status}: {answer[:300]!r}")

            for body in bodies[:50]:  # the catalogue cache, the key cache, the interpreter
                call(body)
            out = timings_us(call, bodies)
            client.close()
        finally:
            server.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=500)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warehouses", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--servicer", action="store_true", help="also time MatchPlans through the servicer on SQLite")
    parser.add_argument(
        "--gateway", action="store_true", help="also time POST /v1/logistics/plans:match through the REST gateway"
    )
    args = parser.parse_args()

    rng = random.Random(args.seed)
    channels, sheets = synthetic_catalogue(args.channels, rng)
    shipments = [random_shipment(rng) for _ in range(args.requests)]
    catalogue = Catalogue(tuple(channels), sheets)

    mismatches = sum(catalogue.match(s) != match_naively(catalogue.channels, sheets, s) for s in shipments[:200])
    plans = [len(catalogue.match(s).plans) for s in shipments]
    for s in shipments[:50]:  # warm the lane cache and the interpreter
        catalogue.match(s)
        match_naively(catalogue.channels, sheets, s)

    warehouses = synthetic_warehouses(args.warehouses, rng)
    with_stock = stock_matcher(catalogue, warehouses)
    from_stock = [sum(1 for p in with_stock(s).plans if p.candidate.warehouse_code) for s in shipments]

    indexed = timings_us(catalogue.match, shipments)
    naive = timings_us(lambda s: match_naively(catalogue.channels, sheets, s), shipments)
    stocked = timings_us(with_stock, shipments)
    rows = [
        ("indexed (Catalogue.match)", indexed),
        ("naive (every channel in full)", naive),
        (f"indexed + stock in {args.warehouses} warehouses", stocked),
    ]
    if args.servicer or args.gateway:
        rows.append(("servicer MatchPlans (SQLite, proto in/out)", servicer_timings(channels, sheets, shipments)))
    if args.gateway:
        rows.append(("gateway POST plans:match (API key, JSON)", gateway_timings(args.channels, args.seed, shipments)))

    machine = f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs"
    print(f"{machine}, load {os.getloadavg()[0]:.1f}")
    agree = "yes" if mismatches == 0 else f"NO ({mismatches} differ)"
    print(
        f"{args.channels} channels, {args.requests} requests, plans per request: median "
        f"{statistics.median(plans):.0f}, max {max(plans)}; indexed == naive on 200 requests: {agree}"
    )
    markets = len({w.country for w in warehouses})
    print(
        f"{args.warehouses} warehouses in {markets} markets; requests with warehouse plans: "
        f"{sum(1 for n in from_stock if n)}, warehouse plans per such request: max {max(from_stock)}"
    )
    print(f"{'path':45} {'p50 us':>8} {'p99 us':>8} {'mean us':>8} {'cpu p50':>8} {'cpu p99':>8}")
    for name, (wall, cpu) in rows:
        p50, p99, mean = percentile(wall, 0.5), percentile(wall, 0.99), statistics.fmean(wall)
        print(f"{name:45} {p50:8.0f} {p99:8.0f} {mean:8.0f} {percentile(cpu, 0.5):8.0f} {percentile(cpu, 0.99):8.0f}")
    ratio = percentile(naive[1], 0.5) / percentile(indexed[1], 0.5)
    print(f"naive / indexed, CPU time at p50: {ratio:.1f}x")
    if args.gateway:
        timed = dict(rows)
        gateway = timed["gateway POST plans:match (API key, JSON)"][0]
        servicer = timed["servicer MatchPlans (SQLite, proto in/out)"][0]
        for label, wall in (("indexed", indexed[0]), ("servicer", servicer), ("naive", naive[0])):
            p50 = percentile(gateway, 0.5) / percentile(wall, 0.5)
            p99 = percentile(gateway, 0.99) / percentile(wall, 0.99)
            print(f"gateway / {label} in-process, wall clock: p50 {p50:.1f}x, p99 {p99:.1f}x")


if __name__ == "__main__":
    main()
