"""Partners and their certificates on the unit of work's connection."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.identity.adapters.tables import partner_certificates, partners
from services.identity.domain.merchants import Contact
from services.identity.domain.partners import Certificate, Partner, PartnerKind, PartnerRegistration, PartnerStatus


class PartnerRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, partner: Partner) -> None:
        r = partner.registration
        self.connection.execute(
            partners.insert().values(
                partner_code=partner.partner_code,
                legal_name=r.legal_name,
                kind=r.kind.value,
                country=r.country,
                uscc=r.uscc,
                contacts=json.dumps([c.__dict__ for c in r.contacts], ensure_ascii=False, sort_keys=True),
                owns=json.dumps(list(r.owns), ensure_ascii=False),
                status=partner.status.value,
                screening_code=partner.screening_code,
                created_at=partner.created_at,
            )
        )

    def get(self, partner_code: str) -> Partner | None:
        row = self.connection.execute(sa.select(partners).where(partners.c.partner_code == partner_code)).first()
        if row is None:
            return None
        registration = PartnerRegistration(
            row.legal_name,
            PartnerKind(row.kind),
            row.country,
            row.uscc,
            tuple(Contact(**c) for c in json.loads(row.contacts)),
            tuple(json.loads(row.owns)),
        )
        return Partner(row.partner_code, registration, PartnerStatus(row.status), row.screening_code, row.created_at)

    def lock(self, partner_code: str) -> Partner | None:
        """The partner, its row locked until the transaction ends (PostgreSQL; SQLite locks the database)."""
        self.connection.execute(
            sa.select(partners.c.partner_code).where(partners.c.partner_code == partner_code).with_for_update()
        )
        return self.get(partner_code)

    def save_status(self, partner: Partner) -> None:
        """Store a partner's status (the only part of a registration that changes)."""
        self.connection.execute(
            partners.update().where(partners.c.partner_code == partner.partner_code).values(status=partner.status.value)
        )

    # --- certificates ---

    @staticmethod
    def _certificate(row: sa.Row) -> Certificate:
        return Certificate(row.fingerprint, row.partner_code, row.label, row.created_at, row.revoked_at)

    def add_certificate(self, certificate: Certificate) -> None:
        self.connection.execute(
            partner_certificates.insert().values(
                fingerprint=certificate.fingerprint,
                partner_code=certificate.partner_code,
                label=certificate.label,
                created_at=certificate.created_at,
                revoked_at=certificate.revoked_at,
            )
        )

    def certificate(self, fingerprint: str, *, for_update: bool = False) -> Certificate | None:
        query = sa.select(partner_certificates).where(partner_certificates.c.fingerprint == fingerprint)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return None if row is None else self._certificate(row)

    def certificates(self, partner_code: str) -> list[Certificate]:
        t = partner_certificates
        rows = self.connection.execute(
            sa.select(t).where(t.c.partner_code == partner_code).order_by(t.c.created_at.desc(), t.c.fingerprint)
        )
        return [self._certificate(row) for row in rows]

    def save_revocation(self, certificate: Certificate) -> None:
        self.connection.execute(
            partner_certificates.update()
            .where(partner_certificates.c.fingerprint == certificate.fingerprint)
            .values(revoked_at=certificate.revoked_at)
        )
