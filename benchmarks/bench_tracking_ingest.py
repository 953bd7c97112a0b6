"""Tracking ingest: carrier events per second over gRPC into PostgreSQL (or SQLite), with deduplication.

Starts the logistics service on port 0 against a fresh PostgreSQL schema (XB_TEST_POSTGRES_URL, default the
local server), books S shipments, then pushes B batches of E events each through PushTrackingEvents from
C client threads. Each batch carries events for many waybills (FedEx codes in a plausible order, times
shuffled) and a share of repeats of events already pushed, which must come back DUPLICATE. Reports
events/s and batches/s, and checks afterwards that every shipment's stored status is the highest-ranked
status among its distinct events and that no event was stored twice. Reports only; never fails on a timing.

    .venv/bin/python benchmarks/bench_tracking_ingest.py [--shipments 500] [--batches 200] [--events 100]
        [--clients 4] [--duplicates 0.1] [--sqlite]
"""

from __future__ import annotations

import argparse
import platform
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf import json_format, timestamp_pb2
from xborder.logistics.v1 import shipments_service_pb2 as pb
from xborder.logistics.v1 import shipments_service_pb2_grpc as pb_grpc

from services.logistics.adapters.carrier_codes import load_tables
from services.logistics.domain.tracking import RANK, MainStatus
from services.shared import codes
from services.shared.settings import Settings
from tests.conftest import postgres_schemas
from tests.servers import running_service

CODES = ["OC", "PU", "DP", "AR", "IT", "CP", "CC", "SF", "OD", "DL", "SP"]
T0 = datetime(2026, 3, 2, tzinfo=UTC)
STATUS_NAME = {pb.TrackingStatus.Value(f"TRACKING_STATUS_{s.value}"): s for s in MainStatus}


def stamp(value: datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value)
    return out


def run(settings: Settings, args: argparse.Namespace) -> None:
    rng = random.Random(7)
    fedex = load_tables()["fedex"]
    with running_service(settings, "logistics", pb_grpc.ShipmentServiceStub) as service:
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
            request = json_format.ParseDict({**booking, "requestId": f"bench-{i}"}, pb.BookShipmentRequest())
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
        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            answers = list(pool.map(service.stub.PushTrackingEvents, batches))
        elapsed = time.perf_counter() - started
        outcomes: dict[str, int] = {}
        for answer in answers:
            for result in answer.results:
                name = pb.TrackingOutcome.Name(result.outcome)
                outcomes[name] = outcomes.get(name, 0) + 1
        total = args.batches * args.events
        print(f"{total} events in {args.batches} batches of {args.events}, {args.clients} clients: {elapsed:.2f} s")
        print(f"  {total / elapsed:,.0f} events/s, {args.batches / elapsed:,.1f} batches/s; outcomes {outcomes}")

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
        print(f"  checked: {stored} distinct events stored once; every status is its events' highest rank")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=500)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--duplicates", type=float, default=0.1)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
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
