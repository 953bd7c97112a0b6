"""The one table of services and ports, and the subscriptions each service declares for itself."""

from __future__ import annotations

import pytest

from services import registry
from services.shared import topology
from services.shared.settings import Settings


def test_each_service_has_its_own_port_and_the_settings_default_to_them() -> None:
    ports = [entry.grpc_port for entry in registry.SERVICE_TABLE]
    assert len(set(ports)) == len(ports)
    assert {registry.GATEWAY_GRPC_PORT, registry.GATEWAY_HTTP_PORT}.isdisjoint(ports)
    settings = Settings()
    assert dict(settings.service_ports) == registry.SERVICE_PORTS
    assert (settings.gateway_grpc_port, settings.gateway_http_port) == (
        registry.GATEWAY_GRPC_PORT,
        registry.GATEWAY_HTTP_PORT,
    )


def test_a_port_variable_exists_for_every_service_in_the_table() -> None:
    moved = Settings.from_env({f"XB_{name.upper()}_PORT": "6000" for name in registry.SERVICES})
    assert set(moved.service_ports.values()) == {6000}


def test_the_platform_subscriptions_are_those_the_services_declare() -> None:
    subscriptions = registry.subscriptions()
    assert {s.consumer_service for s in subscriptions} <= set(registry.SERVICES)
    assert {s.source_service for s in subscriptions} <= set(registry.SERVICES)
    queues = [s.queue_name for s in subscriptions]
    assert len(set(queues)) == len(queues)
    assert topology.is_subscribed("compliance", "risk_alert_raised", subscriptions)


def test_the_kernel_names_no_consumer() -> None:
    assert not hasattr(topology, "SUBSCRIPTIONS")


def test_a_service_declaring_another_consumer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.logistics import subscriptions as logistics

    stray = topology.Subscription("payments", "payout_posted", "compliance", "on_payout_posted")
    monkeypatch.setattr(logistics, "SUBSCRIPTIONS", (stray,))
    with pytest.raises(ValueError, match="logistics"):
        registry.subscriptions()


def test_an_unknown_service_is_refused_by_name() -> None:
    with pytest.raises(KeyError, match="shipping"):
        registry.bootstrap_module("shipping")
