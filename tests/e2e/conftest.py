"""The platform behind a real HTTP gateway, one per test module (a module's own `gateway` fixture overrides it)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from services.shared.settings import Settings
from tests.e2e.stack import stack_and_gateway


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """An HTTP client of the gateway in front of every service, started and seeded on SQLite."""
    with stack_and_gateway(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False)) as (_, client):
        yield client
