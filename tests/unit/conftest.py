"""Fixtures the payments handler tests (ledger, settlement, payouts) share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.shared.context import ServiceContext
from services.shared.settings import Settings
from tests.ledger_support import payments_context


@pytest.fixture
def payments(settings: Settings) -> Iterator[ServiceContext]:
    """The payments service on SQLite with a recording bus, closed after the test."""
    with payments_context(settings) as context:
        yield context
