"""The customer-service unit of work: one transaction with the ticket, breach, ODR, bot, survey and macro
repositories."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from services.customer_service.adapters.bot_repository import BotRepository
from services.customer_service.adapters.odr_repository import OdrRepository
from services.customer_service.adapters.repositories import BreachRepository, TicketRepository
from services.customer_service.adapters.survey_repository import MacroRepository, SurveyRepository
from services.shared.uow import UnitOfWork


class CustomerServiceUnitOfWork(UnitOfWork):
    tickets: TicketRepository
    breaches: BreachRepository
    odr: OdrRepository
    bot: BotRepository
    surveys: SurveyRepository
    macros: MacroRepository

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self.tickets = TicketRepository(connection)
        self.breaches = BreachRepository(connection)
        self.odr = OdrRepository(connection)
        self.bot = BotRepository(connection)
        self.surveys = SurveyRepository(connection)
        self.macros = MacroRepository(connection)
