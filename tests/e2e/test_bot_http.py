"""The bot as an HTTP client sees it (real uvicorn in front of the gateway, every service running): a bot
conversation answered in Chinese with logistics asked for the linked shipment, a hand-off that starts the
SLA clocks, and problems naming the field."""

from __future__ import annotations

import json
import uuid

import httpx


def _ask(gateway: httpx.Client, code: str, question: str) -> httpx.Response:
    return gateway.post(
        f"/v1/customer-service/tickets/{code}/bot:ask",
        json={"question": question},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )


def test_a_bot_conversation_is_answered_then_handed_to_a_human(gateway: httpx.Client, merchant: str) -> None:
    booking = {
        "merchantCode": merchant,
        "channelCode": "SAMPLE-EXP-PRIORITY",
        "rateSheetVersion": 1,
        "parcels": [{"weightKg": "1.2", "lengthCm": "30", "widthCm": "20", "heightCm": "10"}],
        "destination": {"country": "GB", "postalCode": "EC1Y 8SY"},
    }
    booked = gateway.post("/v1/logistics/shipments", json=booking, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert booked.status_code == 200, booked.text
    shipment = booked.json()["shipment"]["code"]
    body = {
        "merchantCode": merchant,
        "type": "TICKET_TYPE_CONSULTATION",
        "subject": "Chat",
        "bot": True,
        "links": [{"kind": "LINK_KIND_SHIPMENT", "code": shipment}],
    }
    opened = gateway.post("/v1/customer-service/tickets", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert opened.status_code == 200, opened.text
    ticket = opened.json()["ticket"]
    assert ticket["source"] == "bot" and ticket.get("sla", []) == []

    answered = _ask(gateway, ticket["code"], "我的包裹到哪里了\uff1f")
    assert answered.status_code == 200, answered.text
    turn = answered.json()["turn"]
    assert (turn["intent"], turn["language"]) == ("where_is_my_parcel", "zh-CN")
    context = turn["context"]
    assert (context["kind"], context["code"], context["state"]) == ("shipment", shipment, "BOT_CONTEXT_STATE_LIVE")
    assert shipment in turn["answer"]  # the answer tells the live tracking status of the linked shipment

    handed = _ask(gateway, ticket["code"], "I want to talk to a human")
    assert handed.status_code == 200, handed.text
    answer = handed.json()
    assert answer["turn"]["handedOff"] is True
    assert answer["conversation"]["handOffReason"] == "BOT_HAND_OFF_REASON_ASKED"
    assert answer["ticket"]["sla"][0]["state"] == "SLA_STATE_ACTIVE"
    packet = json.loads(answer["conversation"]["handOffPacketJson"])
    assert packet["linked_codes"] == [{"kind": "SHIPMENT", "code": shipment}] and len(packet["transcript"]) == 2

    shown = gateway.get(f"/v1/customer-service/tickets/{ticket['code']}/bot")
    assert shown.status_code == 200 and shown.json()["conversation"] == answer["conversation"]

    refused = _ask(gateway, ticket["code"], "hello?")
    assert refused.status_code == 400 and refused.json()["reason"] == "BOT_INACTIVE"
    empty = _ask(gateway, ticket["code"], "")
    assert empty.headers["content-type"] == "application/problem+json"
    assert empty.json()["errors"] == [{"field": "question", "detail": "must be 1..2000 characters"}]
