"""The compliance unit of work: one transaction and the repositories that work in it.

Handlers get every table through these attributes (`uow.checks`, `uow.alerts`, ...) and never see the
connection, so their unit tests run on in-memory fakes of the same attributes (tests/compliance_fakes.py).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from services.compliance.adapters.alert_repository import AlertRepository
from services.compliance.adapters.library_repository import CheckRepository, LibraryRepository
from services.compliance.adapters.repositories import HsRepository, ReferenceRepository, UpstreamDatasetRepository
from services.compliance.adapters.screening_repository import ScreeningRepository
from services.compliance.adapters.tables import DATASET_VERSIONS
from services.shared.crypto.fields import KeyedFingerprints, SealedResponses
from services.shared.idempotency import IdempotencyRepository
from services.shared.refdata import DatasetVersions
from services.shared.uow import UnitOfWork


class ComplianceUnitOfWork(UnitOfWork):
    datasets: DatasetVersions  # which version of each own reference dataset is current
    hs: HsRepository
    reference: ReferenceRepository  # the HS codes and countries a rule pack may name
    upstream: UpstreamDatasetRepository  # other services' datasets, as their events announced them
    library: LibraryRepository
    checks: CheckRepository
    alerts: AlertRepository
    screenings: ScreeningRepository

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self.datasets = DatasetVersions(connection, DATASET_VERSIONS)
        self.hs = HsRepository(connection)
        self.reference = ReferenceRepository(connection)
        self.upstream = UpstreamDatasetRepository(connection)
        self.library = LibraryRepository(connection)
        self.checks = CheckRepository(connection)
        self.alerts = AlertRepository(connection)
        self.screenings = ScreeningRepository(connection, lambda: self.field_crypto)
        # A ScreenParty request carries the date of birth and identifiers: its answer is kept encrypted
        # for replays, and its fingerprint keyed, so neither confirms a guess of them without the keys.
        self.idempotency = IdempotencyRepository(
            connection,
            self._idempotency_keys,
            SealedResponses(lambda: self.field_crypto),
            KeyedFingerprints(lambda: self.field_crypto),
        )
