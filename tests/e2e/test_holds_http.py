"""Releasing a held merchant through the REST gateway, on the full stack with compliance's real screening.

A merchant whose name is close to a sanctions-list entry is held on REVIEW at onboarding, and its key is
refused. A viewer may not decide, an agent may not either, and a compliance officer whose second factor
is older than the step-up window is asked to step up; once stepped up, the officer releases the merchant,
and the merchant's key, verified and cached by the gateway while it was held, is served at the next call.
The gateway's caches keep their default TTL here: the release must not wait for them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from xborder.identity.v1 import access_service_pb2 as apb

from gateway.app import create_app
from gateway.auth import KEY_CACHE_TTL_S
from services.identity.bootstrap import access_servicer
from services.shared.settings import Settings
from tests.e2e.stack import AsgiClient, Stack, Tenant, start_stack
from tests.ops_staff import PASSWORD, add_operator, fresh_code

WINDOW_S = 2
ON_REVIEW = "Bank Meli Iran"  # close to a listed bank: between the review and block thresholds


@dataclass
class World:
    stack: Stack
    rest: AsgiClient
    secrets: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XB_STEP_UP_WINDOW_S", str(WINDOW_S))
        stack = start_stack(Settings(var_dir=tmp_path_factory.mktemp("var"), log_json=False))
        ops = access_servicer(stack.contexts["identity"])
        secrets = {}
        for login, role in (
            ("cmp.officer", apb.OPERATOR_ROLE_COMPLIANCE_OFFICER),
            ("ops.viewer", apb.OPERATOR_ROLE_VIEWER),
            ("cs.agent", apb.OPERATOR_ROLE_AGENT),
        ):
            secrets[login] = add_operator(ops, login, role)
        app = create_app(stack.settings)
        assert app.state.guard.keys.ttl == KEY_CACHE_TTL_S > 0
        yield World(stack, AsgiClient(app), secrets)
        stack.stop()


def login(world: World, name: str) -> dict[str, str]:
    answer = world.rest.post(
        "/v1/operators:login",
        json={"login": name, "password": PASSWORD, "totpCode": fresh_code(world.secrets[name])},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['sessionToken']}"}


def decide(world: World, code: str, headers: dict[str, str], decision: str, key: str = "") -> Any:
    return world.rest.post(
        f"/v1/merchants/{code}:decide-hold",
        json={"decision": decision, "reason": "a namesake: the listed person is not this company"},
        headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())},
    )


def held(world: World) -> Tenant:
    merchant = world.stack.onboard(ON_REVIEW, "DE")
    shown = world.rest.get(f"/v1/merchants/{merchant.merchant_code}", headers=merchant.headers)
    assert shown.status_code == 200 and shown.json()["status"] == "MERCHANT_STATUS_REVIEW", shown.text
    return merchant


def test_a_merchant_on_review_is_refused_then_released_by_a_compliance_officer_and_served(world: World) -> None:
    merchant = held(world)
    balances = f"/v1/merchants/{merchant.merchant_code}/balances"
    refused = world.rest.get(balances, headers=merchant.headers)
    assert refused.status_code == 403 and refused.json()["reason"] == "MERCHANT_HELD"

    officer = login(world, "cmp.officer")
    released = decide(world, merchant.merchant_code, officer, "HOLD_DECISION_RELEASE", key="release-once")
    assert released.status_code == 200, released.text
    assert released.json()["merchant"]["status"] == "MERCHANT_STATUS_ACTIVE"

    served = world.rest.get(balances, headers=merchant.headers)  # the key is still in the gateway's cache
    assert served.status_code == 200, served.text
    # The merchant reads the decision, when and why; who decided (an ops staff member's login) only ops see.
    shown = world.rest.get(f"/v1/merchants/{merchant.merchant_code}", headers=merchant.headers).json()
    [decision] = shown["holdDecisions"]
    assert (decision["decision"], decision["previousStatus"], decision["status"], decision["reason"]) == (
        "HOLD_DECISION_RELEASE",
        "REVIEW",
        "ACTIVE",
        "a namesake: the listed person is not this company",
    )
    assert decision["decidedAt"] and decision["decidedBy"] == ""
    operator_key = {"Authorization": f"Bearer {world.stack.operator_key()}"}
    for ops in (operator_key, login(world, "ops.viewer")):
        seen = world.rest.get(f"/v1/merchants/{merchant.merchant_code}", headers=ops).json()
        assert [d["decidedBy"] for d in seen["holdDecisions"]] == ["cmp.officer"]

    replay = decide(world, merchant.merchant_code, officer, "HOLD_DECISION_RELEASE", key="release-once")
    assert replay.status_code == 200 and replay.json() == released.json()
    again = decide(world, merchant.merchant_code, officer, "HOLD_DECISION_REJECT")
    assert again.status_code == 400 and again.json()["reason"] == "FAILED_PRECONDITION", again.text


def test_a_viewer_an_agent_and_a_merchant_may_not_decide(world: World) -> None:
    merchant = held(world)
    for name in ("ops.viewer", "cs.agent"):
        refused = decide(world, merchant.merchant_code, login(world, name), "HOLD_DECISION_RELEASE")
        assert refused.status_code == 403 and refused.json()["reason"] == "PERMISSION_DENIED", (name, refused.text)
    operator_key = {"Authorization": f"Bearer {world.stack.operator_key()}"}
    assert decide(world, merchant.merchant_code, operator_key, "HOLD_DECISION_RELEASE").status_code == 403
    assert decide(world, merchant.merchant_code, merchant.headers, "HOLD_DECISION_RELEASE").status_code == 403
    shown = world.rest.get(f"/v1/merchants/{merchant.merchant_code}", headers=merchant.headers).json()
    assert shown["status"] == "MERCHANT_STATUS_REVIEW" and shown["holdDecisions"] == []


def test_a_compliance_officer_without_a_recent_second_factor_steps_up_first(world: World) -> None:
    merchant = held(world)
    officer = login(world, "cmp.officer")
    time.sleep(WINDOW_S + 0.5)  # the login's second factor leaves the step-up window
    stale = decide(world, merchant.merchant_code, officer, "HOLD_DECISION_REJECT")
    assert stale.status_code == 403 and stale.json()["reason"] == "STEP_UP_REQUIRED", stale.text
    stepped = world.rest.post(
        "/v1/operators/sessions:step-up", json={"totpCode": fresh_code(world.secrets["cmp.officer"])}, headers=officer
    )
    assert stepped.status_code == 200, stepped.text
    rejected = decide(world, merchant.merchant_code, officer, "HOLD_DECISION_REJECT")
    assert rejected.status_code == 200 and rejected.json()["merchant"]["status"] == "MERCHANT_STATUS_REJECTED"
    still = world.rest.get(f"/v1/merchants/{merchant.merchant_code}/balances", headers=merchant.headers)
    assert still.status_code == 403 and still.json()["reason"] == "MERCHANT_HELD"


def test_a_decision_without_a_reason_names_the_field(world: World) -> None:
    merchant = held(world)
    answer = world.rest.post(
        f"/v1/merchants/{merchant.merchant_code}:decide-hold",
        json={"decision": "HOLD_DECISION_RELEASE"},
        headers={**login(world, "cmp.officer"), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 400
    assert "reason" in {e["field"] for e in answer.json()["errors"]}
