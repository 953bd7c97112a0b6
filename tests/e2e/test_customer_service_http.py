"""Tickets as an HTTP client sees them (real uvicorn in front of the gateway): open with an Idempotency-Key,
reply with an attachment, an illegal transition as problem+json naming the field, metrics."""

from __future__ import annotations

import base64
import hashlib
import uuid

import httpx

from services.shared import codes


def test_a_merchant_opens_a_ticket_an_agent_replies_and_an_illegal_move_is_a_problem(
    gateway: httpx.Client, merchant: str
) -> None:
    booking = {
        "channelCode": "SAMPLE-EXP-PRIORITY",
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": "GB", "postalCode": "EC1Y 8SY"},
    }
    booked = gateway.post("/v1/logistics/shipments", json=booking, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert booked.status_code == 200, booked.text
    shipment = booked.json()["shipment"]["code"]
    key = str(uuid.uuid4())
    body = {
        "merchantCode": merchant,
        "type": "TICKET_TYPE_DAMAGED",
        "subject": "Vase arrived broken",
        "links": [{"kind": "LINK_KIND_SHIPMENT", "code": codes.generate("YD")}],
    }
    unknown = gateway.post("/v1/customer-service/tickets", json=body, headers={"Idempotency-Key": key})
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in unknown.json()["errors"]] == ["links[0].code"]
    body["links"] = [{"kind": "LINK_KIND_SHIPMENT", "code": shipment}]
    key = str(uuid.uuid4())
    opened = gateway.post("/v1/customer-service/tickets", json=body, headers={"Idempotency-Key": key})
    assert opened.status_code == 200, opened.text
    ticket = opened.json()["ticket"]
    assert (ticket["status"], ticket["priority"]) == ("TICKET_STATUS_NEW", "TICKET_PRIORITY_NORMAL")
    again = gateway.post("/v1/customer-service/tickets", json=body, headers={"Idempotency-Key": key})
    assert again.json() == opened.json()

    photo = b"\x89PNG broken vase"
    reply = gateway.post(
        f"/v1/customer-service/tickets/{ticket['code']}/messages",
        json={
            "authorKind": "AUTHOR_KIND_AGENT",
            "author": "ann",
            "body": "Sorry! Here is the return label.",
            "attachments": [
                {"filename": "label.png", "contentType": "image/png", "content": base64.b64encode(photo).decode()}
            ],
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert reply.status_code == 200, reply.text
    replied = reply.json()["ticket"]
    assert replied["status"] == "TICKET_STATUS_OPEN"
    assert replied["messages"][-1]["attachments"][0]["sha256"] == hashlib.sha256(photo).hexdigest()

    closed = gateway.post(
        f"/v1/customer-service/tickets/{ticket['code']}:changeStatus",
        json={"status": "TICKET_STATUS_CLOSED"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert closed.status_code == 400 and closed.headers["content-type"] == "application/problem+json"
    problem = closed.json()
    assert problem["reason"] == "ILLEGAL_TRANSITION"
    assert problem["errors"] == [{"field": "status", "detail": "a ticket cannot go from OPEN to CLOSED"}]

    metrics = gateway.get(f"/v1/customer-service/merchants/{merchant}/sla-metrics")
    assert metrics.status_code == 200 and metrics.json()["tickets"] == 1


def test_a_solved_ticket_is_rated_once_and_a_macro_applies_over_rest(gateway: httpx.Client, merchant: str) -> None:
    def post(path: str, body: dict) -> httpx.Response:
        return gateway.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})

    ticket = post(
        "/v1/customer-service/tickets",
        {"merchantCode": merchant, "type": "TICKET_TYPE_CONSULTATION", "subject": "Customs duty to Japan?"},
    ).json()["ticket"]["code"]
    saved = post(
        "/v1/customer-service/macros",
        {
            "macro": {
                "name": "duty-answer",
                "reply": "{{ticket.code}}: duty is paid by the buyer on arrival. {{agent}}",
                "status": "TICKET_STATUS_SOLVED",
                "addTags": ["duty"],
            }
        },
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["macro"]["merchantCode"] == merchant  # a merchant's key saves the merchant's macro
    applied = post(f"/v1/customer-service/tickets/{ticket}:applyMacro", {"macroName": "duty-answer", "agent": "ann"})
    assert applied.status_code == 200, applied.text
    body = applied.json()["ticket"]
    assert body["status"] == "TICKET_STATUS_SOLVED" and body["tags"] == ["duty"]
    assert body["messages"][-1]["body"] == f"{ticket}: duty is paid by the buyer on arrival. ann"
    assert "offeredAt" in body["survey"]

    rated = post(f"/v1/customer-service/tickets/{ticket}/survey:rate", {"score": 5, "comment": "Clear answer"})
    assert rated.status_code == 200, rated.text
    assert rated.json()["ticket"]["survey"]["score"] == 5
    twice = post(f"/v1/customer-service/tickets/{ticket}/survey:rate", {"score": 1})
    assert twice.status_code == 409 and twice.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in twice.json()["errors"]] == ["score"]
    bad = post(f"/v1/customer-service/tickets/{ticket}/survey:rate", {"score": 9})
    assert bad.status_code == 400 and [e["field"] for e in bad.json()["errors"]] == ["score"]
    csat = gateway.get(f"/v1/customer-service/merchants/{merchant}/sla-metrics").json()["satisfaction"]
    assert (csat["rated"], csat["good"], csat["csatPercent"]) == (1, 1, "100.00")
