"""Events: proto messages from events.proto carried as JSON, each with event_id and occurred_at.

On AMQP they follow nameko's format: topic exchange `<source>.events`, routing key = event type, JSON body,
so `nameko run` services consume them with @event_handler(source, event_type).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from services.shared.clock import utcnow

M = TypeVar("M", bound=Message)


def event_type_of(message: Message | type[Message]) -> str:
    """ReferenceDataImported -> reference_data_imported."""
    name = message.DESCRIPTOR.name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def exchange_name(source: str) -> str:
    return f"{source}.events"


@dataclass(frozen=True)
class Event:
    event_id: str
    source: str
    event_type: str
    occurred_at: datetime
    payload: dict[str, Any]

    @classmethod
    def from_message(cls, source: str, message: Message) -> Event:
        """Stamp event_id and occurred_at on the message (when unset) and wrap it."""
        if not getattr(message, "event_id", ""):
            message.event_id = str(uuid.uuid4())  # type: ignore[attr-defined]
        occurred = utcnow()
        stamp = message.occurred_at  # type: ignore[attr-defined]
        if stamp.seconds == 0 and stamp.nanos == 0:
            stamp.FromDatetime(occurred)
        else:
            occurred = stamp.ToDatetime(tzinfo=occurred.tzinfo)
        payload = json_format.MessageToDict(message, preserving_proto_field_name=True)
        return cls(message.event_id, source, event_type_of(message), occurred, payload)  # type: ignore[attr-defined]

    def body(self) -> str:
        return json.dumps(self.payload, separators=(",", ":"), sort_keys=True)


def parse_payload(payload: dict[str, Any] | str | bytes, message_type: type[M]) -> M:
    """A consumer's view of an event: the typed message (unknown fields from newer producers ignored)."""
    data = json.loads(payload) if isinstance(payload, str | bytes) else payload
    message = message_type()
    json_format.ParseDict(data, message, ignore_unknown_fields=True)
    return message
