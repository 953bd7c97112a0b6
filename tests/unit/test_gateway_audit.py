"""The gateway's audit log: the hash chain, the append-only table, the writer, and `xborder audit`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner
from xborder.identity.v1 import identity_service_pb2 as identity_pb

from cli.main import app
from gateway.audit_chain import GENESIS, Call, chain, verify
from gateway.audit_log import AuditLog, classes_carried
from gateway.audit_store import AuditStore

A = "MCG07KQQDYBCA31AJ7"


def call(n: int, **overrides: object) -> Call:
    fields: dict[str, object] = {
        "at": f"2026-03-0{1 + n % 9}T10:00:{n % 60:02d}.000000+00:00",
        "door": "http",
        "rpc": "/xborder.payments.v1.LedgerService/GetBalance",
        "outcome": "200",
        "key_id": f"k{n}",
        "merchant_code": A,
        "request_classes": ("BUSINESS",),
        "response_classes": ("FINANCIAL", "BUSINESS"),
        "caller_country": "DE",
        "service": "payments",
        "correlation_id": f"req-{n}",
    }
    fields.update(overrides)
    return Call(**fields)  # type: ignore[arg-type]


CALLS = st.lists(st.integers(0, 10_000), min_size=1, max_size=12).map(lambda ns: [call(n) for n in ns])


@given(CALLS)
def test_an_untouched_chain_holds(calls: list[Call]) -> None:
    entries = list(chain(calls))
    assert entries[0].previous == GENESIS
    assert verify(entries) == (len(calls), None)


@settings(max_examples=50)
@given(CALLS, st.data())
def test_any_change_removal_or_swap_is_found(calls: list[Call], data: st.DataObject) -> None:
    entries = list(chain(calls))
    i = data.draw(st.integers(0, len(entries) - 1))
    how = data.draw(st.sampled_from(["change", "remove", "swap"] if len(entries) > 1 else ["change"]))
    tampered = list(entries)
    if how == "change":
        from dataclasses import replace

        tampered[i] = replace(entries[i], call=replace(entries[i].call, caller_country="CN"))
        if tampered[i].call == entries[i].call:
            tampered[i] = replace(entries[i], call=replace(entries[i].call, caller_country="US"))
    elif how == "remove":
        if i == len(entries) - 1:
            i -= 1  # a cut tail is caught by the head digest kept elsewhere, not by the chain
        del tampered[i]
    else:
        j = (i + 1) % len(entries)
        tampered[i], tampered[j] = tampered[j], tampered[i]
    _, broken = verify(tampered)
    assert broken is not None


def test_the_table_refuses_updates_and_deletes(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "audit.sqlite3")
    store.append([call(1)])
    store.close()
    db = sqlite3.connect(tmp_path / "audit.sqlite3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit_entries SET outcome = '500'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit_entries")


def test_two_writers_on_one_file_extend_one_chain(tmp_path: Path) -> None:
    first, second = AuditStore(tmp_path / "a.sqlite3"), AuditStore(tmp_path / "a.sqlite3")
    for n in range(6):
        (first if n % 2 else second).append([call(n)])
    assert verify(first.entries()) == (6, None)
    assert [e.call.correlation_id for e in first.entries()] == [f"req-{n}" for n in range(6)]
    first.close()
    second.close()


def test_the_writer_stores_every_recorded_call_in_order(tmp_path: Path) -> None:
    log = AuditLog(AuditStore(tmp_path / "audit.sqlite3"), max_batch=7)
    for n in range(50):
        log.record(call(n))
    log.flush()
    stored = list(log.store.entries())
    assert [e.call.correlation_id for e in stored] == [f"req-{n}" for n in range(50)]
    assert verify(stored) == (50, None)
    log.record(call(50))
    log.close()  # a clean stop writes what is still queued
    reopened = AuditStore(tmp_path / "audit.sqlite3")
    assert verify(reopened.entries()) == (51, None)
    reopened.close()


class RefusingStore:
    """The SQLite store, refusing every batch while `down` is set (a database restarting, a full disk)."""

    def __init__(self, path: Path) -> None:
        self.inner = AuditStore(path)
        self.where = self.inner.where
        self.down = True
        self.refused = 0

    def append(self, calls: Any) -> Any:
        if self.down:
            self.refused += 1
            raise OSError("database unavailable")
        return self.inner.append(calls)

    def last(self) -> Any:
        return self.inner.last()

    def entries(self, *args: Any) -> Any:
        return self.inner.entries(*args)

    def close(self) -> None:
        self.inner.close()


def test_calls_the_store_refuses_are_written_when_it_comes_back_in_order(tmp_path: Path) -> None:
    store = RefusingStore(tmp_path / "audit.sqlite3")
    log = AuditLog(store, linger_s=0.001, retry_s=0.01)
    for n in range(5):
        log.record(call(n))
    log.flush()
    assert store.refused >= 1 and list(store.entries()) == []
    store.down = False
    for n in range(5, 8):
        log.record(call(n))
    log.flush()
    stored = list(store.entries())
    assert [e.call.correlation_id for e in stored] == [f"req-{n}" for n in range(8)]
    assert verify(stored) == (8, None)
    log.close()


def test_a_store_that_never_comes_back_keeps_only_the_newest_calls(tmp_path: Path) -> None:
    store = RefusingStore(tmp_path / "audit.sqlite3")
    log = AuditLog(store, linger_s=0.001, retry_s=0.01, max_pending=3)
    for n in range(5):
        log.record(call(n))
    log.flush()
    store.down = False
    log.record(call(5))
    log.flush()
    assert [e.call.correlation_id for e in store.entries()] == ["req-2", "req-3", "req-4", "req-5"]
    log.close()


def test_the_classes_a_message_carries_come_from_its_set_fields_never_their_values() -> None:
    empty = identity_pb.OnboardMerchantRequest()
    assert classes_carried(empty) == ()
    assert classes_carried(None) == ()
    assert classes_carried(identity_pb.OnboardMerchantRequest(legal_name="Acme Trading")) == ("BUSINESS",)
    # Nested messages count: a contact's name is personal data even though only the list field is named.
    request = identity_pb.OnboardMerchantRequest(
        legal_name="Acme Trading", contacts=[identity_pb.Contact(name="Zhang Wei", email="zw@example.com")]
    )
    assert classes_carried(request) == ("BUSINESS", "PERSONAL")


# --- xborder audit ---

runner = CliRunner()


def _log(tmp_path: Path, calls: list[Call]) -> Path:
    path = tmp_path / "audit.sqlite3"
    store = AuditStore(path)
    store.append(calls)
    store.close()
    return path


def _tamper(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER audit_entries_no_update")
    db.execute("DROP TRIGGER audit_entries_no_delete")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def test_verify_says_an_intact_log_holds(tmp_path: Path) -> None:
    path = _log(tmp_path, [call(n) for n in range(5)])
    result = runner.invoke(app, ["audit", "verify", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert "5 entries" in result.output


@pytest.mark.parametrize(
    ("statements", "at"),
    [
        (["UPDATE audit_entries SET caller_country = 'US' WHERE seq = 3"], 3),  # changed
        (["DELETE FROM audit_entries WHERE seq = 2"], 3),  # removed
        (  # reordered: entries 2 and 3 trade places (their positions kept)
            [
                "UPDATE audit_entries SET seq = -2 WHERE seq = 2",
                "UPDATE audit_entries SET seq = 2 WHERE seq = 3",
                "UPDATE audit_entries SET seq = 3 WHERE seq = -2",
            ],
            2,
        ),
    ],
    ids=["changed", "removed", "reordered"],
)
def test_verify_finds_a_tampered_entry(tmp_path: Path, statements: list[str], at: int) -> None:
    path = _log(tmp_path, [call(n) for n in range(5)])
    _tamper(path, *statements)
    result = runner.invoke(app, ["audit", "verify", "--file", str(path)])
    assert result.exit_code == 1, result.output
    assert f"broken at entry {at}" in result.output


def test_query_counts_classes_per_destination_in_the_period(tmp_path: Path) -> None:
    path = _log(
        tmp_path,
        [
            call(1, at="2026-03-01T09:00:00.000000+00:00", response_classes=("PERSONAL",), caller_country="DE"),
            call(2, at="2026-03-01T10:00:00.000000+00:00", response_classes=("PERSONAL", "FINANCIAL")),
            call(3, at="2026-03-02T10:00:00.000000+00:00", response_classes=("PERSONAL",), caller_country=""),
            call(4, at="2026-03-05T10:00:00.000000+00:00", response_classes=("PERSONAL",)),  # after the period
            call(5, at="2026-03-01T11:00:00.000000+00:00", response_classes=("FINANCIAL",), merchant_code="X"),
        ],
    )
    result = runner.invoke(
        app, ["audit", "query", "--from", "2026-03-01", "--to", "2026-03-03", "--json", "--file", str(path)]
    )
    assert result.exit_code == 0, result.output
    rows = {(r["dataClass"], r["destination"]): r["calls"] for r in json.loads(result.stdout)["transfers"]}
    assert rows == {("PERSONAL", "DE"): 2, ("FINANCIAL", "DE"): 2, ("PERSONAL", "unknown"): 1}
    only_a = runner.invoke(
        app,
        [
            "audit",
            "query",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-03",
            "--merchant",
            A,
            "--json",
            "--file",
            str(path),
        ],
    )
    rows = {(r["dataClass"], r["destination"]): r["calls"] for r in json.loads(only_a.output)["transfers"]}
    assert rows[("FINANCIAL", "DE")] == 1
    table = runner.invoke(app, ["audit", "query", "--from", "2026-03-01", "--to", "2026-03-03", "--file", str(path)])
    assert table.exit_code == 0 and "PERSONAL" in table.output and "unknown" in table.output


def test_query_refuses_a_malformed_period(tmp_path: Path) -> None:
    path = _log(tmp_path, [call(1)])
    result = runner.invoke(app, ["audit", "query", "--from", "March", "--to", "2026-03-03", "--file", str(path)])
    assert result.exit_code == 2
    assert "--from" in result.output
