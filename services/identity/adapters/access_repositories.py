"""OAuth2 clients, ops staff, ops sessions and used single sign-on tokens on the unit of work's connection."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.identity.adapters.tables import oauth_clients, operators, ops_sessions, sso_token_uses
from services.identity.domain.clients import OAuthClient
from services.identity.domain.operators import Operator, Session
from services.identity.domain.roles import Role


class ClientRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @staticmethod
    def _to_domain(row: sa.Row) -> OAuthClient:
        return OAuthClient(
            row.client_id,
            row.secret_hash,
            row.merchant_code,
            row.label,
            tuple(row.scopes.split()),
            row.created_at,
            row.revoked_at,
        )

    def add(self, client: OAuthClient) -> None:
        self.connection.execute(
            oauth_clients.insert().values(
                client_id=client.client_id,
                secret_hash=client.secret_hash,
                merchant_code=client.merchant_code,
                label=client.label,
                scopes=" ".join(client.scopes),
                created_at=client.created_at,
                revoked_at=client.revoked_at,
            )
        )

    def get(self, client_id: str, *, for_update: bool = False) -> OAuthClient | None:
        query = sa.select(oauth_clients).where(oauth_clients.c.client_id == client_id)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return None if row is None else self._to_domain(row)

    def of_merchant(self, merchant_code: str) -> list[OAuthClient]:
        query = (
            sa.select(oauth_clients)
            .where(oauth_clients.c.merchant_code == merchant_code)
            .order_by(oauth_clients.c.created_at, oauth_clients.c.client_id)
        )
        return [self._to_domain(row) for row in self.connection.execute(query)]

    def save_revoked(self, client: OAuthClient) -> None:
        self.connection.execute(
            oauth_clients.update()
            .where(oauth_clients.c.client_id == client.client_id)
            .values(revoked_at=client.revoked_at)
        )


class OperatorRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, operator: Operator) -> None:
        self.connection.execute(operators.insert().values(**self._row(operator)))

    @staticmethod
    def _row(o: Operator) -> dict[str, object]:
        return {
            "login": o.login,
            "display_name": o.display_name,
            "role": o.role.value,
            "password_hash": o.password_hash,
            "totp_secret": o.totp_secret,
            "created_at": o.created_at,
            "disabled_at": o.disabled_at,
            "last_totp_step": o.last_totp_step,
            "failed_logins": o.failed_logins,
            "locked_until": o.locked_until,
            "sso_email": o.sso_email,
            "sso_subject": o.sso_subject,
        }

    def get(self, login: str, *, for_update: bool = False) -> Operator | None:
        return self._one(operators.c.login == login, for_update)

    def by_sso_email(self, email: str) -> Operator | None:
        return self._one(operators.c.sso_email == email, False)

    def by_sso_subject(self, subject: str) -> Operator | None:
        return self._one(operators.c.sso_subject == subject, False)

    def _one(self, where: sa.ColumnElement[bool], for_update: bool) -> Operator | None:
        query = sa.select(operators).where(where)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if row is None:
            return None
        return Operator(
            row.login,
            row.display_name,
            Role(row.role),
            row.password_hash,
            row.totp_secret,
            row.created_at,
            row.disabled_at,
            row.last_totp_step,
            row.failed_logins,
            row.locked_until,
            row.sso_email,
            row.sso_subject,
        )

    def save(self, operator: Operator) -> None:
        values = self._row(operator)
        del values["login"]
        self.connection.execute(operators.update().where(operators.c.login == operator.login).values(**values))


class SessionRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, session: Session) -> None:
        self.connection.execute(
            ops_sessions.insert().values(
                session_id=session.session_id,
                token_hash=session.token_hash,
                login=session.login,
                role=session.role.value,
                created_at=session.created_at,
                expires_at=session.expires_at,
                second_factor_at=session.second_factor_at,
                ended_at=session.ended_at,
            )
        )

    def get(self, session_id: str, *, for_update: bool = False) -> Session | None:
        query = sa.select(ops_sessions).where(ops_sessions.c.session_id == session_id)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if row is None:
            return None
        return Session(
            row.session_id,
            row.token_hash,
            row.login,
            Role(row.role),
            row.created_at,
            row.expires_at,
            row.second_factor_at,
            row.ended_at,
        )

    def save(self, session: Session) -> None:
        self.connection.execute(
            ops_sessions.update()
            .where(ops_sessions.c.session_id == session.session_id)
            .values(second_factor_at=session.second_factor_at, ended_at=session.ended_at)
        )

    def end_all(self, login: str, at: object) -> None:
        self.connection.execute(
            ops_sessions.update()
            .where(ops_sessions.c.login == login, ops_sessions.c.ended_at.is_(None))
            .values(ended_at=at)
        )


class SsoTokenRepository:
    """Replay keys of the ID tokens used to sign in, each kept until its token is refused anyway."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def used(self, replay_key: str) -> bool:
        query = sa.select(sso_token_uses.c.replay_key).where(sso_token_uses.c.replay_key == replay_key)
        return self.connection.execute(query).first() is not None

    def add(self, replay_key: str, used_at: datetime, usable_until: datetime) -> None:
        """A key used before (a concurrent sign-in with the same token) is the unit of work's ConflictingWrite."""
        self.connection.execute(
            sso_token_uses.insert().values(replay_key=replay_key, used_at=used_at, usable_until=usable_until)
        )

    def forget_unusable(self, now: datetime) -> None:
        self.connection.execute(sso_token_uses.delete().where(sso_token_uses.c.usable_until < now))
