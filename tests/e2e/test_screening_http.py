"""Screening as an HTTP client sees it: POST /v1/compliance/screenings through the gateway (real uvicorn)."""

from __future__ import annotations

import uuid

import httpx


def test_screen_get_and_list_over_http(gateway: httpx.Client, merchant: str) -> None:
    key = f"e2e-{uuid.uuid4()}"
    body = {"merchantCode": merchant, "name": "Banco Nacional de Cuba", "partyType": "PARTY_TYPE_COMPANY"}
    first = gateway.post("/v1/compliance/screenings", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 200, first.text
    screening = first.json()["screening"]
    assert screening["decision"] == "SCREENING_DECISION_BLOCK"
    assert screening["hits"][0]["entryId"] == "306" and screening["requestId"] == key
    assert {entry["listName"] for entry in screening["lists"]} == {"ofac_sdn", "un_consolidated", "bis_dpl"}

    again = gateway.post("/v1/compliance/screenings", json=body, headers={"Idempotency-Key": key})
    assert again.json() == first.json()
    changed = gateway.post(
        "/v1/compliance/screenings", json={**body, "name": "Someone Else"}, headers={"Idempotency-Key": key}
    )
    assert changed.status_code == 409 and changed.headers["content-type"] == "application/problem+json"

    fetched = gateway.get(f"/v1/compliance/screenings/{screening['code']}")
    assert fetched.status_code == 200 and fetched.json()["code"] == screening["code"]
    listed = gateway.get(f"/v1/compliance/merchants/{merchant}/screenings").json()["screenings"]
    # Newest first; the other one is onboarding's screening of the merchant itself. The refused replay with
    # another payload stored nothing.
    assert listed[0]["code"] == screening["code"] and len(listed) == 2
    assert listed[1]["party"]["name"] != "Someone Else"


def test_bad_screening_input_is_a_problem_naming_the_fields(gateway: httpx.Client, merchant: str) -> None:
    response = gateway.post(
        "/v1/compliance/screenings",
        json={"requestId": "bad-1", "merchantCode": merchant, "name": "", "dateOfBirth": "31/12/1980"},
    )
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    fields = {v["field"] for v in response.json()["errors"]}
    assert fields == {"name", "date_of_birth"}


def test_screening_is_in_openapi_with_its_scope(gateway: httpx.Client) -> None:
    spec = gateway.get("/openapi.json").json()
    operation = spec["paths"]["/v1/compliance/screenings"]["post"]
    assert "compliance.screen" in str(operation)
