"""Read access to the logistics reference tables."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.logistics.adapters.tables import countries, status_codes
from services.logistics.domain.countries import CodeKind, Country, CountryCode
from services.logistics.domain.status_codes import StatusCode


class CountryRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @staticmethod
    def _to_domain(row: sa.Row) -> Country:
        return Country(
            row.alpha2,
            row.alpha3,
            row.numeric,
            row.name_en,
            row.name_zh,
            row.formal_name_en,
            row.formal_name_zh,
            row.currency_code,
            row.capital,
            row.region,
            row.sub_region,
            tuple(json.loads(row.languages)),
            row.tld,
        )

    def get(self, code: CountryCode) -> Country | None:
        column = {
            CodeKind.ALPHA2: countries.c.alpha2,
            CodeKind.ALPHA3: countries.c.alpha3,
            CodeKind.NUMERIC: countries.c.numeric,
        }[code.kind]
        row = self.connection.execute(sa.select(countries).where(column == code.value)).first()
        return self._to_domain(row) if row else None

    def regions(self) -> list[str]:
        rows = self.connection.execute(
            sa.select(countries.c.region).distinct().where(countries.c.region != "").order_by(countries.c.region)
        )
        return [row.region for row in rows]

    def list(self, region: str | None) -> list[Country]:
        query = sa.select(countries).order_by(countries.c.alpha2)
        if region is not None:
            query = query.where(countries.c.region == region)
        return [self._to_domain(row) for row in self.connection.execute(query)]


class StatusCodeRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, code: str) -> StatusCode | None:
        t = status_codes
        row = self.connection.execute(sa.select(t.c.code, t.c.name, t.c.description).where(t.c.code == code)).first()
        return StatusCode(row.code, row.name, row.description) if row else None

    def list(self, words: tuple[str, ...]) -> list[StatusCode]:
        t = status_codes
        # Words hold only [0-9a-z] (domain.status_codes.search_words), so no LIKE wildcard can slip in.
        query = (
            sa.select(t.c.code, t.c.name, t.c.description)
            .where(*[t.c.search_text.like(f"% {word}%") for word in words])
            .order_by(t.c.position)
        )
        return [StatusCode(row.code, row.name, row.description) for row in self.connection.execute(query)]
