"""Which verdict changes count as worse, the alert's acknowledgement, and what makes two checks one product."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from services.compliance.domain.alerts import (
    AlertStatus,
    RiskAlert,
    SubjectKind,
    decision_worsened,
    verdict_worsened,
)
from services.compliance.domain.engine import VERDICTS
from services.compliance.domain.screening import Decision
from services.compliance.service_layer.product_checks import product_key


@pytest.mark.parametrize(("old", "new"), list(product(VERDICTS, VERDICTS)))
def test_a_verdict_is_worse_only_when_it_moves_towards_prohibited(old: str, new: str) -> None:
    order = ["ALLOWED", "ALLOWED_WITH_CONDITIONS", "RESTRICTED", "PROHIBITED"]
    assert verdict_worsened(old, new) == (order.index(new) > order.index(old))


def test_decisions_worsen_from_clear_to_review_to_block() -> None:
    assert decision_worsened(Decision.CLEAR, Decision.REVIEW)
    assert decision_worsened(Decision.REVIEW, Decision.BLOCK)
    assert decision_worsened(Decision.CLEAR, Decision.BLOCK)
    assert not decision_worsened(Decision.BLOCK, Decision.REVIEW)
    assert not decision_worsened(Decision.REVIEW, Decision.REVIEW)


def test_an_acknowledgement_keeps_its_first_time() -> None:
    raised = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    alert = RiskAlert("FX1", "MC1", SubjectKind.SCREENING, "HC1", "X", "", "CLEAR", "BLOCK", "list:a:b", "r", raised)
    first = alert.acknowledged(raised + timedelta(minutes=5))
    assert first.status is AlertStatus.ACKNOWLEDGED and first.acknowledged_at == raised + timedelta(minutes=5)
    assert first.acknowledged(raised + timedelta(hours=1)) is first


def test_a_product_is_identified_by_gtin_then_title_then_everything_stated() -> None:
    doc = {"hs_code": "851822", "title": "Speaker", "gtin": ""}
    assert product_key("MC", "DE", json.dumps(doc)) == product_key("MC", "DE", json.dumps({**doc, "title": " speaker"}))
    assert product_key("MC", "DE", json.dumps(doc)) != product_key("MC", "FR", json.dumps(doc))
    with_gtin = {**doc, "gtin": "4006381333931"}
    assert product_key("MC", "DE", json.dumps(with_gtin)) == product_key(
        "MC", "DE", json.dumps({**with_gtin, "title": "Renamed"})
    )
    untitled = {"hs_code": "851822", "title": "", "gtin": ""}
    assert product_key("MC", "DE", json.dumps(untitled)) != product_key(
        "MC", "DE", json.dumps({**untitled, "hs_code": "851829"})
    )
