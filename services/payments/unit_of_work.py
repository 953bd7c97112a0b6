"""The payments unit of work: one transaction and the repositories of every capability bound to it.

Handlers ask it for repositories (`uow.ledger`, `uow.payouts`, `uow.fx_quotes`, ...) and for the write lock
(`uow.lock_for_write()`); none of them sees a connection, an engine or SQL. `LedgerSnapshot` is the
read-only variant that verifies the ledger over one consistent snapshot.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import Connection

from services.payments.bank_accounts.adapters.vault import BankAccountRows
from services.payments.fx.adapters.repositories import (
    OpsRateRepository,
    QuoteRepository,
    SnapshotRepository,
    SpreadRepository,
)
from services.payments.ledger.adapters.repository import LedgerRepository
from services.payments.payouts.adapters.repository import PayoutRepository
from services.payments.reconciliation.adapters.repository import (
    MerchantStatementRepository,
    ReconciliationRepository,
)
from services.payments.reference_data.adapters.repositories import ReferenceRateRepository
from services.payments.settlement.adapters.repository import SettledHistoryRepository, SettlementRepository
from services.payments.vas.adapters.repository import OfferRepository
from services.shared.uow import UnitOfWork


class PaymentsUnitOfWork(UnitOfWork):
    ledger: LedgerRepository
    settlements: SettlementRepository
    settled_history: SettledHistoryRepository
    payouts: PayoutRepository
    fx_ops_rates: OpsRateRepository
    fx_spreads: SpreadRepository
    fx_quotes: QuoteRepository
    fx_snapshots: SnapshotRepository
    vas_offers: OfferRepository
    bank_accounts: BankAccountRows
    reconciliation: ReconciliationRepository
    merchant_statements: MerchantStatementRepository
    reference_rates: ReferenceRateRepository

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self.ledger = LedgerRepository(connection)
        self.settlements = SettlementRepository(connection)
        self.settled_history = SettledHistoryRepository(connection)
        self.payouts = PayoutRepository(connection, lambda: self.field_crypto)
        self.fx_ops_rates = OpsRateRepository(connection)
        self.fx_spreads = SpreadRepository(connection)
        self.fx_quotes = QuoteRepository(connection)
        self.fx_snapshots = SnapshotRepository(connection)
        self.vas_offers = OfferRepository(connection)
        self.bank_accounts = BankAccountRows(connection)
        self.reconciliation = ReconciliationRepository(connection)
        self.merchant_statements = MerchantStatementRepository(connection)
        self.reference_rates = ReferenceRateRepository(connection)

    def ledger_snapshot(self) -> LedgerSnapshot:
        """Use outside `with uow`: `with uow_factory().ledger_snapshot() as ledger: ...`."""
        return LedgerSnapshot(self)


class LedgerSnapshot:
    """A read-only view of the whole ledger as of one moment, rolled back on exit.

    PostgreSQL reads at REPEATABLE READ; SQLite reads one WAL snapshot inside an explicit BEGIN.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._connection: Connection | None = None

    def __enter__(self) -> LedgerRepository:
        engine = self._uow.engine
        if engine.dialect.name == "postgresql":
            connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
            connection.begin()
        else:
            connection = engine.connect()
            connection.exec_driver_sql("BEGIN")
        self._connection = connection
        return LedgerRepository(connection)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.rollback()
            connection.close()
