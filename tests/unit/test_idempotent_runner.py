"""The kernel's one idempotent runner on an in-memory unit of work, under drawn interleavings of copies.

A copy of a request may arrive while another copy is inside its work, or between its remember and its
commit, to any depth; a copy may carry another payload under the same key. Whatever the interleaving:
one answer is stored, the state change happens once, every copy with the winning payload reads the
stored answer byte for byte, and every copy with another payload is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from google.protobuf.struct_pb2 import Struct
from hypothesis import given, settings
from hypothesis import strategies as st

from services.shared.errors import ConflictingWrite, ValidationError
from services.shared.idempotency import IdempotencyKeyReused, Request, replayed, run_idempotent
from tests.fakes import InMemoryDatabase, InMemoryUnitOfWork

SCOPE = "test.transfer"
KEY = "request-1"


class CountingUnitOfWork(InMemoryUnitOfWork):
    """A unit of work whose state change is one increment, visible at commit; `before_commit` runs once."""

    def __init__(self, database: CountingDatabase, before_commit: Callable[[], None] | None = None) -> None:
        super().__init__(database)
        self.counting = database
        self.before_commit = before_commit

    def _bind(self) -> None:
        super()._bind()
        self.increments = 0

    def _apply(self) -> None:
        self.counting.state_changes += self.increments

    def commit(self) -> None:
        hook, self.before_commit = self.before_commit, None
        if hook is not None:
            hook()
        super().commit()


class CountingDatabase(InMemoryDatabase):
    def __init__(self) -> None:
        super().__init__()
        self.state_changes = 0


@dataclass
class Copy:
    """One copy of the request: its payload, and the copies that arrive during its work or before its commit."""

    payload: str
    during_work: list[Copy] = field(default_factory=list)
    before_commit: list[Copy] = field(default_factory=list)


def copies(depth: int = 3) -> st.SearchStrategy[Copy]:
    payloads = st.sampled_from(["a", "b"])
    if depth == 0:
        return st.builds(Copy, payloads)
    inner = copies(depth - 1)
    return st.builds(Copy, payloads, st.lists(inner, max_size=2), st.lists(inner, max_size=1))


@dataclass
class Run:
    database: CountingDatabase = field(default_factory=CountingDatabase)
    sent: dict[str, int] = field(default_factory=lambda: {"a": 0, "b": 0})
    answers: dict[str, list[bytes]] = field(default_factory=lambda: {"a": [], "b": []})  # as gRPC sends them
    canonical: dict[str, list[bytes]] = field(default_factory=lambda: {"a": [], "b": []})  # deterministic bytes
    refused: dict[str, int] = field(default_factory=lambda: {"a": 0, "b": 0})

    def send(self, copy: Copy) -> None:
        """Run one copy through the kernel runner, the copies nested in it at their moments.

        A copy answered from the store never works nor commits, so the copies nested in it never arrive.
        """
        self.sent[copy.payload] += 1
        hooks = [lambda: self.send_all(copy.before_commit)]

        def factory() -> CountingUnitOfWork:
            # Only the first attempt meets the copies that arrive before its commit.
            return CountingUnitOfWork(self.database, hooks.pop() if hooks else None)

        def work(uow: CountingUnitOfWork) -> Struct:
            self.send_all(copy.during_work)
            uow.increments += 1
            answer = Struct()
            # A fresh code and map keys out of order: only the stored, deterministic bytes read the same twice.
            answer.update({"z": {"k": "v"}, "code": uuid.uuid4().hex, "y": [1, 2], "payload": copy.payload, "x": 1})
            return answer

        try:
            answer = run_idempotent(factory, Request(SCOPE, KEY, copy.payload), Struct, work)
        except IdempotencyKeyReused:
            self.refused[copy.payload] += 1
            return
        self.answers[copy.payload].append(answer.SerializeToString())
        self.canonical[copy.payload].append(answer.SerializeToString(deterministic=True))

    def send_all(self, nested: list[Copy]) -> None:
        for copy in nested:
            self.send(copy)


@settings(max_examples=200, deadline=None)
@given(st.lists(copies(), min_size=1, max_size=3))
def test_any_interleaving_of_copies_stores_one_answer_changes_state_once_and_answers_alike(
    requests: list[Copy],
) -> None:
    run = Run()
    run.send_all(requests)

    [(fingerprint, stored)] = run.database.idempotency.values()
    assert run.database.state_changes == 1
    loser = "b" if fingerprint == "a" else "a"
    assert run.canonical[fingerprint] == [stored] * run.sent[fingerprint]
    assert len(set(run.answers[fingerprint])) == 1  # byte for byte on the wire, the first copy included
    assert run.answers[loser] == [] and run.refused[loser] == run.sent[loser]
    assert run.refused[fingerprint] == 0
    assert Struct.FromString(stored)["payload"] == fingerprint


def test_a_duplicate_inside_the_work_wins_and_the_outer_copy_replays_its_answer() -> None:
    run = Run()
    run.send(Copy("a", during_work=[Copy("a", during_work=[Copy("a")])]))
    [(_, stored)] = run.database.idempotency.values()
    assert run.canonical["a"] == [stored] * 3 and len(set(run.answers["a"])) == 1
    assert run.database.state_changes == 1


def test_a_different_payload_under_the_same_key_is_refused_naming_the_key() -> None:
    run = Run()
    run.send(Copy("a"))
    with pytest.raises(IdempotencyKeyReused) as refused:
        run_idempotent(lambda: CountingUnitOfWork(run.database), Request(SCOPE, KEY, "b"), Struct, lambda uow: Struct())
    assert refused.value.violations[0].field == "request_id"
    assert run.database.state_changes == 1


def test_replayed_reads_the_stored_answer_and_nothing_for_a_new_key() -> None:
    run = Run()
    factory = lambda: CountingUnitOfWork(run.database)  # noqa: E731
    assert replayed(factory, Request(SCOPE, KEY, "a"), Struct) is None
    run.send(Copy("a"))
    again = replayed(factory, Request(SCOPE, KEY, "a"), Struct)
    assert again is not None and again.SerializeToString() == run.answers["a"][0]
    with pytest.raises(IdempotencyKeyReused):
        replayed(factory, Request(SCOPE, KEY, "b"), Struct)


def test_a_conflict_that_is_not_a_stored_answer_is_raised_after_the_retry() -> None:
    database = CountingDatabase()

    class Clashing(CountingUnitOfWork):
        def commit(self) -> None:
            raise ConflictingWrite("another unique key")

    with pytest.raises(ConflictingWrite):
        run_idempotent(lambda: Clashing(database), Request(SCOPE, KEY, "a"), Struct, lambda uow: Struct())
    assert database.idempotency == {} and database.state_changes == 0


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_an_unusable_key_is_refused_before_any_work(key: str) -> None:
    database = CountingDatabase()
    with pytest.raises(ValidationError):
        run_idempotent(lambda: CountingUnitOfWork(database), Request(SCOPE, key, "a"), Struct, lambda uow: Struct())
    assert database.commits == 0
