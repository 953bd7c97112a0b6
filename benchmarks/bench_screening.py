"""Sanctions screening: latency per query (in-process and through the gateway's REST) and quality.

Quality is measured on a labelled set derived from the lists themselves (benchmarks/screening_set.py):
recall and precision at the default thresholds, where REVIEW or BLOCK counts as a positive and a positive
case counts as found only if its own entry is among the hits. The matcher was tuned on the "tune" half;
the figures to report are the "held_out" half's.

Baseline, measured in the same run: the naive matcher a first version would write, rapidfuzz's
token_sort_ratio of the normalised query against every one of the ~25k normalised names (no candidate
index, no weighting), with the same thresholds scaled to 0-100.

    .venv/bin/python benchmarks/bench_screening.py                 # about 1-2 minutes
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
from datetime import date
from pathlib import Path

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "protos" / "gen"))

from benchmarks.loadgen import nearest_rank  # noqa: E402
from benchmarks.screening_set import Case, negatives, positives  # noqa: E402
from services.compliance.adapters.sanctions_files import CountryNames, read_bis, read_ofac, read_un  # noqa: E402
from services.compliance.domain import names  # noqa: E402
from services.compliance.domain.matching import Matcher, NameIndex  # noqa: E402
from services.compliance.domain.screening import Decision, Thresholds  # noqa: E402

DATA = ROOT / "data"


def percentile(values: list[float], q: float) -> float:
    return nearest_rank(sorted(values), q)


def quality(outcomes: list[tuple[Case, bool]]) -> dict[str, float]:
    """outcomes: (case, flagged-with-the-right-entry-or-any-hit-for-negatives)."""
    tp = sum(1 for c, ok in outcomes if c.expected is not None and ok)
    fn = sum(1 for c, ok in outcomes if c.expected is not None and not ok)
    fp = sum(1 for c, flagged in outcomes if c.expected is None and flagged)
    return {
        "positives": tp + fn,
        "negatives": sum(1 for c, _ in outcomes if c.expected is None),
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
    }


def run_ours(matcher: Matcher, thresholds: Thresholds, cases: list[Case]) -> tuple[list[float], dict[str, list]]:
    latencies: list[float] = []
    by_half: dict[str, list] = {"tune": [], "held_out": []}
    for case in cases:
        started = time.perf_counter()
        hits = matcher.screen(case.query, min_score=thresholds.review)
        latencies.append(time.perf_counter() - started)
        flagged = thresholds.decide(hits) is not Decision.CLEAR
        if case.expected is not None:
            flagged = flagged and case.expected in {(h.entry.list_name, h.entry.entry_id) for h in hits}
        by_half[case.half].append((case, flagged))
    return latencies, by_half


def run_naive(entries, thresholds: Thresholds, cases: list[Case]) -> tuple[list[float], list]:  # type: ignore[no-untyped-def]
    choices = [" ".join(names.tokens(n.name)) for e in entries for n in e.names]
    owners = [(e.list_name, e.entry_id) for e in entries for _ in e.names]
    latencies: list[float] = []
    outcomes = []
    for case in cases:
        started = time.perf_counter()
        found = process.extract(
            " ".join(names.tokens(case.query.name)),
            choices,
            scorer=fuzz.token_sort_ratio,
            score_cutoff=thresholds.review * 100,
            limit=10,
        )
        latencies.append(time.perf_counter() - started)
        flagged = bool(found)
        if case.expected is not None:
            flagged = flagged and case.expected in {owners[i] for _, _, i in found}
        outcomes.append((case, flagged))
    return latencies, outcomes


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
    parser.add_argument("--cases", type=int, default=1200, help="positives and as many negatives (default 1200)")
    parser.add_argument("--naive-cases", type=int, default=300, help="cases the naive baseline runs (it is slow)")
    parser.add_argument("--rest-queries", type=int, default=400)
    parser.add_argument("--no-gateway", action="store_true")
    args = parser.parse_args()

    countries = CountryNames.from_file(DATA / "countries" / "country-codes.csv")
    started = time.perf_counter()
    entries = [
        *read_ofac(DATA / "sanctions" / "ofac_bench_sdn.csv", countries).entries,
        *read_un(DATA / "sanctions" / "un_consolidated.xml", countries).entries,
        *read_bis(DATA / "sanctions" / "bis_dpl.txt", date.today()).entries,
    ]
    parsed = time.perf_counter() - started
    started = time.perf_counter()
    index = NameIndex(entries)
    built = time.perf_counter() - started
    matcher, thresholds = Matcher(index), Thresholds()
    cases = positives(entries, args.cases) + negatives(entries, args.cases)
    print(
        f"lists: {len(entries)} entries, {index.name_count} names and aliases; parse {parsed:.2f} s, "
        f"index {built:.2f} s; cases {len(cases)} (tune {sum(c.half == 'tune' for c in cases)}, "
        f"held out {sum(c.half == 'held_out' for c in cases)}); thresholds block {thresholds.block} "
        f"review {thresholds.review}"
    )

    matcher.screen(cases[0].query, min_score=thresholds.review)  # warm caches
    latencies, by_half = run_ours(matcher, thresholds, cases)
    report: dict[str, object] = {}
    print("\nin-process, this matcher (candidate index):")
    print(
        f"  per query: p50 {percentile(latencies, 0.5) * 1000:.2f} ms, p99 {percentile(latencies, 0.99) * 1000:.2f} ms"
    )
    for half in ("tune", "held_out"):
        q = quality(by_half[half])
        report[f"ours_{half}"] = q
        print(
            f"  {half:8s}: recall {q['recall']:.3f} precision {q['precision']:.3f} "
            f"({q['positives']} positives, {q['negatives']} negatives)"
        )
    misses = Counter(c.kind for c, ok in by_half["held_out"] if c.expected is not None and not ok)
    false = Counter(c.kind for c, flagged in by_half["held_out"] if c.expected is None and flagged)
    print(f"  held_out misses by kind {dict(misses)}; false positives by kind {dict(false)}")
    report["ours_p50_ms"] = percentile(latencies, 0.5) * 1000
    report["ours_p99_ms"] = percentile(latencies, 0.99) * 1000

    held = [c for c in cases if c.half == "held_out"]
    sample = held[:: max(1, len(held) // args.naive_cases)][: args.naive_cases]
    naive_latencies, naive_outcomes = run_naive(entries, thresholds, sample)
    ours_sample = [lat for lat, c in zip(latencies, cases, strict=True) if c in set(sample)]
    nq = quality(naive_outcomes)
    print(f"\nbaseline, naive token_sort_ratio against every name ({len(sample)} held-out cases):")
    print(
        f"  per query: p50 {percentile(naive_latencies, 0.5) * 1000:.2f} ms, "
        f"p99 {percentile(naive_latencies, 0.99) * 1000:.2f} ms; "
        f"recall {nq['recall']:.3f} precision {nq['precision']:.3f}"
    )
    ratio = percentile(naive_latencies, 0.5) / percentile(ours_sample, 0.5)
    print(f"  ratio: this matcher's p50 is {ratio:.1f}x faster than the naive scan on the same cases")
    report["naive"] = {**nq, "p50_ms": percentile(naive_latencies, 0.5) * 1000}
    report["speedup_p50"] = ratio

    if not args.no_gateway:
        mixed = [c for pair in zip(
            [c for c in held if c.expected is not None], [c for c in held if c.expected is None], strict=False
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
