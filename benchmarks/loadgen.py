"""Closed-loop load: N worker threads each send one request, wait for the answer, send the next.

Each worker gets its own client from a factory (a connection per thread for HTTP; gRPC callers may share a
channel). A warm-up phase runs first and is not recorded; the measured phase records the latency of every
request started inside it. Throughput is requests recorded / measured wall time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

Call = Callable[[], None]
"""One request; raises on any failure (a wrong status counts as a failure)."""


def nearest_rank(ordered: Sequence[T], q: float) -> T:
    """The nearest-rank percentile (q in 0..1) of values already sorted ascending; every benchmark uses it."""
    return ordered[max(1, min(len(ordered), round(q * len(ordered) + 0.5))) - 1]


@dataclass(frozen=True)
class Result:
    label: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ns: tuple[int, ...] = field(repr=False)
    first_error: str | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile in milliseconds (p in 0..100)."""
        if not self.latencies_ns:
            return float("nan")
        return nearest_rank(self.latencies_ns, p / 100) / 1e6

    @property
    def p50_ms(self) -> float:
        return self.percentile_ms(50)

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(99)

    @property
    def ok(self) -> bool:
        return self.requests > 0


def describe(error: BaseException) -> str:
    details = getattr(error, "details", None)
    code = getattr(error, "code", None)
    if callable(details) and callable(code):  # grpc.RpcError
        return f"{code()}: {details()}"
    return f"{type(error).__name__}: {error}"


def run_closed_loop(
    label: str,
    make_call: Callable[[], Call],
    *,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    max_errors: int = 50,
) -> Result:
    """Run `concurrency` workers for warmup_s + duration_s; stop early after max_errors failures."""
    calls = [make_call() for _ in range(concurrency)]
    # A broken path should say why once, not spend the whole duration failing.
    try:
        calls[0]()
    except Exception as error:
        return Result(label, concurrency, 0, 1, 0.0, (), describe(error))

    per_worker: list[list[int]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    first_error: list[str] = []
    stop = threading.Event()
    ready = threading.Barrier(concurrency + 1)
    window: dict[str, int] = {}

    def work(index: int) -> None:
        call, latencies = calls[index], per_worker[index]
        ready.wait()
        measure_from, until = window["from"], window["until"]
        clock = time.perf_counter_ns
        while not stop.is_set():
            started = clock()
            if started >= until:
                return
            try:
                call()
            except Exception as error:
                errors[index] += 1
                if not first_error:
                    first_error.append(describe(error))
                if sum(errors) >= max_errors:
                    stop.set()
                continue
            if started >= measure_from:
                latencies.append(clock() - started)

    threads = [threading.Thread(target=work, args=(i,), name=f"load-{i}", daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    now = time.perf_counter_ns()
    window["from"] = now + int(warmup_s * 1e9)
    window["until"] = window["from"] + int(duration_s * 1e9)
    ready.wait()
    for thread in threads:
        thread.join(warmup_s + duration_s + 30)
    # Requests in flight at the deadline finish after it; the measured window ends when the last one does.
    seconds = (time.perf_counter_ns() - window["from"]) / 1e9
    latencies = sorted(ns for worker in per_worker for ns in worker)
    return Result(
        label,
        concurrency,
        len(latencies),
        sum(errors),
        max(seconds, 1e-9),
        tuple(latencies),
        first_error[0] if first_error else None,
    )
