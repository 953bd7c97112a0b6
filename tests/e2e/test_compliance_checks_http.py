"""Product checks as a merchant's system sees them: REST/JSON through the gateway, the shipped rule library."""

from __future__ import annotations

import uuid

import httpx

SPEAKER = {
    "title": "Bluetooth speaker with lithium-ion battery",
    "hsCode": "851822",
    "originCountry": "CN",
    "declaredValue": {"currencyCode": "EUR", "units": "40"},
    "attributes": [
        {"name": "radio", "value": "true"},
        {"name": "battery_type", "value": "lithium_ion"},
        {"name": "battery_wh", "value": "18"},
        {"name": "battery_packing", "value": "in_equipment"},
    ],
    "labelLanguages": ["en"],
}


def test_a_merchant_checks_a_product_for_two_markets_over_rest(gateway: httpx.Client) -> None:
    body = {"product": SPEAKER, "destinations": ["DE", "US"], "asOf": {"year": 2026, "month": 3, "day": 2}}
    response = gateway.post("/v1/compliance/checks", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 200, response.text
    de, us = response.json()["reports"]
    assert de["destination"] == "DE" and de["verdict"] != "VERDICT_ALLOWED"
    assert "EU-GPSR-RESP-PERSON" in {f["ruleCode"] for f in de["findings"]}
    assert [t["ruleCode"] for t in de["taxRegimes"]] == ["EU-VAT-IOSS-LOW-VALUE"]
    assert de["vat"]["standardRatePercent"] == "19"
    assert all(f["source"]["url"].startswith("https://") for f in de["findings"])
    assert us["libraryVersion"] == 1
    us_regimes = {t["ruleCode"] for t in us["taxRegimes"]}
    assert "US-DE-MINIMIS-SUSPENDED" in us_regimes and "US-DE-MINIMIS-321" not in us_regimes  # since 2025-08-29


def test_the_same_idempotency_key_replays_the_first_report(gateway: httpx.Client) -> None:
    key = str(uuid.uuid4())
    body = {
        "product": SPEAKER,
        "destinations": ["GB"],
        "language": "zh-CN",
        "asOf": {"year": 2026, "month": 3, "day": 2},
    }
    first = gateway.post("/v1/compliance/checks", json=body, headers={"Idempotency-Key": key})
    second = gateway.post("/v1/compliance/checks", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.json()["reports"][0]["heading"].endswith("合规报告")


def test_bad_input_is_problem_json_naming_the_fields(gateway: httpx.Client) -> None:
    product = dict(SPEAKER, hsCode="8507", gtin="4006381333932", declaredValue={"units": "40"})
    response = gateway.post(
        "/v1/compliance/checks",
        json={"product": product, "destinations": ["QQ"]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"product.hs_code", "product.gtin", "product.declared_value.currency_code", "destinations[0]"}


def test_ops_read_the_published_library_over_rest(gateway: httpx.Client) -> None:
    library = gateway.get("/v1/compliance/rule-library").json()
    assert library["version"] == 1 and library["current"] is True and library["ruleCount"] >= 60
    rules = gateway.get("/v1/compliance/rules", params={"destination": "JP"}).json()["rules"]
    assert rules and all(r["source"]["url"] for r in rules)
    assert "EU-GPSR-RESP-PERSON" not in {r["code"] for r in rules}


def test_a_batch_over_rest_answers_each_product_in_order(gateway: httpx.Client) -> None:
    shirt = {
        "title": "Cotton T-shirt",
        "hsCode": "610910",
        "originCountry": "CN",
        "declaredValue": {"currencyCode": "EUR", "units": "8"},
        "attributes": [{"name": "textile", "value": "true"}],
    }
    day = {"year": 2026, "month": 3, "day": 2}
    body = {
        "checks": [
            {"product": SPEAKER, "destinations": ["JP"], "asOf": day},
            {"product": shirt, "destinations": ["GB", "SG", "SA"], "asOf": day},
        ]
    }
    response = gateway.post("/v1/compliance/checks:batch", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert [r["destination"] for r in first["reports"]] == ["JP"]
    assert [r["destination"] for r in second["reports"]] == ["GB", "SG", "SA"]
    assert all(r["taxRegimes"] for r in second["reports"])  # every market states its regime at EUR 8


def test_a_deeply_nested_body_is_a_400_problem_naming_the_body(gateway: httpx.Client) -> None:
    depth = 100_000
    response = gateway.post(
        "/v1/compliance/checks",
        content=b"[" * depth + b"]" * depth,
        headers={"content-type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 400, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["body"]


def test_as_of_is_taken_as_a_yyyy_mm_dd_string_like_every_other_date(gateway: httpx.Client) -> None:
    as_object = {"product": SPEAKER, "destinations": ["DE"], "asOf": {"year": 2026, "month": 3, "day": 2}}
    as_text = dict(as_object, asOf="2026-03-02")
    by_object = gateway.post("/v1/compliance/checks", json=as_object, headers={"Idempotency-Key": str(uuid.uuid4())})
    by_text = gateway.post("/v1/compliance/checks", json=as_text, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert by_object.status_code == by_text.status_code == 200, by_text.text
    assert by_text.json()["reports"][0]["asOf"] == by_object.json()["reports"][0]["asOf"]
    garbled = dict(as_object, asOf="2 March 2026")
    refused = gateway.post("/v1/compliance/checks", json=garbled, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert refused.status_code == 400
    (error,) = refused.json()["errors"]
    assert error["field"] == "as_of" and "YYYY-MM-DD" in error["detail"]


def test_language_tags_are_case_insensitive(gateway: httpx.Client) -> None:
    body = {"product": SPEAKER, "destinations": ["GB"], "language": "zh-cn", "asOf": "2026-03-02"}
    response = gateway.post("/v1/compliance/checks", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 200, response.text
    report = response.json()["reports"][0]
    assert report["language"] == "zh-CN" and report["heading"].endswith("合规报告")
    shouted = dict(body, language="EN", product=dict(SPEAKER, labelLanguages=["EN"]))
    again = gateway.post("/v1/compliance/checks", json=shouted, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert again.status_code == 200, again.text
    assert again.json()["reports"][0]["language"] == "en"
    lower = dict(body, language="en")
    same = gateway.post("/v1/compliance/checks", json=lower, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert again.json()["reports"][0]["findings"] == same.json()["reports"][0]["findings"]


def test_a_missing_idempotency_key_names_the_header_apart_from_the_correlation_id(gateway: httpx.Client) -> None:
    body = {"product": SPEAKER, "destinations": ["GB"], "asOf": "2026-03-02"}
    response = gateway.post("/v1/compliance/checks", json=body)
    assert response.status_code == 400
    problem = response.json()
    (error,) = problem["errors"]
    assert error["field"] == "Idempotency-Key" and "Idempotency-Key header" in error["detail"]
    assert "request_id" not in problem and problem["correlation_id"] == response.headers["x-request-id"]


def test_a_body_without_a_json_content_type_is_a_415(gateway: httpx.Client) -> None:
    body = b'{"product": {}, "destinations": ["GB"]}'
    for headers in ({}, {"content-type": "application/x-www-form-urlencoded"}):
        response = gateway.post("/v1/compliance/checks", content=body, headers={**headers, "Idempotency-Key": "k-415"})
        assert response.status_code == 415, response.text
        assert response.json()["reason"] == "UNSUPPORTED_MEDIA_TYPE"


def test_a_usd_product_checked_today_gets_whole_reports_with_the_rate_they_used(gateway: httpx.Client) -> None:
    # Today is after the shipped ECB history: each regime says which older rate it used and how old it is.
    product = dict(SPEAKER, declaredValue={"currencyCode": "USD", "units": "40"})
    body = {"product": product, "destinations": ["DE", "GB", "JP"]}
    response = gateway.post("/v1/compliance/checks", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 200, response.text
    reports = response.json()["reports"]
    assert [r["destination"] for r in reports] == ["DE", "GB", "JP"]
    for report in reports:
        assert report["findings"] and report["taxRegimes"], report["destination"]
        assert report["complete"] is True and report["missing"] == []
        judged = [*report["findings"], *report["taxRegimes"]]
        assert report["containsUnverifiedRules"] == any(not item["verified"] for item in judged)
        for regime in report["taxRegimes"]:
            used = regime["rateUsed"]
            assert used["stale"] is True and used["ageDays"] > 7 and used["sourceCurrency"] == "USD"
            assert regime["determined"] is True and regime["applies"] is True
    riyals = dict(SPEAKER, declaredValue={"currencyCode": "SAR", "units": "40"})  # not quoted by the ECB
    response = gateway.post(
        "/v1/compliance/checks",
        json={"product": riyals, "destinations": ["GB"]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 200, response.text
    [gb] = response.json()["reports"]
    assert gb["findings"] and gb["complete"] is False
    assert gb["missing"] and all("SAR" in why for why in gb["missing"])
    assert gb["taxRegimes"]
    assert all(r["determined"] is False and "SAR" in r["undeterminedReason"] for r in gb["taxRegimes"])
