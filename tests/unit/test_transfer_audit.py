"""Transfer decisions in the audit log: stored, chained, verifiable; older entries keep their digests; and
`xborder audit query` answers which classes went to which country, masked or refused, by which rule."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from gateway.audit_chain import GENESIS, Call, canonical, verify
from gateway.audit_store import AuditStore

runner = CliRunner()
A = "MCG07KQQDYBCA31AJ7"


def call(n: int, **overrides: object) -> Call:
    base = Call(
        at=f"2026-12-01T10:00:{n:02d}.000000+00:00",
        door="http",
        rpc="/xborder.identity.v1.IdentityService/GetMerchant",
        outcome="200",
        key_id="0123456789abcdef",
        merchant_code=A,
        response_classes=("BUSINESS", "PERSONAL"),
        caller_country="DE",
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_an_entry_without_decisions_keeps_the_canonical_form_it_had() -> None:
    plain = call(1)
    body = json.loads(canonical(1, plain, GENESIS))
    assert "destination" not in body and "transfers" not in body
    decided = replace(plain, destination="CN", transfers=("PERSONAL>CN:MASK:EU-PD-THIRD-COUNTRY@v1",))
    assert json.loads(canonical(1, decided, GENESIS))["transfers"] == ["PERSONAL>CN:MASK:EU-PD-THIRD-COUNTRY@v1"]


def test_a_log_written_before_decisions_were_audited_gets_the_columns_and_still_verifies(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    store = AuditStore(path)
    store.append([call(1)])
    store.close()
    with sqlite3.connect(path) as db:  # the file as the previous release wrote it: no transfer columns
        db.executescript(
            "DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete;"
            "ALTER TABLE audit_entries DROP COLUMN destination; ALTER TABLE audit_entries DROP COLUMN transfers;"
        )
    reopened = AuditStore(path)
    reopened.append([call(2, destination="CN", transfers=("PERSONAL>CN:BLOCK:KILL_SWITCH_CLASS",), outcome="451")])
    entries = list(reopened.entries())
    assert verify(entries) == (2, None)
    assert entries[1].call.transfers == ("PERSONAL>CN:BLOCK:KILL_SWITCH_CLASS",)
    reopened.close()


def test_a_changed_decision_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    store = AuditStore(path)
    store.append([call(1, destination="CN", transfers=("PERSONAL>CN:MASK:EU-PD-THIRD-COUNTRY@v1",))])
    store.close()
    with sqlite3.connect(path) as db:
        db.executescript(
            "DROP TRIGGER audit_entries_no_update;"
            "UPDATE audit_entries SET transfers = '[\"PERSONAL>CN:ALLOW:EU-PD-THIRD-COUNTRY@v1\"]';"
        )
    result = runner.invoke(app, ["audit", "verify", "--file", str(path)])
    assert result.exit_code == 1 and "changed" in result.output


def test_query_answers_which_classes_went_to_which_country(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    store = AuditStore(path)
    store.append(
        [
            call(
                1,
                destination="CN",
                transfers=("BUSINESS>CN:ALLOW:EU-BUSINESS-ALLOW@v1", "PERSONAL>CN:MASK:EU-PD-THIRD-COUNTRY@v1"),
            ),
            call(2, destination="CN", transfers=("PERSONAL>CN:ALLOW:EU-PD-THIRD-COUNTRY@v1:LB01",)),
            call(3, destination="CN,US", transfers=("PERSONAL>US:BLOCK:KILL_SWITCH_DESTINATION",), outcome="451"),
            call(4),  # written before decisions were recorded: counted under the caller's country
            call(5, at="2027-01-02T00:00:00.000000+00:00", destination="CN", transfers=("PERSONAL>CN:ALLOW:X@v1",)),
        ]
    )
    store.close()
    result = runner.invoke(
        app, ["audit", "query", "--from", "2026-12-01", "--to", "2027-01-01", "--json", "--file", str(path)]
    )
    assert result.exit_code == 0, result.output
    rows = {(r["dataClass"], r["destination"]): r for r in json.loads(result.stdout)["transfers"]}
    personal_cn = rows[("PERSONAL", "CN")]
    assert (personal_cn["calls"], personal_cn["masked"], personal_cn["blocked"]) == (1, 1, 0)
    assert personal_cn["rules"] == ["EU-PD-THIRD-COUNTRY@v1"] and personal_cn["legalBases"] == ["LB01"]
    assert rows[("PERSONAL", "US")]["blocked"] == 1 and rows[("PERSONAL", "US")]["rules"] == ["KILL_SWITCH_DESTINATION"]
    assert rows[("BUSINESS", "CN")]["calls"] == 1
    assert rows[("PERSONAL", "DE")]["calls"] == 1 and rows[("BUSINESS", "DE")]["calls"] == 1
    table = runner.invoke(app, ["audit", "query", "--from", "2026-12-01", "--to", "2027-01-01", "--file", str(path)])
    assert table.exit_code == 0 and "masked" in table.output
