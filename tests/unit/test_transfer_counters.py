"""Person counters: distinct hashed persons per year, merchant and class; kept across restarts, never in clear."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.transfer_counters import PersonCounters


def test_persons_are_counted_once_hashed_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "persons.sqlite3"
    counters = PersonCounters(path)
    assert counters.add(2026, "MC1", "PERSONAL", ["Jane|jane@x", "John|john@x"]) == 2
    assert counters.add(2026, "MC1", "PERSONAL", ["Jane|jane@x"]) == 2
    assert counters.add(2026, "MC1", "PERSONAL_SENSITIVE", ["Jane|jane@x"]) == 1
    assert counters.add(2027, "MC1", "PERSONAL", ["Jane|jane@x"]) == 1  # a new calendar year starts at 0
    assert counters.count(2026, "MC2", "PERSONAL") == 0
    counters.close()
    stored = sqlite3.connect(path).execute("SELECT person FROM transfer_persons").fetchall()
    assert len(stored) == 4 and not any("Jane" in row[0] for row in stored)
    again = PersonCounters(path)
    assert again.count(2026, "MC1", "PERSONAL") == 2
    assert again.add(2026, "MC1", "PERSONAL", ["John|john@x", "Ann|ann@x"]) == 3  # John was counted before
    again.close()


def test_digests_are_keyed_per_file(tmp_path: Path) -> None:
    one, two = PersonCounters(tmp_path / "a.sqlite3"), PersonCounters(tmp_path / "b.sqlite3")
    assert one.digest("Jane") != two.digest("Jane")  # an HMAC under a random key, not a bare hash
    one.close()
    two.close()
