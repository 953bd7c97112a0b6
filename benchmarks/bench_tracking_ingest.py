"""Tracking ingest: carrier events per second over gRPC into PostgreSQL (or SQLite), with deduplication.

Starts the logistics service on port 0 against a fresh PostgreSQL schema (XB_TEST_POSTGRES_URL, default the
local server), books S shipments, then pushes B batches of E events each through PushTrackingEvents from
C client threads. Each batch carries events for many waybills (FedEx codes in a plausible order, times
shuffled) and a share of repeats of events already pushed, which must come back DUPLICATE. Reports
events/s, and checks after each run that every shipment's stored status is the highest-ranked status among
its distinct events and that no event was stored twice. Reports only; never fails on a timing.

`--compare` alternates, in the same process and schema, runs of the batched ingest with runs of the
per-event baseline it replaced (benchmarks/tracking_per_event.py), each run on its own newly booked
shipments and the same generated workload, `--rounds` times.

    .venv/bin/python -m benchmarks.bench_tracking_ingest [--shipments 500] [--batches 200] [--events 100]
        [--clients 4] [--duplicates 0.1] [--rounds 1] [--compare] [--sqlite]
"""

from __future__ import annotations

import argparse
import itertools
import platform
import random
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf import json_format, timestamp_pb2
from xborder.logistics.v1 import shipments_service_pb2 as pb
from xborder.logistics.v1 import shipments_service_pb2_grpc as pb_grpc

from benchmarks.tracking_per_event import apply_per_event
from services.logistics.adapters.carrier_codes import load_tables
from services.logistics.domain.tracking import RANK, CarrierTable, MainStatus
from services.logistics.service_layer import shipments as shipments_layer
from services.shared import codes
from services.shared.settings import Settings
from tests.conftest import postgres_schemas
from tests.servers import Running, running_service

CODES = ["OC", "PU", "DP", "AR", "IT", "CP", "CC", "SF", "OD", "DL", "SP"]
T0 = datetime(2026, 3, 2, tzinfo=UTC)
STATUS_NAME = {pb.TrackingStatus.Value(f"TRACKING_STATUS_{s.value}"): s for s in MainStatus}


def stamp(value: datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value)
    return out


def workload(service: Running, args: argparse.Namespace, seed: int) -> tuple[list, list, list]:
    """Book the shipments (a new merchant), then build the batches: (shipments, batches, distinct events sent)."""
    rng = random.Random(seed)
    merchant = codes.generate("MC")
    booking = {
        "merchantCode": merchant,
        "channelCode": "SAMPLE-EXP-PRIORITY",
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "1", "lengthCm": "20", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": "US", "postalCode": "10001"},
    }
    shipments = []
    for i in range(args.shipments):
        request = json_format.ParseDict({**booking, "requestId": f"bench-{seed}-{i}"}, pb.BookShipmentRequest())
        shipments.append(service.stub.BookShipment(request).shipment)
    sent: list[pb.CarrierEvent] = []
    batches = []
    for _ in range(args.batches):
        events = []
        for _ in range(args.events):
            if sent and rng.random() < args.duplicates:
                events.append(rng.choice(sent))
                continue
            shipment = rng.choice(shipments)
            event = pb.CarrierEvent(
                carrier="fedex",
                waybill_number=shipment.waybill_number,
                code=rng.choice(CODES),
                occurred_at=stamp(T0 + timedelta(minutes=rng.randrange(20_000))),
                location="Memphis, TN US",
            )
            events.append(event)
            sent.append(event)
        batches.append(pb.PushTrackingEventsRequest(events=events))
    return shipments, batches, sent


def push(service: Running, args: argparse.Namespace, batches: list) -> tuple[float, float, dict[str, int]]:
    """(wall seconds, process CPU seconds, outcome counts) of pushing the batches from the client threads."""
    started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(args.clients) as pool:
        answers = list(pool.map(service.stub.PushTrackingEvents, batches))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    outcomes: dict[str, int] = {}
    for answer in answers:
        for result in answer.results:
            name = pb.TrackingOutcome.Name(result.outcome).removeprefix("TRACKING_OUTCOME_").lower()
            outcomes[name] = outcomes.get(name, 0) + 1
            outcomes["status_changes"] = outcomes.get("status_changes", 0) + result.status_changed
    return elapsed, cpu, outcomes


def check(service: Running, shipments: list, sent: list, fedex: CarrierTable) -> int:
    """Every distinct event stored once; every shipment at the highest rank among its events."""
    distinct = {(e.waybill_number, e.code, e.occurred_at.seconds) for e in sent}
    best: dict[str, MainStatus] = {}
    for waybill, code, _ in distinct:
        mapped = fedex.lookup(code)
        if mapped is not None and RANK[mapped.status] > RANK[best.get(waybill, MainStatus.INFO_RECEIVED)]:
            best[waybill] = mapped.status
    stored = 0
    for shipment in shipments:
        tracking = service.stub.GetTracking(pb.GetTrackingRequest(code=shipment.code))
        stored += len(tracking.events)
        expected = best.get(shipment.waybill_number, MainStatus.INFO_RECEIVED)
        assert STATUS_NAME[tracking.status] is expected, (shipment.code, tracking.status, expected)
    assert stored == len(distinct), (stored, len(distinct))
    return stored


def check_events(service: Running, shipments: list, status_changes: int) -> None:
    """One shipment_status_changed per status change answered, chained from the booking to the final status."""
    assert service.context.relay.drain(timeout=120)
    codes_ = {s.code for s in shipments}
    chains: dict[str, list[tuple[str, str]]] = {}
    for event in service.bus.published:
        if event.event_type == "shipment_status_changed" and event.payload["shipment_code"] in codes_:
            chains.setdefault(event.payload["shipment_code"], []).append(
                (event.payload["previous_status"], event.payload["status"])
            )
    assert sum(len(chain) for chain in chains.values()) == status_changes
    for chain in chains.values():
        assert chain[0][0] == "INFO_RECEIVED" and all(a[1] == b[0] for a, b in itertools.pairwise(chain))


def run(settings: Settings, args: argparse.Namespace) -> None:
    fedex = load_tables()["fedex"]
    batched = shipments_layer._apply
    modes = ["per-event", "batched"] if args.compare else ["batched"]
    total = args.batches * args.events
    print(
        f"{total} events per run in {args.batches} batches of {args.events}, {args.shipments} shipments, "
        f"{args.clients} clients, {args.duplicates:.0%} repeats"
    )
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    with running_service(settings, "logistics", pb_grpc.ShipmentServiceStub) as service:
        for round_ in range(args.rounds):
            for mode in modes:
                shipments_layer._apply = apply_per_event if mode == "per-event" else batched  # type: ignore[assignment]
                shipments, batches, sent = workload(service, args, seed=round_)
                elapsed, cpu, outcomes = push(service, args, batches)
                stored = check(service, shipments, sent, fedex)
                check_events(service, shipments, outcomes.get("status_changes", 0))
                rates[mode].append(total / elapsed)
                print(
                    f"  round {round_ + 1} {mode:>9}: {total / elapsed:7,.0f} events/s ({elapsed:.2f} s wall, "
                    f"{cpu:.2f} s CPU of this process); {outcomes}; {stored} distinct events stored once, "
                    "statuses and events checked"
                )
        shipments_layer._apply = batched  # type: ignore[assignment]
    for mode in modes:
        print(f"{mode:>9}: median {statistics.median(rates[mode]):,.0f} events/s over {args.rounds} runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=500)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--duplicates", type=float, default=0.1)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--rounds", type=int, default=1, help="runs per mode, alternating")
    parser.add_argument(
        "--compare", action="store_true", help="also time the per-event baseline (tracking_per_event.py)"
    )
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        var_dir = Path(tmp) / "var"
        if args.sqlite:
            run(Settings(var_dir=var_dir, log_json=False), args)
        else:
            with postgres_schemas(var_dir) as settings:
                run(settings, args)


if __name__ == "__main__":
    main()
