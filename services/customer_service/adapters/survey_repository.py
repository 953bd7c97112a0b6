"""Satisfaction surveys and macros in SQL (tables.satisfaction_surveys, tables.macros)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.customer_service.adapters.tables import macros, satisfaction_surveys
from services.customer_service.domain.macros import Macro
from services.customer_service.domain.surveys import Survey
from services.customer_service.domain.tickets import Priority, Status, Visibility


def _survey(row: sa.Row) -> Survey:
    return Survey(row.ticket_code, row.merchant_code, row.offered_at, row.score, row.comment, row.rated_at)


class SurveyRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._for_update = connection.dialect.name == "postgresql"

    def add(self, survey: Survey) -> None:
        self.connection.execute(
            satisfaction_surveys.insert().values(
                ticket_code=survey.ticket_code,
                merchant_code=survey.merchant_code,
                offered_at=survey.offered_at,
                score=survey.score,
                comment=survey.comment,
                rated_at=survey.rated_at,
            )
        )

    def save_rating(self, survey: Survey) -> None:
        self.connection.execute(
            satisfaction_surveys.update()
            .where(satisfaction_surveys.c.ticket_code == survey.ticket_code)
            .values(score=survey.score, comment=survey.comment, rated_at=survey.rated_at)
        )

    def get(self, ticket_code: str, *, for_update: bool = False) -> Survey | None:
        query = sa.select(satisfaction_surveys).where(satisfaction_surveys.c.ticket_code == ticket_code)
        if for_update and self._for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return None if row is None else _survey(row)

    def for_merchant(self, merchant_code: str) -> list[Survey]:
        rows = self.connection.execute(
            sa.select(satisfaction_surveys).where(satisfaction_surveys.c.merchant_code == merchant_code)
        )
        return [_survey(row) for row in rows]


def _macro(row: sa.Row) -> Macro:
    return Macro(
        owner=row.owner,
        name=row.name,
        title=row.title,
        reply=row.reply,
        reply_visibility=Visibility(row.reply_visibility),
        status=Status(row.status) if row.status else None,
        priority=Priority(row.priority) if row.priority else None,
        add_tags=frozenset(json.loads(row.add_tags)),
        remove_tags=frozenset(json.loads(row.remove_tags)),
        version=row.version,
        updated_at=row.updated_at,
    )


class MacroRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def save(self, macro: Macro) -> None:
        """Insert version 1 or replace the stored one (the caller has bumped the version)."""
        values = {
            "version": macro.version,
            "title": macro.title,
            "reply": macro.reply,
            "reply_visibility": macro.reply_visibility.value,
            "status": "" if macro.status is None else macro.status.value,
            "priority": 0 if macro.priority is None else macro.priority.value,
            "add_tags": json.dumps(sorted(macro.add_tags)),
            "remove_tags": json.dumps(sorted(macro.remove_tags)),
            "updated_at": macro.updated_at,
        }
        if macro.version == 1:
            self.connection.execute(macros.insert().values(owner=macro.owner, name=macro.name, **values))
        else:
            self.connection.execute(
                macros.update().where(macros.c.owner == macro.owner, macros.c.name == macro.name).values(**values)
            )

    def get(self, owner: str, name: str) -> Macro | None:
        row = self.connection.execute(sa.select(macros).where(macros.c.owner == owner, macros.c.name == name)).first()
        return None if row is None else _macro(row)

    def visible_to(self, merchant_code: str) -> list[Macro]:
        """The merchant's macros and the platform's (owner ""), by name, the merchant's first on a tie."""
        rows = self.connection.execute(
            sa.select(macros)
            .where(macros.c.owner.in_([merchant_code, ""]))
            .order_by(macros.c.name, macros.c.owner.desc())
        )
        return [_macro(row) for row in rows]
