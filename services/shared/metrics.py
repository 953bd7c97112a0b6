"""Prometheus metrics shared by every process. Label values are bounded (method names, status codes)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RPC_LATENCY = Histogram(
    "xborder_rpc_seconds",
    "Server-side latency of gRPC calls",
    ["method", "code"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_LATENCY = Histogram(
    "xborder_http_seconds",
    "Gateway latency of REST calls",
    ["route", "status"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PENDING = Gauge("xborder_outbox_pending", "Events committed but not yet confirmed by the bus", ["service"])
EVENTS_PUBLISHED = Counter("xborder_events_published_total", "Events confirmed by the bus", ["service", "type"])
EVENTS_CONSUMED = Counter(
    "xborder_events_consumed_total", "Events handled by a consumer", ["consumer", "type", "outcome"]
)


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics on its own port (0 disables it; the gateway also serves /metrics on HTTP)."""
    if port:
        start_http_server(port, addr=host)
