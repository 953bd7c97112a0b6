"""The identity unit of work: one transaction owning the identity repositories (merchants to partners, holds)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from services.identity.adapters.access_repositories import (
    ClientRepository,
    OperatorRepository,
    SessionRepository,
    SsoTokenRepository,
)
from services.identity.adapters.hold_repository import HoldDecisionRepository
from services.identity.adapters.partner_repository import PartnerRepository
from services.identity.adapters.repositories import ApiKeyRepository, MerchantRepository
from services.identity.adapters.transfer_repositories import LegalBasisRepository, TransferRuleRepository
from services.shared.uow import UnitOfWork


class IdentityUnitOfWork(UnitOfWork):
    merchants: MerchantRepository
    keys: ApiKeyRepository
    clients: ClientRepository
    operators: OperatorRepository
    sessions: SessionRepository
    sso_tokens: SsoTokenRepository
    transfer_rules: TransferRuleRepository
    legal_bases: LegalBasisRepository
    partners: PartnerRepository
    holds: HoldDecisionRepository

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self.merchants = MerchantRepository(connection)
        self.keys = ApiKeyRepository(connection)
        self.clients = ClientRepository(connection)
        self.operators = OperatorRepository(connection)
        self.sessions = SessionRepository(connection)
        self.sso_tokens = SsoTokenRepository(connection)
        self.transfer_rules = TransferRuleRepository(connection)
        self.legal_bases = LegalBasisRepository(connection)
        self.partners = PartnerRepository(connection)
        self.holds = HoldDecisionRepository(connection)
