"""Merchants and API keys on the unit of work's connection."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.identity.adapters.tables import api_keys, merchants
from services.identity.domain.keys import ApiKey
from services.identity.domain.merchants import Contact, Merchant, MerchantStatus, Registration


class MerchantRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, merchant: Merchant) -> None:
        r = merchant.registration
        self.connection.execute(
            merchants.insert().values(
                merchant_code=merchant.merchant_code,
                legal_name=r.legal_name,
                country=r.country,
                uscc=r.uscc,
                settlement_currency=r.settlement_currency,
                contacts=json.dumps([c.__dict__ for c in r.contacts], ensure_ascii=False, sort_keys=True),
                status=merchant.status.value,
                screening_code=merchant.screening_code,
                created_at=merchant.created_at,
            )
        )

    def get(self, merchant_code: str) -> Merchant | None:
        row = self.connection.execute(sa.select(merchants).where(merchants.c.merchant_code == merchant_code)).first()
        if row is None:
            return None
        contacts = tuple(Contact(**c) for c in json.loads(row.contacts))
        registration = Registration(row.legal_name, row.country, row.uscc, row.settlement_currency, contacts)
        return Merchant(row.merchant_code, registration, MerchantStatus(row.status), row.screening_code, row.created_at)

    def lock(self, merchant_code: str) -> Merchant | None:
        """The merchant, its row locked until the transaction ends (PostgreSQL; SQLite locks the database)."""
        self.connection.execute(
            sa.select(merchants.c.merchant_code).where(merchants.c.merchant_code == merchant_code).with_for_update()
        )
        return self.get(merchant_code)

    def save_status(self, merchant: Merchant) -> None:
        """Store a merchant's status (the only part of a registration that changes)."""
        self.connection.execute(
            merchants.update()
            .where(merchants.c.merchant_code == merchant.merchant_code)
            .values(status=merchant.status.value)
        )


class ApiKeyRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @staticmethod
    def _to_domain(row: sa.Row) -> ApiKey:
        return ApiKey(
            row.key_id,
            row.secret_hash,
            row.merchant_code,
            tuple(row.scopes.split()),
            row.created_at,
            row.label,
            row.expires_at,
            row.revoked_at,
        )

    def add(self, key: ApiKey) -> None:
        self.connection.execute(
            api_keys.insert().values(
                key_id=key.key_id,
                secret_hash=key.secret_hash,
                merchant_code=key.merchant_code,
                scopes=" ".join(key.scopes),
                label=key.label,
                created_at=key.created_at,
                expires_at=key.expires_at,
                revoked_at=key.revoked_at,
            )
        )

    def get(self, key_id: str, *, for_update: bool = False) -> ApiKey | None:
        query = sa.select(api_keys).where(api_keys.c.key_id == key_id)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return None if row is None else self._to_domain(row)

    def save_ends(self, key: ApiKey) -> None:
        """Store a key's expiry and revocation (the only parts of a key that change)."""
        self.connection.execute(
            api_keys.update()
            .where(api_keys.c.key_id == key.key_id)
            .values(expires_at=key.expires_at, revoked_at=key.revoked_at)
        )
