"""Access to the compliance tables: the HS nomenclature, reference codes and the upstream dataset versions."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.compliance.adapters.tables import hs_codes, hs_sections, ref_countries, upstream_datasets
from services.compliance.domain.hs import HsEntry, Ref, SearchQuery, Section
from services.compliance.domain.upstream import UpstreamDataset
from services.shared.uow import insert_for

_chapters = hs_codes.alias("chapters")
_headings = hs_codes.alias("headings")


class HsRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @staticmethod
    def _select() -> sa.Select:
        """An entry with its section, chapter and heading in one round trip."""
        c = hs_codes.c
        return sa.select(
            c.code,
            c.description,
            c.section,
            hs_sections.c.name.label("section_name"),
            c.chapter,
            _chapters.c.description.label("chapter_description"),
            c.heading,
            _headings.c.description.label("heading_description"),
        ).select_from(
            hs_codes.join(hs_sections, hs_sections.c.numeral == c.section)
            .join(_chapters, _chapters.c.code == c.chapter)
            .outerjoin(_headings, _headings.c.code == c.heading)
        )

    @staticmethod
    def _to_domain(row: sa.Row) -> HsEntry:
        heading = Ref(row.heading, row.heading_description) if row.heading else None
        return HsEntry(
            row.code,
            row.description,
            Section(row.section, row.section_name),
            Ref(row.chapter, row.chapter_description),
            heading,
        )

    def get(self, code: str) -> HsEntry | None:
        row = self.connection.execute(self._select().where(hs_codes.c.code == code)).first()
        return self._to_domain(row) if row else None

    @staticmethod
    def _matching(query: SearchQuery, level: int | None) -> list[sa.ColumnElement[bool]]:
        c = hs_codes.c
        # Words and prefixes hold only [0-9a-z] (domain.hs), so no LIKE wildcard can slip in.
        conditions: list[sa.ColumnElement[bool]] = (
            [c.code.like(f"{query.code_prefix}%")]
            if query.code_prefix
            else [c.search_text.like(f"% {word}%") for word in query.words]
        )
        if level is not None:
            conditions.append(c.level == level)
        return conditions

    def search(self, query: SearchQuery, level: int | None, offset: int, limit: int) -> tuple[list[HsEntry], int]:
        """One page of matches (subheadings, then headings, then chapters, each by code) and the total.

        The text match scans the table once (count as a window over the same scan); the page's parents
        and section are then joined by primary key for at most `limit` rows.
        """
        c = hs_codes.c
        conditions = self._matching(query, level)
        page = self.connection.execute(
            sa.select(c.code, sa.func.count().over().label("total"))
            .where(*conditions)
            .order_by(c.level.desc(), c.code)
            .offset(offset)
            .limit(limit)
        ).all()
        if not page:
            total = (
                0
                if offset == 0
                else self.connection.execute(
                    sa.select(sa.func.count()).select_from(hs_codes).where(*conditions)
                ).scalar_one()
            )
            return [], int(total)
        codes = [row.code for row in page]
        found = {
            row.code: self._to_domain(row) for row in self.connection.execute(self._select().where(c.code.in_(codes)))
        }
        return [found[code] for code in codes], int(page[0].total)


class ReferenceRepository:
    """The codes a rule pack may name: every HS code (all levels) and every ISO 3166-1 alpha-2 country."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def hs_codes(self) -> frozenset[str]:
        return frozenset(self.connection.execute(sa.select(hs_codes.c.code)).scalars())

    def countries(self) -> frozenset[str]:
        return frozenset(self.connection.execute(sa.select(ref_countries.c.alpha2)).scalars())


class UpstreamDatasetRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @staticmethod
    def _to_domain(row: sa.Row) -> UpstreamDataset:
        return UpstreamDataset(
            row.service, row.dataset, row.version, int(row.record_count), row.source, row.imported_at, row.event_id
        )

    @staticmethod
    def _values(dataset: UpstreamDataset) -> dict[str, object]:
        return {
            "version": dataset.version,
            "record_count": dataset.record_count,
            "source": dataset.source,
            "imported_at": dataset.imported_at,
            "event_id": dataset.event_id,
        }

    def add_if_absent(self, dataset: UpstreamDataset) -> bool:
        """Store the first announcement of a dataset; False (nothing written) when a row exists already.

        INSERT ... ON CONFLICT DO NOTHING: two workers announcing the same dataset at once cannot both
        insert; on PostgreSQL the second waits for the first's commit and then finds its row, so neither
        fails on the key.
        """
        t = upstream_datasets
        insert = insert_for(self.connection)(t).values(
            service=dataset.service, dataset=dataset.dataset, **self._values(dataset)
        )
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT under SQLAlchemy 2.1.
        inserted = self.connection.execute(
            insert.on_conflict_do_nothing(index_elements=["service", "dataset"]).returning(t.c.service)
        ).first()
        return inserted is not None

    def get_for_update(self, service: str, dataset: str) -> UpstreamDataset | None:
        """The stored row, locked until the commit on PostgreSQL (SQLite holds the database write lock)."""
        t = upstream_datasets
        query = sa.select(t).where(t.c.service == service, t.c.dataset == dataset)
        if self.connection.dialect.name != "sqlite":
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return self._to_domain(row) if row else None

    def replace(self, dataset: UpstreamDataset) -> None:
        t = upstream_datasets
        self.connection.execute(
            t.update()
            .where(t.c.service == dataset.service, t.c.dataset == dataset.dataset)
            .values(**self._values(dataset))
        )

    def list(self) -> list[UpstreamDataset]:
        t = upstream_datasets
        rows = self.connection.execute(sa.select(t).order_by(t.c.service, t.c.dataset))
        return [self._to_domain(row) for row in rows]
