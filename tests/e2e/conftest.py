"""The platform behind a real HTTP gateway, one per test module, calling as a merchant onboarded for it.

A module overrides `stack_gateway` to start it on other settings (e.g. PostgreSQL), or `gateway` to call
as someone else.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from services.shared.settings import Settings
from tests.e2e.stack import Stack, stack_and_gateway


@pytest.fixture(scope="module")
def stack_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, httpx.Client]]:
    """Every service started and seeded on SQLite, behind the gateway; the client carries the merchant's key."""
    with stack_and_gateway(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False)) as running:
        yield running


@pytest.fixture(scope="module")
def gateway(stack_gateway: tuple[Stack, httpx.Client]) -> httpx.Client:
    """The HTTP client, calling as the stack's merchant."""
    return stack_gateway[1]


@pytest.fixture(scope="module")
def merchant(stack_gateway: tuple[Stack, httpx.Client]) -> str:
    """The unified code of the merchant the client calls as."""
    tenant = stack_gateway[0].tenant
    assert tenant is not None
    return tenant.merchant_code
