"""Sanctions screening: quality per variation class, latency per query (in-process and through the
gateway's REST), beside a peer measured in the same run.

Quality is measured on a labelled set derived from the shipped lists (benchmarks/screening_set.py): six
positive classes (transliteration, short-name typos, legal forms, reordering, honorifics, original script)
and six classes of common-name negatives. A positive counts as found when its own entry is among the hits
at REVIEW or BLOCK; a negative is a false positive when anything is. Each figure is given for the "tune"
half (the matcher, its variant table and thresholds were tuned on it) and the "held_out" half (the one to
report), with the curve across review thresholds.

Peer, measured in the same run over the same candidate names: rapidfuzz's token_sort_ratio of the
normalised query against every one of the ~25k normalised list names and aliases (no candidate index,
no weighting, no variant table), with the thresholds scaled to 0-100.

    .venv/bin/python benchmarks/bench_screening.py                 # about 2-3 minutes
    .venv/bin/python benchmarks/bench_screening.py --no-gateway    # in-process figures only
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "protos" / "gen"))

from benchmarks.loadgen import nearest_rank  # noqa: E402
from benchmarks.screening_set import (  # noqa: E402
    NEGATIVE_CLASSES,
    POSITIVE_CLASSES,
    Case,
    ListedNames,
    negatives,
    positives,
)
from services.compliance.adapters.name_variants_file import read_name_variants  # noqa: E402
from services.compliance.adapters.sanctions_files import CountryNames, read_bis, read_ofac, read_un  # noqa: E402
from services.compliance.domain import names  # noqa: E402
from services.compliance.domain.matching import Matcher, NameIndex  # noqa: E402
from services.compliance.domain.screening import Thresholds  # noqa: E402

DATA = ROOT / "data"
CURVE = (0.70, 0.75, 0.78, 0.80, 0.82, 0.85, 0.88, 0.90, 0.92)


def percentile(values: list[float], q: float) -> float:
    return nearest_rank(sorted(values), q)


# A scored case: (case, score of its own entry for a positive or of the best hit for a negative), 0..1.
Scored = list[tuple[Case, float]]


def quality(scored: Scored, threshold: float) -> dict[str, float]:
    tp = sum(1 for c, s in scored if c.expected is not None and s >= threshold)
    pos = sum(1 for c, _ in scored if c.expected is not None)
    fp = sum(1 for c, s in scored if c.expected is None and s >= threshold)
    neg = sum(1 for c, _ in scored if c.expected is None)
    return {
        "positives": pos,
        "negatives": neg,
        "recall": tp / pos if pos else 0.0,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "common_name_fp_rate": fp / neg if neg else 0.0,
    }


def per_class(scored: Scored, threshold: float) -> dict[str, dict[str, float]]:
    out = {}
    for kind in (*POSITIVE_CLASSES, *NEGATIVE_CLASSES):
        chosen = [(c, s) for c, s in scored if c.kind == kind]
        q = quality(chosen, threshold)
        out[kind] = {"n": q["positives"] or q["negatives"]} | (
            {"recall": q["recall"]} if kind in POSITIVE_CLASSES else {"fp_rate": q["common_name_fp_rate"]}
        )
    return out


def run_ours(matcher: Matcher, cases: Sequence[Case], floor: float) -> tuple[list[float], Scored]:
    latencies: list[float] = []
    scored: Scored = []
    for case in cases:
        started = time.perf_counter()
        hits = matcher.screen(case.query, min_score=floor)
        latencies.append(time.perf_counter() - started)
        if case.expected is None:
            score = max((h.score for h in hits), default=0.0)
        else:
            score = max((h.score for h in hits if (h.entry.list_name, h.entry.entry_id) == case.expected), default=0.0)
        scored.append((case, score))
    return latencies, scored


def run_peer(entries, cases: Sequence[Case], floor: float) -> tuple[list[float], Scored]:  # type: ignore[no-untyped-def]
    choices = [" ".join(names.tokens(n.name)) for e in entries for n in e.names]
    owners = [(e.list_name, e.entry_id) for e in entries for _ in e.names]
    latencies: list[float] = []
    scored: Scored = []
    for case in cases:
        started = time.perf_counter()
        found = process.extract(
            " ".join(names.tokens(case.query.name)),
            choices,
            scorer=fuzz.token_sort_ratio,
            score_cutoff=floor * 100,
            limit=None,
        )
        latencies.append(time.perf_counter() - started)
        if case.expected is None:
            score = max((s for _, s, _ in found), default=0.0)
        else:
            score = max((s for _, s, i in found if owners[i] == case.expected), default=0.0)
        scored.append((case, score / 100))
    return latencies, scored


def print_table(title: str, scored: Scored, threshold: float) -> dict[str, object]:
    print(f"\n{title} at review threshold {threshold}:")
    report: dict[str, object] = {}
    for half in ("tune", "held_out"):
        chosen = [(c, s) for c, s in scored if c.half == half]
        q = quality(chosen, threshold)
        classes = per_class(chosen, threshold)
        report[half] = {"overall": q, "classes": classes}
        print(
            f"  {half:8s}: recall {q['recall']:.3f}  precision {q['precision']:.3f}  "
            f"common-name FP {q['common_name_fp_rate']:.3f}  ({q['positives']:.0f} positives, "
            f"{q['negatives']:.0f} negatives)"
        )
        cells = [
            f"{k} {v['recall']:.3f}" if "recall" in v else f"{k} FP {v['fp_rate']:.3f}" for k, v in classes.items()
        ]
        print("            " + "; ".join(cells[: len(POSITIVE_CLASSES)]))
        print("            " + "; ".join(cells[len(POSITIVE_CLASSES) :]))
    return report


def print_curve(title: str, scored: Scored) -> dict[str, object]:
    print(f"\n{title}, curve across review thresholds (held_out | tune):")
    print("  threshold  recall  precision  common-FP  worst-class-recall | recall  precision  common-FP")
    curve: dict[str, object] = {}
    for t in CURVE:
        row = []
        for half in ("held_out", "tune"):
            chosen = [(c, s) for c, s in scored if c.half == half]
            q = quality(chosen, t)
            worst = min(v["recall"] for v in per_class(chosen, t).values() if "recall" in v)
            row.append((q, worst))
        (h, worst), (tq, _) = row
        curve[str(t)] = {"held_out": h, "worst_class_recall": worst, "tune": tq}
        print(
            f"  {t:9.2f}  {h['recall']:6.3f}  {h['precision']:9.3f}  {h['common_name_fp_rate']:9.3f}  "
            f"{worst:18.3f} | {tq['recall']:6.3f}  {tq['precision']:9.3f}  {tq['common_name_fp_rate']:9.3f}"
        )
    return curve


def run_rest(cases: list[Case], count: int) -> dict[str, float]:
    import httpx

    from benchmarks.servers import spawn
    from services.shared import codes

    types = {"person": "PARTY_TYPE_PERSON", "company": "PARTY_TYPE_COMPANY", "vessel": "PARTY_TYPE_VESSEL"}
    with tempfile.TemporaryDirectory() as work:
        handle = spawn("compliance_embedded", Path(work))
        try:
            port = handle.ports["gateway_http"]
            merchant = codes.generate("MC")
            latencies: list[float] = []
            decisions: Counter[str] = Counter()
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                for i, case in enumerate((cases * (count // max(1, len(cases)) + 1))[: count + 20]):
                    body = {
                        "requestId": f"bench-{uuid.uuid4()}",
                        "merchantCode": merchant,
                        "name": case.query.name,
                        "partyType": types.get(case.query.party_type.value, "PARTY_TYPE_UNSPECIFIED"),
                    }
                    if case.query.date_of_birth:
                        body["dateOfBirth"] = case.query.date_of_birth
                    started = time.perf_counter()
                    response = client.post("/v1/compliance/screenings", json=body)
                    elapsed = time.perf_counter() - started
                    if response.status_code != 200:
                        raise RuntimeError(f"{response.status_code}: {response.text}")
                    if i >= 20:  # the first requests warm connections and caches
                        latencies.append(elapsed)
                        decisions[response.json()["screening"]["decision"]] += 1
        finally:
            handle.stop()
    return {
        "requests": len(latencies),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "decisions": dict(decisions),  # type: ignore[dict-item]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-class", type=int, default=300, help="cases per positive class (default 300)")
    parser.add_argument("--negatives-per-class", type=int, default=250, help="cases per negative class")
    parser.add_argument("--peer-cases", type=int, default=0, help="cases the peer runs (default: all)")
    parser.add_argument("--rest-queries", type=int, default=400)
    parser.add_argument("--no-gateway", action="store_true")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()

    countries = CountryNames.from_file(DATA / "countries" / "country-codes.csv")
    started = time.perf_counter()
    entries = [
        *read_ofac(DATA / "sanctions" / "ofac_bench_sdn.csv", countries).entries,
        *read_un(DATA / "sanctions" / "un_consolidated.xml", countries).entries,
        *read_bis(DATA / "sanctions" / "bis_dpl.txt", date.today()).entries,
    ]
    variants = read_name_variants()
    parsed = time.perf_counter() - started
    started = time.perf_counter()
    index = NameIndex(entries, variants=variants)
    built = time.perf_counter() - started
    matcher, thresholds = Matcher(index), Thresholds()
    cases = positives(entries, variants, args.per_class) + negatives(
        ListedNames(entries, variants), args.negatives_per_class
    )
    print(
        f"lists: {len(entries)} entries, {index.name_count} names and aliases; variant table {variants.version} "
        f"({len(variants.groups)} groups); parse {parsed:.2f} s, index {built:.2f} s; cases {len(cases)} "
        f"(tune {sum(c.half == 'tune' for c in cases)}, held out {sum(c.half == 'held_out' for c in cases)}); "
        f"thresholds block {thresholds.block} review {thresholds.review}"
    )

    floor = min(CURVE)
    for case in cases[:50]:
        matcher.screen(case.query, min_score=thresholds.review)  # warm caches
    _, scored = run_ours(matcher, cases, floor)  # at the curve's floor: latency is measured below
    serving: list[float] = []
    for case in cases:
        started = time.perf_counter()
        matcher.screen(case.query, min_score=thresholds.review)
        serving.append(time.perf_counter() - started)
    report: dict[str, object] = {
        "ours_p50_ms": percentile(serving, 0.5) * 1000,
        "ours_p99_ms": percentile(serving, 0.99) * 1000,
        "ours_max_ms": max(serving) * 1000,
    }
    print(
        f"\nin-process, this matcher, at the review threshold: p50 {report['ours_p50_ms']:.2f} ms, "
        f"p99 {report['ours_p99_ms']:.2f} ms, max {report['ours_max_ms']:.2f} ms per query"
    )
    report["ours"] = print_table("this matcher", scored, thresholds.review)
    report["ours_curve"] = print_curve("this matcher", scored)
    held = [(c, s) for c, s in scored if c.half == "held_out"]
    misses = Counter(c.kind for c, s in held if c.expected is not None and s < thresholds.review)
    false = Counter(c.kind for c, s in held if c.expected is None and s >= thresholds.review)
    print(f"  held_out misses by class {dict(misses)}; false positives by class {dict(false)}")

    if not args.no_peer:
        sample = cases if not args.peer_cases else cases[:: max(1, len(cases) // args.peer_cases)]
        peer_latencies, peer_scored = run_peer(entries, sample, floor)
        print(
            f"\npeer: rapidfuzz token_sort_ratio against every name ({len(sample)} cases): "
            f"p50 {percentile(peer_latencies, 0.5) * 1000:.2f} ms, p99 {percentile(peer_latencies, 0.99) * 1000:.2f} ms"
        )
        report["peer"] = print_table("peer (token_sort_ratio / 100)", peer_scored, thresholds.review)
        report["peer_curve"] = print_curve("peer", peer_scored)

    if not args.no_gateway:
        held_cases = [c for c in cases if c.half == "held_out"]
        mixed = [c for pair in zip(
            [c for c in held_cases if c.expected is not None], [c for c in held_cases if c.expected is None],
            strict=False,
        ) for c in pair]  # fmt: skip
        rest = run_rest(mixed, args.rest_queries)
        print(
            f"\nthrough the gateway (POST /v1/compliance/screenings, httpx keep-alive, one client, compliance and "
            f"gateway in one child process, each screening stored in SQLite):\n"
            f"  {rest['requests']} requests: p50 {rest['p50_ms']:.2f} ms, p99 {rest['p99_ms']:.2f} ms, "
            f"mean {rest['mean_ms']:.2f} ms; decisions {rest['decisions']}"
        )
        report["rest"] = rest
    print("\n" + json.dumps(report, default=str))


if __name__ == "__main__":
    main()
