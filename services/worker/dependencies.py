"""What every consuming service's nameko class shares: a booted service context with its event handlers,
cooperative database waits under eventlet, and the requeue-on-failure policy.

The worker only consumes. Events its handlers emit stay in the service's outbox and the service's gRPC
process's relay publishes them, so one relay keeps one commit order; the context's bus is a placeholder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from nameko.extensions import DependencyProvider

from services.shared.bus import InProcessBus
from services.shared.context import ServiceContext
from services.shared.logs import get_logger
from services.shared.settings import Settings

log = get_logger(__name__)

Handlers = dict[str, Callable[[dict[str, Any]], None]]

REQUEUE_DELAY_S = 1.0
"""Pause before a failed event goes back to its queue, so a database outage is not retried in a tight loop."""


def cooperative_database_waits() -> None:
    """Make psycopg wait on sockets through select(), which eventlet makes cooperative.

    psycopg's default C wait function polls outside eventlet's hub: a query then stalls every green thread
    of the worker (the AMQP consumer and heartbeats included) until the database answers.
    """
    import eventlet.patcher
    import psycopg.waiting

    if eventlet.patcher.is_monkey_patched("select"):
        psycopg.waiting.wait = psycopg.waiting.wait_select


class BootsService(DependencyProvider):
    """A dependency that boots a service context in `setup` and closes it when the worker stops or is killed."""

    context: ServiceContext | None = None

    def stop(self) -> None:
        self._close()

    def kill(self) -> None:
        self._close()

    def _close(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None


class ServiceEventHandlers(BootsService):
    """Boots a service (engine, migrations) when the worker starts and injects `bootstrap.event_handlers()`,
    the same map the embedded bus subscribes."""

    def __init__(self, bootstrap: ModuleType) -> None:
        self.bootstrap = bootstrap
        self.context = None
        self.handlers: Handlers = {}

    def setup(self) -> None:
        cooperative_database_waits()
        self.context = self.bootstrap.bootstrap(Settings.from_env(), InProcessBus())
        self.handlers = self.bootstrap.event_handlers(self.context)
        log.info("event_consumers_ready", service=self.bootstrap.NAME, consumers=sorted(self.handlers))

    def get_dependency(self, worker_ctx: Any) -> Handlers:
        return self.handlers


TICK_S = 5.0
"""How often a worker's one nameko timer looks for due periodic tasks. nameko fixes a timer's interval when
the class is defined, before settings are read, so each task's own interval is honoured on these ticks."""


class PeriodicTasks(BootsService):
    """Boots a service when the worker starts and hands its timer a run-what-is-due callable over
    `bootstrap.periodic_tasks()`, the tasks the embedded platform runs on threads (docs/adr/0017)."""

    def __init__(self, bootstrap: ModuleType | None = None) -> None:
        self.bootstrap = bootstrap
        self.context = None
        self.tasks: list[tuple[str, float, Callable[[], object]]] = []
        self.next_due: dict[str, float] = {}

    def setup(self) -> None:
        assert self.bootstrap is not None
        cooperative_database_waits()
        # The relay of this context is never started: the service's gRPC process publishes the outbox.
        self.context = self.bootstrap.bootstrap(Settings.from_env(), InProcessBus())
        self.tasks = self.bootstrap.periodic_tasks(self.context)
        self.next_due = dict.fromkeys((name for name, _, _ in self.tasks), 0.0)
        log.info("periodic_tasks_ready", tasks={name: interval for name, interval, _ in self.tasks})

    def run_due(self) -> None:
        for name, interval, task in self.tasks:
            now = time.monotonic()
            if now < self.next_due[name]:
                continue
            self.next_due[name] = now + interval
            try:
                task()
            except Exception:
                # The next tick retries once the interval has passed; one failing task must not stop the others.
                log.exception("periodic_task_failed", task=name)

    def get_dependency(self, worker_ctx: Any) -> Callable[[], None]:
        return self.run_due


def handle(handlers: Handlers, consumer: str, payload: dict[str, Any]) -> None:
    """Run one consumer; on failure log, pause and re-raise so nameko requeues the event (requeue_on_error).

    A database outage or a bug fixed by a redeploy loses no event, and the consumer's claim_event makes the
    redelivery harmless if the first attempt had committed.
    """
    try:
        handlers[consumer](payload)
    except Exception:
        log.exception("event_handler_failed", consumer=consumer, event_id=payload.get("event_id"))
        time.sleep(REQUEUE_DELAY_S)
        raise
