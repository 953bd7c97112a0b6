"""Audit entries and their hash chain: the canonical form, the link to the previous entry, verification.

An entry names who called (key id, merchant code), what (RPC, outcome), which data classes the request and
the response carried, the caller's country when known, the service the request went to, the correlation id
and the time. It never holds a field value. Each entry stores the SHA-256 of the previous entry's canonical
form, so changing, removing or reordering a stored entry breaks the chain at that point.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

GENESIS = "0" * 64
"""The `previous` of the first entry."""


@dataclass(frozen=True)
class Call:
    """One gateway call as the doors see it, before it gets its place in the chain."""

    at: str  # ISO 8601 UTC, microseconds
    door: str  # "http" or "grpc"
    rpc: str  # /pkg.Service/Method, or "unmatched"
    outcome: str  # HTTP status ("200", "429") or gRPC code name ("OK", "NOT_FOUND")
    key_id: str = ""
    merchant_code: str = ""
    request_classes: tuple[str, ...] = ()
    response_classes: tuple[str, ...] = ()
    caller_country: str = ""
    service: str = ""
    correlation_id: str = ""
    # Cross-border transfer (gateway/transfer_guard.py): where the answer went ("US", or "CN,US" with a
    # declared onward destination) and each verdict as CLASS>DEST:ACTION:RULE@vN[:BASIS].
    destination: str = ""
    transfers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """A call at position `seq` of the chain; `digest` is the SHA-256 of its canonical form."""

    seq: int
    call: Call
    previous: str
    digest: str

    @classmethod
    def link(cls, seq: int, call: Call, previous: str) -> Entry:
        return cls(seq, call, previous, digest_of(seq, call, previous))


def canonical(seq: int, call: Call, previous: str) -> bytes:
    """Sorted-key compact JSON of every field but the digest: the bytes the digest covers."""
    body = {"seq": seq, "previous": previous, **asdict(call)}
    body["request_classes"] = sorted(call.request_classes)
    body["response_classes"] = sorted(call.response_classes)
    # Written only when set, so entries stored before transfer decisions existed keep their digests.
    for name in ("destination", "transfers"):
        if not body[name]:
            del body[name]
    if "transfers" in body:
        body["transfers"] = list(call.transfers)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def digest_of(seq: int, call: Call, previous: str) -> str:
    return hashlib.sha256(canonical(seq, call, previous)).hexdigest()


def chain(calls: Iterable[Call], after: Entry | None = None) -> Iterator[Entry]:
    """The entries for `calls`, continuing the chain whose last entry is `after` (None: a new chain)."""
    seq, previous = (0, GENESIS) if after is None else (after.seq, after.digest)
    for call in calls:
        seq += 1
        entry = Entry.link(seq, call, previous)
        previous = entry.digest
        yield entry


@dataclass(frozen=True)
class Break:
    """Where the chain stops holding, and why."""

    seq: int
    problem: str


def verify(entries: Iterable[Entry]) -> tuple[int, Break | None]:
    """How many entries were checked, and the first break (None when the whole chain holds).

    A changed entry no longer matches its digest; a removed one leaves a gap in `seq` and a `previous` that
    names a digest not stored before it; a reordered one points at the wrong predecessor.
    """
    expected_seq, previous, count = 1, GENESIS, 0
    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            return count, Break(entry.seq, f"expected entry {expected_seq} here: an entry was removed or moved")
        if entry.previous != previous:
            return count, Break(entry.seq, "does not link to the entry before it: removed or reordered")
        if digest_of(entry.seq, entry.call, entry.previous) != entry.digest:
            return count, Break(entry.seq, "its content no longer matches its digest: changed")
        previous, expected_seq = entry.digest, expected_seq + 1
    return count, None
