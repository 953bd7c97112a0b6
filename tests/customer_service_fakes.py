"""A stand-in for logistics and payments as the customer-service service asks them about linked records."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.customer_service import bootstrap
from services.customer_service.domain.linked_records import OWNING_SERVICE, Tracking
from services.customer_service.domain.tickets import LinkKind
from services.shared.errors import Unavailable


class FakeLinkedRecords:
    """Records by (kind, code) -> owning merchant; `down` holds the services that cannot be asked."""

    def __init__(self) -> None:
        self.owners: dict[tuple[LinkKind, str], str] = {}
        self.trackings: dict[str, Tracking] = {}
        self.down: set[str] = set()
        self.asked: list[tuple[str, str]] = []

    def add(self, kind: LinkKind, code: str, merchant: str) -> str:
        self.owners[(kind, code)] = merchant
        return code

    def add_tracking(self, tracking: Tracking) -> None:
        self.owners[(LinkKind.SHIPMENT, tracking.shipment_code)] = tracking.merchant_code
        self.trackings[tracking.shipment_code] = tracking

    def _ask(self, service: str, code: str) -> None:
        self.asked.append((service, code))
        if service in self.down:
            raise Unavailable(f"{service} is not available right now (StatusCode.UNAVAILABLE); retry later")

    def owner(self, kind: LinkKind, code: str) -> str | None:
        self._ask(OWNING_SERVICE[kind], code)
        return self.owners.get((kind, code))

    def tracking(self, shipment_code: str) -> Tracking | None:
        self._ask("logistics", shipment_code)
        if shipment_code in self.trackings:
            return self.trackings[shipment_code]
        owner = self.owners.get((LinkKind.SHIPMENT, shipment_code))
        return None if owner is None else Tracking(shipment_code, owner, "", "INFO_RECEIVED", "", ())


@pytest.fixture
def linked_records(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLinkedRecords]:
    """Every customer-service context started in the test asks this fake instead of the real services."""
    fake = FakeLinkedRecords()
    monkeypatch.setattr(bootstrap, "linked_records", lambda context: fake)
    yield fake
