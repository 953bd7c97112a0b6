"""Re-check on change: 100k stored product checks, a rule change whose scope covers 10% of them, time until
every alert is raised (the in-process `rules_published` handler, one SQLite transaction: re-check, verdict
updates, alert rows, outbox events).

Baseline, measured in the same run on the same data: the naive re-check a first version would write,
every one of the 100k stored checks re-evaluated against the new library (then rolled back, so the
targeted run starts from the same state).

    .venv/bin/python benchmarks/bench_recheck.py              # about 1 minute (most of it loading rows)
    .venv/bin/python benchmarks/bench_recheck.py --checks 20000
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import json_format

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "protos" / "gen"))

from services.compliance import bootstrap  # noqa: E402
from services.compliance.adapters.alert_repository import AlertRepository  # noqa: E402
from services.compliance.adapters.library_repository import LibraryRepository  # noqa: E402
from services.compliance.adapters.reference_views import check_views  # noqa: E402
from services.compliance.adapters.tables import product_checks  # noqa: E402
from services.compliance.domain.alerts import verdict_worsened  # noqa: E402
from services.compliance.domain.product import Product  # noqa: E402
from services.compliance.service_layer import risk_alerts, rule_library  # noqa: E402
from services.compliance.service_layer.product_checks import recheck_in  # noqa: E402
from services.shared import codes  # noqa: E402
from services.shared.bus import InProcessBus  # noqa: E402
from services.shared.clock import utcnow  # noqa: E402
from services.shared.settings import Settings  # noqa: E402
from tests.compliance_rules import speaker_ban  # noqa: E402

PACKS = ROOT / "tests" / "fixtures" / "rules"
BAN = speaker_ban("EU-BENCH-BAN-SPEAKERS", "benchmark", "基准")
# 10% speakers into DE (in the ban's scope), the rest T-shirts into DE and speakers into the US (outside it).
MIX = [("851822", "DE")] + [("610910", "DE")] * 5 + [("851822", "US")] * 4


def rows(count: int, merchants: list[str], version: int, verdicts: dict[tuple[str, str], str]) -> list[dict]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for i in range(count):
        hs_code, destination = MIX[i % len(MIX)]
        product: dict[str, Any] = {
            "hs_code": hs_code,
            "title": f"Product {i}",
            "gtin": "",
            "origin_country": "CN",
            "declared_value": {"amount": "20.00", "currency": "EUR"},
            "weight_kg": None,
            "target_age_group": "",
            "certifications": [],
            "label_languages": [],
            "attributes": {},
        }
        at = start + timedelta(seconds=i)
        out.append(
            {
                "code": codes.generate("HG", at=at),
                "merchant_code": merchants[i % len(merchants)],
                "destination": destination,
                "hs_code": hs_code,
                "verdict": verdicts[(hs_code, destination)],  # what the first library said
                "as_of": date(2026, 11, 1),
                "library_version": version,
                "language": "en",
                "product": json.dumps(product, separators=(",", ":")),
                "report": b"report",
                "checked_at": at,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(var_dir=Path(tmp) / "var", log_json=False, log_level="WARNING")
        context = bootstrap.bootstrap(settings, InProcessBus())
        try:
            for dataset in ("hs2022", "iso3166_countries", "eu_vat_rates", "ecb_reference_rates"):
                context.import_reference_data(only=dataset)
            rule_library.stage_draft(context.uow, PACKS, settings.data_dir)
            first, _ = rule_library.publish_draft(context.uow)
            merchants = [codes.generate("MC") for _ in range(200)]
            views = check_views(context)
            with context.uow() as uow:
                compiled = views.libraries.get(first.version, LibraryRepository(uow.connection).rules)
            sample = json.loads(rows(1, merchants, first.version, {k: "" for k in MIX})[0]["product"])
            verdicts = {
                (hs, dest): compiled.check(
                    Product.from_document({**sample, "hs_code": hs}), dest, utcnow().date(), views.rates.get()
                ).verdict
                for hs, dest in set(MIX)
            }
            loaded = time.perf_counter()
            with context.engine.begin() as connection:
                batch = rows(args.checks, merchants, first.version, verdicts)
                for start in range(0, len(batch), 5000):
                    connection.execute(product_checks.insert(), batch[start : start + 5000])
            print(f"stored {args.checks} checks in {time.perf_counter() - loaded:.1f} s")

            packs = Path(tmp) / "packs"
            shutil.copytree(PACKS, packs)
            path = packs / "eu-test-safety.yaml"
            document = yaml.safe_load(path.read_text("utf-8"))
            document["rules"].append(BAN)
            path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")
            rule_library.stage_draft(context.uow, packs, settings.data_dir)
            context.relay.drain()  # nothing subscribed: the bootstrap's events leave the outbox
            version, changes = rule_library.publish_draft(context.uow)
            context.relay.drain()
            event = risk_alerts.events_pb2.RulesPublished(event_id="bench-rules", version=version.version)
            for change in changes:
                event.changes.add(
                    code=change.code,
                    change=change.change,
                    version=change.version,
                    hs_scope=sorted(change.hs_scope),
                    destinations=sorted(change.destinations),
                )
            payload = json_format.MessageToDict(event, preserving_proto_field_name=True)
            with context.uow() as uow:  # warm the compiled library and the reference caches
                views.libraries.get(version.version, LibraryRepository(uow.connection).rules)
                views.rates.get()

            began = time.perf_counter()
            with context.uow() as uow:
                everything = recheck_in(uow, views, version.version, {"DE", "US", "FR", "GB"}, None)
                naive_alerts = sum(verdict_worsened(r.old_verdict, r.new_verdict) for r in everything)
                uow.rollback()
            naive = time.perf_counter() - began

            began = time.perf_counter()
            raised = risk_alerts.on_rules_published(context.uow, views, payload)
            targeted = time.perf_counter() - began
            with context.uow() as uow:
                stored_alerts = AlertRepository(uow.connection).count()
            pending = context.relay.pending()
        finally:
            context.close()
    print(f"naive: re-checked {len(everything)} checks, {naive_alerts} worsened, {naive:.2f} s")
    print(f"targeted: {len(raised)} alerts raised and {pending} events in the outbox in {targeted:.2f} s")
    print(f"alerts stored: {stored_alerts}; speed-up vs naive: {naive / targeted:.1f}x")
    assert len(raised) == naive_alerts == stored_alerts == pending  # same answer, or the figure is meaningless


if __name__ == "__main__":
    main()
