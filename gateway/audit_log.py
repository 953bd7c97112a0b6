"""Recording calls off the request path: the doors enqueue, one writer thread chains and stores in batches.

`record` only puts the call on a queue, so a request never waits for the disk. One writer thread takes the
first queued call, lets the batch fill for `LINGER_S` (50 ms; it sleeps, so it neither wakes on every call
nor contends for the GIL), and the store chains and commits the whole batch in one transaction. A crash of
the process loses at most the calls of the batch being filled, the last 50 ms or so; a clean stop
(`close`) writes everything queued. A batch the store refuses (PostgreSQL restarting, a full disk) is kept
and tried again, after `retry_s`, ahead of the calls recorded since, up to `max_pending` calls. See
docs/adr/0024-gateway-owns-its-audit-log.md and docs/adr/0029-gateway-replicas-share-state.md.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from gateway.audit_chain import Call
from gateway.audit_store import ChainStore
from gateway.descriptors import data_class, is_map, is_repeated
from services.shared.logs import get_logger

log = get_logger(__name__)

_STOP = object()
LINGER_S = 0.05
"""How long the writer lets a batch fill after its first call: the most a crash can lose."""
RETRY_S = 1.0
"""How long the writer waits before writing again calls the store refused."""
MAX_PENDING = 200_000
"""The most calls held for a store that keeps refusing them; past it the oldest are dropped (and logged)."""
_CLASS_OF: dict[str, str | None] = {}


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _class_of(field: FieldDescriptor) -> str | None:
    name = field.full_name
    if name not in _CLASS_OF:
        _CLASS_OF[name] = data_class(field)
    return _CLASS_OF[name]


def classes_carried(message: Message | None) -> tuple[str, ...]:
    """The data classes of the fields `message` actually sets, nested messages included (no values)."""
    found: set[str] = set()

    def walk(msg: Message) -> None:
        for field, value in msg.ListFields():
            cls = _class_of(field)
            if cls is not None:
                found.add(cls)
            if field.type != FieldDescriptor.TYPE_MESSAGE:
                continue
            if is_map(field):
                values = [v for v in value.values() if isinstance(v, Message)]
            elif is_repeated(field):
                values = list(value)
            else:
                values = [value]
            for item in values:
                walk(item)

    if message is not None:
        walk(message)
    return tuple(sorted(found))


class AuditLog:
    """The gateway's audit trail: `record` from any thread, `flush` to wait for the disk, `close` at the end."""

    def __init__(
        self,
        store: ChainStore,
        *,
        linger_s: float = LINGER_S,
        max_batch: int = 2000,
        retry_s: float = RETRY_S,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.store = store
        self.linger_s = linger_s
        self.max_batch = max_batch
        self.retry_s = retry_s
        self.max_pending = max_pending
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._writer.start()

    def record(self, call: Call) -> None:
        self._queue.put(call)

    def flush(self) -> None:
        """Wait until every call recorded so far is stored."""
        if not self._writer.is_alive():
            return
        done = threading.Event()
        self._queue.put(done)
        done.wait()

    def close(self) -> None:
        if self._writer.is_alive():
            self._queue.put(_STOP)
            self._writer.join()
        self.store.close()

    def _run(self) -> None:
        pending: list[Call] = []  # recorded, not yet stored: written first, in the order they came
        while True:
            try:
                # With calls held back after a failure, wake up to try them again even if no call comes.
                batch = [self._queue.get(timeout=self.retry_s if pending else None)]
            except queue.Empty:
                batch = []
            if batch and isinstance(batch[0], Call):
                # Let the batch fill without waking on every call: the request threads keep the GIL.
                time.sleep(self.linger_s)
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            pending.extend(c for c in batch if isinstance(c, Call))
            stopping = any(item is _STOP for item in batch)
            pending = self._write(pending, last_try=stopping)
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()
            if stopping:
                return

    def _write(self, calls: list[Call], *, last_try: bool) -> list[Call]:
        """Store `calls`; the ones still to store (all of them, when the store refused)."""
        if not calls:
            return []
        try:
            self.store.append(calls)
            return []
        except Exception as error:  # the request path must not fail; what is not stored is logged, never hidden
            if last_try:
                log.error("audit_write_failed", entries=len(calls), error=type(error).__name__, kept=0)
                return []
            dropped = max(0, len(calls) - self.max_pending)
            log.error("audit_write_failed", entries=len(calls), error=type(error).__name__, kept=len(calls) - dropped)
            if dropped:
                log.error("audit_entries_dropped", entries=dropped)
            return calls[dropped:]


AuditSink = Callable[[Call], None]
"""What a door is given to record a call (`AuditLog.record`, or nothing when auditing is off)."""
