"""Transfer rule versions, the kill-switch log and legal bases on the unit of work's connection.

All three tables are append-only: a new rule version, a new kill-switch change, a new legal basis.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.identity.adapters.tables import legal_bases, transfer_kill_switches, transfer_rule_versions
from services.identity.domain.transfer_rules import (
    Action,
    BasisKind,
    Group,
    KillSwitchChange,
    KillTarget,
    LegalBasis,
    Rule,
    RuleTable,
)


def _rule_json(rule: Rule) -> dict[str, Any]:
    body = asdict(rule)
    body["action"] = rule.action.value
    body["otherwise"] = rule.otherwise.value
    body["any_of"] = [b.value for b in rule.any_of]
    body["all_of"] = [b.value for b in rule.all_of]
    return body


def _rule(body: dict[str, Any]) -> Rule:
    return Rule(
        body["rule_id"],
        body["origin"],
        body["data_class"],
        body["destination"],
        Action(body["action"]),
        body["source"],
        body["source_read_on"],
        tuple(BasisKind(b) for b in body["any_of"]),
        tuple(BasisKind(b) for b in body["all_of"]),
        Action(body["otherwise"]),
        int(body["min_persons"]),
        body["uncertain"],
    )


class TransferRuleRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, table: RuleTable) -> None:
        document = {"rules": [_rule_json(r) for r in table.rules], "groups": [asdict(g) for g in table.groups]}
        self.connection.execute(
            transfer_rule_versions.insert().values(
                version=table.version,
                document=json.dumps(document, ensure_ascii=False, sort_keys=True),
                published_by=table.published_by,
                published_at=table.published_at,
                reason=table.reason,
            )
        )

    def get(self, version: int | None = None) -> RuleTable | None:
        """A version, or the latest when None."""
        query = sa.select(transfer_rule_versions)
        if version is None:
            query = query.order_by(transfer_rule_versions.c.version.desc()).limit(1)
        else:
            query = query.where(transfer_rule_versions.c.version == version)
        row = self.connection.execute(query).first()
        if row is None:
            return None
        document = json.loads(row.document)
        groups = tuple(
            Group(g["name"], tuple(g["countries"]), g["source"], g["source_read_on"], g["uncertain"])
            for g in document["groups"]
        )
        rules = tuple(_rule(r) for r in document["rules"])
        return RuleTable(row.version, rules, groups, row.published_by, row.published_at, row.reason)

    def add_kill_switch(self, change: KillSwitchChange) -> None:
        self.connection.execute(
            transfer_kill_switches.insert().values(
                target=change.target.value,
                value=change.value,
                engaged=change.engaged,
                changed_by=change.changed_by,
                changed_at=change.changed_at,
                reason=change.reason,
            )
        )

    def kill_switch_log(self) -> list[KillSwitchChange]:
        rows = self.connection.execute(sa.select(transfer_kill_switches).order_by(transfer_kill_switches.c.id))
        return [
            KillSwitchChange(KillTarget(r.target), r.value, bool(r.engaged), r.changed_by, r.changed_at, r.reason)
            for r in rows
        ]

    def revision(self) -> int:
        """Grows with every version and every kill-switch change (both tables are append-only)."""
        versions = self.connection.execute(sa.select(sa.func.count()).select_from(transfer_rule_versions)).scalar()
        switches = self.connection.execute(sa.select(sa.func.count()).select_from(transfer_kill_switches)).scalar()
        return int(versions or 0) + int(switches or 0)


class LegalBasisRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, basis: LegalBasis) -> None:
        self.connection.execute(
            legal_bases.insert().values(
                basis_id=basis.basis_id,
                merchant_code=basis.merchant_code,
                kind=basis.kind.value,
                reference=basis.reference,
                destination=basis.destination,
                valid_from=basis.valid_from,
                valid_until=basis.valid_until,
                registered_by=basis.registered_by,
                registered_at=basis.registered_at,
            )
        )

    def of_merchant(self, merchant_code: str) -> list[LegalBasis]:
        rows = self.connection.execute(
            sa.select(legal_bases)
            .where(legal_bases.c.merchant_code == merchant_code)
            .order_by(legal_bases.c.registered_at)
        )
        return [
            LegalBasis(
                r.basis_id,
                r.merchant_code,
                BasisKind(r.kind),
                r.reference,
                r.destination,
                r.valid_from,
                r.valid_until,
                r.registered_by,
                r.registered_at,
            )
            for r in rows
        ]
