"""Risk alerts as an HTTP client sees them (real uvicorn in front of the gateway): a party screened CLEAR over
REST is listed by a new sanctions list version, the re-screening raises an alert, and the merchant lists,
reads and acknowledges it over REST."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from gateway.app import create_app
from services.compliance import bootstrap
from services.compliance.service_layer import risk_alerts
from services.shared import codes
from services.shared.settings import Settings
from tests.e2e.stack import Stack, start_stack, unused_port

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Stack]]:
    data = tmp_path_factory.mktemp("data") / "data"
    shutil.copytree(DATA, data)
    stack = start_stack(Settings(var_dir=tmp_path_factory.mktemp("var"), data_dir=data, log_json=False))
    port = unused_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(stack.settings), host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, name="gateway-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    stack.tenant = stack.onboard()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=stack.tenant.headers) as client:
        yield client, stack
    server.should_exit = True
    thread.join(10)
    stack.stop()


def list_updated_events(stack: Stack) -> list[dict]:
    import sqlalchemy as sa

    context = stack.contexts["compliance"]
    with context.engine.connect() as connection:
        rows = connection.execute(
            sa.select(context.outbox.c.payload).where(context.outbox.c.event_type == "list_updated")
        ).all()
    import json

    return [json.loads(r.payload) for r in rows]


def test_a_listed_party_raises_an_alert_the_merchant_acknowledges_over_rest(
    served: tuple[httpx.Client, Stack],
) -> None:
    client, stack = served
    assert stack.tenant is not None
    merchant = stack.tenant.merchant_code
    body = {"merchantCode": merchant, "name": "Zebulon Quartermaine"}
    screened = client.post("/v1/compliance/screenings", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert screened.status_code == 200, screened.text
    assert screened.json()["screening"]["decision"] == "SCREENING_DECISION_CLEAR"

    context = stack.contexts["compliance"]
    path = context.settings.data_dir / "sanctions" / "bis_dpl.txt"
    header, first, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header, first, first.replace(first.split("\t")[0], '"ZEBULON QUARTERMAINE"', 1), *rows]))
    assert context.import_reference_data(only="bis_dpl")[0].changed
    event = list_updated_events(stack)[-1]
    [raised] = risk_alerts.on_list_updated(context.uow, bootstrap.screening_index(context), event)

    listed = client.get(f"/v1/compliance/merchants/{merchant}/risk-alerts", params={"status": "RISK_ALERT_STATUS_OPEN"})
    assert listed.status_code == 200, listed.text
    [alert] = listed.json()["alerts"]
    assert (alert["code"], alert["subjectKind"], alert["partyName"]) == (
        raised.code,
        "SCREENING",
        "Zebulon Quartermaine",
    )
    assert (alert["oldVerdict"], alert["newVerdict"], alert["status"]) == ("CLEAR", "BLOCK", "RISK_ALERT_STATUS_OPEN")

    # Another merchant neither reads nor acknowledges the alert: it does not exist for them.
    other = stack.onboard("Other Merchant Oy", "FI").headers
    assert client.get(f"/v1/compliance/risk-alerts/{raised.code}", headers=other).status_code == 404
    foreign = client.post(
        f"/v1/compliance/risk-alerts/{raised.code}:acknowledge",
        json={},
        headers={**other, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert foreign.status_code == 404 and foreign.json()["reason"] == "NOT_FOUND"

    key = str(uuid.uuid4())
    acknowledged = client.post(
        f"/v1/compliance/risk-alerts/{raised.code}:acknowledge", json={}, headers={"Idempotency-Key": key}
    )
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["alert"]["status"] == "RISK_ALERT_STATUS_ACKNOWLEDGED"
    fetched = client.get(f"/v1/compliance/risk-alerts/{raised.code}")
    assert fetched.status_code == 200 and fetched.json()["alert"] == acknowledged.json()["alert"]
    still_open = client.get(
        f"/v1/compliance/merchants/{merchant}/risk-alerts", params={"status": "RISK_ALERT_STATUS_OPEN"}
    )
    assert still_open.json().get("alerts", []) == []


def test_bad_alert_requests_are_problems_naming_the_field(served: tuple[httpx.Client, Stack]) -> None:
    client, _ = served
    response = client.get("/v1/compliance/merchants/MC123/risk-alerts", params={"pageSize": 1000})
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert {v["field"] for v in response.json()["errors"]} == {"merchant_code", "page_size"}
    missing = client.get(f"/v1/compliance/risk-alerts/{codes.generate('FX')}")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    spec = client.get("/openapi.json").json()
    assert "compliance.alerts.write" in str(spec["paths"]["/v1/compliance/risk-alerts/{code}:acknowledge"]["post"])
