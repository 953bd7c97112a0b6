"""Storage of the bitemporal rule library, the staged draft and the product checks (SQLAlchemy Core)."""

from __future__ import annotations

import json
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.compliance.adapters.tables import library_rules, product_checks, rule_drafts, rule_library_versions
from services.compliance.domain.library import Draft, LibraryVersion, StoredRule
from services.compliance.domain.rules import Rule, rule_from_pack, rule_to_document

DRAFT_ID = 1


def _rule(document: str, pack: str) -> Rule:
    return rule_from_pack(json.loads(document), pack)


class LibraryRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def lock(self) -> None:
        """Serialise publications across processes (PostgreSQL); SQLite's writer lock does it there."""
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('xborder-rule-library'))"))

    @staticmethod
    def _version(row: sa.Row) -> LibraryVersion:
        return LibraryVersion(
            row.version, row.code, row.published_at, row.packs_digest, tuple(json.loads(row.packs)), row.rule_count
        )

    def versions(self) -> list[LibraryVersion]:
        t = rule_library_versions
        return [self._version(r) for r in self.connection.execute(sa.select(t).order_by(t.c.version))]

    def latest(self) -> LibraryVersion | None:
        t = rule_library_versions
        row = self.connection.execute(sa.select(t).order_by(t.c.version.desc()).limit(1)).first()
        return self._version(row) if row else None

    def get(self, version: int) -> LibraryVersion | None:
        t = rule_library_versions
        row = self.connection.execute(sa.select(t).where(t.c.version == version)).first()
        return self._version(row) if row else None

    def stored_rules(self, version: int) -> list[StoredRule]:
        t = library_rules
        rows = self.connection.execute(
            sa.select(t)
            .where(t.c.recorded_in <= version, sa.or_(t.c.superseded_in.is_(None), t.c.superseded_in > version))
            .order_by(t.c.code, t.c.version)
        )
        return [StoredRule(_rule(r.document, r.pack), r.recorded_in, r.superseded_in) for r in rows]

    def rules(self, version: int) -> list[Rule]:
        return [s.rule for s in self.stored_rules(version)]

    def publish(self, draft: Draft, code: str, published_at: datetime) -> LibraryVersion:
        """Record `draft` as the next version: unchanged rules stay, others are superseded or recorded."""
        latest = self.latest()
        number = (latest.version if latest else 0) + 1
        t = library_rules
        current = {}
        if latest:
            for row in self.connection.execute(
                sa.select(t.c.id, t.c.code, t.c.version, t.c.pack, t.c.document).where(t.c.superseded_in.is_(None))
            ):
                current[(row.code, row.version)] = (row.id, row.pack, row.document)
        wanted = {rule.key: rule for rule in draft.rules}
        for key, (row_id, pack, document) in current.items():
            rule = wanted.get(key)
            if rule is None or json.loads(document) != rule_to_document(rule) or pack != rule.pack:
                self.connection.execute(t.update().where(t.c.id == row_id).values(superseded_in=number))
        fresh = [
            rule
            for key, rule in wanted.items()
            if key not in current
            or json.loads(current[key][2]) != rule_to_document(rule)
            or current[key][1] != rule.pack
        ]
        if fresh:
            self.connection.execute(
                t.insert(),
                [
                    {
                        "code": r.code,
                        "version": r.version,
                        "pack": r.pack,
                        "document": json.dumps(rule_to_document(r), sort_keys=True, ensure_ascii=False),
                        "effective_from": r.effective_from,
                        "effective_to": r.effective_to,
                        "recorded_in": number,
                        "superseded_in": None,
                    }
                    for r in fresh
                ],
            )
        self.connection.execute(
            rule_library_versions.insert().values(
                version=number,
                code=code,
                published_at=published_at,
                packs_digest=draft.packs_digest,
                packs=json.dumps(list(draft.packs)),
                rule_count=len(draft.rules),
            )
        )
        version = self.get(number)
        assert version is not None
        return version

    # --- the staged draft ---

    def stage(self, draft: Draft, source_dir: str) -> None:
        self.connection.execute(rule_drafts.delete())
        self.connection.execute(
            rule_drafts.insert().values(
                id=DRAFT_ID,
                staged_at=draft.staged_at,
                source_dir=source_dir,
                packs_digest=draft.packs_digest,
                packs=json.dumps(list(draft.packs)),
                rules=json.dumps(
                    [[r.pack, rule_to_document(r)] for r in draft.rules], sort_keys=True, ensure_ascii=False
                ),
            )
        )

    def draft(self) -> Draft | None:
        row = self.connection.execute(sa.select(rule_drafts).where(rule_drafts.c.id == DRAFT_ID)).first()
        if row is None:
            return None
        rules = [rule_from_pack(doc, pack) for pack, doc in json.loads(row.rules)]
        return Draft(rules, tuple(json.loads(row.packs)), row.packs_digest, row.staged_at)

    def drop_draft(self) -> None:
        self.connection.execute(rule_drafts.delete())


class CheckRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(
        self,
        *,
        code: str,
        merchant_code: str,
        destination: str,
        hs_code: str,
        verdict: str,
        as_of: date,
        library_version: int,
        language: str,
        product: dict,
        report: bytes,
        checked_at: datetime,
    ) -> None:
        self.connection.execute(
            product_checks.insert().values(
                code=code,
                merchant_code=merchant_code,
                destination=destination,
                hs_code=hs_code,
                verdict=verdict,
                as_of=as_of,
                library_version=library_version,
                language=language,
                product=json.dumps(product, sort_keys=True, ensure_ascii=False),
                report=report,
                checked_at=checked_at,
            )
        )

    def affected(self, destinations: set[str], hs_prefixes: set[str] | None) -> list[sa.Row]:
        """Stored checks in these destinations whose HS code starts with a prefix (None: every code)."""
        t = product_checks
        query = sa.select(t).where(t.c.destination.in_(sorted(destinations)))
        if hs_prefixes is not None:
            if not hs_prefixes:
                return []
            query = query.where(sa.or_(*(t.c.hs_code.like(f"{p}%") for p in sorted(hs_prefixes))))
        return list(self.connection.execute(query.order_by(t.c.checked_at, t.c.code)))

    def update_verdict(self, code: str, verdict: str, library_version: int, report: bytes) -> None:
        t = product_checks
        self.connection.execute(
            t.update().where(t.c.code == code).values(verdict=verdict, library_version=library_version, report=report)
        )

    def get(self, code: str) -> sa.Row | None:
        return self.connection.execute(sa.select(product_checks).where(product_checks.c.code == code)).first()

    def count(self) -> int:
        return int(self.connection.execute(sa.select(sa.func.count()).select_from(product_checks)).scalar_one())
