"""Recording calls off the request path: the doors enqueue, one writer thread chains and stores in batches.

`record` only puts the call on a queue, so a request never waits for the disk. One writer thread takes a
call as soon as it is queued, with every call queued behind it (up to `max_batch`), and the store chains and
commits them in one transaction: under load, the calls that arrive during one commit share the next (group
commit). A crash loses at most the calls queued and not yet committed, those of the last commit's few
milliseconds; a clean stop (`close`) writes them all. See docs/adr/0024-gateway-owns-its-audit-log.md.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from gateway.audit_chain import Call
from gateway.audit_store import AuditStore
from gateway.descriptors import data_class, is_map, is_repeated
from services.shared.logs import get_logger

log = get_logger(__name__)

_STOP = object()
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

    def __init__(self, store: AuditStore, *, max_batch: int = 500) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.Queue[object] = queue.Queue()
        self._writer = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._writer.start()

    def record(self, call: Call) -> None:
        self._queue.put(call)

    def flush(self) -> None:
        """Wait until every call recorded so far is stored."""
        self._queue.join()

    def close(self) -> None:
        if self._writer.is_alive():
            self._queue.put(_STOP)
            self._writer.join()
        self.store.close()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            calls = [c for c in batch if isinstance(c, Call)]
            self._write(calls)
            for _ in batch:
                self._queue.task_done()
            if any(c is _STOP for c in batch):
                return

    def _write(self, calls: list[Call]) -> None:
        if not calls:
            return
        try:
            self.store.append(calls)
        except Exception as error:  # the request path must not fail; the lost batch is logged, never hidden
            log.error("audit_write_failed", entries=len(calls), error=type(error).__name__)


AuditSink = Callable[[Call], None]
"""What a door is given to record a call (`AuditLog.record`, or nothing when auditing is off)."""
