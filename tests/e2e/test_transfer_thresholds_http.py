"""The PRC person thresholds end to end: persons of a CN merchant's data sent abroad are counted per year
(hashed), and once a published threshold is reached the stricter rule applies until a basis is on file.

The threshold is lowered to 2 persons in a new rule version (as ops would publish it), so the test does
not need 100,000 people.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from xborder.identity.v1 import identity_service_pb2 as identity_pb

from gateway.app import create_app
from gateway.edge_settings import EdgeSettings
from gateway.transfer_guard import TransferSettings
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient, Stack, start_stack

USCC = "91440300MA5DXB0T0W"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, AsgiClient, Any]]:
    stack = start_stack(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False))
    app = create_app(stack.settings, edge=EdgeSettings(audit=False, rate_limit_per_s=0), transfer=TransferSettings())
    rest = AsgiClient(app)
    yield stack, rest, app
    rest.close()
    stack.stop()


def idem() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def test_a_threshold_reached_applies_the_stricter_rule_until_a_basis_is_filed(
    world: tuple[Stack, AsgiClient, Any],
) -> None:
    stack, rest, app = world
    ops = {"Authorization": f"Bearer {stack.operator_key()}"}
    policy = rest.get("/v1/transfer-rules", headers=ops).json()
    for rule in policy["rules"]:
        if rule["ruleId"] == "CN-PI-100K-PERSONS":
            rule["minPersons"] = 2
    body = {"rules": policy["rules"], "groups": policy["groups"], "publishedBy": "ops test", "reason": "drill"}
    published = rest.post("/v1/transfer-rules:publish", json=body, headers={**ops, **idem()})
    assert published.status_code == 200, published.text
    version = published.json()["version"]

    def merchant(name: str) -> dict[str, str]:
        tenant = stack.onboard(
            f"Shenzhen {name} Trading Co",
            "CN",
            uscc=USCC,
            contacts=[identity_pb.Contact(name=f"{name} Zhang", email=f"{name.lower()}@example.cn")],
        )
        return {"code": tenant.merchant_code, **tenant.headers}

    shop = merchant("Alpha")
    abroad = {"Authorization": shop["Authorization"], "X-Transfer-Destination": "US"}
    path = f"/v1/merchants/{shop['code']}"
    home = rest.get(path, headers={"Authorization": shop["Authorization"]})
    assert home.status_code == 200  # CN -> CN: not a transfer, not counted
    first = rest.get(path, headers=abroad)
    assert first.status_code == 200 and first.json()["contacts"][0]["name"] == "Alpha Zhang"  # 1 person this year
    again = rest.get(path, headers=abroad)
    assert again.status_code == 200  # the same person: still 1
    persons = app.state.transfers.counters
    persons.flush()
    stored = sqlite3.connect(persons_path(stack)).execute("SELECT person FROM transfer_persons").fetchall()
    assert len(stored) == 1 and "Alpha" not in stored[0][0]  # a digest, never the name
    # A second person (the contact changes) brings the year's count to the threshold of 2.
    assert persons.add(_year(), shop["code"], "PERSONAL", ["another person"]) == 2
    blocked = rest.get(path, headers=abroad)
    assert blocked.status_code == 451, blocked.text
    assert blocked.json()["transfer"]["rule"] == "CN-PI-100K-PERSONS" and blocked.json()["transfer"]["version"] == str(
        version
    )
    basis = {"kind": "LEGAL_BASIS_KIND_CONTRACT_NECESSITY", "reference": "TERMS-2026", "registeredBy": "officer"}
    filed = rest.post(f"/v1/merchants/{shop['code']}/legal-bases", json=basis, headers={**ops, **idem()})
    assert filed.status_code == 200, filed.text
    assert rest.get(path, headers=abroad).status_code == 200


def _year() -> int:
    from datetime import UTC, datetime

    return datetime.now(UTC).year


def persons_path(stack: Stack) -> Any:
    return TransferSettings().counters_file(stack.settings)
